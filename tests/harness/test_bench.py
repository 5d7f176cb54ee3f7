"""The benchmark runs at small sizes so it cannot rot; timings are printed, never asserted."""
import json
import math

import pytest

from click.testing import CliRunner

from harness.bench import cli as bench_cli
from harness.bench.cli import format_table
from harness.bench.targets import verdicts
from harness.cli import main

MEMBERS = 2500


def test_bench_small_run_reports_every_figure_with_its_baseline():
    result = CliRunner().invoke(main, ["bench", "--members", str(MEMBERS), "--events", "8000", "--requests", "30",
                                       "--only", "export,churn,evaluation,throughput", "--json"])
    assert result.exit_code == 0, result.output
    figures = json.loads(result.output)
    export = figures["export"]
    # the name call plus ceil(members / 1000) users calls, and every member exported
    assert export["requests"] == 1 + math.ceil(MEMBERS / 1000)
    assert export["exported"] == MEMBERS
    assert export["seconds"] > 0 and export["baseline_seconds"] > 0
    assert export["ratio"] == pytest.approx(export["seconds"] / export["baseline_seconds"], rel=0.02)
    assert export["floor_ratio"] == pytest.approx(export["seconds"] / export["floor_seconds"], rel=0.02)
    churn = figures["churn_sync"]
    assert churn["added"] == churn["removed"] == MEMBERS // 200
    assert len(churn["runs"]) == 3 and churn["seconds"] == sorted(churn["runs"])[1]
    assert figures["evaluation"]["profiles"] == MEMBERS and figures["evaluation"]["events"] == 8000
    assert 0 < figures["evaluation"]["members"] < MEMBERS
    assert figures["evaluation"]["first_seconds"] == figures["evaluation"]["runs"][0]
    throughput = figures["throughput"]
    assert throughput["requests_per_second"] > 0 and throughput["baseline_requests_per_second"] > 0
    peaks = [*figures["peak_rss_mb_by_side"].values(), figures["evaluation"]["peak_rss_mb"]]
    assert figures["peak_rss_mb"] == round(max(peaks), 1)
    assert {v["figure"] for v in figures["targets"]} == {"export", "export_floor", "churn_sync", "evaluation",
                                                          "first_evaluation", "export_memory", "peak_rss_mb"}
    table = format_table(figures)
    assert "export of 2,500 members" in table and "x" in table.splitlines()[2]
    assert "export within 2x its baseline" in table.splitlines()[2]


def test_bench_worlds_generates_then_replays_a_world_and_judges_both():
    result = CliRunner().invoke(main, ["bench", "--only", "worlds,replay", "--world-users", "60", "--world-events", "300",
                                       "--json"])
    assert result.exit_code == 0, result.output
    figures = json.loads(result.output)
    generate, replay = figures["generate"], figures["replay"]
    assert (generate["users"], generate["events"]) == (60, 300) == (replay["users"], replay["events"])
    assert generate["floor_ratio"] == pytest.approx(generate["seconds"] / generate["floor_seconds"], rel=0.05)
    assert replay["seconds"] > 0 and replay["floor_seconds"] > 0
    assert replay["floor_ratio"] == pytest.approx(replay["seconds"] / replay["floor_seconds"], rel=0.05)
    assert {v["figure"] for v in figures["targets"]} == {"generate", "replay"}
    table = format_table(figures)
    assert "generate, 60 users / 300 events" in table and "replay, 60 users / 300 events" in table


def test_bench_replay_alone_is_judged_without_the_generate_figure():
    result = CliRunner().invoke(main, ["bench", "--only", "replay", "--world-users", "30", "--world-events", "100",
                                       "--json"])
    assert result.exit_code == 0, result.output
    figures = json.loads(result.output)
    assert "generate" not in figures and figures["replay"]["users"] == 30
    assert [v["figure"] for v in figures["targets"]] == ["replay"]


