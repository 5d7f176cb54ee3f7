"""The users REST endpoints and the list endpoints over real HTTP: Bearer keys and permissions, limits,
reply shapes, non-fatal errors, rate-limit headers, and 429 windows on the mock's clock."""
import pytest

from mocks.common import Clock
from mocks.common.ratelimit import RateLimiter

from .conftest import BrazeSession, start

ALIAS = {"alias_name": "a1", "alias_label": "crm"}
TOO_MANY_ALIASES = "The max number of external_ids and aliases per request was exceeded"


def expect(reply, status, body):
    assert (reply.status_code, reply.json()) == (status, body)


# -- keys and permissions --------------------------------------------------------------------------------
@pytest.mark.parametrize("headers, message", [
    ({}, "Invalid API key: "),
    ({"Authorization": "Bearer nope"}, "Invalid API key: nope"),
    ({"Authorization": "Basic abc"}, "Invalid API key: "),
    ({"Authorization": "Bearer "}, "Invalid API key: "),
])
def test_missing_or_unknown_key_is_401(braze, headers, message):
    reply = braze.http.post(braze.url + "/users/track", json={"attributes": [{"external_id": "u"}]}, headers=headers)
    expect(reply, 401, {"message": message})
    assert "x-ratelimit-limit" not in reply.headers


@pytest.mark.parametrize("path, permission, method", [
    ("/users/track", "users.track", "POST"), ("/users/identify", "users.identify", "POST"),
    ("/users/alias/new", "users.alias.new", "POST"), ("/users/export/ids", "users.export.ids", "POST"),
    ("/users/alias/update", "users.alias.update", "POST"), ("/users/export/segment", "users.export.segment", "POST"),
    ("/segments/details", "segments.details", "GET"), ("/segments/data_series", "segments.data_series", "GET"),
    ("/campaigns/details", "campaigns.details", "GET"), ("/canvas/details", "canvas.details", "GET"),
    ("/users/delete", "users.delete", "POST"), ("/users/merge", "users.merge", "POST"),
    ("/segments/list", "segments.list", "GET"), ("/campaigns/list", "campaigns.list", "GET"),
    ("/canvas/list", "canvas.list", "GET"),
])
def test_a_key_without_the_permission_is_403(braze, path, permission, method):
    others = [p for p in ("users.track", "segments.list") if p != permission]
    key = braze.ws_post("/rest_api_keys", {"permissions": others})["rest_api_key"]
    reply = braze.rest(path, {}, key=key, method=method)
    expect(reply, 403, {"message": f"This API key does not have the permission '{permission}'"})
    assert {"x-ratelimit-limit", "x-ratelimit-remaining", "x-ratelimit-reset"} <= set(reply.headers.keys())


def test_a_key_only_sees_its_own_workspace(server, http):
    one, two = BrazeSession(server.url, http), BrazeSession(server.url, http)
    one.rest("/users/track", {"attributes": [{"external_id": "alice", "plan": "pro"}]})
    reply = two.rest("/users/export/ids", {"external_ids": ["alice"]})
    expect(reply, 201, {"users": [], "invalid_user_ids": ["alice"], "message": "success"})
    assert one.rest("/users/export/ids", {"external_ids": ["alice"]}).json()["users"][0]["external_id"] == "alice"


# -- /users/track ----------------------------------------------------------------------------------------
def test_track_replies_with_counts_of_the_arrays_sent_and_charges_data_points(braze):
    reply = braze.rest("/users/track", {
        "attributes": [{"external_id": "u1", "first_name": "Ann", "plan": "pro"}],
        "events": [{"external_id": "u1", "name": "Login", "time": "2026-01-01T00:00:00Z"},
                   {"external_id": "u1", "name": "Login", "time": "2026-01-02T00:00:00Z"}]})
    expect(reply, 201, {"message": "success", "attributes_processed": 1, "events_processed": 2})
    assert reply.headers["x-ratelimit-limit"] == "3000"  # 3,000 per 3 s since October 2024
    assert braze.data_points() == {"total": 4, "by_source": {"users.track": 4}}
    user = braze.rest("/users/export/ids", {"external_ids": ["u1"]}).json()["users"][0]
    assert user["first_name"] == "Ann" and user["custom_attributes"] == {"plan": "pro"}
    assert user["custom_events"] == [{"name": "Login", "first": "2026-01-01T00:00:00Z",
                                      "last": "2026-01-02T00:00:00Z", "count": 2}]


