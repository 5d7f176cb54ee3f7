"""``$last_seen``: Mixpanel maintains it on every profile update unless ``$ignore_time: true``
(reference corrections); a connector's incremental engage read filters on it."""
import json

from .conftest import NOW_S, sa


def engage(api, proj, distinct_id, **message):
    body = {"$token": proj["token"], "$distinct_id": distinct_id, **message}
    reply = api.post("/engage", data={"data": json.dumps(body), "verbose": "1"})
    assert reply.json == {"error": None, "status": 1}, reply.json


def profile(api, proj, distinct_id):
    return api.get(f"/_harness/projects/{proj['project_id']}/profiles/{distinct_id}").json["properties"]


def test_every_update_stamps_last_seen_with_the_clock_or_the_updates_time(api, proj, clock):
    engage(api, proj, "ann", **{"$set": {"plan": "pro"}})
    assert profile(api, proj, "ann")["$last_seen"] == "2026-01-01T00:00:00"
    clock.advance("90m")
    engage(api, proj, "ann", **{"$unset": ["color"]})
    assert profile(api, proj, "ann")["$last_seen"] == "2026-01-01T01:30:00"
    engage(api, proj, "ann", **{"$add": {"visits": 1}, "$time": (NOW_S - 3600) * 1000})
    assert profile(api, proj, "ann")["$last_seen"] == "2025-12-31T23:00:00"
    engage(api, proj, "ann", **{"$add": {"visits": 1}, "$time": NOW_S - 7200.5})  # the Python client: seconds
    assert profile(api, proj, "ann")["$last_seen"] == "2025-12-31T21:59:59"


def test_ignore_time_leaves_last_seen_alone(api, proj, clock):
    engage(api, proj, "bob", **{"$set": {"plan": "free"}})
    clock.advance("1d")
    engage(api, proj, "bob", **{"$set": {"plan": "pro"}, "$ignore_time": True})
    assert profile(api, proj, "bob") == {"plan": "pro", "$last_seen": "2026-01-01T00:00:00"}


def test_an_update_that_creates_no_profile_stamps_nothing(api, proj):
    engage(api, proj, "ghost", **{"$unset": ["plan"]})
    assert api.get(f"/_harness/projects/{proj['project_id']}/profiles/ghost").status_code == 404


def test_a_time_that_is_not_milliseconds_is_refused(api, proj):
    body = {"$token": proj["token"], "$distinct_id": "ann", "$set": {"a": 1}, "$time": "yesterday"}
    reply = api.post("/engage", data={"data": json.dumps(body), "verbose": "1"})
    assert reply.json == {"error": "$time must be a number of seconds or milliseconds since the epoch", "status": 0}


def test_an_incremental_read_filters_on_last_seen(api, proj, clock):
    engage(api, proj, "old", **{"$set": {"plan": "free"}})
    clock.advance("2h")
    engage(api, proj, "new", **{"$set": {"plan": "pro"}})
    reply = api.post(f"/api/query/engage?project_id={proj['project_id']}", auth=sa(proj),
                     data={"where": 'properties["$last_seen"] >= "2026-01-01T01:00:00"'})
    assert [p["$distinct_id"] for p in reply.json["results"]] == ["new"]
