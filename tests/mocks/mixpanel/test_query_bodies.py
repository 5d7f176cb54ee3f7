"""Query API parameters in a JSON object body (what Airbyte's cohort_members stream posts), never a
silently ignored body, and ``page_size``."""
import json

import pytest

from .conftest import sa


@pytest.fixture()
def cohort(api, proj):
    pid = proj["project_id"]
    api.post(f"/_harness/projects/{pid}/profiles", json={"profiles": [
        {"distinct_id": name, "properties": {"plan": plan}} for name, plan in
        (("ann", "pro"), ("bob", "pro"), ("cy", "free"))]})
    made = api.post(f"/_harness/projects/{pid}/cohorts",
                    json={"name": "pro", "definition": {"property": "plan", "equals": "pro"}}).json
    return made["cohort_id"]


def ids(reply):
    return [r["$distinct_id"] for r in reply.json["results"]]


@pytest.mark.parametrize("filter_value", ['{"id": %d}', "{}"])
def test_a_json_body_filters_like_a_form(api, proj, cohort, filter_value):
    value = filter_value % cohort if "%d" in filter_value else {"id": cohort}
    reply = api.post(f"/api/query/engage?project_id={proj['project_id']}&page_size=1000",
                     json={"filter_by_cohort": value}, auth=sa(proj))
    assert reply.status_code == 200 and (ids(reply), reply.json["total"]) == (["ann", "bob"], 2)


@pytest.mark.parametrize("body, content_type", [("[1, 2]", "application/json"), ("not json", "application/json"),
                                                ("filter_by_cohort", "text/plain")])
def test_a_body_that_is_not_parameters_is_a_400(api, proj, cohort, body, content_type):
    for path in ("/api/query/engage", "/api/2.0/engage", "/api/query/cohorts/list"):
        reply = api.post(f"{path}?project_id={proj['project_id']}", data=body, content_type=content_type,
                         auth=sa(proj))
        assert (reply.status_code, reply.json) == (400, {
            "request": f"{path}?project_id={proj['project_id']}",
            "error": "request body must be form fields or a JSON object of parameters"})


def test_page_size_pages_and_is_bounded(api, proj, cohort):
    url = f"/api/query/engage?project_id={proj['project_id']}"
    first = api.post(url + "&page_size=1", json={"filter_by_cohort": {"id": cohort}}, auth=sa(proj)).json
    assert (first["page_size"], [r["$distinct_id"] for r in first["results"]], first["total"]) == (1, ["ann"], 2)
    second = api.post(url, json={"page_size": 1, "page": 1, "session_id": first["session_id"]}, auth=sa(proj))
    assert ids(second) == ["bob"]
    for bad in ("0", "1001", "x"):
        reply = api.get(url + f"&page_size={bad}", auth=sa(proj))
        assert (reply.status_code, reply.json["error"]) == (400, "page_size must be an integer from 1 to 1000")
