"""``cohort-harness env`` against a real ``serve`` process: the exports name exactly the tenants serve made,
they work when eval'ed by a shell, and a dead target is exit 3 in one line."""
from __future__ import annotations

import json
import os
import signal
import subprocess
from typing import Iterator

import pytest
import requests

from harness import cli as harness_cli
from harness import shell_env

from .test_cli_subprocess import CLI, assert_one_line_error, cli, free_port

NAMES = ["BRAZE_URL", "MIXPANEL_URL", "BRAZE_PARTNER_API_KEY", "BRAZE_WORKSPACE_ID", "BRAZE_REST_API_KEY",
         "DATA_IMPORT_KEY", "BRAZE_REST_ENDPOINT", "MIXPANEL_PROJECT_ID", "MIXPANEL_TOKEN", "MIXPANEL_API_SECRET",
         "MIXPANEL_SERVICE_ACCOUNT", "MIXPANEL_SERVICE_SECRET"]


@pytest.fixture(scope="module")
def served() -> Iterator[dict]:
    process = subprocess.Popen([*CLI, "serve", "--json", "--braze-port", "0", "--mixpanel-port", "0"],
                               stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    try:
        line = process.stdout.readline()  # type: ignore[union-attr]
        assert line, process.stderr.read()  # type: ignore[union-attr]
        yield json.loads(line)
    finally:
        process.send_signal(signal.SIGINT)
        process.wait(timeout=30)


def urls(summary: dict) -> list[str]:
    return ["--braze-url", summary["braze_url"], "--mixpanel-url", summary["mixpanel_url"]]


def test_the_defaults_are_serves_ports():
    assert (shell_env.SERVE_BRAZE_URL, shell_env.SERVE_MIXPANEL_URL) == (harness_cli.DEFAULT_BRAZE_URL,
                                                                         harness_cli.DEFAULT_MIXPANEL_URL)


def test_serve_makes_a_mixpanel_project_and_env_names_what_serve_printed(served):
    result = cli("env", "--json", *urls(served))
    assert result.returncode == 0, result.stderr
    variables = json.loads(result.stdout)
    assert list(variables) == NAMES
    assert (variables["BRAZE_URL"], variables["MIXPANEL_URL"]) == (served["braze_url"], served["mixpanel_url"])
    assert variables["BRAZE_WORKSPACE_ID"] == served["workspace_id"]
    assert variables["BRAZE_REST_API_KEY"] == served["rest_api_key"]
    assert variables["DATA_IMPORT_KEY"] == served["data_import_key"]
    assert variables["BRAZE_REST_ENDPOINT"] == served["rest_endpoint"]
    assert variables["BRAZE_PARTNER_API_KEY"] == served["partner_api_key"]
    assert variables["MIXPANEL_PROJECT_ID"] == str(served["project_id"])
    assert variables["MIXPANEL_TOKEN"] == served["project_token"]


def test_the_exports_work_in_a_shell(served):
    """eval'ed by bash, the variables reach both mocks: a Braze call with the REST API key, a Mixpanel
    /import with the service account, and a connection made with the data import key."""
    script = f"""set -e
eval "$({' '.join(CLI)} env {' '.join(urls(served))})"
curl -sS --fail-with-body -XPOST "$BRAZE_URL/users/track" -H "Authorization: Bearer $BRAZE_REST_API_KEY" \\
     -H 'Content-Type: application/json' -d '{{"attributes": [{{"external_id": "alice"}}]}}'
echo
curl -sS --fail-with-body -XPOST "$MIXPANEL_URL/import?project_id=$MIXPANEL_PROJECT_ID" \\
     -u "$MIXPANEL_SERVICE_ACCOUNT:$MIXPANEL_SERVICE_SECRET" -H 'Content-Type: application/json' \\
     -d '[{{"event": "Purchase", "properties": {{"time": 1767225600, "distinct_id": "alice", "$insert_id": "e1"}}}}]'
echo
curl -sS --fail-with-body -XPOST "$MIXPANEL_URL/_harness/projects/$MIXPANEL_PROJECT_ID/connections" \\
     -H 'Content-Type: application/json' \\
     -d '{{"data_import_key": "'"$DATA_IMPORT_KEY"'", "rest_endpoint": "'"$BRAZE_REST_ENDPOINT"'"}}'
"""
    result = subprocess.run(["bash", "-c", script], capture_output=True, text=True, timeout=60)
    assert result.returncode == 0, result.stdout + result.stderr
    track, imported, connection = (json.loads(line) for line in result.stdout.splitlines())
    assert track["message"] == "success" and imported["num_records_imported"] == 1
    assert connection["connection_id"] and connection["project_id"] == served["project_id"]


def test_text_output_is_one_quoted_export_a_variable(served):
    result = cli("env", *urls(served))
    assert result.returncode == 0, result.stderr
    lines = result.stdout.splitlines()
    assert [line.split("=", 1)[0] for line in lines] == [f"export {name}" for name in NAMES]
    assert f"export BRAZE_URL={served['braze_url']}" in lines


def test_an_unreachable_target_is_exit_3_in_one_line():
    dead = f"http://127.0.0.1:{free_port()}"
    assert_one_line_error(cli("env", "--braze-url", dead, "--mixpanel-url", dead), 3, dead)


def test_a_bad_url_is_exit_2():
    assert_one_line_error(cli("env", "--braze-url", "127.0.0.1:8710"), 2, "is not an http(s) URL")


def test_a_reset_target_is_refused_with_the_reason():
    """After `POST /_harness/reset` serve's workspace is gone: say so, never print empty variables."""
    process = subprocess.Popen([*CLI, "serve", "--json", "--braze-port", "0", "--mixpanel-port", "0"],
                               stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    try:
        summary = json.loads(process.stdout.readline())  # type: ignore[union-attr]
        requests.post(summary["braze_url"] + "/_harness/reset", timeout=10).raise_for_status()
        assert_one_line_error(cli("env", *urls(summary)), 4, "lists no workspace")
    finally:
        process.send_signal(signal.SIGINT)
        process.wait(timeout=30)


def test_once_exported_the_urls_are_what_clock_targets(served):
    """After `eval "$(cohort-harness env ...)"` a bare `cohort-harness clock show` reads serve's clocks,
    whatever its ports; an exported URL that is no URL is exit 2, as the option would be."""
    environment = {**os.environ, "BRAZE_URL": served["braze_url"], "MIXPANEL_URL": served["mixpanel_url"]}
    shown = subprocess.run([*CLI, "clock", "show", "--json"], capture_output=True, text=True, timeout=60,
                           env=environment)
    assert shown.returncode == 0, shown.stderr
    assert json.loads(shown.stdout)["now"]["braze"] == served["now"]
    bad = subprocess.run([*CLI, "clock", "show"], capture_output=True, text=True, timeout=60,
                         env={**environment, "MIXPANEL_URL": "127.0.0.1:8720"})
    assert_one_line_error(bad, 2, "is not an http(s) URL")


def test_wait_lets_env_follow_a_serve_just_started_in_the_background():
    braze_port, mixpanel_port = free_port(), free_port()
    script = (f"{' '.join(CLI)} serve --braze-port {braze_port} --mixpanel-port {mixpanel_port} >/dev/null & "
              f"trap 'kill -INT $!; wait' EXIT; "
              f"{' '.join(CLI)} env --wait 20 --braze-url http://127.0.0.1:{braze_port} "
              f"--mixpanel-url http://127.0.0.1:{mixpanel_port}")
    result = subprocess.run(["bash", "-c", script], capture_output=True, text=True, timeout=60)
    assert result.returncode == 0, result.stderr
    assert f"export BRAZE_URL=http://127.0.0.1:{braze_port}" in result.stdout.splitlines()


def test_wait_covers_the_moment_between_serve_listening_and_its_tenants_existing():
    """`serve &` listens before it has made its workspace, key and project: `env --wait` keeps asking
    until they exist (the race CI met), where without --wait the same state is refused at once."""
    import threading

    from harness.embedded import EmbeddedMocks

    mocks = EmbeddedMocks().start()
    try:
        targets = mocks.targets()
        with pytest.raises(shell_env.TargetRefused, match="lists no workspace"):
            shell_env.environment_within(targets, 0)
        found: dict[str, str] = {}
        waiting = threading.Thread(target=lambda: found.update(shell_env.environment_within(targets, 60)))
        waiting.start()
        ready = harness_cli._ready_workspace(mocks.targets())
        waiting.join(timeout=60)
        assert found["BRAZE_WORKSPACE_ID"] == ready["workspace_id"]
        assert found["MIXPANEL_PROJECT_ID"] == str(ready["project_id"])
    finally:
        mocks.stop()
