"""The connections and exports control plane over HTTP: exact statuses and messages, bad bodies,
isolation between projects. A real Braze mock answers the partner calls."""
import pytest
import requests

from mocks.braze import create_app as create_braze_app
from mocks.common import Clock, ServerThread
from mocks.mixpanel import create_app as create_mixpanel_app


@pytest.fixture(scope="module")
def servers():
    clock = Clock()
    with ServerThread(create_braze_app(clock=clock)) as braze, \
            ServerThread(create_mixpanel_app(clock=clock)) as mixpanel:
        yield braze.url, mixpanel.url


class Setup:
    def __init__(self, braze: str, mixpanel: str):
        self.braze, self.mixpanel = braze, mixpanel
        ws = self.control(braze, "POST", "/workspaces", {"name": "ws"})["workspace_id"]
        key = self.control(braze, "POST", f"/workspaces/{ws}/data_import_keys", {"partner": "mixpanel"})
        self.key, self.endpoint = key["key"], key["rest_endpoint"]
        self.pid = self.control(mixpanel, "POST", "/projects", {"name": "p"})["project_id"]
        self.cohort = self.control(mixpanel, "POST", f"/projects/{self.pid}/cohorts",
                                   {"name": "Pro", "definition": {"property": "plan", "equals": "pro"}})["cohort_id"]

    @staticmethod
    def control(base: str, method: str, path: str, body=None):
        reply = requests.request(method, f"{base}/_harness{path}", json=body, timeout=30)
        assert reply.status_code < 300, reply.text
        return reply.json()

    def call(self, method: str, path: str, body=None, **kwargs):
        reply = requests.request(method, f"{self.mixpanel}/_harness/projects/{self.pid}{path}", json=body,
                                 timeout=30, **kwargs)
        return reply.status_code, reply.json()

    def connect(self, **extra):
        status, body = self.call("POST", "/connections", {"data_import_key": self.key,
                                                          "rest_endpoint": self.endpoint, **extra})
        assert status == 201, body
        return body["connection_id"]


@pytest.fixture()
def setup(servers):
    return Setup(*servers)


def test_connection_is_saved_listed_with_masked_keys_and_patched(setup):
    conn = setup.connect(name="Production", alias_label="mp", alias_property="alias")
    status, listed = setup.call("GET", "/connections")
    assert status == 200 and [c["connection_id"] for c in listed["connections"]] == [conn]
    entry = listed["connections"][0]
    assert entry["data_import_key"] == "****" + setup.key[-4:] and entry["user_id_property"] == "$braze_external_id"
    assert (entry["name"], entry["alias_label"], entry["device_id_property"]) == ("Production", "mp", None)
    status, patched = setup.call("PATCH", f"/connections/{conn}", {"name": "Prod", "device_id_property": "dev"})
    assert (status, patched["name"], patched["device_id_property"]) == (200, "Prod", "dev")


@pytest.mark.parametrize("body, message", [
    ({"rest_endpoint": "http://x"}, "$: 'data_import_key' is a required property"),
    ({"data_import_key": "k"}, "$: 'rest_endpoint' is a required property"),
    ({"data_import_key": "", "rest_endpoint": "http://x"}, "$.data_import_key: '' should be non-empty"),
    ({"data_import_key": "k", "rest_endpoint": "rest.iad-01.braze.com"},
     "$.rest_endpoint: must be an http(s) URL such as https://rest.iad-01.braze.com"),
    ({"data_import_key": "k", "rest_endpoint": "http://x", "colour": "red"},
     "$: Additional properties are not allowed ('colour' was unexpected)"),
    ({"data_import_key": "k", "rest_endpoint": "http://x", "alias_label": "mp"},
     "'alias_label' and 'alias_property' go together: give both or neither"),
    ({"data_import_key": 7, "rest_endpoint": "http://x"}, "$.data_import_key: 7 is not of type 'string'"),
    # issue 12 class 4: URLs the schema's pattern lets through but no HTTP client can call
    ({"data_import_key": "k", "rest_endpoint": "http://127.0.0.1:99999"},
     "'rest_endpoint' http://127.0.0.1:99999 is not a callable URL: its port must be a number from 1 to 65535"),
    ({"data_import_key": "k", "rest_endpoint": "http://127.0.0.1:abc"},
     "'rest_endpoint' http://127.0.0.1:abc is not a callable URL: its port must be a number from 1 to 65535"),
    ({"data_import_key": "k", "rest_endpoint": "http://a:-1"},
     "'rest_endpoint' http://a:-1 is not a callable URL: its port must be a number from 1 to 65535"),
    ({"data_import_key": "k", "rest_endpoint": "http://[::1"},
     "'rest_endpoint' http://[::1 is not a callable URL: Invalid IPv6 URL"),
])
def test_bad_connection_bodies_are_400(setup, body, message):
    assert setup.call("POST", "/connections", body) == (400, {"error": message})