def test_track_reports_non_fatal_errors_and_processes_the_rest(braze):
    reply = braze.rest("/users/track", {
        "attributes": [{"plan": "x"}, {"external_id": "u2", "plan": "pro"},
                       {"user_alias": ALIAS, "plan": "y"}, {"external_id": "u3", "braze_id": "b"}],
        "purchases": [{"external_id": "u2", "product_id": "p", "currency": "USD", "price": "1", "time": "2026-01-01"}]})
    assert reply.status_code == 201
    body = reply.json()
    assert (body["message"], body["attributes_processed"], body["purchases_processed"]) == ("success", 1, 0)
    assert [(e["input_array"], e["index"]) for e in body["errors"]] == [
        ("attributes", 0), ("attributes", 2), ("attributes", 3), ("purchases", 0)]
    assert body["errors"][0]["type"] == "'external_id', 'braze_id', 'user_alias', 'email' or 'phone' is required"


def test_track_creates_an_alias_only_user_only_when_update_existing_only_is_false(braze):
    braze.rest("/users/track", {"attributes": [{"user_alias": ALIAS, "_update_existing_only": False, "x": 1}]})
    (user,) = braze.ws_get("/users")["users"]
    assert (user["kind"], user["aliases"], user["attributes"]) == ("alias_only", [ALIAS], {"x": 1})


@pytest.mark.parametrize("body, message", [
    ({}, "Valid data must be provided in the 'attributes', 'events', or 'purchases' fields."),
    ({"attributes": []}, "Valid data must be provided in the 'attributes', 'events', or 'purchases' fields."),
    ({"attributes": [{"external_id": "u"}] * 76}, "Max Input Length Exceeded"),
    ({"events": [{"external_id": "u"}] * 76, "attributes": [{"external_id": "u"}]}, "Max Input Length Exceeded"),
    ({"attributes": {"external_id": "u"}}, "'attributes' must be an array of objects"),
    ({"purchases": ["p"]}, "'purchases' must be an array of objects"),
    ([{"external_id": "u"}], "Valid data must be provided in the 'attributes', 'events', or 'purchases' fields."),
])
def test_track_fatal_errors(braze, body, message):
    expect(braze.rest("/users/track", body), 400, {"message": message})
    assert braze.ws_get("/users")["users"] == []


@pytest.mark.parametrize("path, body", [("/users/track", {"attributes": {}}), ("/users/track", b"{not json"),
                                        ("/users/delete", {}), ("/users/merge", {"merge_updates": 1})])
def test_a_refused_body_still_carries_the_rate_limit_headers(braze, path, body):
    headers = {"Authorization": f"Bearer {braze.rest_key}", "Content-Type": "application/json"}
    reply = braze.http.post(braze.url + path, data=body if isinstance(body, bytes) else None,
                            json=None if isinstance(body, bytes) else body, headers=headers)
    assert reply.status_code == 400 and reply.json()["message"]
    assert {"x-ratelimit-limit", "x-ratelimit-remaining", "x-ratelimit-reset"} <= set(reply.headers.keys())


def test_track_accepts_75_of_each(braze):
    attributes = [{"external_id": f"u{i}", "n": i} for i in range(75)]
    reply = braze.rest("/users/track", {"attributes": attributes})
    assert reply.json()["attributes_processed"] == 75


# -- /users/identify and /users/alias/new ----------------------------------------------------------------
def test_alias_new_creates_alias_only_users_or_adds_to_identified_users(braze):
    braze.seed({"external_id": "kim"})
    reply = braze.rest("/users/alias/new", {"user_aliases": [
        ALIAS, {"external_id": "kim", "alias_name": "k", "alias_label": "crm"},
        {"external_id": "ghost", "alias_name": "g", "alias_label": "crm"}, ALIAS]})
    body = reply.json()
    assert (reply.status_code, body["aliases_processed"], body["message"]) == (201, 2, "success")
    assert [e["index"] for e in body["errors"]] == [2, 3]
    users = {u["external_id"]: u for u in braze.ws_get("/users")["users"]}
    assert users["kim"]["aliases"] == [{"alias_name": "k", "alias_label": "crm"}]
    assert users[None]["aliases"] == [ALIAS]


