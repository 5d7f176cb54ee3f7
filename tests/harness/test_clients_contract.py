"""Each client method calls the exact path, method and body of the README's control-plane contract.

A recording stand-in plays the target, so these hold whatever state the real mocks are in."""
from __future__ import annotations

import socket

import pytest

from harness.clients import BrazeClient, HarnessHTTPError, MixpanelClient, TargetUnreachable, Targets


def test_common_control_plane_paths(recorder):
    client = BrazeClient(recorder.url)
    recorder.reply("GET", "/_harness/journal", {"entries": [{"path": "/x"}]})
    recorder.reply("POST", "/_harness/faults", {"fault_id": "fault-1"}, 201)
    recorder.reply("GET", "/_harness/faults", {"faults": [{"fault_id": "fault-1"}]})
    client.health()
    client.reset()
    client.get_state()
    client.put_state({"store": {}})
    client.get_clock()
    client.advance_clock("15m")
    client.set_clock("2026-01-02T00:00:00Z")
    assert client.journal(path="/users/*", method="POST", limit=5) == [{"path": "/x"}]
    client.clear_journal()
    assert client.add_fault("/users/track", status=429, times=2) == "fault-1"
    assert client.list_faults() == [{"fault_id": "fault-1"}]
    client.clear_faults()
    seen = [(c["method"], c["path"], c["body"] or None) for c in recorder.calls]
    assert seen == [
        ("GET", "/_harness/health", None), ("POST", "/_harness/reset", None), ("GET", "/_harness/state", None),
        ("PUT", "/_harness/state", {"store": {}}), ("GET", "/_harness/clock", None),
        ("POST", "/_harness/clock", {"advance": "15m"}), ("POST", "/_harness/clock", {"set": "2026-01-02T00:00:00Z"}),
        ("GET", "/_harness/journal", None), ("DELETE", "/_harness/journal", None),
        ("POST", "/_harness/faults", {"path": "/users/track", "status": 429, "times": 2}),
        ("GET", "/_harness/faults", None), ("DELETE", "/_harness/faults", None),
    ]
    assert recorder.calls[7]["query"] == {"path": "/users/*", "method": "POST", "limit": "5"}


def test_braze_control_plane_paths(recorder):
    braze = BrazeClient(recorder.url)
    ws = "ws1"
    recorder.reply("POST", f"/_harness/workspaces/{ws}/segments", {"segment_id": "seg1"})
    recorder.reply("POST", f"/_harness/workspaces/{ws}/campaigns", {"campaign_id": "c1"})
    recorder.reply("POST", f"/_harness/workspaces/{ws}/canvases", {"canvas_id": "v1"})
    recorder.reply("POST", f"/_harness/workspaces/{ws}/sdk/users", {"braze_id": "b1"})
    recorder.reply("GET", "/_harness/partners", {"partners": [{"name": "mixpanel", "partner_api_key": "pk"}]})
    assert braze.partner_api_key() == "pk"
    assert braze.sdk_create_user(ws, "dev-1") == "b1"
    braze.sdk_change_user(ws, "dev-1", "u1")
    assert braze.create_segment(ws, "S", "42").segment_id == "seg1"
    assert braze.create_campaign(ws, "C", "seg1").campaign_id == "c1"
    assert braze.create_canvas(ws, "V", "seg1").canvas_id == "v1"
    braze.invalidate_data_import_key(ws, "k1")
    expected = [
        ("GET", "/_harness/partners", None),
        ("POST", f"/_harness/workspaces/{ws}/sdk/users", {"device_id": "dev-1"}),
        ("POST", f"/_harness/workspaces/{ws}/sdk/change_user", {"device_id": "dev-1", "external_id": "u1"}),
        ("POST", f"/_harness/workspaces/{ws}/segments",
         {"name": "S", "filters": [{"type": "mixpanel_cohorts", "operator": "includes_value", "cohort_id": "42"}]}),
        ("POST", f"/_harness/workspaces/{ws}/campaigns", {"name": "C", "segment_id": "seg1"}),
        ("POST", f"/_harness/workspaces/{ws}/canvases", {"name": "V", "segment_id": "seg1"}),
        ("DELETE", f"/_harness/workspaces/{ws}/data_import_keys/k1", None),
    ]
    assert [(c["method"], c["path"], c["body"] or None) for c in recorder.calls] == expected


def test_braze_listing_calls_return_the_list(recorder):
    braze = BrazeClient(recorder.url)
    for path, field in [("/users", "users"), ("/cohorts", "cohorts"), ("/data_import_keys", "keys"),
                        ("/cohorts/mixpanel/7/members", "members"), ("/cohorts/mixpanel/7/match_log", "entries"),
                        ("/segments/s/users", "users")]:
        recorder.reply("GET", "/_harness/workspaces/w" + path, {field: [field]})
    assert braze.users("w") == ["users"]
    assert braze.cohorts("w") == ["cohorts"]
    assert braze.list_data_import_keys("w") == ["keys"]
    assert braze.cohort_members("w", "7") == ["members"]
    assert braze.match_log("w", "7") == ["entries"]
    assert braze.segment_users("w", "s") == ["users"]


