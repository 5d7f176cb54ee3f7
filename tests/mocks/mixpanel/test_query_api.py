"""The Query API: cohorts/list and engage under /api/query and /api/2.0, paging, filters, limits."""
import json

import pytest

from .conftest import NOW_S, event, sa

PREFIXES = ["/api/query", "/api/2.0"]


def control(api, proj, path, body=None):
    base = f"/_harness/projects/{proj['project_id']}"
    return api.post(base + path, json=body).json if body is not None else api.get(base + path).json


def make_cohort(api, proj, definition, name="C", **extra):
    return control(api, proj, "/cohorts", {"name": name, "definition": definition, **extra})["cohort_id"]


def engage(api, proj, prefix="/api/query", **fields):
    return api.post(f"{prefix}/engage?project_id={proj['project_id']}", data=fields, auth=sa(proj))


@pytest.mark.parametrize("prefix", PREFIXES)
@pytest.mark.parametrize("method", ["GET", "POST"])
def test_cohorts_list_is_a_bare_array_with_live_counts(api, proj, clock, prefix, method):
    control(api, proj, "/profiles", {"profiles": [{"distinct_id": "ann", "properties": {"plan": "pro"}}]})
    clock.advance("2h")
    pro = make_cohort(api, proj, {"property": "plan", "equals": "pro"}, "Pro", description="paying")
    hidden = make_cohort(api, proj, {"distinct_ids": ["x", "y"]}, "Hidden", is_visible=False)
    reply = api.open(f"{prefix}/cohorts/list?project_id={proj['project_id']}", method=method, auth=sa(proj))
    assert reply.status_code == 200 and reply.json == [
        {"count": 1, "is_visible": 1, "description": "paying", "created": "2026-01-01 02:00:00",
         "project_id": proj["project_id"], "id": pro, "name": "Pro"},
        {"count": 2, "is_visible": 0, "description": "", "created": "2026-01-01 02:00:00",
         "project_id": proj["project_id"], "id": hidden, "name": "Hidden"}]


def test_engage_pages_over_more_than_2000_members(api, proj):
    profiles = [{"distinct_id": f"user-{i:05d}", "properties": {"n": i}} for i in range(2500)]
    control(api, proj, "/profiles", {"profiles": profiles})
    control(api, proj, "/events", {"events": [event("Buy", NOW_S, f"buyer-{i}") for i in range(10)]})
    cohort = make_cohort(api, proj, {"or": [{"property": "n", "gte": 0}, {"event": "Buy"}]})
    first = engage(api, proj, filter_by_cohort=json.dumps({"id": cohort})).json
    assert (first["page"], first["page_size"], first["total"], first["status"], len(first["results"])) == (0, 1000, 2510, "ok", 1000)
    seen = [r["$distinct_id"] for r in first["results"]]
    page = first
    while len(page["results"]) == page["page_size"]:
        page = engage(api, proj, filter_by_cohort=json.dumps({"id": cohort}), page=str(page["page"] + 1),
                      session_id=first["session_id"]).json
        assert page["session_id"] == first["session_id"] and page["total"] == 2510
        seen += [r["$distinct_id"] for r in page["results"]]
    assert page["page"] == 2 and len(page["results"]) == 510
    assert seen == sorted([f"user-{i:05d}" for i in range(2500)] + [f"buyer-{i}" for i in range(10)])
    assert first["results"][0] == {"$distinct_id": "buyer-0", "$properties": {}}
    assert first["results"][10] == {"$distinct_id": "user-00000", "$properties": {"n": 0}}


def test_engage_filters(api, proj):
    control(api, proj, "/profiles", {"profiles": [
        {"distinct_id": "ann", "properties": {"plan": "pro", "age": 34, "email": "a@x"}},
        {"distinct_id": "bob", "properties": {"plan": "free", "age": 20}},
        {"distinct_id": "cid", "properties": {"plan": "pro"}}]})
    control(api, proj, "/events", {"events": [event("Buy", NOW_S, "dee"), event("Buy", NOW_S, "ann")]})
    buyers = make_cohort(api, proj, {"event": "Buy"})

    def ids(**fields):
        reply = engage(api, proj, **fields)
        assert reply.status_code == 200, reply.json
        return [r["$distinct_id"] for r in reply.json["results"]]

    assert ids() == ["ann", "bob", "cid"]
    assert ids(where='properties["plan"] == "pro" and defined(properties["email"])') == ["ann"]
    assert ids(where='user["plan"] == "free" or user["age"] > 30') == ["ann", "bob"]
    assert ids(distinct_ids=json.dumps(["cid", "bob", "zzz"])) == ["bob", "cid"]
    assert ids(distinct_id="ann") == ["ann"]
    assert ids(filter_by_cohort=json.dumps({"id": buyers})) == ["ann", "dee"]
    assert ids(filter_by_cohort=json.dumps({"id": buyers}), include_all_users="false") == ["ann"]
    reply = engage(api, proj, distinct_id="ann", output_properties=json.dumps(["plan", "missing"])).json
    assert reply["results"] == [{"$distinct_id": "ann", "$properties": {"plan": "pro"}}]


