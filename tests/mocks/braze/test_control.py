"""The Braze control plane over real HTTP (the README's contract), and isolation between workspaces."""
import json
import re

import pytest

from mocks.braze import create_app
from mocks.common.defaults import DEFAULT_PARTNER_API_KEY

from .conftest import BrazeSession, start


def error(reply, status, message):
    assert (reply.status_code, reply.json()) == (status, {"error": message})


def test_health_and_partners(braze):
    assert braze.control("GET", "/health").json()["service"] == "braze"
    partners = braze.control("GET", "/partners").json()["partners"]
    assert {"name": "mixpanel", "partner_api_key": DEFAULT_PARTNER_API_KEY} in partners
    error(braze.control("POST", "/partners", json={"name": "Bad Name"}), 400, "$.name: must match ^[a-z0-9][a-z0-9_-]*$")


def test_configured_partner_key_rest_endpoint_and_unknown_settings():
    srv = start({"partner_api_key": "pk-eu", "rest_endpoint": "https://rest.fra-01.braze.eu/"})
    try:
        import requests
        braze = BrazeSession(srv.url, requests.Session())
        assert braze.partner_key == "pk-eu"
        assert braze.ws_get("/data_import_keys")["rest_endpoint"] == "https://rest.fra-01.braze.eu"
    finally:
        srv.stop()
    with pytest.raises(ValueError, match="unknown Braze mock settings"):
        create_app({"partner_key": "typo"})
    with pytest.raises(ValueError, match="data_points_per_cohort_change"):
        create_app({"data_points_per_cohort_change": -1})


def test_workspace_creation_with_or_without_a_name(braze):
    reply = braze.control("POST", "/workspaces")
    created = reply.json()
    assert reply.status_code == 201 and created["name"] == created["workspace_id"] and created["rest_api_key"]
    listed = [w["workspace_id"] for w in braze.control("GET", "/workspaces").json()["workspaces"]]
    assert braze.ws in listed and created["workspace_id"] in listed
    error(braze.control("POST", "/workspaces", json={"name": 3}), 400, "$.name: must be of type string")


@pytest.mark.parametrize("method, path", [
    ("GET", ""), ("GET", "/users"), ("POST", "/sdk/users"), ("GET", "/cohorts"), ("GET", "/data_points"),
    ("POST", "/data_import_keys"), ("GET", "/data_import_keys"), ("DELETE", "/data_import_keys/k"),
    ("GET", "/segments/s/users"), ("GET", "/campaigns/c/audience"), ("PUT", "/cohorts/mixpanel/c/lock"),
    ("POST", "/sdk/users/batch"), ("POST", "/sdk/change_user/batch"),
])
def test_unknown_workspace_is_404(braze, method, path):
    error(braze.control(method, f"/workspaces/nope{path}", json={"device_id": "d"}), 404, "no workspace 'nope'")


def test_rest_api_keys_carry_only_known_permissions(braze):
    reply = braze.control("POST", f"/workspaces/{braze.ws}/rest_api_keys", json={"permissions": ["users.track"]})
    assert reply.status_code == 201 and reply.json()["permissions"] == ["users.track"]
    reply = braze.control("POST", f"/workspaces/{braze.ws}/rest_api_keys", json={"permissions": ["users.fly"]})
    assert reply.status_code == 400 and reply.json()["error"].startswith("$.permissions[0]: must be one of")


def test_rest_api_keys_are_listed_oldest_first_with_their_permissions(braze):
    """What `cohort-harness env` reads: the workspace's keys, the one made with it (every permission) first."""
    made = braze.control("POST", f"/workspaces/{braze.ws}/rest_api_keys", json={"permissions": ["users.track"]}).json()
    keys = braze.ws_get("/rest_api_keys")["rest_api_keys"]
    assert [k["rest_api_key"] for k in keys] == [braze.rest_key, made["rest_api_key"]]
    assert keys[1]["permissions"] == ["users.track"] and "users.track" in keys[0]["permissions"]
    assert set(keys[0]) == {"rest_api_key", "permissions", "created_at"}
    error(braze.control("GET", "/workspaces/nope/rest_api_keys"), 404, "no workspace 'nope'")


