"""Endpoints the reference's corrections add: /users/alias/update, /segments/details, /segments/data_series,
/users/export/segment, /campaigns/details, /canvas/details, and the list filters; exact statuses and bodies."""
import io
import json
import re
import zipfile

import pytest

from mocks.common import Clock

from .conftest import BrazeSession, start

ALIAS = {"alias_name": "a1", "alias_label": "crm"}


def expect(reply, status, body):
    assert (reply.status_code, reply.json()) == (status, body)


def aliases(braze):
    return sorted((u["external_id"] or "-", a["alias_label"], a["alias_name"])
                  for u in braze.ws_get("/users")["users"] for a in u["aliases"])


# -- POST /users/alias/update ------------------------------------------------------------------------------
def test_alias_update_renames_within_the_label(braze):
    braze.seed({"external_id": "kim", "aliases": [ALIAS, {"alias_name": "s1", "alias_label": "shop"}]},
               {"aliases": [{"alias_name": "taken", "alias_label": "crm"}]})
    reply = braze.rest("/users/alias/update", {"alias_updates": [
        {"alias_label": "crm", "old_alias_name": "a1", "new_alias_name": "a2"},
        {"alias_label": "shop", "old_alias_name": "nobody", "new_alias_name": "x"},
        {"alias_label": "shop", "old_alias_name": "s1", "new_alias_name": "taken"},
        {"alias_label": "crm", "old_alias_name": "a2", "new_alias_name": "taken"}]})
    expect(reply, 201, {"aliases_processed": 2, "message": "success", "errors": [
        {"type": "no user with this alias", "input_array": "alias_updates", "index": 1},
        {"type": "alias 'taken' with label 'crm' already belongs to another user", "input_array": "alias_updates",
         "index": 3}]})
    assert aliases(braze) == [("-", "crm", "taken"), ("kim", "crm", "a2"), ("kim", "shop", "taken")]
    assert reply.headers["x-ratelimit-limit"] == "20000"  # the identity endpoints' shared bucket
    found = braze.rest("/users/export/ids", {"user_aliases": [{"alias_name": "a2", "alias_label": "crm"}],
                                             "fields_to_export": ["external_id"]})
    assert found.json()["users"] == [{"external_id": "kim"}]


@pytest.mark.parametrize("body, message", [
    ({}, "'alias_updates' must be a non-empty array of objects with 'alias_label', 'old_alias_name' and "
         "'new_alias_name' strings"),
    ({"alias_updates": [{"alias_label": "crm", "old_alias_name": "a"}]},
     "'alias_updates' must be a non-empty array of objects with 'alias_label', 'old_alias_name' and "
     "'new_alias_name' strings"),
    ({"alias_updates": [{"alias_label": "crm", "old_alias_name": "a", "new_alias_name": "b"}] * 51},
     "The max number of external_ids and aliases per request was exceeded"),
    ([1], "'alias_updates' must be a non-empty array of objects with 'alias_label', 'old_alias_name' and "
          "'new_alias_name' strings"),
])
def test_alias_update_fatal_errors(braze, body, message):
    reply = braze.rest("/users/alias/update", body)
    expect(reply, 400, {"message": message})
    assert reply.headers["x-ratelimit-remaining"] == "19999"


# -- segments, campaigns and Canvases: details, data series, list filters ---------------------------------
@pytest.fixture()
def own(http):
    """A workspace on a server of its own, so the test may move the clock."""
    server = start(clock=Clock())
    yield BrazeSession(server.url, http)
    server.stop()


def get(braze, path):
    return braze.rest(path, None, method="GET")


def advance(braze, duration):
    assert braze.http.post(f"{braze.url}/_harness/clock", json={"advance": duration}).status_code == 200


def make_segment(braze, name="Pro"):
    return braze.ws_post("/segments", {"name": name, "filters": [
        {"type": "Mixpanel_Cohorts", "operator": "includes_value", "cohort_id": "c1"}]})["segment_id"]


