"""Issue 12, class 2: ``serve --state-file`` restores in-process (past the 64 MB HTTP body cap) and
saves through a temporary file and a rename. The 200 MB restart runs with COHORT_BIG_STATE=1."""
from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest
import requests

from harness.cli import write_atomically
from harness.embedded import EmbeddedMocks

CLI = [sys.executable, "-m", "harness.cli"]
READY = {"partner_api_key": "p", "workspace_id": "w", "rest_api_key": "r", "data_import_key": "k",
         "rest_endpoint": "http://127.0.0.1:1"}


def state_of_size(megabytes: float) -> dict:
    """A serve state whose one Mixpanel project holds profiles adding up to about ``megabytes``."""
    with EmbeddedMocks() as mocks:
        mocks.targets().mixpanel.control("POST", "/projects", json={"name": "big"})
        state, settled = mocks.dump()
    assert settled
    count = int(megabytes * 1_000_000 / 1_000)
    state["mixpanel"]["store"]["projects"][0]["profiles"] = {f"u{i}": {"note": "x" * 980} for i in range(count)}
    return {**state, "ready": READY}


def serve(state_file: Path) -> subprocess.Popen:
    return subprocess.Popen([*CLI, "serve", "--json", "--braze-port", "0", "--mixpanel-port", "0",
                             "--state-file", str(state_file)], stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                            text=True)


def restart_with(state_file: Path, profiles: int, timeout: float) -> dict[str, float]:
    """Start ``serve`` on the file, check every profile came back, stop it and re-read what it saved."""
    began = time.monotonic()
    process = serve(state_file)
    try:
        line = process.stdout.readline()
        assert line, process.stderr.read()
        summary = json.loads(line)
        restored = time.monotonic() - began
        assert summary["restored_from"] == str(state_file)
        project = requests.get(f"{summary['mixpanel_url']}/_harness/projects/1/stats", timeout=60).json()
        assert project["profiles"] == profiles, project
    finally:
        stopping = time.monotonic()
        process.send_signal(signal.SIGINT)
        process.wait(timeout=timeout)
    assert process.returncode == 0, process.stderr.read()
    saved = time.monotonic() - stopping
    assert len(json.loads(state_file.read_text())["mixpanel"]["store"]["projects"][0]["profiles"]) == profiles
    assert [p.name for p in state_file.parent.iterdir()] == [state_file.name]  # no temporary left behind
    return {"restore_s": restored, "save_s": saved}


def test_a_state_file_over_the_http_body_cap_survives_a_restart(tmp_path):
    state_file = tmp_path / "state.json"
    state_file.write_text(json.dumps(state_of_size(70)))
    assert state_file.stat().st_size > 64 * 1024 * 1024
    restart_with(state_file, 70_000, timeout=120)


@pytest.mark.skipif(os.environ.get("COHORT_BIG_STATE") != "1", reason="set COHORT_BIG_STATE=1 (about a minute)")
def test_a_state_file_over_200_mb_survives_a_restart(tmp_path):
    state_file = tmp_path / "state.json"
    state_file.write_text(json.dumps(state_of_size(215)))
    assert state_file.stat().st_size > 200 * 1024 * 1024
    times = restart_with(state_file, 215_000, timeout=300)
    print(f"\n{state_file.stat().st_size / 1e6:.0f} MB state: restore {times['restore_s']:.1f} s, "
          f"save {times['save_s']:.1f} s")


def test_a_refused_state_file_is_one_line_exit_2(tmp_path):
    state_file = tmp_path / "state.json"
    state = state_of_size(0)
    state["mixpanel"]["store"]["projects"] = "nope"
    state_file.write_text(json.dumps(state))
    process = serve(state_file)
    _, err = process.communicate(timeout=60)
    assert process.returncode == 2
    assert err.strip() == (f"Error: {state_file}: the mocks refuse this state (invalid state: 'projects' must be "
                           f"a JSON array)")


def test_a_write_that_fails_half_way_leaves_the_previous_file_whole(tmp_path, monkeypatch):
    target = tmp_path / "state.json"
    target.write_text("previous")

    def full_disk(src, dst):
        raise OSError(28, "No space left on device")

    monkeypatch.setattr(os, "replace", full_disk)
    with pytest.raises(OSError):
        write_atomically(target, "new")
    assert target.read_text() == "previous" and [p.name for p in tmp_path.iterdir()] == ["state.json"]


def test_group_profiles_and_the_retention_setting_come_back_through_the_state_file_path():
    """What ``serve --state-file`` does at startup (``EmbeddedMocks.restore``) with a dump of ``dump``."""
    with EmbeddedMocks() as mocks:
        mp = mocks.targets().mixpanel
        project = mp.create_project("groups", vendor_retention=True, created_at="2025-01-01T00:00:00Z")
        data = json.dumps([{"$token": project.token, "$group_key": "company", "$group_id": "acme",
                            "$set": {"tier": "gold"}}])
        assert requests.post(f"{mocks.mixpanel_url}/groups", data={"data": data, "verbose": "1"},
                             timeout=10).json() == {"error": None, "status": 1}
        state, _ = mocks.dump()
    with EmbeddedMocks() as mocks:
        mocks.restore(state)
        reply = requests.get(f"{mocks.mixpanel_url}/api/query/engage", timeout=10, auth=(project.api_secret, ""),
                             params={"data_group_id": "company"})
        assert reply.json()["results"] == [{"$distinct_id": "acme", "$properties": {"tier": "gold"}}]
        described = mocks.targets().mixpanel.list_projects()[0]
        assert (described["retention_days"], described["retention_default"]) == (1825, True)
