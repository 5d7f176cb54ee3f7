"""The clients against the real mocks over HTTP: every call works and errors carry the server's text."""
from __future__ import annotations

import pytest

from harness.clients import HarnessHTTPError
from mocks.common.defaults import DEFAULT_PARTNER_API_KEY


@pytest.fixture()
def workspace(braze):
    return braze.create_workspace("clients")


def test_braze_keys_users_and_partner_cohort_flow(braze, workspace):
    ws, rest_key = workspace.workspace_id, workspace.rest_api_key
    assert braze.health()["service"] == "braze"
    assert braze.partner_api_key() == DEFAULT_PARTNER_API_KEY
    key = braze.create_data_import_key(ws)
    assert key.reply["status"] == "active" and key.rest_endpoint == braze.base_url
    assert [k["key"] for k in braze.list_data_import_keys(ws)] == [key.key]

    braze.users_track(rest_key, attributes=[{"external_id": "ann", "first_name": "Ann"}])
    braze.users_alias_new(rest_key, [{"alias_name": "crm-1", "alias_label": "crm"}])
    braze.sdk_create_user(ws, "phone-1")
    assert braze.sdk_change_user(ws, "phone-1", "lee")["outcome"] == "identified"
    braze.sdk_create_user(ws, "phone-2")
    exported = braze.users_export_ids(rest_key, external_ids=["ann"])
    assert [u["external_id"] for u in exported["users"]] == ["ann"]

    pk = braze.partner_api_key()
    assert braze.partner_cohort_name(pk, key.key, "c1", "Buyers", "2026-01-01T00:00:00Z") == {"message": "success"}
    changes = [{"user_ids": ["ann", "nobody"], "aliases": [{"alias_name": "crm-1", "alias_label": "crm"}],
                "device_ids": ["phone-1", "phone-2"]}]
    assert braze.partner_cohort_users(pk, key.key, "c1", changes) == {"message": "success"}
    members = braze.cohort_members(ws, "c1")
    assert sorted((m["external_id"] or "-") for m in members) == ["-", "-", "ann"]
    assert braze.match_totals(ws, "c1") == {"matched": 3, "unknown_user": 1, "device_of_identified_user": 1}
    assert [e["outcome"] for e in braze.match_log(ws, "c1", outcome="unknown_user")] == ["unknown_user"]
    assert braze.cohorts(ws)[0]["name"] == "Buyers"
    assert braze.data_points(ws)["by_source"]["cohort_import:mixpanel"] == 3

    segment = braze.create_segment(ws, "Buyers", "c1").segment_id
    assert len(braze.segment_users(ws, segment)) == 3
    campaign = braze.create_campaign(ws, "Promo", segment).campaign_id
    canvas = braze.create_canvas(ws, "Journey", segment).canvas_id
    assert braze.campaign_audience(ws, campaign)["count"] == 3
    assert braze.canvas_audience(ws, canvas)["count"] == 3
    excluded = braze.create_segment(ws, "Others", "c1", operator="excludes_value").segment_id
    assert [u["external_id"] for u in braze.segment_users(ws, excluded)] == ["lee"]


def test_invalidated_key_is_refused_with_brazes_message(braze, workspace):
    ws = workspace.workspace_id
    key = braze.create_data_import_key(ws).key
    braze.invalidate_data_import_key(ws, key)
    assert braze.list_data_import_keys(ws)[0]["status"] == "invalidated"
    with pytest.raises(HarnessHTTPError) as caught:
        braze.partner_cohort_users(braze.partner_api_key(), key, "c1", [])
    assert (caught.value.status, caught.value.message) == (401, "Invalid client secret")


def test_control_plane_errors_carry_the_error_field(braze):
    with pytest.raises(HarnessHTTPError) as caught:
        braze.users("no-such-workspace")
    assert caught.value.status == 404
    assert "no-such-workspace" in caught.value.message


