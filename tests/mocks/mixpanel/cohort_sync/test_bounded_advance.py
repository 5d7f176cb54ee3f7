"""Issue 12, class 8: one advance over many syncs answers a bounded reply and keeps bounded memory."""
import tracemalloc
from datetime import timedelta

import requests

from mocks.braze import create_app as create_braze_app
from mocks.common import Clock, ServerThread
from mocks.common.clock import DEFAULT_START, FiredSummary
from mocks.mixpanel import create_app as create_mixpanel_app


def control(base, method, path, body=None):
    reply = requests.request(method, f"{base}/_harness{path}", json=body, timeout=60)
    assert reply.status_code < 300, reply.text
    return reply


def one_export(braze, mp, interval):
    """A workspace, a project with one cohort and connection, and a dynamic export every ``interval``."""
    ws = control(braze, "POST", "/workspaces", {"name": "w"}).json()["workspace_id"]
    key = control(braze, "POST", f"/workspaces/{ws}/data_import_keys", {"partner": "mixpanel"}).json()
    pid = control(mp, "POST", "/projects", {"name": "p"}).json()["project_id"]
    cohort = control(mp, "POST", f"/projects/{pid}/cohorts",
                     {"name": "C", "definition": {"property": "plan", "equals": "pro"}}).json()["cohort_id"]
    conn = control(mp, "POST", f"/projects/{pid}/connections",
                   {"data_import_key": key["key"], "rest_endpoint": key["rest_endpoint"]}).json()["connection_id"]
    return pid, control(mp, "POST", f"/projects/{pid}/exports", {"cohort_id": cohort, "connection_id": conn,
                                                                 "mode": "dynamic", "interval": interval}).json()


def test_an_hour_over_a_one_second_export_answers_counts_and_the_first_and_last_syncs():
    clock = Clock()
    with ServerThread(create_braze_app(clock=clock)) as braze, ServerThread(create_mixpanel_app(clock=clock)) as mp:
        pid, export = one_export(braze.url, mp.url, "1s")
        reply = control(mp.url, "POST", "/clock", {"advance": "1h"})
    body = reply.json()
    assert len(reply.content) < 20_000
    assert (body["now"], body["fired_count"], body["fired_truncated"]) == ("2026-01-01T01:00:00Z", 3600, True)
    assert body["exports"] == [{"service": "mixpanel", "job": "cohort_sync", "project_id": pid,
                                "export_id": export["export_id"], "count": 3600, "results": {"success": 3600},
                                "added": 0, "removed": 0}]
    assert body["first"]["scheduled_at"] == "2026-01-01T00:00:01Z"
    assert body["last"]["scheduled_at"] == "2026-01-01T01:00:00Z"
    assert len(body["fired"]) == 2 * FiredSummary.KEEP_EACH_END
    assert body["fired"][0] == body["first"] and body["fired"][-1] == body["last"]


class EverySecond:
    """A scheduler with one job a second, each fired row carrying a sizeable payload."""

    def __init__(self):
        self.at = DEFAULT_START + timedelta(seconds=1)

    def next_due(self):
        return self.at

    def run_due(self, at):
        self.at = at + timedelta(seconds=1)
        return [{"service": "fake", "job": "tick", "export_id": 1, "result": "success", "added": 1,
                 "scheduled_at": at.isoformat(), "payload": "x" * 500}]


def test_the_memory_of_an_advance_does_not_grow_with_the_number_of_syncs():
    clock = Clock()
    clock.add_scheduler(EverySecond())
    tracemalloc.start()
    try:
        summary = clock.advance_summarised("1d")
        _, peak = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()
    assert summary.fired_count == 86_400 and summary.to_dict()["exports"][0]["added"] == 86_400
    assert peak < 2_000_000  # 86,400 rows of 500 bytes kept would be over 40 MB
    assert clock.now() == DEFAULT_START + timedelta(days=1)


def test_a_small_advance_still_lists_every_sync():
    clock = Clock()
    clock.add_scheduler(EverySecond())
    body = clock.advance_summarised("3s").to_dict()
    assert body["fired_count"] == 3 and not body["fired_truncated"] and len(body["fired"]) == 3


def test_a_move_that_would_run_more_syncs_than_the_bound_is_refused_before_it_starts():
    """Found by tests/fuzz: 100 years over a 15-minute export (3.5 million syncs) held the clock for minutes,
    so every later advance hung too. Refused at once, nothing run, the clock where it was."""
    clock = Clock()
    with ServerThread(create_braze_app(clock=clock)) as braze, ServerThread(create_mixpanel_app(clock=clock)) as mp:
        one_export(braze.url, mp.url, "15m")
        for body, to, runs in (({"advance": "36500d"}, "2125-12-08T00:00:00Z", 3504000),
                               ({"set": "2126-01-01T00:00:00Z"}, "2126-01-01T00:00:00Z", 3506304)):
            reply = requests.post(f"{mp.url}/_harness/clock", json=body, timeout=10)
            assert (reply.status_code, reply.json()) == (400, {"error": (
                f"moving the clock from 2026-01-01T00:00:00Z to {to} would run {runs} scheduled syncs, more than "
                "100000 in one move: move the clock in smaller steps")})
        assert requests.get(f"{mp.url}/_harness/clock", timeout=10).json()["now"] == "2026-01-01T00:00:00Z"
        reply = control(mp.url, "POST", "/clock", {"advance": "100d"})  # 9,600 syncs: within the bound
        assert reply.json()["fired_count"] == 9_600
