"""One Braze mock server per test module; each test gets its own workspace on it (workspaces are
isolated, so sharing the server is itself part of what these tests check)."""
from __future__ import annotations

from typing import Any

import pytest
import requests

from mocks.braze import create_app
from mocks.common import Clock, ServerThread


class BrazeSession:
    """A workspace on a running Braze mock, with its keys, and short ways to call the mock."""

    def __init__(self, url: str, http: requests.Session):
        self.url = url
        self.http = http
        created = self.control("POST", "/workspaces", json={"name": "test"}).json()
        self.ws = created["workspace_id"]
        self.rest_key = created["rest_api_key"]
        self.partner_key = self.control("GET", "/partners").json()["partners"][0]["partner_api_key"]
        self.import_key = self.control("POST", f"/workspaces/{self.ws}/data_import_keys",
                                       json={"partner": "mixpanel"}).json()["key"]

    # -- plumbing ----------------------------------------------------------------------------------
    def control(self, method: str, path: str, **kwargs: Any) -> requests.Response:
        return self.http.request(method, f"{self.url}/_harness{path}", **kwargs)

    def ws_get(self, path: str, **kwargs: Any) -> Any:
        reply = self.control("GET", f"/workspaces/{self.ws}{path}", **kwargs)
        assert reply.status_code == 200, reply.text
        return reply.json()

    def ws_post(self, path: str, body: Any, status: int = 201) -> Any:
        reply = self.control("POST", f"/workspaces/{self.ws}{path}", json=body)
        assert reply.status_code == status, reply.text
        return reply.json()

    def rest(self, path: str, body: Any, key: str | None = None, method: str = "POST") -> requests.Response:
        headers = {"Authorization": f"Bearer {key or self.rest_key}"}
        return self.http.request(method, self.url + path, json=body, headers=headers)

    # -- partner endpoints -------------------------------------------------------------------------
    def credentials(self, **fields: Any) -> dict[str, Any]:
        """A partner body: this workspace's credentials, then ``fields`` (which may replace them)."""
        return {"partner_api_key": self.partner_key, "client_secret": self.import_key, **fields}

    def name_cohort(self, cohort_id: str, name: str, created_at: str = "2026-01-01T00:00:00Z",
                    **override: Any) -> requests.Response:
        body = {**self.credentials(cohort_id=cohort_id, name=name, created_at=created_at), **override}
        return self.http.post(f"{self.url}/partners/mixpanel/cohorts", json=body)

    def cohort_users(self, cohort_id: str, changes: list[dict[str, Any]], partner: str = "mixpanel",
                     **override: Any) -> requests.Response:
        body = {**self.credentials(cohort_id=cohort_id, cohort_changes=changes), **override}
        return self.http.post(f"{self.url}/partners/{partner}/cohorts/users", json=body)

    def add(self, cohort_id: str, **identifiers: list[Any]) -> requests.Response:
        reply = self.cohort_users(cohort_id, [identifiers])
        assert reply.status_code == 201, reply.text
        return reply

    def remove(self, cohort_id: str, **identifiers: list[Any]) -> requests.Response:
        reply = self.cohort_users(cohort_id, [{**identifiers, "should_remove": True}])
        assert reply.status_code == 201, reply.text
        return reply

    # -- observing ---------------------------------------------------------------------------------
    def members(self, cohort_id: str) -> list[str]:
        """External ids (or braze_ids when unidentified) of the cohort's members, sorted."""
        members = self.ws_get(f"/cohorts/mixpanel/{cohort_id}/members")["members"]
        return sorted(m["external_id"] or m["braze_id"] for m in members)

    def outcomes(self, cohort_id: str) -> list[tuple[str, str, str]]:
        entries = self.ws_get(f"/cohorts/mixpanel/{cohort_id}/match_log")["entries"]
        return [(e["identifier"], e["kind"], e["outcome"]) for e in entries]

    def data_points(self) -> dict[str, Any]:
        return self.ws_get("/data_points")

    # -- users ---------------------------------------------------------------------------------------
    def seed(self, *users: dict[str, Any]) -> list[str]:
        return self.ws_post("/users", {"users": list(users)})["braze_ids"]

    def sdk_user(self, device_id: str, **attributes: Any) -> str:
        body: dict[str, Any] = {"device_id": device_id}
        if attributes:
            body["attributes"] = attributes
        return self.ws_post("/sdk/users", body)["braze_id"]

    def change_user(self, device_id: str, external_id: str) -> dict[str, Any]:
        return self.ws_post("/sdk/change_user", {"device_id": device_id, "external_id": external_id}, status=200)


def start(config: dict[str, Any] | None = None, clock: Clock | None = None) -> ServerThread:
    return ServerThread(create_app(config, clock=clock)).start()


@pytest.fixture(scope="module")
def server():
    srv = start()
    yield srv
    srv.stop()


@pytest.fixture(scope="module")
def http():
    with requests.Session() as session:
        yield session


@pytest.fixture()
def braze(server, http) -> BrazeSession:
    return BrazeSession(server.url, http)