def test_bearer_key_without_permission_is_refused(braze, workspace):
    ws = workspace.workspace_id
    weak = braze.create_rest_api_key(ws, ["users.export.ids"]).rest_api_key
    with pytest.raises(HarnessHTTPError) as caught:
        braze.users_track(weak, attributes=[{"external_id": "x"}])
    assert caught.value.status == 403


def test_faults_and_journal_round_trip(braze, workspace):
    fault_id = braze.add_fault("/users/track", status=503, times=1)
    assert any(f["fault_id"] == fault_id for f in braze.list_faults())
    with pytest.raises(HarnessHTTPError) as caught:
        braze.users_track(workspace.rest_api_key, attributes=[{"external_id": "x"}])
    assert caught.value.status == 503
    assert braze.journal(path="/users/track", limit=1)[0]["status"] == 503
    braze.clear_faults()
    assert braze.list_faults() == []


# -- Mixpanel, and both together ----------------------------------------------------------------------
def test_mixpanel_ingestion_query_and_export_calls(embedded):
    mp = embedded.targets().mixpanel
    project = mp.create_project("clients")
    pid, account = project.project_id, project.service_account
    events = [{"event": "Buy", "properties": {"time": t, "distinct_id": "u1", "$insert_id": f"i{n}"}}
              for n, t in enumerate((1262303999, 1262304000, 1767225000))]
    assert mp.import_events(pid, account, events)["num_records_imported"] == 2
    assert mp.stats(pid)["events_removed_by_retention"] == 1
    mp.engage_set(project.token, "u1", {"$braze_external_id": "u1", "plan": "pro"})
    cohort_id = mp.create_cohort(pid, "Pro", {"property": "plan", "equals": "pro"}).cohort_id
    assert mp.cohort_members(pid, cohort_id) == ["u1"]
    mp.update_cohort(pid, cohort_id, name="Pro users")
    assert [c["name"] for c in mp.list_cohorts(pid)] == ["Pro users"]
    assert [c["name"] for c in mp.query_cohorts_list(pid, account)] == ["Pro users"]
    profiles = list(mp.query_engage_all(pid, account, filter_by_cohort={"id": cohort_id}))
    assert [p["$distinct_id"] for p in profiles] == ["u1"]
    exported = mp.export_events(pid, account, "2010-01-01", "2026-01-01", event=["Buy"])
    assert sorted(e["properties"]["time"] for e in exported) == [1262304000, 1767225000]


def test_mixpanel_projects_keep_everything_since_2010_unless_the_vendor_default_is_asked(embedded):
    mp = embedded.targets().mixpanel
    plain = mp.create_project("plain")
    vendor = mp.create_project("vendor", vendor_retention=True, created_at="2025-01-01T00:00:00Z")
    described = {p["project_id"]: p for p in mp.list_projects()}
    assert (described[plain.project_id]["retention_days"], described[plain.project_id]["retention_default"]) == (None, False)
    assert (described[vendor.project_id]["retention_days"], described[vendor.project_id]["retention_default"]) == (1825, True)
    assert described[vendor.project_id]["created_at"] == "2025-01-01T00:00:00Z"


def test_mixpanel_errors_carry_the_vendor_text(embedded):
    mp = embedded.targets().mixpanel
    project = mp.create_project("errors")
    with pytest.raises(HarnessHTTPError) as caught:
        mp.import_events(project.project_id, {"username": "x", "secret": "y"}, [])
    assert (caught.value.status, caught.value.message) == (401, "Invalid credentials")
    with pytest.raises(HarnessHTTPError) as caught:
        mp.engage_set("not-a-token", "u1", {"a": 1})
    assert (caught.value.status, caught.value.message) == (401, "token, not a valid project token")