def test_braze_vendor_calls_send_bearer_and_body_credentials(recorder):
    braze = BrazeClient(recorder.url)
    braze.users_track("rk", attributes=[{"external_id": "u1", "plan": "pro"}])
    assert recorder.last["path"] == "/users/track" and recorder.last["bearer"] == "Bearer rk"
    assert recorder.last["body"] == {"attributes": [{"external_id": "u1", "plan": "pro"}]}
    braze.users_identify("rk", [{"external_id": "u1", "user_alias": {"alias_name": "a", "alias_label": "l"}}])
    assert recorder.last["path"] == "/users/identify"
    braze.users_alias_new("rk", [{"alias_name": "a", "alias_label": "l"}])
    assert recorder.last["body"] == {"user_aliases": [{"alias_name": "a", "alias_label": "l"}]}
    braze.users_export_ids("rk", external_ids=["u1"])
    assert recorder.last["body"] == {"external_ids": ["u1"]}
    braze.partner_cohort_users("pk", "dik", "7", [{"user_ids": ["u1"]}])
    assert recorder.last["path"] == "/partners/mixpanel/cohorts/users" and recorder.last["bearer"] is None
    assert recorder.last["body"] == {"partner_api_key": "pk", "client_secret": "dik", "cohort_id": "7",
                                     "cohort_changes": [{"user_ids": ["u1"]}]}
    braze.partner_cohort_name("pk", "dik", "7", "Buyers", "2026-01-01T00:00:00Z")
    assert recorder.last["path"] == "/partners/mixpanel/cohorts"
    assert recorder.last["body"]["name"] == "Buyers"


def test_mixpanel_control_plane_paths(recorder):
    mp = MixpanelClient(recorder.url)
    recorder.reply("POST", "/_harness/projects", {"project_id": 1, "token": "t", "api_secret": "s",
                                                  "service_account": {"username": "u", "secret": "x"}})
    recorder.reply("POST", "/_harness/projects/1/cohorts", {"cohort_id": 5, "name": "Pro"})
    recorder.reply("POST", "/_harness/projects/1/connections", {"connection_id": "c1"})
    recorder.reply("POST", "/_harness/projects/1/exports", {"export_id": 3, "status": "finished", "next_sync_at": None})
    recorder.reply("GET", "/_harness/projects/1/cohorts/5/members", {"members": ["u1"]})
    recorder.reply("GET", "/_harness/projects/1/exports", {"exports": []})
    assert mp.create_project("P", retention_days=30).service_account == {"username": "u", "secret": "x"}
    mp.stats(1)
    assert mp.create_cohort(1, "Pro", {"property": "plan", "equals": "pro"}).cohort_id == 5
    mp.update_cohort(1, 5, name="Pro users")
    assert mp.cohort_members(1, 5) == ["u1"]
    assert mp.create_connection(1, "dik", "http://b", user_id_property="uid").connection_id == "c1"
    mp.update_connection(1, "c1", data_import_key="dik2")
    assert mp.create_export(1, 5, "c1", "one_time").export_id == 3
    mp.get_export(1, "e1")
    assert mp.list_exports(1) == []
    for action in ("stop", "resume", "run"):
        getattr(mp, f"{action}_export")(1, "e1")
    assert [(c["method"], c["path"], c["body"] or None) for c in recorder.calls] == [
        ("POST", "/_harness/projects", {"name": "P", "retention_days": 30}),
        ("GET", "/_harness/projects/1/stats", None),
        ("POST", "/_harness/projects/1/cohorts", {"name": "Pro", "definition": {"property": "plan", "equals": "pro"}}),
        ("PATCH", "/_harness/projects/1/cohorts/5", {"name": "Pro users"}),
        ("GET", "/_harness/projects/1/cohorts/5/members", None),
        ("POST", "/_harness/projects/1/connections", {"data_import_key": "dik", "rest_endpoint": "http://b",
                                                      "user_id_property": "uid"}),
        ("PATCH", "/_harness/projects/1/connections/c1", {"data_import_key": "dik2"}),
        ("POST", "/_harness/projects/1/exports", {"cohort_id": 5, "connection_id": "c1", "mode": "one_time"}),
        ("GET", "/_harness/projects/1/exports/e1", None),
        ("GET", "/_harness/projects/1/exports", None),
        ("POST", "/_harness/projects/1/exports/e1/stop", None),
        ("POST", "/_harness/projects/1/exports/e1/resume", None),
        ("POST", "/_harness/projects/1/exports/e1/run", None),
    ]