def test_bench_ingest_and_import_load_everything_and_report_floor_and_baseline():
    result = CliRunner().invoke(main, ["bench", "--only", "ingest,import", "--events", "12000", "--profiles", "1500",
                                       "--import-requests", "3", "--json"])
    assert result.exit_code == 0, result.output
    figures = json.loads(result.output)
    ingest, imported = figures["ingest"], figures["import"]
    assert (ingest["events"], ingest["profiles"], ingest["bodies"]) == (12000, 1500, 3)  # 10,000 items a body
    assert ingest["floor_ratio"] == pytest.approx(ingest["seconds"] / ingest["floor_seconds"], rel=0.05)
    assert ingest["seconds"] == pytest.approx(ingest["events_seconds"] + ingest["profiles_seconds"], abs=0.01)
    assert (imported["requests"], imported["events"]) == (3, 6000)
    assert imported["ratio"] == pytest.approx(imported["seconds"] / imported["baseline_seconds"], rel=0.05)
    assert {v["figure"] for v in figures["targets"]} == {"ingest", "import", "peak_rss_mb"}
    table = format_table(figures)
    assert "ingest, 12,000 events + 1,500 profiles" in table and "ingest within 3x its decoding floor" in table
    assert "/import, 3 x 2,000 events" in table and "/import within 2x the do-nothing route" in table


def test_bench_rejects_an_unknown_part_in_one_line():
    result = CliRunner().invoke(main, ["bench", "--only", "export,warp"])
    assert result.exit_code == 2
    assert "unknown part(s) warp" in result.output


def test_bench_rejects_a_zero_size():
    result = CliRunner().invoke(main, ["bench", "--members", "0"])
    assert result.exit_code == 2 and "must be at least 1" in result.output


MEASURED = {"export": {"members": 10, "seconds": 2.3, "baseline_seconds": 1.0, "ratio": 2.3, "requests": 1,
                       "members_per_second": 4, "floor_seconds": 0.5, "floor_ratio": 4.6},
            "evaluation": {"profiles": 5, "events": 9, "seconds": 0.4, "first_seconds": 5.5, "runs": [5.5, 0.4, 0.4],
                           "peak_rss_mb": 100.0},
            "churn_sync": {"seconds": 0.9, "runs": [0.8, 0.9, 2.5], "added": 1, "removed": 1},
            "peak_rss_mb_by_side": {"braze": 3000.0, "mixpanel": 3200.0},
            "peak_rss_mb": 100.0}


def test_each_measured_figure_gets_a_verdict_against_its_target():
    found = {v["figure"]: (v["value"], v["met"]) for v in verdicts(MEASURED)}
    assert found == {"export": (2.3, False), "export_floor": (4.6, False), "churn_sync": (0.9, True),
                     "evaluation": (5.5, False), "first_evaluation": (5.5, False), "export_memory": (6200.0, False),
                     "peak_rss_mb": (100.0, True)}
    assert verdicts({"export": {**MEASURED["export"], "ratio": 2.0, "floor_ratio": 2.0}})[0]["met"] is True
    assert [v["met"] for v in verdicts({"churn_sync": {"seconds": 1.0},
                                        "peak_rss_mb_by_side": {"braze": 3000.0, "mixpanel": 3144.0}})] \
        == [True, True]


def test_a_vendors_receiver_has_no_memory_figure_so_no_memory_verdict():
    """With --braze-url the Braze side's memory is unknown: no sum, no verdict (never half a figure)."""
    assert verdicts({"peak_rss_mb_by_side": {"braze": None, "mixpanel": 3000.0}}) == []


@pytest.mark.parametrize("check, exit_code", [(False, 0), (True, 1)])
def test_check_turns_a_missed_target_into_exit_status_1(monkeypatch, check, exit_code):
    monkeypatch.setattr(bench_cli, "run_bench", lambda options: {**MEASURED, "targets": verdicts(MEASURED)})
    result = CliRunner().invoke(main, ["bench", *(["--check"] if check else [])])
    assert result.exit_code == exit_code
    assert "MISSED: export within 2x its baseline" in result.output
    if check:
        assert result.output.strip().splitlines()[-1] == (
            "Error: missed 5 target(s): export within 2x its baseline; export within 2x its floor; every "
            "evaluation within 5 s; first evaluation after a load under 1 s; export: both sides' peak memory "
            "together within 6,144 MiB")


def test_braze_url_measures_a_vendors_receiver():
    """The export goes to the receiver named by --braze-url (here a Braze mock in this process),
    through its control plane; the baseline still runs on the local stack."""
    from mocks.braze import create_app
    from mocks.common import ServerThread

    app = create_app()
    with ServerThread(app) as receiver:
        result = CliRunner().invoke(main, ["bench", "--members", "1500", "--only", "export", "--braze-url",
                                           receiver.url, "--json"])
    assert result.exit_code == 0, result.output
    assert json.loads(result.output)["export"]["requests"] == 3
    journal = app.extensions["harness"].journal
    users_calls = journal.entries(path="/partners/mixpanel/cohorts/users")
    assert [entry["status"] for entry in users_calls][-2:] == [201, 201]
