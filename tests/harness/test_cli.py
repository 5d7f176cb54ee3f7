"""The CLI through click's runner: help, exit codes, and a one-line error for every user mistake."""
from __future__ import annotations

import json
import socket

import pytest

from harness.worlds import generate_world

from .cli_checks import one_line_error


@pytest.fixture()
def closed_port():
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


def test_help_lists_commands_and_exit_codes(cli):
    result = cli("--help")
    assert result.exit_code == 0
    for command in ("run", "replay", "generate", "validate", "serve", "clock", "worlds"):
        assert f"  {command} " in result.output
    assert "EXIT CODES:" in result.output  # each code: tests/harness/test_errors.py


def test_run_with_a_missing_file(cli):
    one_line_error(cli("run", "missing.json"), 2, "missing.json: no such file")


def test_run_with_an_unknown_bundled_name(cli):
    one_line_error(cli("run", "nope"), 2, "no such file, and no bundled world of that name")


def test_run_with_a_world_that_breaks_the_schema(cli, tmp_path):
    bad = tmp_path / "bad.json"
    data = generate_world(1, 5, 5)
    data["flow"]["mode"] = "hourly"
    bad.write_text(json.dumps(data))
    one_line_error(cli("run", str(bad)), 2, "1 error(s); first: $.flow.mode: 'hourly' is not one of")


def test_run_against_an_unreachable_url(cli, closed_port):
    url = f"http://127.0.0.1:{closed_port}"
    one_line_error(cli("run", "demo", "--braze-url", url, "--mixpanel-url", url), 3,
                   f"cannot reach {url}/_harness/health: connection refused")


def test_run_needs_both_urls(cli):
    result = cli("run", "--braze-url", "http://127.0.0.1:1")
    assert result.exit_code == 2 and "give both --braze-url and --mixpanel-url" in result.output


def test_clock_rejects_a_bad_duration_before_calling(cli):
    one_line_error(cli("clock", "advance", "soon"), 2, "invalid duration 'soon'")


def test_clock_against_unreachable_targets(cli, closed_port):
    url = f"http://127.0.0.1:{closed_port}"
    one_line_error(cli("clock", "advance", "15m", "--braze-url", url, "--mixpanel-url", url), 3, "cannot reach")


def test_validate_reports_every_problem_with_its_path(cli, tmp_path):
    data = generate_world(1, 5, 5)
    data["flow"]["mode"] = "hourly"
    data["flow"]["steps"][0]["advance"] = "soon"
    bad = tmp_path / "bad.json"
    bad.write_text(json.dumps(data))
    result = cli("validate", "fixtures/demo.json", str(bad), str(tmp_path / "missing.json"))
    assert result.exit_code == 1
    assert result.output.splitlines() == [
        "fixtures/demo.json: valid",
        f"{bad}: $.flow.mode: 'hourly' is not one of ['one_time', 'dynamic']",
        f"{bad}: $.flow.steps[0].advance: 'soon' does not match '^[0-9]+(\\\\.[0-9]+)?[smhd]$'",
        f"{tmp_path / 'missing.json'}: no such file",
    ]


def test_validate_json(cli):
    result = cli("validate", "--json", "fixtures/one_time.json")
    assert result.exit_code == 0
    assert json.loads(result.output) == {"valid": True, "worlds": [
        {"world": "fixtures/one_time.json", "valid": True, "errors": []}]}


def test_generate_is_deterministic_and_writes_a_valid_world(cli, tmp_path):
    first, second = tmp_path / "a.json", tmp_path / "b.json"
    assert cli("generate", "--seed", "9", "--users", "15", "--events", "40", "-o", str(first)).exit_code == 0
    assert cli("generate", "--seed", "9", "--users", "15", "--events", "40", "-o", str(second)).exit_code == 0
    assert first.read_text() == second.read_text()
    assert cli("validate", str(first)).exit_code == 0
    stdout = cli("generate", "--seed", "9", "--users", "15", "--events", "40").output
    assert json.loads(stdout) == json.loads(first.read_text())


def test_generate_rejects_bad_sizes(cli):
    result = cli("generate", "--users", "0")
    assert result.exit_code == 2 and "Invalid value for '--users'" in result.output


def test_worlds_lists_the_bundled_worlds(cli):
    result = cli("worlds", "--json")
    names = [row["name"] for row in json.loads(result.output)]
    assert "demo" in names and "key_invalidation" in names


def test_replay_refuses_update_on_bundled_worlds(cli):
    result = cli("replay", "demo", "--update")
    assert result.exit_code == 2 and "give world files, not bundled names" in result.output


