"""The clients against the real mocks over HTTP: every call works and errors carry the server's text."""
from __future__ import annotations

import pytest

from harness.clients import HarnessHTTPError
from mocks.common.defaults import DEFAULT_PARTNER_API_KEY

from .conftest import needs_mocks


@pytest.fixture()
def workspace(braze):
    return braze.create_workspace("clients")


def test_braze_keys_users_and_partner_cohort_flow(braze, workspace):
    ws, rest_key = workspace["workspace_id"], workspace["rest_api_key"]
    assert braze.health()["service"] == "braze"
    assert braze.partner_api_key() == DEFAULT_PARTNER_API_KEY
    key = braze.create_data_import_key(ws)
    assert key["status"] == "active" and key["rest_endpoint"] == braze.base_url
    assert [k["key"] for k in braze.list_data_import_keys(ws)] == [key["key"]]

    braze.users_track(rest_key, attributes=[{"external_id": "ann", "first_name": "Ann"}])
    braze.users_alias_new(rest_key, [{"alias_name": "crm-1", "alias_label": "crm"}])
    braze.sdk_create_user(ws, "phone-1")
    assert braze.sdk_change_user(ws, "phone-1", "lee")["outcome"] == "identified"
    braze.sdk_create_user(ws, "phone-2")
    exported = braze.users_export_ids(rest_key, external_ids=["ann"])
    assert [u["external_id"] for u in exported["users"]] == ["ann"]

    pk = braze.partner_api_key()
    assert braze.partner_cohort_name(pk, key["key"], "c1", "Buyers", "2026-01-01T00:00:00Z") == {"message": "success"}
    changes = [{"user_ids": ["ann", "nobody"], "aliases": [{"alias_name": "crm-1", "alias_label": "crm"}],
                "device_ids": ["phone-1", "phone-2"]}]
    assert braze.partner_cohort_users(pk, key["key"], "c1", changes) == {"message": "success"}
    members = braze.cohort_members(ws, "c1")
    assert sorted((m["external_id"] or "-") for m in members) == ["-", "-", "ann"]
    assert braze.match_totals(ws, "c1") == {"matched": 3, "unknown_user": 1, "device_of_identified_user": 1}
    assert [e["outcome"] for e in braze.match_log(ws, "c1", outcome="unknown_user")] == ["unknown_user"]
    assert braze.cohorts(ws)[0]["name"] == "Buyers"
    assert braze.data_points(ws)["by_source"]["cohort_import:mixpanel"] == 3

    segment = braze.create_segment(ws, "Buyers", "c1")
    assert len(braze.segment_users(ws, segment)) == 3
    campaign = braze.create_campaign(ws, "Promo", segment)
    canvas = braze.create_canvas(ws, "Journey", segment)
    assert braze.campaign_audience(ws, campaign)["count"] == 3
    assert braze.canvas_audience(ws, canvas)["count"] == 3
    excluded = braze.create_segment(ws, "Others", "c1", operator="excludes_value")
    assert [u["external_id"] for u in braze.segment_users(ws, excluded)] == ["lee"]


def test_invalidated_key_is_refused_with_brazes_message(braze, workspace):
    ws = workspace["workspace_id"]
    key = braze.create_data_import_key(ws)["key"]
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
    ws = workspace["workspace_id"]
    weak = braze.create_rest_api_key(ws, ["users.export.ids"])
    with pytest.raises(HarnessHTTPError) as caught:
        braze.users_track(weak, attributes=[{"external_id": "x"}])
    assert caught.value.status == 403


def test_faults_and_journal_round_trip(braze, workspace):
    fault_id = braze.add_fault("/users/track", status=503, times=1)
    assert any(f["fault_id"] == fault_id for f in braze.list_faults())
    with pytest.raises(HarnessHTTPError) as caught:
        braze.users_track(workspace["rest_api_key"], attributes=[{"external_id": "x"}])
    assert caught.value.status == 503
    assert braze.journal(path="/users/track", limit=1)[0]["status"] == 503
    braze.clear_faults()
    assert braze.list_faults() == []