def test_segment_details(own):
    segment = make_segment(own)
    reply = get(own, f"/segments/details?segment_id={segment}")
    expect(reply, 200, {"message": "success", "created_at": "2026-01-01T00:00:00Z",
                        "updated_at": "2026-01-01T00:00:00Z", "name": "Pro",
                        "description": "Mixpanel_Cohorts includes_value c1", "text_description": "", "tags": [],
                        "teams": []})
    assert reply.headers["x-ratelimit-limit"] == "250000"


@pytest.mark.parametrize("path, status, message", [
    ("/segments/details", 400, "'segment_id' must be a non-empty string"),
    ("/segments/details?segment_id=", 400, "'segment_id' must be a non-empty string"),
    ("/segments/details?segment_id=nope", 404, "segment_id 'nope' not found"),
    ("/segments/data_series?segment_id=nope&length=3", 404, "segment_id 'nope' not found"),
    ("/segments/data_series?segment_id=s", 400, "'length' must be an integer between 1 and 100"),
    ("/segments/data_series?segment_id=s&length=0", 400, "'length' must be an integer between 1 and 100"),
    ("/segments/data_series?segment_id=s&length=101", 400, "'length' must be an integer between 1 and 100"),
    ("/segments/data_series?segment_id=s&length=%C2%B2", 400, "'length' must be an integer between 1 and 100"),
    ("/segments/data_series?segment_id=s&length=2&ending_at=yesterday", 400,
     "'ending_at' must be an ISO-8601 time"),
    ("/campaigns/details", 400, "'campaign_id' must be a non-empty string"),
    ("/campaigns/details?campaign_id=nope", 404, "campaign_id 'nope' not found"),
    ("/canvas/details?canvas_id=nope", 404, "canvas_id 'nope' not found"),
    ("/campaigns/list?include_archived=yes", 400, "'include_archived' must be 'true' or 'false'"),
    ("/canvas/list?last_edit.time[gt]=soon", 400, "'last_edit.time[gt]' must be an ISO-8601 time"),
])
def test_details_and_filters_refuse_bad_parameters_with_the_rate_limit_headers(braze, path, status, message):
    reply = get(braze, path)
    expect(reply, status, {"message": message})
    assert "x-ratelimit-remaining" in reply.headers


def test_segment_data_series_one_point_a_day_from_the_segments_creation(own):
    own.seed({"external_id": "a"}, {"external_id": "b"})
    advance(own, "36h")
    segment = make_segment(own)  # created 2026-01-02T12:00:00Z
    own.add("c1", user_ids=["a", "b"])
    advance(own, "48h")
    expect(get(own, f"/segments/data_series?segment_id={segment}&length=4"), 200, {"message": "success", "data": [
        {"time": "2026-01-02", "size": 2}, {"time": "2026-01-03", "size": 2}, {"time": "2026-01-04", "size": 2}]})
    expect(get(own, f"/segments/data_series?segment_id={segment}&length=2&ending_at=2026-01-03T23:59:59-05:00"), 200,
           {"message": "success", "data": [{"time": "2026-01-03", "size": 2}, {"time": "2026-01-04", "size": 2}]})


def test_campaign_and_canvas_details(own):
    segment = make_segment(own)
    campaign = own.ws_post("/campaigns", {"name": "Spring", "segment_id": segment})["campaign_id"]
    canvas = own.ws_post("/canvases", {"name": "Journey", "segment_id": segment, "archived": True})["canvas_id"]
    common = {"created_at": "2026-01-01T00:00:00Z", "updated_at": "2026-01-01T00:00:00Z", "description": "",
              "draft": False, "has_post_launch_draft": False, "schedule_type": "time_based", "channels": [],
              "tags": [], "teams": []}
    expect(get(own, f"/campaigns/details?campaign_id={campaign}"), 200, {
        "message": "success", **common, "name": "Spring", "archived": False, "enabled": True, "first_sent": None,
        "last_sent": None, "messages": {}, "conversion_behaviors": []})
    expect(get(own, f"/canvas/details?canvas_id={canvas}"), 200, {
        "message": "success", **common, "name": "Journey", "archived": True, "enabled": False, "first_entry": None,
        "last_entry": None, "variants": [], "steps": []})


