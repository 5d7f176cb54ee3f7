"""The Mixpanel dashboard through Flask's test client, against a real Braze mock on loopback (a
connection is checked with Braze): every page valid and labelled with secrets masked, the connect
and export forms refusing bad input (Braze's refusal in Braze's words), export controls, the sync
history chart, profiles with retention marked and merged identities, a 10,000-member cohort paged."""
from __future__ import annotations

import re
import time
from typing import Any, Iterator

import pytest

from mocks.braze import create_app as create_braze_app
from mocks.common import Clock, ServerThread
from mocks.common.clock import DEFAULT_START
from mocks.mixpanel import create_app
from mocks.mixpanel.cohort_sync.errors import CredentialsRefused
from mocks.mixpanel.ui import _refusal_text
from tests.ui.pages import check_page, text_of

UI = "/_harness/ui"
START_S = int(DEFAULT_START.timestamp())


class Dashboards:
    """Braze (served) and Mixpanel (test client) on one clock: a project with a cohort of ann and bob."""

    def __init__(self, braze_url: str, braze: Any, clock: Clock) -> None:
        self.braze_url, self.braze = braze_url, braze
        self.app = create_app(clock=clock)
        self.client = self.app.test_client()
        workspace = braze.post("/_harness/workspaces", json={"name": "w"}).get_json()
        self.ws = workspace["workspace_id"]
        self.key = braze.post(f"/_harness/workspaces/{self.ws}/data_import_keys", json={}).get_json()["key"]
        braze.post(f"/_harness/workspaces/{self.ws}/users", json={"users": [{"external_id": "ann"}, {"external_id": "bob"}]})
        project = self.control("POST", "/projects", {"name": "Shop", "retention_days": 30})
        self.pid, self.secrets = project["project_id"], (project["token"], project["api_secret"],
                                                         project["service_account"]["secret"], self.key)
        self.control("POST", f"/projects/{self.pid}/profiles", {"profiles": [
            {"distinct_id": "ann", "properties": {"$braze_external_id": "ann"}},
            {"distinct_id": "bob", "properties": {"$braze_external_id": "bob"}}]})
        self.control("POST", f"/projects/{self.pid}/events", {"events": [
            {"event": "Purchase", "properties": {"time": START_S - 3600 * 23.6, "distinct_id": "ann", "$insert_id": "a"}},
            {"event": "Purchase", "properties": {"time": START_S - 3600, "distinct_id": "$device:d1", "$insert_id": "b",
                                                 "$device_id": "d1", "$user_id": "bob"}},
            {"event": "Visit", "properties": {"time": START_S - 86400 * 29.99, "distinct_id": "bob", "$insert_id": "c"}}]})
        self.cohort = self.control("POST", f"/projects/{self.pid}/cohorts", {
            "name": "Recent buyers", "definition": {"event": "Purchase", "within_days": 1}})["cohort_id"]

    def control(self, method: str, path: str, body: Any = None) -> Any:
        reply = self.client.open(f"/_harness{path}", method=method, json=body)
        assert reply.status_code < 300, reply.get_data(as_text=True)
        return reply.get_json()

    def connect(self) -> int:
        return self.control("POST", f"/projects/{self.pid}/connections",
                            {"data_import_key": self.key, "rest_endpoint": self.braze_url})["connection_id"]

    def export(self, mode: str = "dynamic") -> int:
        connection = self.connect()
        return self.control("POST", f"/projects/{self.pid}/exports",
                            {"cohort_id": self.cohort, "connection_id": connection, "mode": mode})["export_id"]

    def page(self, path: str, status: int = 200, **query: str) -> str:
        reply = self.client.get(f"{UI}{path}", query_string=query or None)
        assert reply.status_code == status, (path, reply.status_code)
        html = text_of(reply)
        check_page(html, secrets=self.secrets)
        return html

    def post(self, path: str, data: dict[str, str] | None = None) -> Any:
        return self.client.post(f"{UI}{path}", data=data or {})

    def follow(self, reply: Any) -> str:
        assert reply.status_code == 303, reply.get_data(as_text=True)[:500]
        return self.client.get(reply.headers["Location"]).get_data(as_text=True)