def test_replay_needs_an_expectation(cli, tmp_path):
    data = generate_world(1, 5, 5)
    del data["expected"]
    path = tmp_path / "w.json"
    path.write_text(json.dumps(data))
    one_line_error(cli("replay", str(path)), 2, "has no `expected` section; record one with --update")


# -- with the real mocks ----------------------------------------------------------------------------
def test_run_without_argument_passes_the_demo(cli):
    result = cli("run")
    assert result.exit_code == 0, result.output
    assert "==> 1. Braze data import key" in result.output
    assert "==> 4. Segment and campaign" in result.output
    assert result.output.rstrip().splitlines()[-1].startswith("PASS: the Braze segment holds exactly the 5 expected members")


def test_run_json_reports_the_verdict(cli):
    result = cli("run", "match_device", "--json")
    report = json.loads(result.output)
    assert result.exit_code == 0 and report["passed"] is True
    assert report["segment_members"] == ["device:phone-anon"]


def test_run_fails_when_braze_differs_from_the_expectation(cli, tmp_path):
    data = json.loads(open("fixtures/match_external_id.json").read())
    data["expected"]["syncs"][-1]["members"] = ["ann", "bob", "cy-unknown-to-braze"]
    path = tmp_path / "wrong.json"
    path.write_text(json.dumps(data))
    result = cli("run", str(path))
    assert result.exit_code == 1
    assert "FAIL: the Braze segment holds 2 users, expected 3; missing ['cy-unknown-to-braze']" in result.output


def test_serve_on_a_port_in_use(cli):
    with socket.socket() as busy:
        busy.bind(("127.0.0.1", 0))
        busy.listen()
        port = busy.getsockname()[1]
        one_line_error(cli("serve", "--braze-port", str(port), "--mixpanel-port", "0"), 2,
                       f"port {port} on 127.0.0.1 is already in use")


def test_proxy_on_a_port_in_use_is_a_usage_error_not_an_internal_one(cli, recorder):
    with socket.socket() as busy:
        busy.bind(("127.0.0.1", 0))
        busy.listen()
        port = busy.getsockname()[1]
        one_line_error(cli("proxy", "--port", str(port), "--braze-url", recorder.url, "--mixpanel-url", recorder.url),
                       2, f"port {port} on 127.0.0.1 is already in use")


def test_a_target_refusing_a_call_is_exit_4_with_its_message(cli, recorder):
    recorder.reply("POST", "/_harness/clock", {"now": "2026-01-01T00:00:00Z", "fired": []})
    recorder.reply("POST", "/_harness/workspaces", {"error": "workspace quota reached"}, 403)
    result = cli("run", "one_time", "--braze-url", recorder.url, "--mixpanel-url", recorder.url)
    assert result.exit_code == 4
    assert result.output.splitlines()[-1] == (f"Error: POST {recorder.url}/_harness/workspaces answered 403: "
                                              "workspace quota reached")
    assert "Traceback" not in result.output


def test_clock_advance_prints_the_count_one_line_per_export_and_the_first_and_last_sync(cli, recorder):
    row = {"project_id": 1, "export_id": 1, "scheduled_at": "2026-01-01T00:00:01Z", "trigger": "schedule",
           "kind": "diff", "result": "success", "added": 2, "removed": 0, "members": 2}
    last = {**row, "scheduled_at": "2026-01-01T01:00:00Z", "result": "failed", "error": "Braze answered 503"}
    recorder.reply("POST", "/_harness/clock", {"now": "2026-01-01T01:00:00Z", "fired_count": 3600,
                                               "fired_truncated": True, "first": row, "last": last,
                                               "exports": [{"service": "mixpanel", "job": "cohort_sync",
                                                            "project_id": 1, "export_id": 1, "count": 3600,
                                                            "results": {"success": 3599, "failed": 1},
                                                            "added": 2, "removed": 0}],
                                               "fired": [row, last]})
    recorder.reply("GET", "/_harness/clock", {"now": "2026-01-01T01:00:00Z", "mode": "virtual"})
    result = cli("clock", "advance", "1h", "--braze-url", recorder.url, "--mixpanel-url", recorder.url)
    assert result.exit_code == 0, result.output
    assert result.output.splitlines()[1:] == [
        "3600 sync(s) ran",
        "  project 1 export 1: 3600 sync(s) (failed 1, success 3599), +2 -0",
        "  first 2026-01-01T00:00:01Z  project 1 export 1  schedule diff  success  +2 -0  2 members",
        "  last  2026-01-01T01:00:00Z  project 1 export 1  schedule diff  failed  +2 -0  2 members"
        "  error: Braze answered 503",
        "  (--verbose lists every sync)"]


