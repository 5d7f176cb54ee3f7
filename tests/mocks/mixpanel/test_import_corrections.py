"""The reference's corrections for ``/import``: ``$merge`` events, ``GET`` with base64 ``data``, and
``$insert_id`` required only under ``strict=1``."""
import base64
import json

from .conftest import NOW_S, event, import_url, sa


def merge_event(ids):
    return {"event": "$merge", "properties": {"$distinct_ids": ids, "token": "t"}}


def stats(api, proj):
    return api.get(f"/_harness/projects/{proj['project_id']}/stats").json


def test_merge_event_is_accepted_and_stores_nothing(api, proj):
    reply = api.post(import_url(proj), json=[merge_event(["a", "b"])], auth=sa(proj))
    assert (reply.status_code, reply.json) == (200, {"code": 200, "num_records_imported": 1, "status": "OK"})
    assert (stats(api, proj)["events_stored"], stats(api, proj)["identities_merged"]) == (0, 0)


def test_merge_event_needs_two_different_ids(api, proj):
    for ids in (["a"], ["a", "a"], "a,b", ["a", "null"], ["a", 3]):
        reply = api.post(import_url(proj), json=[merge_event(ids)], auth=sa(proj))
        assert reply.status_code == 400
        assert reply.json["failed_records"] == [{
            "index": 0, "$insert_id": "", "field": "properties.$distinct_ids",
            "message": "'properties.$distinct_ids' is invalid: must be a list of two different distinct_ids"}]


def test_get_with_base64_data_in_the_query_string(api, proj):
    data = base64.b64encode(json.dumps(event("Buy", NOW_S)).encode()).decode()
    reply = api.get(import_url(proj, strict=None) + "&verbose=1&data=" + data, auth=sa(proj))
    assert (reply.status_code, reply.json) == (200, {"error": None, "status": 1})
    assert stats(api, proj)["events_stored"] == 1
    reply = api.get(import_url(proj, strict=None) + "&verbose=1", auth=sa(proj))
    assert (reply.status_code, reply.json) == (400, {"error": "data, missing or empty", "status": 0})


def test_without_strict_an_event_without_insert_id_is_kept_and_not_deduplicated(api, proj):
    bare = {"event": "Buy", "properties": {"time": NOW_S, "distinct_id": "u1"}}
    reply = api.post(import_url(proj, strict=None), data={"data": json.dumps([bare, bare]), "verbose": "1"},
                     auth=sa(proj))
    assert (reply.status_code, reply.json) == (200, {"error": None, "status": 1})
    assert stats(api, proj)["events_stored"] == 2
    reply = api.post(import_url(proj, strict="1"), json=[bare], auth=sa(proj))
    assert reply.status_code == 400 and reply.json["failed_records"] == [{
        "index": 0, "$insert_id": "", "field": "properties.$insert_id",
        "message": "'properties.$insert_id' is invalid: must be a non-empty string"}]