def test_identify_reports_unknown_aliases(braze):
    reply = braze.rest("/users/identify", {"aliases_to_identify": [{"external_id": "x", "user_alias": ALIAS}]})
    body = reply.json()
    assert (body["aliases_processed"], body["errors"]) == (0, [{"type": "no user with this alias",
                                                                "input_array": "aliases_to_identify", "index": 0}])


@pytest.mark.parametrize("path, body, message", [
    ("/users/identify", {"aliases_to_identify": [{"external_id": "x", "user_alias": ALIAS}] * 51}, TOO_MANY_ALIASES),
    ("/users/identify", {"aliases_to_identify": [{"external_id": "x"}]},
     "'aliases_to_identify' must be a non-empty array of objects with an 'external_id' string and a 'user_alias' object"),
    ("/users/identify", {}, "One of 'aliases_to_identify', 'emails_to_identify' or 'phone_numbers_to_identify' must "
                            "be provided"),
    ("/users/alias/new", {"user_aliases": [ALIAS] * 51}, TOO_MANY_ALIASES),
    ("/users/alias/new", {"user_aliases": [{"alias_name": "x"}]},
     "'user_aliases' must be a non-empty array of objects with 'alias_name' and 'alias_label' strings and an "
     "optional 'external_id' string"),
    ("/users/export/ids", {"external_ids": ["x"] * 51}, TOO_MANY_ALIASES),
    ("/users/export/ids", {"user_aliases": [ALIAS] * 51}, TOO_MANY_ALIASES),
    ("/users/export/ids", {}, "One of 'external_ids', 'user_aliases', 'device_id', 'braze_id', 'email_address' or 'phone' "
     "must be provided"),
    ("/users/export/ids", {"device_id": 5}, "'device_id' must be a string"),
    ("/users/export/ids", {"braze_id": "b", "fields_to_export": "all"}, "'fields_to_export' must be an array of strings"),
    ("/users/delete", {"external_ids": ["x"] * 30, "braze_ids": ["y"] * 21},
     "Only one of 'external_ids', 'user_aliases', 'braze_ids', 'email_addresses' or 'phone_numbers' may be provided "
     "per request"),
    ("/users/delete", {"braze_ids": ["y"] * 51}, "The max number of ids per request was exceeded"),
    ("/users/delete", {}, "One of 'external_ids', 'user_aliases', 'braze_ids', 'email_addresses' or 'phone_numbers' "
                          "must be provided"),
    ("/users/delete", {"email_addresses": ["a@x"] * 51}, "The max number of ids per request was exceeded"),
    ("/users/delete", {"phone_numbers": [1]}, "'phone_numbers' must be an array of strings"),
    ("/users/merge", {"merge_updates": {}}, "'merge_updates' must be an array of objects"),
    ("/users/merge", {}, "'merge_updates' must be an array of objects"),
    ("/users/merge", {"merge_updates": [{"identifier_to_merge": {"external_id": "a"},
                                         "identifier_to_keep": {"external_id": "b"}}] * 51},
     "a single request may not contain more than 50 merge updates"),
    ("/users/merge", {"merge_updates": [{"identifier_to_merge": {"external_id": 1},
                                         "identifier_to_keep": {"external_id": "b"}}]},
     "identifiers must be objects with an 'external_id' property that is a string, 'user_alias' property that is an "
     "object, 'email' property that is a string, or 'phone' property that is a string"),
    ("/users/merge", {"merge_updates": [{"identifier_to_merge": {"external_id": "a"},
                                         "identifier_to_keep": {"external_id": "b"}, "why": "dup"}]},
     "'merge_updates' must only have 'identifier_to_merge' and 'identifier_to_keep'"),
])
def test_users_endpoint_errors(braze, path, body, message):
    expect(braze.rest(path, body), 400, {"message": message})