def test_data_import_keys_create_list_invalidate(braze, server):
    second = braze.ws_post("/data_import_keys", {})
    assert (second["partner"], second["status"], second["rest_endpoint"]) == ("mixpanel", "active", server.url)
    braze.control("DELETE", f"/workspaces/{braze.ws}/data_import_keys/{braze.import_key}")
    again = braze.control("DELETE", f"/workspaces/{braze.ws}/data_import_keys/{braze.import_key}").json()
    assert again["status"] == "invalidated"
    keys = {k["key"]: k["status"] for k in braze.ws_get("/data_import_keys")["keys"]}
    assert keys == {braze.import_key: "invalidated", second["key"]: "active"}
    error(braze.control("DELETE", f"/workspaces/{braze.ws}/data_import_keys/nope"), 404,
          f"no data import key 'nope' in workspace {braze.ws}")
    error(braze.control("POST", f"/workspaces/{braze.ws}/data_import_keys", json={"partner": "nobody"}), 400,
          "unknown partner 'nobody'; known: mixpanel")


def test_sdk_users_and_change_user(braze):
    braze_id = braze.sdk_user("dev-1", plan="pro")
    error(braze.control("POST", f"/workspaces/{braze.ws}/sdk/users", json={"device_id": "dev-1"}), 409,
          f"device_id 'dev-1' already belongs to user {braze_id}")
    error(braze.control("POST", f"/workspaces/{braze.ws}/sdk/change_user",
                        json={"device_id": "dev-9", "external_id": "x"}), 404,
          "no user has device_id 'dev-9' (create it with sdk/users first)")
    reply = braze.change_user("dev-1", "erin")
    assert (reply["braze_id"], reply["outcome"], reply["user"]["attributes"]) == (braze_id, "identified", {"plan": "pro"})
    assert braze.change_user("dev-1", "erin")["outcome"] == "unchanged"
    (user,) = braze.ws_get("/users")["users"]
    assert {k: user[k] for k in ("braze_id", "external_id", "aliases", "device_ids")} == {
        "braze_id": braze_id, "external_id": "erin", "aliases": [], "device_ids": ["dev-1"]}


def _users_without_ids(braze, ws):
    """A workspace's profiles from the saved state, each braze_id replaced by its order of appearance."""
    (workspace,) = [w for w in braze.control("GET", "/state").json()["store"]["workspaces"] if w["workspace_id"] == ws]
    order: dict[str, str] = {}
    text = re.sub(r"\b[0-9a-f]{24}\b", lambda m: order.setdefault(m.group(0), f"#{len(order)}"),
                  json.dumps(workspace["users"]))
    return json.loads(text)


def test_sdk_batches_do_what_the_single_calls_do_one_after_another(braze, server):
    single = BrazeSession(server.url, braze.http)
    devices = [{"device_id": "d1", "attributes": {"plan": "pro"}}, {"device_id": "d2"}, {"device_id": "d3"}]
    changes = [{"device_id": "d1", "external_id": "erin"}, {"device_id": "d2", "external_id": "erin"},
               {"device_id": "d3", "external_id": "finn"}, {"device_id": "d3", "external_id": "gus"},
               {"device_id": "d1", "external_id": "erin"}]
    singles = [single.ws_post("/sdk/users", body)["braze_id"] for body in devices]
    outcomes = [single.change_user(**change)["outcome"] for change in changes]
    created = braze.ws_post("/sdk/users/batch", {"users": devices})
    assert created["count"] == 3 and len(set(created["braze_ids"])) == 3 and len(singles) == 3
    changed = braze.ws_post("/sdk/change_user/batch", {"changes": changes}, status=200)
    assert [r["outcome"] for r in changed["results"]] == outcomes == [
        "identified", "merged", "identified", "switched", "unchanged"]
    assert _users_without_ids(braze, braze.ws) == _users_without_ids(braze, single.ws)
    assert any(e["event"] == "created_by_sdk" for u in _users_without_ids(braze, braze.ws) for e in u["history"] or [])


