"""The CLI as a user meets it: real processes, real exit codes, stderr with one line, Ctrl-C."""
from __future__ import annotations

import json
import os
import re
import signal
import socket
import subprocess
import sys

import pytest
import requests


CLI = [sys.executable, "-m", "harness.cli"]


def cli(*args: str, timeout: float = 60) -> subprocess.CompletedProcess:
    return subprocess.run([*CLI, *args], capture_output=True, text=True, timeout=timeout)


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


def assert_one_line_error(result: subprocess.CompletedProcess, code: int, text: str) -> None:
    assert result.returncode == code, (result.stdout, result.stderr)
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith("Error: ") and text in lines[0], result.stderr
    assert "Traceback" not in result.stderr + result.stdout


def test_missing_file():
    assert_one_line_error(cli("run", "no/such/world.json"), 2, "no/such/world.json: no such file")


def test_world_that_breaks_the_schema(tmp_path):
    bad = tmp_path / "bad.json"
    bad.write_text(json.dumps({"format": "cohort-harness/world@1", "name": "bad"}))
    assert_one_line_error(cli("run", str(bad)), 2, "'mixpanel' is a required property")


def test_unreachable_url():
    url = f"http://127.0.0.1:{free_port()}"
    assert_one_line_error(cli("clock", "show", "--braze-url", url, "--mixpanel-url", url), 3,
                          f"cannot reach {url}/_harness/health")


def test_console_script_help():
    script = os.path.join(os.path.dirname(sys.executable), "cohort-harness")
    if not os.path.exists(script):
        pytest.skip("console script not installed in this environment")
    result = subprocess.run([script, "--help"], capture_output=True, text=True, timeout=30)
    assert result.returncode == 0 and "EXIT CODES" in result.stdout


def test_port_in_use():
    with socket.socket() as busy:
        busy.bind(("127.0.0.1", 0))
        busy.listen()
        port = busy.getsockname()[1]
        assert_one_line_error(cli("serve", "--mixpanel-port", str(port), "--braze-port", "0"), 2,
                              f"port {port} on 127.0.0.1 is already in use")


def test_run_demo_passes():
    result = cli("run")
    assert result.returncode == 0, result.stdout + result.stderr
    assert "PASS" in result.stdout.splitlines()[-1]


def test_serve_clock_and_ctrl_c_with_state_file(tmp_path):
    state = tmp_path / "state.json"
    braze_port, mixpanel_port = free_port(), free_port()
    args = [*CLI, "serve", "--json", "--braze-port", str(braze_port), "--mixpanel-port", str(mixpanel_port),
            "--state-file", str(state)]

    def start() -> tuple[subprocess.Popen, dict]:
        process = subprocess.Popen(args, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
        line = process.stdout.readline()
        assert line, process.stderr.read()
        return process, json.loads(line)

    process, summary = start()
    try:
        assert summary["braze_url"] == f"http://127.0.0.1:{braze_port}"
        assert summary["data_import_key"] and summary["partner_api_key"] and summary["restored_from"] is None
        for dashboard in (summary["braze_dashboard"], summary["mixpanel_dashboard"]):
            assert dashboard.startswith("http://127.0.0.1:") and dashboard.endswith("/_harness/ui/")
            page = requests.get(dashboard, timeout=10)
            assert page.status_code == 200 and page.headers["Content-Type"].startswith("text/html")
        urls = ["--braze-url", summary["braze_url"], "--mixpanel-url", summary["mixpanel_url"]]
        moved = cli("clock", "advance", "15m", "--json", *urls)
        assert moved.returncode == 0, moved.stderr
        assert json.loads(moved.stdout)["now"] == {"braze": "2026-01-01T00:15:00Z", "mixpanel": "2026-01-01T00:15:00Z"}
    finally:
        process.send_signal(signal.SIGINT)
        process.wait(timeout=10)
    assert process.returncode == 0, process.stderr.read()
    assert state.exists()

    process, restored = start()
    try:
        assert restored["restored_from"] == str(state)
        assert restored["workspace_id"] == summary["workspace_id"] and restored["now"] == "2026-01-01T00:15:00Z"
    finally:
        process.send_signal(signal.SIGTERM)
        process.wait(timeout=10)
    assert process.returncode == 0


def test_serve_log_requests_prints_one_line_per_request_with_secrets_masked():
    args = [*CLI, "serve", "--json", "--log-requests", "--braze-port", "0", "--mixpanel-port", "0"]
    process = subprocess.Popen(args, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    try:
        summary = json.loads(process.stdout.readline())
        refused = requests.post(summary["braze_url"] + "/users/track", json={}, timeout=10,
                                headers={"Authorization": "Bearer wrong"})
        assert refused.status_code == 401
        requests.get(summary["mixpanel_url"] + "/api/query/cohorts/list",
                     params={"project_id": "1", "api_secret": "very-secret"}, timeout=10)
    finally:
        process.send_signal(signal.SIGINT)
        _, stderr = process.communicate(timeout=10)
    assert process.returncode == 0, stderr
    lines = stderr.splitlines()
    assert any(re.fullmatch(r"braze POST /users/track -> 401 \(\d+\.\d ms\)", line) for line in lines), lines
    cohorts = [line for line in lines if "/api/query/cohorts/list" in line]
    assert len(cohorts) == 1 and "very-secret" not in stderr
    assert cohorts[0].startswith("mixpanel GET /api/query/cohorts/list?project_id=1&api_secret=*** -> ")
