"""``POST /groups`` (group profiles) and reading them with the Query API's ``data_group_id``."""
import json

import pytest

from .conftest import sa


def groups(api, proj, *messages, verbose="1"):
    data = json.dumps([{"$token": proj["token"], **m} for m in messages])
    return api.post("/groups", data={"data": data, "verbose": verbose})


def read(api, proj, group_key="company", **params):
    return api.get("/api/query/engage", query_string={"project_id": proj["project_id"], "data_group_id": group_key,
                                                      **params}, auth=sa(proj))


def test_group_operations_and_reading_them(api, proj):
    acme = {"$group_key": "company", "$group_id": "acme"}
    reply = groups(api, proj, {**acme, "$set": {"tier": "gold", "since": 2020}}, {**acme, "$union": {"regions": ["eu"]}},
                   {**acme, "$unset": ["since"]}, {"$group_key": "company", "$group_id": "zed", "$set_once": {"a": 1}},
                   {"$group_key": "team", "$group_id": "ops", "$set": {"size": 3}})
    assert (reply.status_code, reply.json) == (200, {"error": None, "status": 1})
    body = read(api, proj).json
    assert (body["total"], body["results"]) == (2, [
        {"$distinct_id": "acme", "$properties": {"tier": "gold", "regions": ["eu"]}},
        {"$distinct_id": "zed", "$properties": {"a": 1}}])
    groups(api, proj, {"$group_key": "company", "$group_id": "zed", "$delete": ""})
    assert [r["$distinct_id"] for r in read(api, proj).json["results"]] == ["acme"]
    assert read(api, proj, "team").json["results"] == [{"$distinct_id": "ops", "$properties": {"size": 3}}]


@pytest.mark.parametrize("message, error", [
    ({"$group_id": "acme", "$set": {}}, "$group_key, missing or empty"),
    ({"$group_key": "company", "$set": {}}, "$group_id, missing or empty"),
    ({"$group_key": "company", "$group_id": "acme", "$add": {"n": 1}},
     "each group update needs exactly one operation of $set, $set_once, $union, $remove, $unset, $delete"),
    ({"$group_key": "company", "$group_id": "acme", "$set": [1]}, "$set must be a JSON object of property names to values"),
])
def test_a_bad_group_update_is_refused_with_its_reason(api, proj, message, error):
    reply = groups(api, proj, message)
    assert (reply.status_code, reply.json) == (200, {"error": error, "status": 0})
    assert read(api, proj).json["total"] == 0


def test_user_filters_are_refused_with_data_group_id(api, proj):
    reply = read(api, proj, filter_by_cohort='{"id": 1}')
    assert (reply.status_code, reply.json["error"]) == (400, "filter_by_cohort cannot be combined with data_group_id "
                                                            "in this mock")


def test_group_profiles_survive_a_state_dump_and_load(api, proj):
    groups(api, proj, {"$group_key": "company", "$group_id": "acme", "$set": {"tier": "gold", "seats": 12}},
           {"$group_key": "company", "$group_id": "zed", "$set": {"tier": "free"}},
           {"$group_key": "team", "$group_id": "ops", "$union": {"tags": ["on-call"]}})
    dump = api.get("/_harness/state").json
    assert dump["store"]["projects"][0]["groups"] == {
        "company": {"acme": {"tier": "gold", "seats": 12}, "zed": {"tier": "free"}},
        "team": {"ops": {"tags": ["on-call"]}}}
    assert api.post("/_harness/reset").status_code in (200, 204)
    assert api.put("/_harness/state", json=dump).status_code == 200
    body = read(api, proj).json
    assert body["results"] == [{"$distinct_id": "acme", "$properties": {"tier": "gold", "seats": 12}},
                               {"$distinct_id": "zed", "$properties": {"tier": "free"}}]
    assert read(api, proj, "team").json["results"] == [{"$distinct_id": "ops", "$properties": {"tags": ["on-call"]}}]
    assert api.get("/_harness/state").json["store"] == dump["store"]


def test_a_dump_from_before_groups_loads_with_none(api, proj):
    dump = api.get("/_harness/state").json
    del dump["store"]["projects"][0]["groups"]
    assert api.put("/_harness/state", json=dump).status_code == 200
    assert read(api, proj).json["results"] == []


@pytest.mark.parametrize("value, error", [
    ([], "'groups' must be a JSON object of group keys"),
    ({"company": []}, "groups['company'] must be a non-empty group key holding a JSON object of group ids"),
    ({"": {}}, "groups[''] must be a non-empty group key holding a JSON object of group ids"),
    ({"company": {"acme": "gold"}},
     "groups['company']['acme'] must be a non-empty group id holding a JSON object of properties"),
    ({"company": {"": {}}}, "groups['company'][''] must be a non-empty group id holding a JSON object of properties"),
])
def test_a_bad_groups_dump_is_a_400_and_loads_nothing(api, proj, value, error):
    groups(api, proj, {"$group_key": "company", "$group_id": "acme", "$set": {"tier": "gold"}})
    before = api.get("/_harness/state").json
    dump = json.loads(json.dumps(before))
    dump["store"]["projects"][0]["groups"] = value
    dump["store"]["projects"][0]["name"] = "changed"
    reply = api.put("/_harness/state", json=dump)
    assert (reply.status_code, reply.json) == (400, {"error": f"invalid state: {error}"})
    assert api.get("/_harness/state").json["store"] == before["store"]