def test_an_sdk_batch_stops_at_the_entry_its_single_call_refuses(braze):
    taken = braze.sdk_user("dev-1")
    reply = braze.control("POST", f"/workspaces/{braze.ws}/sdk/users/batch",
                          json={"users": [{"device_id": "dev-2"}, {"device_id": "dev-1"}, {"device_id": "dev-3"}]})
    error(reply, 409, f"users[1]: device_id 'dev-1' already belongs to user {taken}; the 1 before it were applied")
    assert sorted(d for u in braze.ws_get("/users")["users"] for d in u["device_ids"]) == ["dev-1", "dev-2"]
    reply = braze.control("POST", f"/workspaces/{braze.ws}/sdk/change_user/batch",
                          json={"changes": [{"device_id": "dev-2", "external_id": "x"},
                                            {"device_id": "dev-9", "external_id": "y"}]})
    error(reply, 404, "changes[1]: no user has device_id 'dev-9' (create it with sdk/users first); "
                      "the 1 before it were applied")
    assert [u["external_id"] for u in braze.ws_get("/users")["users"] if u["external_id"]] == ["x"]


def test_a_malformed_sdk_batch_applies_nothing(braze):
    reply = braze.control("POST", f"/workspaces/{braze.ws}/sdk/users/batch",
                          json={"users": [{"device_id": "ok"}, {"device_id": ""}]})
    error(reply, 400, "$.users[1].device_id: must have at least 1 characters")
    error(braze.control("POST", f"/workspaces/{braze.ws}/sdk/change_user/batch", json={"changes": [{"device_id": "ok"}]}),
          400, "$.changes[0].external_id: 'external_id' is required")
    error(braze.control("POST", f"/workspaces/{braze.ws}/sdk/users/batch", json={"users": [{"device_id": "d"}] * 10001}),
          400, "$.users: must have at most 10000 items")
    assert braze.ws_get("/users")["users"] == []


def test_seeding_users_is_all_or_nothing(braze):
    braze.seed({"external_id": "a"})
    reply = braze.control("POST", f"/workspaces/{braze.ws}/users",
                          json={"users": [{"external_id": "b"}, {"external_id": "a"}]})
    assert reply.status_code == 409 and reply.json()["error"].startswith("users[1]: external_id 'a' already belongs")
    assert [u["external_id"] for u in braze.ws_get("/users")["users"]] == ["a"]
    error(braze.control("POST", f"/workspaces/{braze.ws}/users", json={"users": [{"externalid": "x"}]}), 400,
          "$.users[0].externalid: 'externalid' is not allowed")


def test_cohorts_members_and_match_log_queries(braze):
    braze.seed({"external_id": "a"}, {"external_id": "b"})
    braze.name_cohort("c1", "Pro users", "2025-12-31T00:00:00Z")
    braze.add("c1", user_ids=["a", "b", "x", "y"])
    (cohort,) = braze.ws_get("/cohorts")["cohorts"]
    assert {k: cohort[k] for k in ("partner", "cohort_id", "name", "created_at", "member_count")} == {
        "partner": "mixpanel", "cohort_id": "c1", "name": "Pro users", "created_at": "2025-12-31T00:00:00Z",
        "member_count": 2}
    assert braze.members("c1") == ["a", "b"]
    log = braze.ws_get("/cohorts/mixpanel/c1/match_log", params={"outcome": "unknown_user", "limit": "1"})
    assert [e["identifier"] for e in log["entries"]] == ["y"]
    assert (log["logged"], log["by_outcome"]["matched"]) == (4, 2)
    error(braze.control("GET", f"/workspaces/{braze.ws}/cohorts/mixpanel/c1/match_log?outcome=maybe"), 400,
          "'outcome' must be one of matched, unknown_user, device_of_identified_user")
    error(braze.control("GET", f"/workspaces/{braze.ws}/cohorts/mixpanel/zz/members"), 404,
          f"no cohort 'zz' from partner 'mixpanel' in workspace {braze.ws}")