@pytest.mark.parametrize("raw, message", [
    (b"not json", "request body must be valid JSON"),
    (b"[1, 2]", "request body must be a JSON object"),
])
def test_non_object_bodies_are_400(setup, raw, message):
    for path in ("/connections", "/exports"):
        status, body = setup.call("POST", path, data=raw, headers={"Content-Type": "application/json"})
        assert (status, body) == (400, {"error": message})


def test_refused_and_unreachable_endpoints_save_nothing(setup):
    assert setup.call("POST", "/connections", {"data_import_key": "nope", "rest_endpoint": setup.endpoint}) == (
        400, {"error": "Invalid client secret", "braze_status": 401})
    status, body = setup.call("POST", "/connections", {"data_import_key": "k", "rest_endpoint": "http://127.0.0.1:9"})
    assert status == 502 and body["error"].startswith(
        "could not reach Braze at http://127.0.0.1:9: Braze did not accept the call after 6 attempts: connection failed")
    assert setup.call("GET", "/connections") == (200, {"connections": []})


def test_patch_with_a_refused_key_changes_nothing(setup):
    conn = setup.connect()
    assert setup.call("PATCH", f"/connections/{conn}", {"data_import_key": "nope", "name": "x"}) == (
        400, {"error": "Invalid client secret", "braze_status": 401})
    assert setup.call("PATCH", f"/connections/{conn}", {"rest_endpoint": "ftp://x"}) == (
        400, {"error": "$.rest_endpoint: must be an http(s) URL such as https://rest.iad-01.braze.com"})
    assert setup.call("GET", f"/connections/{conn}")[1]["name"] == ""


@pytest.mark.parametrize("body, message", [
    ({"connection_id": 1, "mode": "dynamic"}, "$: 'cohort_id' is a required property"),
    ({"cohort_id": "7", "connection_id": 1, "mode": "dynamic"}, "$.cohort_id: '7' is not of type 'integer'"),
    ({"cohort_id": 7, "connection_id": 1, "mode": "weekly"}, "$.mode: 'weekly' is not one of ['one_time', 'dynamic']"),
    ({"cohort_id": 7, "connection_id": 1, "mode": "dynamic", "interval": "soon"},
     "$.interval: must be a duration such as '15m' (units s, m, h, d)"),
])
def test_bad_export_bodies_are_400(setup, body, message):
    assert setup.call("POST", "/exports", body) == (400, {"error": message})


def test_unknown_things_are_404(setup):
    conn = setup.connect()
    assert setup.call("POST", "/exports", {"cohort_id": 999, "connection_id": conn, "mode": "dynamic"}) == (
        404, {"error": f"no cohort 999 in project {setup.pid}"})
    assert setup.call("POST", "/exports", {"cohort_id": setup.cohort, "connection_id": 999, "mode": "dynamic"}) == (
        404, {"error": f"no connection 999 in project {setup.pid}"})
    for method, path in (("GET", "/exports/77"), ("POST", "/exports/77/stop"), ("POST", "/exports/77/resume"),
                         ("POST", "/exports/77/run")):
        assert setup.call(method, path) == (404, {"error": f"no export 77 in project {setup.pid}"})
    assert setup.call("PATCH", "/connections/abc", {"name": "x"}) == (
        404, {"error": f"no connection abc in project {setup.pid}"})
    reply = requests.get(f"{setup.mixpanel}/_harness/projects/424242/exports", timeout=10)
    assert (reply.status_code, reply.json()) == (404, {"error": "no project 424242"})