def test_lists_leave_archived_out_unless_asked_and_filter_on_last_edit(own):
    segment = make_segment(own)
    own.ws_post("/campaigns", {"name": "old", "segment_id": segment})
    own.ws_post("/campaigns", {"name": "gone", "segment_id": segment, "archived": True})
    advance(own, "1h")
    own.ws_post("/campaigns", {"name": "new", "segment_id": segment})
    own.ws_post("/canvases", {"name": "flow", "segment_id": segment})

    def names(path):
        reply = get(own, path)
        assert reply.status_code == 200, reply.text
        return [c["name"] for c in reply.json().get("campaigns", reply.json().get("canvases"))]
    assert names("/campaigns/list") == ["old", "new"]
    assert names("/campaigns/list?include_archived=true") == ["old", "gone", "new"]
    assert names("/campaigns/list?include_archived=true&last_edit.time[gt]=2026-01-01T00:00:00Z") == ["new"]
    assert names("/canvas/list?last_edit.time[gt]=2026-01-01T01:00:00Z") == []
    assert names("/canvas/list?last_edit.time[gt]=2025-12-31") == ["flow"]


# -- POST /users/export/segment --------------------------------------------------------------------------
def test_export_segment_replies_a_prefix_and_a_url_serving_the_segments_users_as_of_the_request(braze):
    braze.seed({"external_id": "a", "attributes": {"email": "a@x", "plan": "pro", "seat": 3}},
               {"external_id": "b", "attributes": {"email": "b@x"}}, {"external_id": "c"})
    braze.add("c1", user_ids=["a", "b"])
    segment = make_segment(braze)
    reply = braze.rest("/users/export/segment", {"segment_id": segment, "fields_to_export": ["external_id", "email"],
                                                 "custom_attributes_to_export": ["plan"]})
    body = reply.json()
    assert (reply.status_code, sorted(body), body["message"]) == (201, ["message", "object_prefix", "url"], "success")
    assert re.fullmatch(r"[0-9a-f-]{36}-\d+", body["object_prefix"])
    assert body["url"] == f"{braze.url}/_harness/segment_exports/{body['object_prefix']}.zip"
    braze.add("c1", user_ids=["c"])  # after the request: not in the file
    download = braze.http.get(body["url"])
    assert (download.status_code, download.headers["Content-Type"]) == (200, "application/zip")
    with zipfile.ZipFile(io.BytesIO(download.content)) as archive:
        (name,) = archive.namelist()
        lines = archive.read(name).decode().splitlines()
    assert name == f"{body['object_prefix']}/0.json"
    assert [json.loads(line) for line in lines] == [
        {"external_id": "a", "email": "a@x", "custom_attributes": {"plan": "pro"}},
        {"external_id": "b", "email": "b@x"}]


def test_an_unknown_export_is_a_404(braze):
    reply = braze.http.get(f"{braze.url}/_harness/segment_exports/nope.zip")
    expect(reply, 404, {"error": "no segment export 'nope'"})


@pytest.mark.parametrize("body, status, message", [
    ({"fields_to_export": ["email"]}, 400, "'segment_id' must be a non-empty string"),
    ({"segment_id": "s"}, 400, "'fields_to_export' must be a non-empty array of strings"),
    ({"segment_id": "s", "fields_to_export": []}, 400, "'fields_to_export' must be a non-empty array of strings"),
    ({"segment_id": "s", "fields_to_export": ["email"], "output_format": "tar"}, 400,
     "'output_format' must be 'zip' or 'gzip'"),
    ({"segment_id": "s", "fields_to_export": ["email"], "callback_endpoint": 5}, 400,
     "'callback_endpoint' must be a string"),
    ({"segment_id": "nope", "fields_to_export": ["email"]}, 404, "segment_id 'nope' not found"),
    ([], 400, "'segment_id' must be a non-empty string"),
])
def test_export_segment_errors(braze, body, status, message):
    reply = braze.rest("/users/export/segment", body)
    expect(reply, status, {"message": message})
    assert "x-ratelimit-remaining" in reply.headers