def test_clock_advance_verbose_and_json_list_every_sync_of_a_long_advance(cli):
    """An hour over a 1-minute export runs 60 syncs: the mock's reply keeps 20, --verbose and --json
    read the other 40 back from the export's history."""
    from harness.testing import cohort_mocks

    with cohort_mocks(start="2026-01-01T00:00:00Z") as mocks:
        urls = ("--braze-url", mocks.braze.url, "--mixpanel-url", mocks.mixpanel.url)
        workspace, project = mocks.braze_workspace(), mocks.mixpanel_project()
        mixpanel = mocks.targets.mixpanel
        cohort = mixpanel.create_cohort(project.project_id, "Buyers",
                                        {"event": "Purchase", "at_least": 1, "within_days": 30}).cohort_id
        connection = mixpanel.create_connection(project.project_id, workspace.data_import_key,
                                                workspace.rest_endpoint).connection_id
        mixpanel.create_export(project.project_id, cohort, connection, "dynamic", interval="1m")
        verbose = cli("clock", "advance", "1h", "--verbose", *urls)
        assert verbose.exit_code == 0, verbose.output
        lines = verbose.output.splitlines()
        assert lines[1:3] == ["60 sync(s) ran", "  project 1 export 1: 60 sync(s) (success 60), +0 -0"]
        listed = [line for line in lines if line.startswith("    2026-01-01T")]
        assert len(listed) == 60
        assert listed[0].startswith("    2026-01-01T00:01:00Z  project 1 export 1  schedule diff  success")
        assert listed[-1].startswith("    2026-01-01T01:00:00Z  ")
        as_json = json.loads(cli("clock", "advance", "1h", "--json", *urls).output)
        assert as_json["fired_count"] == 60 and as_json["not_listed"] == 0
        times = [row["scheduled_at"] for row in as_json["fired"]]
        assert times[0] == "2026-01-01T01:01:00Z" and times[-1] == "2026-01-01T02:00:00Z" and len(set(times)) == 60


def test_clock_set_refuses_a_backward_jump_unless_forced(cli):
    """Both mocks at 2026-01-02; setting 2026-01-01 is exit 2 and moves nothing; --force moves both."""
    from harness.embedded import EmbeddedMocks

    with EmbeddedMocks() as mocks:
        urls = ("--braze-url", mocks.braze_url, "--mixpanel-url", mocks.mixpanel_url)
        assert cli("clock", "set", "2026-01-02T00:00:00Z", *urls).exit_code == 0
        refused = cli("clock", "set", "2026-01-01T00:00:00Z", *urls)
        one_line_error(refused, 2, "2026-01-01T00:00:00Z is earlier than the Braze clock "
                                   "(2026-01-02T00:00:00Z): use --force to move the clocks back")
        assert cli("clock", "show", *urls).output.splitlines()[0] == (
            "Braze 2026-01-02T00:00:00Z  Mixpanel 2026-01-02T00:00:00Z")
        forced = cli("clock", "set", "2026-01-01T00:00:00Z", "--force", *urls)
        assert forced.exit_code == 0, forced.output
        assert forced.output.splitlines()[0] == "Braze 2026-01-01T00:00:00Z  Mixpanel 2026-01-01T00:00:00Z"


def test_clock_show_reports_skew_and_clock_sync_moves_the_one_behind_forward(cli):
    from harness.embedded import EmbeddedMocks
    from harness.clients import BrazeClient

    with EmbeddedMocks() as mocks:
        urls = ("--braze-url", mocks.braze_url, "--mixpanel-url", mocks.mixpanel_url)
        assert cli("clock", "set", "2026-01-02T00:00:00Z", *urls).exit_code == 0
        BrazeClient(mocks.braze_url).advance_clock("90s")
        shown = cli("clock", "show", *urls).output.splitlines()
        assert shown == ["Braze 2026-01-02T00:01:30Z  Mixpanel 2026-01-02T00:00:00Z",
                         "The clocks differ: Braze is 90 s ahead "
                         "(`cohort-harness clock sync` moves the other one forward to it)"]
        synced = cli("clock", "sync", *urls)
        assert synced.exit_code == 0, synced.output
        assert synced.output.splitlines() == ["Braze 2026-01-02T00:01:30Z  Mixpanel 2026-01-02T00:01:30Z",
                                              "0 sync(s) ran"]
