"""``cohort-harness conform``: run the conformance suite against the chosen targets and report."""
from __future__ import annotations

import contextlib
import json
import sys
from pathlib import Path

import click

from harness.clients import BrazeClient, HarnessHTTPError, MixpanelClient, TargetUnreachable
from harness.errors import InputError, TargetRefused, TargetUnreachableError, exit_with_verdict
from harness.params import SelectionExpression, TargetURL, WritableDir

from .report_files import REPORT_FILES


@click.command("conform")
@click.option("--braze-url", type=TargetURL(), help="A Braze target (vendor API + /_harness). Default: embedded mock.")
@click.option("--mixpanel-url", type=TargetURL(), help="A Mixpanel target (vendor API + /_harness). Default: embedded mock.")
@click.option("-m", "markexpr", type=SelectionExpression(), help="Select scenarios by tag, e.g. 'SEED-6.3 or HOUSE-9'.")
@click.option("-k", "keyword", type=SelectionExpression(), help="Select scenarios by name, e.g. 'retention and not rolling'.")
@click.option("--report-dir", type=WritableDir(), default=Path("conformance-report"),
              show_default=True, help="Where junit.xml, cucumber.json, summary.md and summary.html go.")
@click.option("-v", "--verbose", is_flag=True, help="Show pytest's per-scenario output and tracebacks.")
@click.option("--features", "features", multiple=True, type=click.Path(exists=True, path_type=Path),
              help="Your own .feature file or a directory of them (repeatable); run with the shipped steps "
                   "instead of the shipped features.")
@click.option("--with-shipped", is_flag=True, help="With --features: run the shipped features too.")
@click.option("--json", "as_json", is_flag=True,
              help="Print the verdict, targets, rules and scenarios as one JSON document on stdout "
                   "(pytest's progress goes to stderr).")
@click.option("--data-import-key", help="With --braze-url: the receiver's data import key; its workspace and key "
                                        "are not created through its control plane (the partner-API scenarios).")
@click.option("--partner-api-key", help="With --data-import-key: the partner API key the receiver issued to Mixpanel.")
@click.option("--workspace-id", help="With --data-import-key: the receiver's workspace id (cohort observation paths).")
@click.option("--rest-api-key", help="With --data-import-key: a REST API key of that workspace (/users/track).")
@click.argument("pytest_args", nargs=-1, type=click.UNPROCESSED)
def conform(braze_url: str | None, mixpanel_url: str | None, markexpr: str | None, keyword: str | None,
            report_dir: Path, verbose: bool, features: tuple[Path, ...], with_shipped: bool, as_json: bool,
            data_import_key: str | None, partner_api_key: str | None, workspace_id: str | None,
            rest_api_key: str | None, pytest_args: tuple[str, ...]) -> None:
    """Run the Gherkin conformance suite and write a report; exit 0 only if every selected scenario passed.

    Without URLs both mocks run embedded. Give --braze-url to judge a Braze-compatible receiver, or
    --mixpanel-url to judge a Mixpanel-compatible exporter (each must offer the /_harness control
    plane its scenarios use). Anything after -- goes to pytest unchanged.

    \b
    Examples:
      cohort-harness conform --features qa/checkout.feature            # your scenarios, shipped steps
      cohort-harness conform --features qa/ --with-shipped -m smoke
      cohort-harness conform -m SEED-6.3 --json | jq .passed
    """
    from .runner import ConformanceRun, run_conformance  # imports pytest: only this command pays for it

    credentials = _credentials(braze_url, data_import_key, partner_api_key, workspace_id, rest_api_key)
    _check_reachable(braze_url, mixpanel_url)
    run = ConformanceRun(report_dir, braze_url, mixpanel_url, markexpr, keyword, verbose, list(pytest_args),
                         list(features), with_shipped, credentials)
    with contextlib.redirect_stdout(sys.stderr) if as_json else contextlib.nullcontext():
        exit_code, summary = run_conformance(run)
    _stop_on_preflight(exit_code, report_dir)
    from .report import terminal_table  # after the run: pytest must import pytest-bdd itself first

    report_files = [str(report_dir / name) for name in REPORT_FILES]
    if as_json:
        click.echo(json.dumps({**summary.to_dict(), "report": report_files}, indent=2))
    else:
        click.echo(terminal_table(summary))
        judged = [f"{name} {summary.context[name]}" for name in ("Braze target", "Mixpanel target")
                  if name in summary.context]
        if judged:
            click.echo("judged: " + "; ".join(judged))
        click.echo("report: " + ", ".join(report_files))
    if not summary.selected:
        raise InputError("no scenario was selected (check the -m / -k expressions)")
    if not summary.applicable and not summary.failures:
        raise InputError(f"no selected scenario reaches the {summary.single_judged} target: every one is "
                         "not applicable to it (select scenarios of its rules)")
    exit_with_verdict(exit_code == 0 and summary.ok)