def test_mixpanel_vendor_calls(recorder):
    mp = MixpanelClient(recorder.url)
    account = {"username": "sa", "secret": "s"}
    mp.import_events(1, account, [{"event": "E", "properties": {"time": 1, "distinct_id": "u", "$insert_id": "i"}}])
    assert recorder.last["path"] == "/import" and recorder.last["auth"] == ("sa", "s")
    assert recorder.last["query"] == {"project_id": "1", "strict": "1"}
    recorder.reply("POST", "/engage", {"status": 1, "error": None})
    mp.engage_set("tok", "u1", {"plan": "pro"})
    assert recorder.last["body"]["data"] == '[{"$token": "tok", "$distinct_id": "u1", "$set": {"plan": "pro"}}]'
    recorder.reply("POST", "/api/query/cohorts/list", [{"id": 1}])
    assert mp.query_cohorts_list(1, account) == [{"id": 1}]
    recorder.reply("GET", "/api/2.0/export", '{"event": "A"}\n{"event": "B"}\n')
    assert mp.export_events(1, account, "2026-01-01", "2026-01-02", event=["A"]) == [{"event": "A"}, {"event": "B"}]
    assert recorder.last["query"]["event"] == '["A"]'


def test_query_engage_all_follows_pages_with_the_session_id(recorder):
    mp = MixpanelClient(recorder.url)
    full = {"page": 0, "page_size": 2, "results": [{"$distinct_id": "a"}, {"$distinct_id": "b"}], "session_id": "S"}
    recorder.reply("POST", "/api/query/engage", full)
    pages = mp.query_engage_all(1, {"username": "u", "secret": "s"}, filter_by_cohort={"id": 3})
    first_two = [next(pages), next(pages)]
    recorder.reply("POST", "/api/query/engage", {"page": 1, "page_size": 2, "results": [{"$distinct_id": "c"}]})
    assert first_two + list(pages) == [{"$distinct_id": "a"}, {"$distinct_id": "b"}, {"$distinct_id": "c"}]
    assert recorder.calls[0]["body"] == {"filter_by_cohort": '{"id": 3}', "page": "0"}
    assert recorder.calls[1]["body"] == {"filter_by_cohort": '{"id": 3}', "page": "1", "session_id": "S"}


def test_engage_refusal_is_an_error(recorder):
    recorder.reply("POST", "/engage", {"status": 0, "error": "token, missing or empty"})
    with pytest.raises(HarnessHTTPError) as caught:
        MixpanelClient(recorder.url).engage_set("", "u1", {})
    assert caught.value.message == "token, missing or empty"


def test_a_create_reply_without_the_contracts_fields_is_refused_naming_them(recorder):
    recorder.reply("POST", "/_harness/workspaces", {"workspace_id": "ws1"})
    with pytest.raises(HarnessHTTPError) as caught:
        BrazeClient(recorder.url).create_workspace("w")
    assert str(caught.value) == f"POST {recorder.url}/_harness/workspaces -> 200: the reply lacks rest_api_key"
    recorder.reply("POST", "/_harness/workspaces", {"workspace_id": "ws1", "rest_api_key": "k", "extra": 1})
    created = BrazeClient(recorder.url).create_workspace("w")
    assert (created.workspace_id, created.rest_api_key, created.reply["extra"]) == ("ws1", "k", 1)


@pytest.mark.parametrize("body, message", [
    ({"message": "Invalid client secret"}, "Invalid client secret"),
    ({"error": "no such workspace 'x'"}, "no such workspace 'x'"),
    ("plain failure\nsecond line", "plain failure"),
    ("", "UNAUTHORIZED"),
])
def test_non_2xx_raises_with_the_servers_message(recorder, body, message):
    recorder.reply("POST", "/_harness/workspaces", body, 401)
    with pytest.raises(HarnessHTTPError) as caught:
        BrazeClient(recorder.url).create_workspace("w")
    error = caught.value
    assert (error.status, error.message, error.method) == (401, message, "POST")
    assert error.url == recorder.url + "/_harness/workspaces"
    assert str(error) == f"POST {recorder.url}/_harness/workspaces -> 401: {message}"


def test_unreachable_target_names_the_url():
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    url = f"http://127.0.0.1:{port}"
    with pytest.raises(TargetUnreachable) as caught:
        MixpanelClient(url).health()
    assert caught.value.url == url + "/_harness/health"
    assert str(caught.value) == f"cannot reach {url}/_harness/health: connection refused"


def test_targets_move_braze_first_and_return_mixpanels_fired(recorder):
    braze, mixpanel = BrazeClient(recorder.url + "/b"), MixpanelClient(recorder.url + "/m")
    recorder.reply("POST", "/m/_harness/clock", {"now": "x", "fired": [{"export_id": "e1"}]})
    recorder.reply("POST", "/b/_harness/clock", {"now": "x", "fired": []})
    targets = Targets(braze, mixpanel)
    assert targets.advance("15m") == [{"export_id": "e1"}]
    assert targets.set_clock("2026-02-01T00:00:00Z") == [{"export_id": "e1"}]
    assert [c["path"] for c in recorder.calls] == ["/b/_harness/clock", "/m/_harness/clock"] * 2
    assert [c["body"] for c in recorder.calls] == [{"advance": "15m"}] * 2 + [{"set": "2026-02-01T00:00:00Z"}] * 2
