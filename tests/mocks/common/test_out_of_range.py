"""Issue 12 class 3: numbers and times out of range get the endpoint's own 4xx (or documented refusal),
never a 500 or an OverflowError. Both mocks, through the Flask test client and the real pipeline."""
from __future__ import annotations

import base64
import json
from typing import Any

import pytest
from flask.testing import FlaskClient

from mocks.common.validation import MAX_DEPTH

HUGE = "9" * 5000
OUT_OF_RANGE_DURATION = "invalid duration {!r}: at most 36500 days (100 years) at once"
OUT_OF_RANGE_INSTANT = ("instant {!r} is out of range: it must fall between 0001-01-01T00:00:00Z and "
                        "9999-12-31T23:59:59Z")


# -- where literals ------------------------------------------------------------------------------
@pytest.mark.parametrize("literal, message", [
    (HUGE, "invalid where expression: the number 9999999999999999999999999999999999999999... is out of range"),
    ("1e999", "invalid where expression: the number 1e999 is out of range"),
    ("\u00b2", "invalid where expression: unexpected character at position 19: '\u00b2'"),
    ("\u0663", "invalid where expression: unexpected character at position 19: '\u0663'"),
    (f"datetime({'9' * 400})", "invalid where expression: the number 9999999999999999999999999999999999999999... "
                               "is out of range"),
])
def test_where_literals_out_of_range_are_the_query_apis_400(mixpanel, project, secret_auth, literal, message):
    reply = mixpanel.get("/api/query/engage", headers=secret_auth,
                         query_string={"where": f'properties["a"] == {literal}', "project_id": project["project_id"]})
    assert reply.status_code == 400, reply.get_data(as_text=True)
    assert reply.get_json()["error"] == message


def test_a_large_but_finite_where_literal_still_works(mixpanel, project, secret_auth):
    reply = mixpanel.get("/api/query/engage", headers=secret_auth,
                         query_string={"where": f'properties["a"] < {"9" * 300}', "project_id": project["project_id"]})
    assert reply.status_code == 200


# -- cohort_sync control-plane segments ------------------------------------------------------------
@pytest.mark.parametrize("segment", ["%C2%B2", HUGE, "%D9%A3"])
@pytest.mark.parametrize("template", ["/_harness/projects/{s}/connections", "/_harness/projects/{s}/exports",
                                      "/_harness/projects/1/connections/{s}", "/_harness/projects/1/exports/{s}",
                                      "/_harness/projects/1/exports/{s}/stop"])
def test_cohort_sync_path_segments_that_are_not_ids_are_404(mixpanel, project, template, segment):
    method = mixpanel.post if template.endswith("stop") else mixpanel.get
    reply = method(template.format(s=segment))
    assert reply.status_code == 404, reply.get_data(as_text=True)
    assert set(reply.get_json()) == {"error"}


@pytest.mark.parametrize("limit", ["%C2%B2", HUGE, "0"])
def test_the_export_detail_limit_out_of_range_is_400(mixpanel, project, limit):
    reply = mixpanel.get(f"/_harness/projects/1/exports/1?limit={limit}")
    assert reply.status_code in (400, 404)
    assert reply.status_code == 404 or reply.get_json() == {"error": "'limit' must be a positive integer"}


# -- instants --------------------------------------------------------------------------------------
@pytest.mark.parametrize("created_at", ["0001-01-01T00:00:00+01:00", "9999-12-31T23:59:59-01:00"])
def test_braze_created_at_beyond_the_calendar_is_its_400(braze, created_at):
    workspace = braze.post("/_harness/workspaces", json={"name": "w"}).get_json()
    key = braze.post(f"/_harness/workspaces/{workspace['workspace_id']}/data_import_keys",
                     json={"partner": "mixpanel"}).get_json()["key"]
    partner = braze.get("/_harness/partners").get_json()["partners"][0]["partner_api_key"]
    reply = braze.post("/partners/mixpanel/cohorts", json={"partner_api_key": partner, "client_secret": key,
                                                           "cohort_id": "c1", "name": "n", "created_at": created_at})
    assert (reply.status_code, reply.get_json()) == (
        400, {"message": "`created_at` must be a valid time as an ISO-8601 string"})