@pytest.fixture(scope="module")
def braze_server() -> Iterator[tuple[ServerThread, Clock]]:
    clock = Clock()
    with ServerThread(create_braze_app(clock=clock)) as server:
        yield server, clock


@pytest.fixture()
def dashboards(braze_server: tuple[ServerThread, Clock]) -> Dashboards:
    server, clock = braze_server
    clock.set(DEFAULT_START)
    braze = server.app.test_client()
    braze.post("/_harness/reset")
    return Dashboards(server.url, braze, clock)


def alerts(html: str) -> list[str]:
    return re.findall(r'role="alert"><p>(.*?)</p>', html)


def notices(html: str) -> list[str]:
    return re.findall(r'role="status">\s*<p>(.*?)</p>', html)


def test_every_page_is_valid_html_with_labelled_controls_and_masked_secrets(dashboards: Dashboards) -> None:
    export = dashboards.export()
    dashboards.control("POST", "/clock", {"advance": "1h"})
    p = f"/projects/{dashboards.pid}"
    for path in ["/", p, f"{p}/integrations", f"{p}/integrations/braze", f"{p}/integrations/braze/connect",
                 f"{p}/cohorts", f"{p}/cohorts/{dashboards.cohort}", f"{p}/cohorts/{dashboards.cohort}/export",
                 f"{p}/exports/{export}", f"{p}/exports/{export}/syncs/1", f"{p}/exports/{export}/syncs/3",
                 f"{p}/profiles", f"{p}/profiles/bob", f"{p}/profiles/$device:d1"]:
        dashboards.page(path)
    dashboards.page(f"{p}/profiles", q="an")


def test_connect_saves_a_key_braze_accepts(dashboards: Dashboards) -> None:
    html = dashboards.follow(dashboards.post(f"/projects/{dashboards.pid}/integrations/braze/connect", {
        "data_import_key": dashboards.key, "rest_endpoint": dashboards.braze_url, "name": "prod"}))
    assert notices(html) == ["Braze accepted the key: prod saved."]
    assert dashboards.key not in html and "•••• " + dashboards.key[-4:] in html


@pytest.mark.parametrize("form, message", [
    ({"data_import_key": "", "rest_endpoint": "http://x"}, "Braze data import key is required."),
    ({"data_import_key": "k", "rest_endpoint": " "}, "REST endpoint is required."),
    ({"data_import_key": "k", "rest_endpoint": "rest.braze.com"},
     "REST endpoint: must be an http(s) URL such as https://rest.iad-01.braze.com"),
    ({"data_import_key": "wrong-key", "rest_endpoint": "{braze}"},
     "Braze refused the connection (HTTP 401): Invalid client secret"),
    ({"data_import_key": "k", "rest_endpoint": "http://127.0.0.1:9"}, "could not reach Braze at http://127.0.0.1:9"),
])
def test_connect_refuses_bad_input_and_saves_nothing(dashboards: Dashboards, form: dict[str, str], message: str) -> None:
    form = {k: v.format(braze=dashboards.braze_url) for k, v in form.items()}
    reply = dashboards.post(f"/projects/{dashboards.pid}/integrations/braze/connect", form)
    assert reply.status_code == 400
    html = reply.get_data(as_text=True)
    assert alerts(html)[0].startswith(message), alerts(html)
    check_page(html)
    assert 'name="data_import_key" value=""' in html  # a key typed is never echoed back
    assert dashboards.control("GET", f"/projects/{dashboards.pid}/connections")["connections"] == []


def test_a_refusal_quoting_the_key_shows_it_masked() -> None:
    refusal = CredentialsRefused("Partner not enabled for client with client secret: abcdef123456", braze_status=401)
    assert _refusal_text(refusal, "abcdef123456") == (
        "Braze refused the connection (HTTP 401): Partner not enabled for client with client secret: •••• 3456")


