"""``cohort-harness env``: the shell variables of a running ``serve`` (URLs, its Braze workspace and keys,
its Mixpanel project), read from the targets over HTTP, for ``eval "$(cohort-harness env)"``.

The docs' examples use exactly these names (README "The test control plane"), and
``tests/docs/test_examples.py`` runs them after this preamble.
"""
from __future__ import annotations

import json
import shlex
import time
from typing import Any

import click

from harness.clients import TargetUnreachable, Targets
from harness.errors import TargetRefused
from harness.params import TargetURL
from mocks.common.defaults import MIXPANEL_PARTNER

#: ``serve``'s default addresses (``harness.cli.DEFAULT_BRAZE_URL`` / ``DEFAULT_MIXPANEL_URL``; a test
#: checks they agree: this module is imported by ``harness.cli`` and cannot import it back).
SERVE_BRAZE_URL = "http://127.0.0.1:8710"
SERVE_MIXPANEL_URL = "http://127.0.0.1:8720"
#: The name ``serve`` gives the workspace and the project it makes at start.
SERVE_TENANT_NAME = "local"


def serve_environment(targets: Targets) -> dict[str, str]:
    """The variables, in the order printed. The tenants are the ones ``serve`` made (named ``local``;
    else the oldest); a target that holds none (reset since) is refused with a message that says so."""
    braze, mixpanel = targets.braze, targets.mixpanel
    workspace = _serve_tenant(braze.list_workspaces(), f"{braze.base_url}/_harness/workspaces", "workspace")
    ws = workspace["workspace_id"]
    rest_keys = braze.list_rest_api_keys(ws)
    import_keys = [k for k in braze.list_data_import_keys(ws)
                   if k["status"] == "active" and k["partner"] == MIXPANEL_PARTNER]
    if not rest_keys or not import_keys:
        missing = "REST API key" if not rest_keys else "active data import key for Mixpanel"
        raise TargetRefused(f"Braze workspace {ws} at {braze.base_url} has no {missing} "
                            "(make one, or restart `cohort-harness serve`)")
    project = _serve_tenant(mixpanel.list_projects(), f"{mixpanel.base_url}/_harness/projects", "project")
    return {
        "BRAZE_URL": braze.base_url,
        "MIXPANEL_URL": mixpanel.base_url,
        "BRAZE_PARTNER_API_KEY": braze.partner_api_key(),
        "BRAZE_WORKSPACE_ID": ws,
        "BRAZE_REST_API_KEY": rest_keys[0]["rest_api_key"],
        "DATA_IMPORT_KEY": import_keys[0]["key"],
        "BRAZE_REST_ENDPOINT": import_keys[0]["rest_endpoint"],
        "MIXPANEL_PROJECT_ID": str(project["project_id"]),
        "MIXPANEL_TOKEN": project["token"],
        "MIXPANEL_API_SECRET": project["api_secret"],
        "MIXPANEL_SERVICE_ACCOUNT": project["service_account"]["username"],
        "MIXPANEL_SERVICE_SECRET": project["service_account"]["secret"],
    }


def _serve_tenant(tenants: list[dict[str, Any]], url: str, kind: str) -> dict[str, Any]:
    for tenant in tenants:
        if tenant.get("name") == SERVE_TENANT_NAME:
            return tenant
    if tenants:
        return tenants[0]
    raise TargetRefused(f"GET {url} lists no {kind}: the target was reset since `cohort-harness serve` "
                        "started (restart serve, or restore a saved state)")


def environment_within(targets: Targets, seconds: float) -> dict[str, str]:
    """``serve_environment``, asked again every 0.1 s until ``seconds`` have passed while a target does
    not answer or does not yet hold serve's tenants: ``serve &`` listens a moment before it has made its
    workspace, key and project. Past the deadline the last error goes up (exit 3 or 4)."""
    deadline = time.monotonic() + seconds
    while True:
        try:
            targets.health()
            return serve_environment(targets)
        except (TargetUnreachable, TargetRefused):
            if time.monotonic() >= deadline:
                raise
            time.sleep(0.1)


def exports(variables: dict[str, str]) -> str:
    """One ``export NAME=value`` line a variable, quoted for POSIX shells."""
    return "".join(f"export {name}={shlex.quote(value)}\n" for name, value in variables.items())


@click.command("env")
@click.option("--braze-url", type=TargetURL(), default=SERVE_BRAZE_URL, show_default=True, envvar="BRAZE_URL",
              show_envvar=True, help="Base URL of a running Braze target.")
@click.option("--mixpanel-url", type=TargetURL(), default=SERVE_MIXPANEL_URL, show_default=True,
              envvar="MIXPANEL_URL", show_envvar=True, help="Base URL of a running Mixpanel target.")
@click.option("--wait", type=click.FloatRange(0, 600), default=0, show_default=True, metavar="SECONDS",
              help="Wait up to this long for the targets to answer and hold serve's tenants (a `serve &` just started).")
@click.option("--json", "as_json", is_flag=True, help="Print one JSON document instead of text.")
def env(braze_url: str, mixpanel_url: str, wait: float, as_json: bool) -> None:
    """Print shell exports of a running `serve`: both URLs, its workspace, keys and Mixpanel project.

    \b
    BRAZE_URL and MIXPANEL_URL, once exported, are also what `env`, `clock` and `proxy` target.

    \b
    The variables: BRAZE_URL MIXPANEL_URL BRAZE_PARTNER_API_KEY BRAZE_WORKSPACE_ID
    BRAZE_REST_API_KEY DATA_IMPORT_KEY BRAZE_REST_ENDPOINT MIXPANEL_PROJECT_ID MIXPANEL_TOKEN
    MIXPANEL_API_SECRET MIXPANEL_SERVICE_ACCOUNT MIXPANEL_SERVICE_SECRET

    \b
    Example:
      cohort-harness serve &
      eval "$(cohort-harness env --wait 10)"
      curl -sS --fail-with-body "$BRAZE_URL/_harness/workspaces/$BRAZE_WORKSPACE_ID"
    """
    targets = Targets.at(braze_url, mixpanel_url)
    try:
        variables = environment_within(targets, wait)
    finally:
        targets.close()
    if as_json:
        click.echo(json.dumps(variables, indent=2))
    else:
        click.echo(exports(variables), nl=False)