# -- /users/export/ids, /users/delete, /users/merge ------------------------------------------------------
def test_export_by_each_kind_of_identifier_with_fields_to_export(braze):
    alice, anon = braze.seed({"external_id": "alice", "aliases": [ALIAS], "attributes": {"plan": "pro"}},
                             {"device_ids": ["dev-1"]})
    reply = braze.rest("/users/export/ids", {"external_ids": ["alice", "ghost"], "user_aliases": [ALIAS],
                                             "device_id": "dev-1", "braze_id": anon})
    body = reply.json()
    assert (reply.status_code, [u["braze_id"] for u in body["users"]]) == (201, [alice, anon])
    assert body["invalid_user_ids"] == ["ghost"] and body["message"] == "success"
    assert body["users"][0]["user_aliases"] == [ALIAS] and body["users"][1]["devices"] == [{"device_id": "dev-1"}]
    narrow = braze.rest("/users/export/ids", {"braze_id": alice, "fields_to_export": ["external_id"]}).json()
    assert narrow == {"users": [{"external_id": "alice"}], "message": "success"}


def test_delete_counts_identifiers_queued_and_deleted_users_leave_cohorts(braze):
    braze.seed({"external_id": "a"}, {"external_id": "b", "aliases": [ALIAS]})
    braze.add("c1", user_ids=["a", "b"])
    reply = braze.rest("/users/delete", {"external_ids": ["a", "ghost"]})
    expect(reply, 201, {"deleted": 2, "message": "success"})  # identifiers queued, known or not
    assert [u["external_id"] for u in braze.ws_get("/users")["users"]] == ["b"] and braze.members("c1") == ["b"]
    expect(braze.rest("/users/delete", {"user_aliases": [ALIAS]}), 201, {"deleted": 1, "message": "success"})
    assert braze.ws_get("/users")["users"] == [] and braze.members("c1") == []


def test_merge_folds_one_user_into_another_and_answers_202(braze):
    braze.seed({"external_id": "old", "attributes": {"a": 1, "b": 1}, "device_ids": ["dev-o"]},
               {"external_id": "new", "attributes": {"b": 2}})
    reply = braze.rest("/users/merge", {"merge_updates": [
        {"identifier_to_merge": {"external_id": "old"}, "identifier_to_keep": {"external_id": "new"}},
        {"identifier_to_merge": {"external_id": "ghost"}, "identifier_to_keep": {"external_id": "new"}}]})
    expect(reply, 202, {"message": "success"})
    (user,) = braze.ws_get("/users")["users"]
    assert (user["external_id"], user["attributes"], user["device_ids"]) == ("new", {"a": 1, "b": 2}, ["dev-o"])


# -- list endpoints ----------------------------------------------------------------------------------------
def test_segments_campaigns_and_canvases_lists(braze):
    segment = braze.ws_post("/segments", {"name": "Pro", "filters": [
        {"type": "mixpanel_cohorts", "operator": "includes_value", "cohort_id": "c1"}]})["segment_id"]
    campaign = braze.ws_post("/campaigns", {"name": "Spring", "segment_id": segment})["campaign_id"]
    canvas = braze.ws_post("/canvases", {"name": "Journey", "segment_id": segment})["canvas_id"]
    expect(braze.rest("/segments/list", None, method="GET"), 200, {"message": "success", "segments": [
        {"id": segment, "name": "Pro", "analytics_tracking_enabled": False, "tags": []}]})
    expect(braze.rest("/campaigns/list", None, method="GET"), 200, {"message": "success", "campaigns": [
        {"id": campaign, "last_edited": "2026-01-01T00:00:00Z", "name": "Spring", "is_api_campaign": False,
         "tags": []}]})
    expect(braze.rest("/canvas/list", None, method="GET"), 200, {"canvases": [
        {"id": canvas, "last_edited": "2026-01-01T00:00:00Z", "name": "Journey", "tags": []}], "message": "success"})


def test_lists_page_by_100(braze):
    for i in range(101):
        braze.ws_post("/segments", {"name": f"s{i}", "filters": []})
    first = braze.rest("/segments/list", None, method="GET").json()["segments"]
    second = braze.rest("/segments/list?page=1", None, method="GET").json()["segments"]
    newest = braze.rest("/segments/list?sort_direction=desc", None, method="GET").json()["segments"]
    assert (len(first), [s["name"] for s in second], newest[0]["name"]) == (100, ["s100"], "s100")
    expect(braze.rest("/segments/list?page=-1", None, method="GET"), 400,
           {"message": "'page' must be a non-negative integer"})
    expect(braze.rest("/canvas/list?sort_direction=up", None, method="GET"), 400,
           {"message": "'sort_direction' must be 'asc' or 'desc'"})