def test_export_to_braze_runs_the_first_sync(dashboards: Dashboards) -> None:
    dashboards.connect()
    html = dashboards.follow(dashboards.post(f"/projects/{dashboards.pid}/cohorts/{dashboards.cohort}/export",
                                   {"connection": "1", "mode": "one_time"}))
    assert notices(html) == ["One-time sync created; first sync: success, +2 added, −0 removed, 0 unchanged"]
    assert 'id="export-status">Finished<' in html


@pytest.mark.parametrize("form, message", [
    ({"connection": "1"}, "Choose a sync."),
    ({"connection": "1", "mode": "weekly"}, "Sync: &#39;weekly&#39; is not one of the choices."),
    ({"connection": "7", "mode": "dynamic"}, "Braze connection: &#39;7&#39; is not one of the choices."),
])
def test_the_export_form_refuses_bad_input(dashboards: Dashboards, form: dict[str, str], message: str) -> None:
    dashboards.connect()
    reply = dashboards.post(f"/projects/{dashboards.pid}/cohorts/{dashboards.cohort}/export", form)
    assert reply.status_code == 400 and alerts(reply.get_data(as_text=True)) == [message]
    assert dashboards.control("GET", f"/projects/{dashboards.pid}/exports")["exports"] == []


def test_exporting_without_a_connection_says_connect_first(dashboards: Dashboards) -> None:
    reply = dashboards.post(f"/projects/{dashboards.pid}/cohorts/{dashboards.cohort}/export", {"mode": "dynamic"})
    assert reply.status_code == 400
    assert alerts(reply.get_data(as_text=True)) == ["Connect Braze first (Integrations › Braze › Connect)."]


def test_a_second_dynamic_export_shows_the_registrys_refusal(dashboards: Dashboards) -> None:
    dashboards.export()
    reply = dashboards.post(f"/projects/{dashboards.pid}/cohorts/{dashboards.cohort}/export", {"connection": "1", "mode": "dynamic"})
    assert reply.status_code == 400
    assert alerts(reply.get_data(as_text=True))[0].startswith(f"cohort {dashboards.cohort} already has a dynamic export")


def test_stop_resume_and_run_now(dashboards: Dashboards) -> None:
    export = dashboards.export()
    base = f"/projects/{dashboards.pid}/exports/{export}"
    assert notices(dashboards.follow(dashboards.post(f"{base}/stop"))) == ["Export stopped."]
    again = dashboards.follow(dashboards.post(f"{base}/stop"))
    assert f"export {export} is already stopped" in again and 'id="export-status">Stopped<' in again
    assert notices(dashboards.follow(dashboards.post(f"{base}/resume")))[0].startswith("Synced: success")
    assert notices(dashboards.follow(dashboards.post(f"{base}/run")))[0].startswith("Synced: success")
    assert dashboards.control("GET", f"/projects/{dashboards.pid}/exports/{export}")["sync_count"] == 3


def test_a_paused_export_shows_brazes_error(dashboards: Dashboards) -> None:
    export = dashboards.export()
    dashboards.braze.delete(f"/_harness/workspaces/{dashboards.ws}/data_import_keys/{dashboards.key}")
    dashboards.control("POST", "/clock", {"advance": "30m"})  # the 00:30 sync has a change to send: ann leaves
    html = dashboards.page(f"/projects/{dashboards.pid}/exports/{export}")
    assert 'id="export-status">Paused<' in html and '<span role="alert">Invalid client secret</span>' in html


def test_the_chart_draws_adds_and_removes_per_sync(dashboards: Dashboards) -> None:
    export = dashboards.export()
    html = dashboards.follow(dashboards.post("/clock", {"advance": "1h", "next": f"{UI}/projects/{dashboards.pid}/exports/{export}"}))
    assert notices(html)[0].startswith("Advance 1 hour: now 2026-01-01T01:00:00Z; 4 syncs ran")
    titles = re.findall(r"<rect [^>]*><title>(.*?)</title>", html)
    assert len(titles) == 2 * 5
    assert "Sync 1 at 2026-01-01T00:00:00Z: +2 added" in titles
    assert "Sync 3 at 2026-01-01T00:30:00Z: −1 removed" in titles  # ann's purchase left the window at 00:24