@pytest.mark.parametrize("fields, status, message", [
    ({"page": "1"}, 400, "page > 0 needs the session_id of the first page's reply"),
    ({"page": "-1"}, 400, "page must be a non-negative integer"),
    ({"page": "1", "session_id": "nope"}, 400, "session_id 'nope' is unknown or has expired; ask page 0 again"),
    ({"filter_by_cohort": "{"}, 400, "filter_by_cohort must be valid JSON"),
    ({"filter_by_cohort": "[1]"}, 400, "filter_by_cohort must be a JSON object"),
    ({"filter_by_cohort": '{"id": "x"}'}, 400, 'filter_by_cohort must be a JSON object like {"id": 123}'),
    ({"filter_by_cohort": '{"id": 999}'}, 400, "cohort 999 does not exist in project {pid}"),
    ({"behaviors": "1", "filter_by_cohort": '{"id": 1}'}, 400, "behaviors and filter_by_cohort are mutually exclusive"),
    ({"behaviors": "1"}, 400, "behaviors is not supported by this mock; use filter_by_cohort"),
    ({"where": 'properties["a" =='}, 400, "invalid where expression: expected ] but found '=='"),
    ({"distinct_ids": "[1]"}, 400, "distinct_ids must be a JSON array of strings"),
    ({"output_properties": "{}"}, 400, "output_properties must be a JSON array"),
])
def test_engage_errors_name_the_request(api, proj, fields, status, message):
    reply = engage(api, proj, **fields)
    assert reply.status_code == status
    assert reply.json == {"request": f"/api/query/engage?project_id={proj['project_id']}",
                          "error": message.replace("{pid}", str(proj["project_id"]))}


def test_a_cohort_of_another_project_is_unknown(api, proj):
    other = api.post("/_harness/projects", json={"name": "other"}).json
    foreign = make_cohort(api, other, {"event": "Buy"})
    reply = engage(api, proj, filter_by_cohort=json.dumps({"id": foreign}))
    assert reply.status_code == 400 and "does not exist" in reply.json["error"]


@pytest.mark.parametrize("auth", [None, ("wrong", "wrong"), "token"])
def test_query_api_needs_credentials(api, proj, auth):
    credentials = (proj["token"], "") if auth == "token" else auth
    reply = api.get("/api/2.0/cohorts/list", auth=credentials)
    assert reply.status_code == 401 and reply.json == {"request": "/api/2.0/cohorts/list", "error": "Invalid credentials"}
    assert api.get("/api/2.0/cohorts/list", auth=(proj["api_secret"], "")).status_code == 200


def test_query_rate_limit_answers_mixpanels_429_until_the_hour_turns(api, proj, clock):
    api.patch("/_harness/limits", json={"query_per_hour": 2})
    for _ in range(2):
        assert engage(api, proj).status_code == 200
    reply = api.post(f"/api/2.0/cohorts/list?project_id={proj['project_id']}", auth=sa(proj))
    assert reply.status_code == 429
    assert reply.json == {"request": f"/api/2.0/cohorts/list?project_id={proj['project_id']}",
                          "error": f"Query rate limit exceeded for project_id: {proj['project_id']}. 1/5 queries running "
                                   "concurrently and 3/2 queries running in the last hour. For more information, please "
                                   "consult our documentation at https://help.mixpanel.com/hc/en-us/articles/"
                                   "115004602563-Rate-Limits-for-Export-API-Endpoints"}
    other = api.post("/_harness/projects", json={"name": "other"}).json
    assert engage(api, other).status_code == 200
    clock.advance("1h")
    assert engage(api, proj).status_code == 200


def test_concurrency_gate_counts_running_queries():
    from mocks.mixpanel.limits import ConcurrencyGate

    gate = ConcurrencyGate()
    assert gate.enter("q", 2) == (True, 1) and gate.enter("q", 2) == (True, 2)
    assert gate.enter("q", 2) == (False, 3)
    with gate.held("q"):
        pass
    assert gate.enter("q", 2) == (True, 2)
