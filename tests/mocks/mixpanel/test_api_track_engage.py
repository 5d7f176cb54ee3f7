"""POST /track and /engage as SDKs send them: token in each message, form ``data``, 1/0 replies."""
import base64
import json

import pytest

from .conftest import DAY_S, NOW_S


def track_event(proj, name="Open", time=NOW_S - 60, distinct_id="ann", **props):
    return {"event": name, "properties": {"token": proj["token"], "time": time, "distinct_id": distinct_id, **props}}


def profile(api, proj, distinct_id):
    return api.get(f"/_harness/projects/{proj['project_id']}/profiles/{distinct_id}")


def test_track_stores_events_and_answers_1(api, proj):
    reply = api.post("/track", data={"data": json.dumps(track_event(proj))})
    assert (reply.status_code, reply.data, reply.mimetype) == (200, b"1", "text/plain")
    reply = api.post("/track?verbose=1", data={"data": base64.b64encode(json.dumps([track_event(proj)]).encode())})
    assert reply.json == {"error": None, "status": 1}
    reply = api.get("/track", query_string={"data": json.dumps(track_event(proj)), "verbose": "1"})
    assert reply.json == {"error": None, "status": 1}
    reply = api.post("/track", json=[track_event(proj)], query_string={"verbose": "1"})
    assert reply.json == {"error": None, "status": 1}
    assert api.get(f"/_harness/projects/{proj['project_id']}/stats").json["events_stored"] == 4


def test_track_refuses_events_older_than_5_days(api, proj):
    reply = api.post("/track", data={"verbose": "1", "data": json.dumps(track_event(proj, time=NOW_S - 6 * DAY_S))})
    assert reply.status_code == 200 and reply.json == {
        "error": "'properties.time' is invalid: /track only accepts events from the last 5 days; send older events to /import",
        "status": 0}


def test_one_valid_event_is_enough_for_1(api, proj):
    batch = [track_event(proj), track_event(proj, time=NOW_S - 9 * DAY_S)]
    assert api.post("/track", data={"verbose": "1", "data": json.dumps(batch)}).json == {"error": None, "status": 1}


@pytest.mark.parametrize("token, message", [(None, "token, missing or empty"), ("nope", "token, not a valid project token")])
def test_track_without_a_known_token_answers_401(api, proj, token, message):
    event = track_event(proj)
    event["properties"].pop("token")
    if token:
        event["properties"]["token"] = token
    reply = api.post("/track", data={"verbose": "1", "data": json.dumps(event)})
    assert reply.status_code == 401 and reply.json == {"error": message, "status": 0}
    assert api.post("/track", data={"data": json.dumps(event)}).data == b"0"


@pytest.mark.parametrize("data, message", [
    (None, "data, missing or empty"), ("", "data, missing or empty"), ("[]", "data, missing or empty"),
    ("{oops", "data, not valid JSON or base64-encoded JSON"),
    (json.dumps([{"event": "E", "properties": {}}] * 2001), "too many items in data: at most 2000 per request"),
])
def test_unreadable_data_answers_0(api, data, message):
    fields = {"verbose": "1"} if data is None else {"verbose": "1", "data": data}
    for path in ("/track", "/engage"):
        reply = api.post(path, data=fields)
        assert reply.status_code == 200 and reply.json == {"error": message, "status": 0}


def test_engage_operations(api, proj):
    token = proj["token"]
    updates = [{"$token": token, "$distinct_id": "ann", "$set": {"plan": "free", "tags": ["a"]}},
               {"$token": token, "$distinct_id": "ann", "$set_once": {"plan": "pro", "first": "2026"}},
               {"$token": token, "$distinct_id": "ann", "$add": {"logins": 2}},
               {"$token": token, "$distinct_id": "ann", "$append": {"tags": "b"}},
               {"$token": token, "$distinct_id": "ann", "$union": {"tags": ["b", "c"]}},
               {"$token": token, "$distinct_id": "ann", "$remove": {"tags": "a"}},
               {"$token": token, "$distinct_id": "ann", "$unset": ["first"]}]
    assert api.post("/engage", data={"data": json.dumps(updates), "verbose": "1"}).json == {"error": None, "status": 1}
    assert profile(api, proj, "ann").json == {"distinct_id": "ann",
                                              "properties": {"plan": "free", "tags": ["b", "c"], "logins": 2,
                                                             "$last_seen": "2026-01-01T00:00:00"}}
    assert api.post("/engage", json={"$token": token, "$distinct_id": "ann", "$delete": ""}).data == b"1"
    assert profile(api, proj, "ann").status_code == 404


def test_engage_refusals(api, proj):
    reply = api.post("/engage", data={"verbose": "1", "data": json.dumps({"$token": proj["token"], "$set": {}})})
    assert reply.status_code == 200 and reply.json == {"error": "$distinct_id, missing or empty", "status": 0}
    reply = api.post("/engage", data={"verbose": "1", "data": json.dumps({"$distinct_id": "a", "$set": {}})})
    assert reply.status_code == 401 and reply.json == {"error": "token, missing or empty", "status": 0}