def test_a_syncs_page_lists_each_users_operation(dashboards: Dashboards) -> None:
    export = dashboards.export()
    dashboards.control("POST", "/clock", {"advance": "30m"})
    html = dashboards.page(f"/projects/{dashboards.pid}/exports/{export}/syncs/3")
    rows = re.findall(r'profiles/(\w+)">\1</a></td>\s*<td class="mono">(\w+)</td><td>(\w+)</td>\s*'
                      r'<td><span class="status status-[\w-]+">([\w-]+)</span>', html)
    assert rows == [("ann", "ann", "external_id", "remove"), ("bob", "bob", "external_id", "no-op")]
    dashboards.page(f"/projects/{dashboards.pid}/exports/{export}/syncs/9", status=404)


def test_a_profile_shows_merged_identities_and_events_retention_removed(dashboards: Dashboards) -> None:
    dashboards.control("POST", "/clock", {"advance": "1h"})  # bob's Visit is now 30 days and 59 minutes old
    html = dashboards.page(f"/projects/{dashboards.pid}/profiles/$device:d1")
    assert "$device:d1 was merged into bob" in html and '<li class="mono">$device:d1</li>' in html
    assert html.count("removed by retention</span>") == 1 and "1 of 2 stored events are removed" in html


@pytest.mark.parametrize("path", ["/projects/9", "/projects/x/cohorts", "/projects/{pid}/cohorts/99",
                                  "/projects/{pid}/cohorts/x/export", "/projects/{pid}/exports/5",
                                  "/projects/{pid}/profiles/nobody", "/pick?project=9", "/projects/²",
                                  "/projects/{pid}/cohorts/²", "/projects/{pid}/exports/1/syncs/²",
                                  "/projects/{pid}/exports/²", "/projects/{pid}/exports/²/syncs/1"])
def test_unknown_things_are_404_pages(dashboards: Dashboards, path: str) -> None:
    assert "Not available" in dashboards.page(path.format(pid=dashboards.pid), status=404)


def test_bad_forms_on_projects_and_actions_are_never_a_500(dashboards: Dashboards) -> None:
    assert dashboards.post("/projects", {"name": ""}).status_code == 400
    assert dashboards.post(f"/projects/{dashboards.pid}/exports/77/stop").status_code == 404
    assert dashboards.post(f"/projects/{dashboards.pid}/exports/²/run").status_code == 404
    assert dashboards.post(f"/projects/{dashboards.pid}/cohorts/99/export", {"mode": "dynamic"}).status_code == 404


def test_a_10000_member_cohort_is_paged_and_fast(dashboards: Dashboards) -> None:
    dashboards.control("POST", f"/projects/{dashboards.pid}/profiles", {"profiles": [
        {"distinct_id": f"u{i:05d}", "properties": {"plan": "pro"}} for i in range(10_000)]})
    big = dashboards.control("POST", f"/projects/{dashboards.pid}/cohorts", {
        "name": "Pro", "definition": {"property": "plan", "equals": "pro"}})["cohort_id"]
    started = time.perf_counter()
    html = dashboards.page(f"/projects/{dashboards.pid}/cohorts/{big}", page="3")
    assert time.perf_counter() - started < 1.0
    assert "Page 3 of 200 (10000 rows)" in html and ">u00100</a>" in html and ">u00150</a>" not in html
    started = time.perf_counter()
    assert "Page 1 of 201" in dashboards.page(f"/projects/{dashboards.pid}/profiles")
    assert time.perf_counter() - started < 1.0


def test_the_overview_says_where_the_retention_comes_from(api):
    default = api.post("/_harness/projects", json={"name": "D", "created_at": "2024-03-01T00:00:00Z"}).json
    page = api.get(f"/_harness/ui/projects/{default['project_id']}").get_data(as_text=True)
    assert "1825 days (Mixpanel's default for a project created 2024-03-01)" in page
    kept = api.post("/_harness/projects", json={"name": "K", "retention_days": None}).json
    page = api.get(f"/_harness/ui/projects/{kept['project_id']}").get_data(as_text=True)
    assert "unlimited (events since 2010)" in page and "default for a project" not in page