def test_export_lifecycle_replies(setup):
    conn = setup.connect()
    status, created = setup.call("POST", "/exports", {"cohort_id": setup.cohort, "connection_id": conn,
                                                      "mode": "dynamic", "interval": "5m"})
    assert status == 201 and created["status"] == "active" and created["interval_s"] == 300
    assert created["last_sync"]["trigger"] == "create" and created["next_sync_at"] is not None
    eid = created["export_id"]
    assert setup.call("POST", "/exports", {"cohort_id": setup.cohort, "connection_id": conn, "mode": "dynamic"}) == (
        400, {"error": f"cohort {setup.cohort} already has a dynamic export to connection {conn} "
                       f"(export {eid}); stop it first"})
    status, stopped = setup.call("POST", f"/exports/{eid}/stop")
    assert (status, stopped["status"], stopped["next_sync_at"]) == (200, "stopped", None)
    assert setup.call("POST", f"/exports/{eid}/run") == (400, {"error": f"export {eid} is stopped; resume it first"})
    status, resumed = setup.call("POST", f"/exports/{eid}/resume")
    assert (status, resumed["status"], resumed["last_sync"]["trigger"]) == (200, "active", "resume")
    status, ran = setup.call("POST", f"/exports/{eid}/run")
    assert (status, ran["last_sync"]["trigger"], ran["sync_count"]) == (200, "run", 3)
    status, detail = setup.call("GET", f"/exports/{eid}", params={"limit": "2"})
    assert status == 200 and [s["trigger"] for s in detail["syncs"]] == ["resume", "run"]
    assert detail["snapshot"]["name_sent"] == "Pro"
    assert setup.call("GET", f"/exports/{eid}", params={"limit": "0"}) == (
        400, {"error": "'limit' must be a positive integer"})
    status, listed = setup.call("GET", "/exports")
    assert status == 200 and [e["export_id"] for e in listed["exports"]] == [eid]


def test_projects_do_not_see_each_others_connections_or_exports(servers, setup):
    other = Setup(*servers)
    conn = setup.connect()
    assert other.call("GET", f"/connections/{conn}") == (404, {"error": f"no connection {conn} in project {other.pid}"})
    assert other.call("POST", "/exports", {"cohort_id": setup.cohort, "connection_id": other.connect(),
                                           "mode": "one_time"}) == (
        404, {"error": f"no cohort {setup.cohort} in project {other.pid}"})


def test_state_dump_and_reset_cover_exports(servers, setup):
    conn = setup.connect()
    setup.call("POST", "/exports", {"cohort_id": setup.cohort, "connection_id": conn, "mode": "dynamic"})
    state = requests.get(f"{setup.mixpanel}/_harness/state", timeout=10).json()
    exports = state["store"]["components"]["exports"]
    assert [c["data_import_key"] for c in exports["connections"] if c["connection_id"] == conn] == [setup.key]
    assert requests.put(f"{setup.mixpanel}/_harness/state", json=state, timeout=10).status_code == 200
    assert setup.call("GET", "/exports")[1]["exports"][0]["status"] == "active"
    requests.post(f"{setup.mixpanel}/_harness/reset", timeout=10)
    reply = requests.get(f"{setup.mixpanel}/_harness/projects/{setup.pid}/exports", timeout=10)
    assert reply.status_code == 404


JUNK = [None, 0, "text", [], [{}], {"cohort_id": None}, {"cohort_id": True, "connection_id": 1, "mode": "dynamic"},
        {"cohort_id": 1.5, "connection_id": 1, "mode": "one_time"}, {"connection_id": -1}, {"mode": ["dynamic"]},
        {"data_import_key": {"k": 1}, "rest_endpoint": "http://x"}, {"rest_endpoint": None},
        {"alias_label": "", "alias_property": ""}, {"user_id_property": 5}, {"interval": 15}, {"x" * 300: "y"}]


def test_no_body_makes_the_control_plane_answer_500(setup):
    conn = setup.connect()
    eid = setup.call("POST", "/exports", {"cohort_id": setup.cohort, "connection_id": conn, "mode": "dynamic"})[1][
        "export_id"]
    targets = [("POST", "/connections"), ("PATCH", f"/connections/{conn}"), ("POST", "/exports"),
               ("POST", f"/exports/{eid}/run"), ("PATCH", "/connections/0")]
    for method, path in targets:
        for body in JUNK:
            status, reply = setup.call(method, path, body)
            assert status < 500 and (status < 300 or set(reply) >= {"error"}), (method, path, body, reply)
