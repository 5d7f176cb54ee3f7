"""Duplicates (same event, time, distinct_id, $insert_id): the latest ingested copy is the one queries
use, the raw export returns every copy (reference, corrections section; issue 17)."""
import json

import pytest

from .conftest import NOW_S, event, import_url, sa

T = NOW_S - 3600
FIRST = event("Buy", T, "ann", "dup-1", plan="free")
LATEST = event("Buy", T, "ann", "dup-1", plan="pro", coupon="X1")


@pytest.fixture()
def two_copies(api, proj):
    """Ann's Buy sent twice with different properties (the second through /import, a day's retry)."""
    base = f"/_harness/projects/{proj['project_id']}"
    reply = api.post(base + "/events", json={"events": [FIRST, event("Buy", T + 60, "bob", "b-1", plan="free")]})
    assert reply.json == {"num_records_imported": 2, "removed_by_retention": 0, "duplicates": 0, "failed_records": []}
    reply = api.post(import_url(proj), json=[LATEST], auth=sa(proj))
    assert (reply.status_code, reply.json) == (200, {"code": 200, "status": "OK", "num_records_imported": 1})
    return proj


def members(api, proj, definition):
    base = f"/_harness/projects/{proj['project_id']}"
    cohort = api.post(base + "/cohorts", json={"name": "c", "definition": definition}).json["cohort_id"]
    return api.get(f"{base}/cohorts/{cohort}/members").json["members"]


def test_the_raw_export_returns_every_copy_in_ingestion_order(api, two_copies):
    reply = api.get("/api/2.0/export", query_string={"project_id": two_copies["project_id"],
                                                     "from_date": "2025-12-31", "to_date": "2025-12-31"},
                    auth=sa(two_copies))
    assert reply.status_code == 200
    assert [json.loads(line) for line in reply.data.decode().splitlines()] == [
        {"event": "Buy", "properties": {"time": T, "distinct_id": "ann", "$insert_id": "dup-1", "plan": "free",
                                        "mp_processing_time_ms": T * 1000}},
        {"event": "Buy", "properties": {"time": T, "distinct_id": "ann", "$insert_id": "dup-1", "plan": "pro",
                                        "coupon": "X1", "mp_processing_time_ms": T * 1000}},
        {"event": "Buy", "properties": {"time": T + 60, "distinct_id": "bob", "$insert_id": "b-1", "plan": "free",
                                        "mp_processing_time_ms": (T + 60) * 1000}}]


@pytest.mark.parametrize("definition, expected", [
    ({"event": "Buy", "where": {"plan": "pro"}}, ["ann"]),
    ({"event": "Buy", "where": {"plan": "free"}}, ["bob"]),
    ({"event": "Buy", "at_least": 2}, []),
    ({"event": "Buy", "at_most": 1}, ["ann", "bob"]),
])
def test_cohort_conditions_see_only_the_latest_copy(api, two_copies, definition, expected):
    assert members(api, two_copies, definition) == expected


def test_the_query_api_sees_the_latest_copy(api, two_copies):
    reply = api.get("/api/2.0/events/properties/top", query_string={"project_id": two_copies["project_id"],
                                                                   "event": "Buy"}, auth=sa(two_copies))
    assert (reply.status_code, reply.json) == (200, {"plan": {"count": 2}, "coupon": {"count": 1}})
    base = f"/_harness/projects/{two_copies['project_id']}"
    cohort = api.post(base + "/cohorts", json={"name": "pro buyers", "definition": {
        "event": "Buy", "where": {"plan": "pro"}}}).json["cohort_id"]
    reply = api.post(f"/api/query/engage?project_id={two_copies['project_id']}",
                     data={"filter_by_cohort": json.dumps({"id": cohort})}, auth=sa(two_copies))
    assert reply.status_code == 200, reply.json
    assert [(r["$distinct_id"], r["$properties"]) for r in reply.json["results"]] == [("ann", {})]


def test_the_control_plane_counts_one_stored_event_per_duplicate_key(api, two_copies):
    base = f"/_harness/projects/{two_copies['project_id']}"
    assert api.get(base + "/stats").json == {"events_stored": 2, "events_removed_by_retention": 0,
                                             "events_rejected": 0, "events_deduplicated": 1, "profiles": 0,
                                             "identities_merged": 0, "cohorts": 0}


def test_state_dumps_keep_every_copy_and_the_latest_still_wins(api, two_copies):
    state = api.get("/_harness/state").json
    events = state["store"]["projects"][0]["events"]
    assert [e[4] for e in events] == [{"plan": "free"}, {"plan": "free"}, {"plan": "pro", "coupon": "X1"}]
    assert api.post("/_harness/reset").status_code == 200
    assert api.put("/_harness/state", json=state).status_code == 200
    assert api.get("/_harness/state").json["store"]["projects"][0]["events"] == events
    assert members(api, two_copies, {"event": "Buy", "where": {"plan": "pro"}}) == ["ann"]
    assert members(api, two_copies, {"event": "Buy", "where": {"plan": "free"}}) == ["bob"]