@pytest.mark.parametrize("app", ["braze", "mixpanel"])
@pytest.mark.parametrize("instant", ["0001-01-01T00:00:00+01:00", "9999-12-31T23:59:59-01:00"])
def test_clock_set_beyond_the_calendar_is_400(request, app, instant):
    client: FlaskClient = request.getfixturevalue(app)
    reply = client.post("/_harness/clock", json={"set": instant})
    assert (reply.status_code, reply.get_json()) == (400, {"error": OUT_OF_RANGE_INSTANT.format(instant)})


# -- durations -------------------------------------------------------------------------------------
@pytest.mark.parametrize("app", ["braze", "mixpanel"])
@pytest.mark.parametrize("advance", ["99999999999d", HUGE + "d", "36501d"])
def test_clock_advance_out_of_range_is_400(request, app, advance):
    client: FlaskClient = request.getfixturevalue(app)
    reply = client.post("/_harness/clock", json={"advance": advance})
    assert (reply.status_code, reply.get_json()) == (400, {"error": OUT_OF_RANGE_DURATION.format(advance)})
    assert client.get("/_harness/clock").get_json()["now"] == "2026-01-01T00:00:00Z"


@pytest.mark.parametrize("app", ["braze", "mixpanel"])
def test_the_clock_cannot_pass_the_last_instant(request, app):
    client: FlaskClient = request.getfixturevalue(app)
    assert client.post("/_harness/clock", json={"set": "9999-12-31T00:00:00Z"}).status_code == 200
    reply = client.post("/_harness/clock", json={"advance": "2d"})
    assert (reply.status_code, reply.get_json()) == (
        400, {"error": "advancing 2d from 9999-12-31T00:00:00Z would pass 9999-12-31T23:59:59Z"})


def test_an_export_interval_out_of_range_is_400(mixpanel, project):
    reply = mixpanel.post(f"/_harness/projects/{project['project_id']}/exports",
                          json={"cohort_id": 1, "connection_id": 1, "mode": "dynamic", "interval": "99999999999d"})
    assert (reply.status_code, reply.get_json()) == (400, {"error": OUT_OF_RANGE_DURATION.format("99999999999d")})


# -- event times -----------------------------------------------------------------------------------
def event(project: dict[str, Any], time: float) -> dict[str, Any]:
    return {"event": "e", "properties": {"token": project["token"], "distinct_id": "u", "time": time,
                                         "$insert_id": "a1"}}


@pytest.mark.parametrize("time, message", [
    (-1e306, "'properties.time' is invalid: must not be before 1971-01-01"),
    (1e306, "'properties.time' is invalid: must not be more than 1 hour in the future"),
])
def test_import_time_out_of_range_is_a_failed_record(mixpanel, project, secret_auth, time, message):
    reply = mixpanel.post("/import", json=[event(project, time)], headers=secret_auth)
    assert reply.status_code == 400, reply.get_data(as_text=True)
    assert [r["message"] for r in reply.get_json()["failed_records"]] == [message]


@pytest.mark.parametrize("time", [-1e306, 1e306])
def test_track_time_out_of_range_is_refused_not_500(mixpanel, project, time):
    reply = mixpanel.post("/track?verbose=1", data={"data": json.dumps(event(project, time))})
    assert reply.status_code == 200 and reply.get_json()["status"] == 0, reply.get_data(as_text=True)
    assert "time" in reply.get_json()["error"]


# -- depth at /engage ------------------------------------------------------------------------------
DEPTH_ERROR = f"data, nested more than {MAX_DEPTH} levels deep"


def deep_profile(project: dict[str, Any]) -> str:
    return '{"$token": "%s", "$distinct_id": "u", "$set": {"plan": %s}}' % (project["token"], "[" * 600 + "]" * 600)


@pytest.mark.parametrize("send", ["form", "form-base64", "json"])
def test_a_profile_nested_600_lists_deep_is_refused_at_the_door(mixpanel, project, secret_auth, send):
    text = deep_profile(project)
    if send == "json":
        reply = mixpanel.post("/engage?verbose=1", data=text, content_type="application/json")
    else:
        data = base64.b64encode(text.encode()).decode() if send == "form-base64" else text
        reply = mixpanel.post("/engage?verbose=1", data={"data": data})
    assert (reply.status_code, reply.get_json()) == (200, {"error": DEPTH_ERROR, "status": 0})
    reply = mixpanel.get("/api/query/engage", headers=secret_auth,
                         query_string={"project_id": project["project_id"]})
    assert reply.get_json()["results"] == []