def test_segments_include_and_exclude_and_targets_reach_their_audience(braze):
    braze.seed({"external_id": "alice"}, {"external_id": "bob"}, {"external_id": "carol"})
    braze.add("pro", user_ids=["alice", "bob"])

    def segment(operator, kind="Mixpanel_Cohorts"):
        return braze.ws_post("/segments", {"name": operator, "filters": [
            {"type": kind, "operator": operator, "cohort_id": "pro"}]})["segment_id"]

    including, excluding = segment("includes_value"), segment("excludes_value")
    names = lambda reply: [u["external_id"] for u in reply["users"]]  # noqa: E731
    assert names(braze.ws_get(f"/segments/{including}/users")) == ["alice", "bob"]
    assert names(braze.ws_get(f"/segments/{excluding}/users")) == ["carol"]
    campaign = braze.ws_post("/campaigns", {"name": "Spring", "segment_id": including})["campaign_id"]
    canvas = braze.ws_post("/canvases", {"name": "Journey", "segment_id": excluding})["canvas_id"]
    audience = braze.ws_get(f"/campaigns/{campaign}/audience")
    assert (names(audience), audience["count"]) == (["alice", "bob"], 2)
    braze.remove("pro", user_ids=["bob"])
    assert names(braze.ws_get(f"/campaigns/{campaign}/audience")) == ["alice"]
    assert names(braze.ws_get(f"/canvases/{canvas}/audience")) == ["bob", "carol"]
    assert [c["campaign_id"] for c in braze.ws_get("/campaigns")["campaigns"]] == [campaign]
    error(braze.control("POST", f"/workspaces/{braze.ws}/segments", json={"name": "x", "filters": [
        {"type": "amplitude_cohorts", "operator": "includes_value", "cohort_id": "pro"}]}), 400,
        "unknown filter type 'amplitude_cohorts'; known: mixpanel_cohorts")
    error(braze.control("POST", f"/workspaces/{braze.ws}/canvases", json={"name": "x", "segment_id": "nope"}), 404,
          f"no segment 'nope' in workspace {braze.ws}")
    error(braze.control("GET", f"/workspaces/{braze.ws}/canvases/{campaign}/audience"), 404,
          f"no canvas '{campaign}' in workspace {braze.ws}")


def test_two_workspaces_on_one_server_see_nothing_of_each_other(server, http):
    one, two = BrazeSession(server.url, http), BrazeSession(server.url, http)
    one.seed({"external_id": "alice"})
    two.seed({"external_id": "alice"})  # the same external_id is free in another workspace
    one.add("c1", user_ids=["alice"])
    assert two.ws_get("/cohorts")["cohorts"] == [] and two.data_points()["total"] == 0
    assert [k["key"] for k in two.ws_get("/data_import_keys")["keys"]] == [two.import_key]
    error(two.control("DELETE", f"/workspaces/{two.ws}/data_import_keys/{one.import_key}"), 404,
          f"no data import key '{one.import_key}' in workspace {two.ws}")
    two.add("c1", user_ids=["alice"])
    assert one.data_points()["total"] == 1 and two.data_points()["total"] == 1
    alice_one, alice_two = (s.ws_get("/users")["users"][0]["braze_id"] for s in (one, two))
    assert alice_one != alice_two
    assert one.ws_get("/cohorts/mixpanel/c1/members")["members"][0]["braze_id"] == alice_one


def test_reset_and_state_round_trip():
    import requests
    srv = start()
    try:
        http = requests.Session()
        braze = BrazeSession(srv.url, http)
        braze.control("POST", "/partners", json={"name": "amplitude", "partner_api_key": "amp"})
        braze.seed({"external_id": "alice"})
        braze.add("c1", user_ids=["alice"])
        state = braze.control("GET", "/state").json()
        assert http.post(srv.url + "/_harness/reset").status_code == 200
        assert braze.control("GET", "/workspaces").json()["workspaces"] == []
        assert [p["name"] for p in braze.control("GET", "/partners").json()["partners"]] == ["mixpanel"]
        assert braze.control("PUT", "/state", json=state).status_code == 200
        assert braze.members("c1") == ["alice"] and braze.add("c1", user_ids=["alice"]).status_code == 201
        assert braze.control("GET", "/state").json()["store"]["workspaces"][0]["data_points"] == {
            "cohort_import:mixpanel": 2}
        broken = {"store": {"workspaces": [{"name": "no id"}]}}
        assert braze.control("PUT", "/state", json=broken).status_code == 400
        assert braze.members("c1") == ["alice"]
    finally:
        srv.stop()