def _credentials(braze_url: str | None, data_import_key: str | None, partner_api_key: str | None,
                 workspace_id: str | None, rest_api_key: str | None) -> dict[str, str]:
    """The receiver's credentials as pytest options; a key without its partner key or URL is exit 2."""
    given = {option: value for option, value in (("--data-import-key", data_import_key),
                                                 ("--partner-api-key", partner_api_key),
                                                 ("--workspace-id", workspace_id), ("--rest-api-key", rest_api_key))
             if value}
    if given and not (data_import_key and partner_api_key):
        raise InputError("--data-import-key and --partner-api-key go together (--workspace-id and --rest-api-key "
                         "are optional with them)")
    if given and not braze_url:
        raise InputError("--data-import-key judges a Braze receiver: give its --braze-url too")
    return given


def _stop_on_preflight(exit_code: int, report_dir: Path) -> None:
    """The preflight found calls the targets lack: its one list, exit 4 (the target is refused)."""
    from .plugin import PREFLIGHT_EXIT, PREFLIGHT_FILE

    if exit_code == PREFLIGHT_EXIT:
        report = report_dir / PREFLIGHT_FILE
        raise TargetRefused(report.read_text(encoding="utf-8").rstrip() if report.exists() else "preflight failed")


def _check_reachable(braze_url: str | None, mixpanel_url: str | None) -> None:
    """A wrong URL is a user's mistake: one line, before anything runs."""
    for url, client_class in ((braze_url, BrazeClient), (mixpanel_url, MixpanelClient)):
        if url:
            try:
                health = client_class(url, timeout=5).health()
            except TargetUnreachable as exc:
                raise TargetUnreachableError(f"{client_class.service} target: {exc}") from None
            except HarnessHTTPError as exc:
                raise TargetRefused(f"{client_class.service} target: {exc}") from None
            named = health.get("service") if isinstance(health, dict) else None
            if named and named != client_class.service:
                raise TargetRefused(f"{client_class.service} target: {url}/_harness/health names the service "
                                    f"{named!r}; give a {client_class.service} target")


@click.command("steps")
@click.option("--features", "features", multiple=True, type=click.Path(exists=True, path_type=Path),
              help="Take the examples from these feature files or directories (default: the shipped features), "
                   "and list the steps of the conftest.py beside them too (what `conform --features` loads).")
def steps(features: tuple[Path, ...]) -> None:
    """List every step pattern the conformance suite understands, with a step that uses it and where.

    \b
    Examples:
      cohort-harness steps
      cohort-harness steps | grep -i cohort
      cohort-harness steps --features qa/          # your own steps (qa/conftest.py) are listed last
    """
    from .catalogue import catalogue  # imports pytest-bdd: only this command pays for it

    for entry in catalogue(list(features) or None):
        click.echo(entry.pattern + (f"    [yours: {entry.defined_in}]" if entry.defined_in else ""))
        click.echo(f"    e.g. {entry.example}  ({entry.used_in})" if entry.example else "    (no feature uses it yet)")