def test_connection_export_and_targets_clock(embedded):
    targets = embedded.targets()
    braze, mp = targets.braze, targets.mixpanel
    ws = braze.create_workspace("pair")
    braze.users_track(ws.rest_api_key, attributes=[{"external_id": "u1"}])
    project = mp.create_project("pair")
    pid = project.project_id
    mp.engage_set(project.token, "u1", {"$braze_external_id": "u1", "plan": "pro"})
    cohort_id = mp.create_cohort(pid, "Pro", {"property": "plan", "equals": "pro"}).cohort_id
    key = braze.create_data_import_key(ws.workspace_id)
    connection = mp.create_connection(pid, key.key, key.rest_endpoint, partner_api_key=braze.partner_api_key()).connection_id
    assert [c["connection_id"] for c in mp.list_connections(pid)] == [connection]
    export = mp.create_export(pid, cohort_id, connection, "dynamic")
    assert [e["export_id"] for e in mp.list_exports(pid)] == [export.export_id]
    assert [m["external_id"] for m in braze.cohort_members(ws.workspace_id, str(cohort_id))] == ["u1"]
    start = targets.now()
    fired = targets.advance("30m")
    assert len([f for f in fired if f.get("export_id") == export.export_id]) == 2
    assert braze.get_clock()["now"] == mp.get_clock()["now"] != start
    mp.stop_export(pid, export.export_id)
    assert mp.get_export(pid, export.export_id)["status"] == "stopped"
    mp.resume_export(pid, export.export_id)
    mp.run_export(pid, export.export_id)
    assert mp.get_export(pid, export.export_id)["status"] == "active"


def test_sdk_batches_on_the_mock_and_single_calls_on_a_target_without_the_batch_routes(braze, workspace, recorder):
    from harness.clients import BrazeClient

    ws = workspace.workspace_id
    ids = braze.sdk_create_users(ws, [{"device_id": "tab-1", "attributes": {"plan": "pro"}}, {"device_id": "tab-2"}])
    assert [r["outcome"] for r in braze.sdk_change_users(ws, [{"device_id": "tab-1", "external_id": "kim"}])] == \
        ["identified"]
    assert {u["braze_id"]: u["external_id"] for u in braze.users(ws) if u["braze_id"] in ids} == \
        {ids[0]: "kim", ids[1]: None}
    with pytest.raises(HarnessHTTPError) as caught:
        braze.sdk_create_users(ws, [{"device_id": "tab-2"}])
    assert (caught.value.status, caught.value.message.split(":")[0]) == (409, "users[0]")

    recorder.reply("POST", "/_harness/workspaces/w/sdk/users/batch", {"error": "no such endpoint"}, 404)
    recorder.reply("POST", "/_harness/workspaces/w/sdk/change_user/batch", {"error": "no such method"}, 405)
    recorder.reply("POST", "/_harness/workspaces/w/sdk/users", {"braze_id": "b1"}, 201)
    recorder.reply("POST", "/_harness/workspaces/w/sdk/change_user", {"braze_id": "b1", "outcome": "identified"})
    vendor = BrazeClient(recorder.url)
    assert vendor.sdk_create_users("w", [{"device_id": "d1"}, {"device_id": "d2", "attributes": {"a": 1}}]) == ["b1", "b1"]
    assert vendor.sdk_change_users("w", [{"device_id": "d1", "external_id": "e"}]) == [
        {"braze_id": "b1", "outcome": "identified"}]
    assert [(c["path"].removeprefix("/_harness/workspaces/w/"), c["body"]) for c in recorder.calls] == [
        ("sdk/users/batch", {"users": [{"device_id": "d1"}, {"device_id": "d2", "attributes": {"a": 1}}]}),
        ("sdk/users", {"device_id": "d1"}), ("sdk/users", {"device_id": "d2", "attributes": {"a": 1}}),
        ("sdk/change_user/batch", {"changes": [{"device_id": "d1", "external_id": "e"}]}),
        ("sdk/change_user", {"device_id": "d1", "external_id": "e"})]
