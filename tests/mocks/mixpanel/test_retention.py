"""The default retention follows the project's creation date (reference "Corrections and additions":
created since 1 September 2025, 2 years; older, 5 years); an explicit ``retention_days`` wins."""
from datetime import datetime, timezone

import pytest

from mocks.mixpanel.retention import default_retention_days

from .conftest import DAY_S, NOW_S, event, import_url, sa


def create(api, **body):
    reply = api.post("/_harness/projects", json={"name": "R", **body})
    assert reply.status_code == 201, reply.json
    return reply.json


def imported(api, proj, *times):
    reply = api.post(import_url(proj), json=[event("Buy", t, f"u{i}") for i, t in enumerate(times)], auth=sa(proj))
    assert reply.status_code == 200, reply.json
    stats = api.get(f"/_harness/projects/{proj['project_id']}/stats").json
    return reply.json["num_records_imported"], stats["events_stored"], stats["events_removed_by_retention"]


@pytest.mark.parametrize("created, days", [
    (datetime(2025, 9, 1, tzinfo=timezone.utc), 730),
    (datetime(2026, 1, 1, tzinfo=timezone.utc), 730),
    (datetime(2025, 8, 31, 23, 59, 59, tzinfo=timezone.utc), 1825),
    (datetime(2012, 1, 1, tzinfo=timezone.utc), 1825),
])
def test_the_default_by_creation_date(created, days):
    assert default_retention_days(created) == days


def test_a_project_created_now_keeps_two_years(api):
    proj = create(api)
    assert (proj["retention_days"], proj["retention_default"], proj["created_at"]) == (730, True, "2026-01-01T00:00:00Z")
    assert imported(api, proj, NOW_S - 731 * DAY_S, NOW_S - 729 * DAY_S, NOW_S - 60) == (2, 2, 1)


@pytest.mark.parametrize("created_at, days", [("2025-08-31T23:59:59Z", 1825), ("2025-09-01T00:00:00Z", 730),
                                              ("2019-05-01", 1825)])
def test_created_at_given_at_creation_decides_the_default(api, created_at, days):
    proj = create(api, created_at=created_at)
    assert (proj["retention_days"], proj["retention_default"]) == (days, True)
    assert imported(api, proj, NOW_S - (days + 1) * DAY_S, NOW_S - (days - 1) * DAY_S) == (1, 1, 1)


def test_the_default_window_moves_with_the_clock(api, clock):
    proj = create(api)
    assert imported(api, proj, NOW_S - 700 * DAY_S) == (1, 1, 0)
    clock.advance("31d")
    stats = api.get(f"/_harness/projects/{proj['project_id']}/stats").json
    assert (stats["events_stored"], stats["events_removed_by_retention"]) == (0, 1)


def test_an_explicit_retention_wins(api):
    thirty = create(api, retention_days=30, created_at="2020-01-01T00:00:00Z")
    assert (thirty["retention_days"], thirty["retention_default"]) == (30, False)
    assert imported(api, thirty, NOW_S - 31 * DAY_S, NOW_S - 29 * DAY_S) == (1, 1, 1)
    keep_all = create(api, retention_days=None)
    assert (keep_all["retention_days"], keep_all["retention_default"]) == (None, False)
    assert imported(api, keep_all, 1433160000) == (1, 1, 0)  # 2015: only the 2010 floor applies


def test_patching_the_retention_makes_it_explicit(api):
    proj = create(api)
    reply = api.patch(f"/_harness/projects/{proj['project_id']}", json={"retention_days": None})
    assert (reply.json["retention_days"], reply.json["retention_default"]) == (None, False)
    reply = api.patch(f"/_harness/projects/{proj['project_id']}", json={"retention_days": 90})
    assert (reply.json["retention_days"], reply.json["retention_default"]) == (90, False)


@pytest.mark.parametrize("created_at, message", [
    ("2026-01-01T00:00:01Z", "created_at cannot be later than the mock clock's now (2026-01-01T00:00:00Z)"),
    ("yesterday", "invalid body at $.created_at: invalid ISO-8601 instant 'yesterday'"),
    (20250101, "invalid body at $.created_at: 20250101 is not of type 'string'"),
])
def test_a_bad_created_at_is_a_400(api, created_at, message):
    reply = api.post("/_harness/projects", json={"name": "R", "created_at": created_at})
    assert (reply.status_code, reply.json) == (400, {"error": message})
    assert api.get("/_harness/projects").json == {"projects": []}


def test_the_retention_setting_survives_a_state_dump(api):
    default = create(api, created_at="2024-06-01T00:00:00Z")
    explicit = create(api, retention_days=None)
    dump = api.get("/_harness/state").json
    assert api.put("/_harness/state", json=dump).status_code == 200
    projects = api.get("/_harness/projects").json["projects"]
    assert projects == [default, explicit]
    assert [(p["retention_days"], p["retention_default"]) for p in projects] == [(1825, True), (None, False)]


def test_a_dump_from_before_the_default_keeps_its_meaning(api):
    create(api)
    dump = api.get("/_harness/state").json
    item = dump["store"]["projects"][0]
    del item["retention_default"]
    item["retention_days"] = None  # older dumps: null meant no rolling window
    assert api.put("/_harness/state", json=dump).status_code == 200
    assert api.get("/_harness/projects/1").json["retention_days"] is None


@pytest.mark.parametrize("change, message", [
    ({"retention_default": "yes"}, "invalid state: project 1: retention_default must be true or false"),
    ({"retention_default": False, "retention_days": "30"},
     "invalid state: project 1: retention_days must be a positive integer or null"),
    ({"retention_default": False, "retention_days": 0},
     "invalid state: project 1: retention_days must be a positive integer or null"),
])
def test_a_bad_retention_in_a_dump_is_a_400(api, change, message):
    create(api)
    dump = api.get("/_harness/state").json
    dump["store"]["projects"][0].update(change)
    reply = api.put("/_harness/state", json=dump)
    assert (reply.status_code, reply.json) == (400, {"error": message})
    assert api.get("/_harness/projects/1").json["retention_default"] is True
