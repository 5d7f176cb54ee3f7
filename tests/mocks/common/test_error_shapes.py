"""Issue 12 class 7: an unexpected exception (a bug in the mock) answers 500 in the error shape of the
surface it happened on, the same shape that surface's 4xx replies have; ``/import`` over the 64 MB
cap gets ``/import``'s own 413. Each route is forced to raise by patching what it calls."""
from __future__ import annotations

import json
from typing import Any

import pytest

from mocks.braze.store import BrazeStore
from mocks.mixpanel.cohort_sync.scheduler import CohortExportRegistry
from mocks.mixpanel.store import MixpanelStore

BUG = "internal mock error: RuntimeError"


def boom(*args: Any, **kwargs: Any) -> Any:
    raise RuntimeError("a bug in the mock")


# -- Braze ---------------------------------------------------------------------------------------
def test_braze_partner_api_bug_is_its_message_shape(braze, monkeypatch):
    monkeypatch.setattr("mocks.braze.api._authorize_partner", boom)
    reply = braze.post("/partners/mixpanel/cohorts/users", json={"cohort_id": "c"})
    assert (reply.status_code, reply.get_json()) == (500, {"message": BUG})


def test_braze_rest_api_bug_is_its_message_shape(braze, monkeypatch):
    monkeypatch.setattr(BrazeStore, "resolve_rest_key", boom)
    reply = braze.post("/users/track", json={"attributes": []}, headers={"Authorization": "Bearer k"})
    assert (reply.status_code, reply.get_json()) == (500, {"message": BUG})


def test_braze_control_plane_bug_is_its_error_shape(braze, monkeypatch):
    assert braze.post("/_harness/workspaces", json={"name": 3}).get_json().keys() == {"error"}  # its 4xx
    monkeypatch.setattr(BrazeStore, "create_workspace", boom)
    reply = braze.post("/_harness/workspaces", json={"name": "w"})
    assert (reply.status_code, reply.get_json()) == (500, {"error": BUG})


# -- Mixpanel control planes -----------------------------------------------------------------------
def test_mixpanel_control_plane_bug_is_its_error_shape(mixpanel, monkeypatch):
    assert mixpanel.post("/_harness/projects", json={"name": ""}).get_json().keys() == {"error"}  # its 4xx
    monkeypatch.setattr(MixpanelStore, "create_project", boom)
    reply = mixpanel.post("/_harness/projects", json={"name": "p"})
    assert (reply.status_code, reply.get_json()) == (500, {"error": BUG})


def test_cohort_sync_control_plane_bug_is_its_error_shape(mixpanel, project, monkeypatch):
    monkeypatch.setattr(CohortExportRegistry, "connections", boom)
    reply = mixpanel.get(f"/_harness/projects/{project['project_id']}/connections")
    assert (reply.status_code, reply.get_json()) == (500, {"error": BUG})


# -- Mixpanel Query API and export -------------------------------------------------------------------
@pytest.mark.parametrize("path", ["/api/query/engage", "/api/2.0/export?from_date=2026-01-01&to_date=2026-01-01"])
def test_query_api_bug_is_its_request_and_error_shape(mixpanel, project, secret_auth, monkeypatch, path):
    four = mixpanel.get(path)  # no credentials: its 401
    assert four.status_code == 401 and four.get_json().keys() == {"request", "error"}
    monkeypatch.setattr("mocks.mixpanel.query_api._project", boom)
    reply = mixpanel.get(path, headers=secret_auth)
    assert (reply.status_code, reply.get_json()) == (500, {"request": path, "error": BUG})


# -- Mixpanel ingestion ------------------------------------------------------------------------------
EVENT = {"event": "e", "properties": {"distinct_id": "u", "time": 1767225600, "$insert_id": "a1"}}


def test_import_bug_is_imports_json_shape(mixpanel, project, secret_auth, monkeypatch):
    monkeypatch.setattr("mocks.mixpanel.api._ingest_batch", boom)
    reply = mixpanel.post("/import", json=[EVENT], headers=secret_auth)
    assert (reply.status_code, reply.get_json()) == (
        500, {"code": 500, "error": BUG, "status": "Internal Server Error"})


@pytest.mark.parametrize("path, handler", [("/import", "_ingest_batch"), ("/track", "_track"),
                                           ("/engage", "_engage")])
def test_legacy_endpoint_bug_is_the_legacy_reply(mixpanel, project, secret_auth, monkeypatch, path, handler):
    monkeypatch.setattr(f"mocks.mixpanel.api.{handler}", boom)
    item = {**EVENT, "properties": {**EVENT["properties"], "token": project["token"]}} if path != "/engage" else \
        {"$token": project["token"], "$distinct_id": "u", "$set": {"a": 1}}
    data = {"data": json.dumps([item])}
    reply = mixpanel.post(path + "?verbose=1", data=data, headers=secret_auth)
    assert (reply.status_code, reply.get_json()) == (500, {"error": BUG, "status": 0})
    reply = mixpanel.post(path, data=data, headers=secret_auth)
    assert (reply.status_code, reply.mimetype, reply.get_data(as_text=True)) == (500, "text/plain", "0")


IMPORT_TOO_LARGE = {"code": 413, "error": "request exceeds max limit of 10485760 bytes",
                    "status": "Request Entity Too Large"}


def test_import_over_the_64_mb_cap_is_imports_own_413(mixpanel, project, secret_auth):
    under_cap = mixpanel.post("/import", data=b" " * (11 * 1024 * 1024), headers=secret_auth,
                              content_type="application/json")
    assert (under_cap.status_code, under_cap.get_json()) == (413, IMPORT_TOO_LARGE)
    reply = mixpanel.post("/import", data=b" " * (64 * 1024 * 1024 + 1), headers=secret_auth,
                          content_type="application/json")
    assert (reply.status_code, reply.get_json()) == (413, IMPORT_TOO_LARGE)


def test_legacy_import_over_the_cap_is_the_legacy_413(mixpanel, project, secret_auth):
    reply = mixpanel.post("/import?verbose=1", data=b"d" * (64 * 1024 * 1024 + 1), headers=secret_auth,
                          content_type="application/x-www-form-urlencoded")
    assert (reply.status_code, reply.get_json()) == (
        413, {"error": "request exceeds max limit of 10485760 bytes", "status": 0})


# -- the dashboards ----------------------------------------------------------------------------------
def test_dashboard_bug_is_an_error_page(mixpanel, monkeypatch):
    monkeypatch.setattr("mocks.mixpanel.ui.render", boom)
    reply = mixpanel.get("/_harness/ui/")
    assert reply.status_code == 500 and reply.mimetype == "text/html"
    assert BUG in reply.get_data(as_text=True)


def test_an_injected_fault_without_a_body_takes_the_surface_shape(mixpanel, project, secret_auth):
    mixpanel.post("/_harness/faults", json={"path": "/import", "status": 503, "times": 1})
    reply = mixpanel.post("/import", json=[EVENT], headers=secret_auth)
    assert (reply.status_code, reply.get_json()) == (
        503, {"code": 503, "error": "injected fault", "status": "Service Unavailable"})
    mixpanel.post("/_harness/faults", json={"path": "/api/*", "status": 502, "times": 1})
    reply = mixpanel.get("/api/query/engage", headers=secret_auth)
    assert (reply.status_code, reply.get_json()) == (502, {"request": "/api/query/engage", "error": "injected fault"})