# -- rate limits on the mock's clock -------------------------------------------------------------------------
@pytest.fixture(scope="module")
def limited(http):
    clock = Clock()
    config = {"rate_limits": {"users.track": [3, 60], "users.identity": [2, 60], "partner": [2, 3600]}}
    srv = start(config, clock)
    srv.wall = [0.0]  # the limiter's monotonic wall, moved by hand (tests never sleep)
    srv.app.extensions["harness"].limiter = RateLimiter(clock, lambda: srv.wall[0])
    yield srv, clock
    srv.stop()


def advance(session, duration):
    assert session.control("POST", "/clock", json={"advance": duration}).status_code == 200


def test_export_ids_allows_its_documented_250_per_minute_then_429_until_the_window_moves(limited, http):
    srv, clock = limited
    braze = BrazeSession(srv.url, http)
    advance(braze, "1m")  # start in a fresh window
    replies = [braze.rest("/users/export/ids", {"external_ids": ["x"]}) for _ in range(251)]
    assert [r.status_code for r in replies[:250]] == [201] * 250
    assert replies[0].headers["x-ratelimit-limit"] == "250" and replies[249].headers["x-ratelimit-remaining"] == "0"
    last = replies[250]
    reset = int(clock.timestamp()) // 60 * 60 + 60
    assert (last.status_code, last.json()) == (429, {"message": "Rate limit exceeded: 250 requests per 60 seconds"})
    assert last.headers["x-ratelimit-reset"] == str(reset) and last.headers["retry-after"] == "60"
    advance(braze, "59s")
    assert braze.rest("/users/export/ids", {"external_ids": ["x"]}).status_code == 429
    advance(braze, "1s")
    assert braze.rest("/users/export/ids", {"external_ids": ["x"]}).status_code == 201


def test_identity_endpoints_share_one_limit_and_workspaces_have_their_own(limited, http):
    srv, _ = limited
    braze, other = BrazeSession(srv.url, http), BrazeSession(srv.url, http)
    advance(braze, "1m")
    assert braze.rest("/users/alias/new", {"user_aliases": [ALIAS]}).status_code == 201
    assert braze.rest("/users/delete", {"external_ids": ["x"]}).status_code == 201
    reply = braze.rest("/users/merge", {"merge_updates": []})
    assert (reply.status_code, reply.headers["x-ratelimit-remaining"]) == (429, "0")
    assert braze.rest("/users/identify", {"aliases_to_identify": []}).status_code == 429
    assert braze.rest("/users/track", {"attributes": [{"external_id": "u"}]}).status_code == 201
    assert other.rest("/users/delete", {"external_ids": ["x"]}).status_code == 201


def test_partner_endpoints_have_their_own_limit(limited, http):
    srv, _ = limited
    braze = BrazeSession(srv.url, http)
    advance(braze, "1h")
    assert [braze.cohort_users("c1", []).status_code for _ in range(3)] == [201, 201, 429]
    assert braze.rest("/users/track", {"attributes": [{"external_id": "u"}]}).status_code == 201
    advance(braze, "1h")
    assert braze.cohort_users("c1", []).status_code == 201


def test_under_a_standing_clock_the_window_ends_after_its_length_of_wall_time(limited, http):
    srv, clock = limited
    braze = BrazeSession(srv.url, http)
    advance(braze, "1m")
    srv.wall[0] += 100  # windows opened earlier are over on the wall too
    track = {"attributes": [{"external_id": "u"}]}
    assert [braze.rest("/users/track", track).status_code for _ in range(3)] == [201] * 3
    srv.wall[0] += 45
    refused = braze.rest("/users/track", track)
    assert (refused.status_code, refused.json()) == (429, {"message": "Rate limit exceeded: 3 requests per 60 seconds"})
    assert (refused.headers["retry-after"], refused.headers["x-ratelimit-remaining"]) == ("15", "0")
    assert refused.headers["x-ratelimit-reset"] == str(int(clock.timestamp()) + 15)
    srv.wall[0] += 15
    before = clock.now()
    assert braze.rest("/users/track", track).status_code == 201
    assert clock.now() == before
