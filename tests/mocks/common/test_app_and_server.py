"""The shared pipeline over real HTTP: faults, journal redaction, control plane and fast stop."""
import time

import json

import pytest
import requests
from flask import Response

from mocks.common import Clock, MockContext, ServerThread, create_mock_app, json_reply
from mocks.common.validation import request_object
from mocks.common.server import PortInUseError


class TinyStore:
    def __init__(self):
        self.items = []

    def reset(self):
        self.items.clear()

    def to_dict(self):
        return {"items": list(self.items)}

    def load(self, data):
        self.items = list(data["items"])


@pytest.fixture()
def server():
    store = TinyStore()
    ctx = MockContext(service="tiny", store=store, clock=Clock(),
                      error_body=lambda status, message: {"message": message})
    app = create_mock_app(ctx)

    @app.post("/items")
    def add_item() -> Response:
        body = request_object()
        store.items.append(body.get("name"))
        return json_reply({"message": "success"}, 201)

    with ServerThread(app) as srv:
        yield srv


def test_health_and_unknown_paths_are_json(server):
    assert requests.get(server.url + "/_harness/health").json()["status"] == "ok"
    reply = requests.get(server.url + "/nope")
    assert reply.status_code == 404 and reply.json() == {"message": "no such endpoint: GET /nope"}
    reply = requests.get(server.url + "/items")
    assert reply.status_code == 405


def test_journal_redacts_secrets(server):
    requests.post(server.url + "/items", json={"name": "a", "client_secret": "s3cr3t", "partner_api_key": "k"})
    entries = requests.get(server.url + "/_harness/journal").json()["entries"]
    assert entries[-1]["request"] == {"name": "a", "client_secret": "***", "partner_api_key": "***"}
    assert "s3cr3t" not in str(entries)


def test_fault_status_times_then_normal(server):
    fault = {"path": "/items", "status": 429, "headers": {"Retry-After": "3"}, "times": 2}
    assert requests.post(server.url + "/_harness/faults", json=fault).status_code == 201
    statuses = [requests.post(server.url + "/items", json={"name": "x"}) for _ in range(3)]
    assert [r.status_code for r in statuses] == [429, 429, 201]
    assert statuses[0].headers["Retry-After"] == "3"


def test_fault_drop_connection(server):
    requests.post(server.url + "/_harness/faults", json={"path": "/items", "drop_connection": True, "times": 1})
    with pytest.raises(requests.ConnectionError):
        requests.post(server.url + "/items", json={"name": "x"})
    assert requests.post(server.url + "/items", json={"name": "x"}).status_code == 201


def test_bad_fault_rule_is_400(server):
    reply = requests.post(server.url + "/_harness/faults", json={"path": "items", "status": 500})
    assert reply.status_code == 400 and "path" in reply.json()["error"]


HEADERS_RULE = "'headers' must be an object of header names (letters, digits, !#$%&'*+-.^_`|~) to Latin-1 values without CR, LF or NUL, 16384 bytes at most in all"


@pytest.mark.parametrize("rule, message", [
    ({"path": "/items", "status": 100}, "'status' must be an integer HTTP status between 200 and 599"),
    ({"path": "/items", "status": 199}, "'status' must be an integer HTTP status between 200 and 599"),
    ({"path": "/items", "status": 500, "headers": {"X-A": "caf\u00e9 \u2603"}}, HEADERS_RULE),
    ({"path": "/items", "status": 500, "headers": {"X-A": "a\r\nSet-Cookie: x=1"}}, HEADERS_RULE),
    ({"path": "/items", "status": 500, "headers": {"X A": "1"}}, HEADERS_RULE),
    ({"path": "/items", "status": 500, "headers": {"X-A": "v" * 70_000}}, HEADERS_RULE),
])
def test_fault_rules_that_cannot_be_sent_are_refused_when_created(server, rule, message):
    """Issue 12 class 5: such a rule used to be accepted and, when it fired, hung the client."""
    reply = requests.post(server.url + "/_harness/faults", json=rule)
    assert (reply.status_code, reply.json()) == (400, {"error": message})
    assert requests.post(server.url + "/items", json={"name": "x"}).status_code < 300


def test_a_latin1_fault_header_is_sent(server):
    rule = {"path": "/items", "status": 503, "headers": {"X-Note": "caf\u00e9"}, "times": 1}
    assert requests.post(server.url + "/_harness/faults", json=rule).status_code == 201
    reply = requests.post(server.url + "/items", json={"name": "x"})
    assert reply.status_code == 503 and reply.headers["X-Note"] == "caf\u00e9"


def test_state_dump_and_load_round_trip(server):
    requests.post(server.url + "/items", json={"name": "kept"})
    state = requests.get(server.url + "/_harness/state").json()
    requests.post(server.url + "/_harness/reset")
    assert requests.get(server.url + "/_harness/state").json()["store"] == {"items": []}
    assert requests.put(server.url + "/_harness/state", json=state).status_code == 200
    assert requests.get(server.url + "/_harness/state").json()["store"] == {"items": ["kept"]}


def test_clock_control(server):
    reply = requests.post(server.url + "/_harness/clock", json={"advance": "15m"}).json()
    assert reply["now"] == "2026-01-01T00:15:00Z" and reply["fired"] == []
    assert requests.post(server.url + "/_harness/clock", json={"advance": "soon"}).status_code == 400


def test_stops_well_under_a_second_and_reports_port_in_use():
    ctx = MockContext(service="tiny", store=TinyStore(), clock=Clock(), error_body=lambda s, m: {"message": m})
    server = ServerThread(create_mock_app(ctx)).start()
    with pytest.raises(PortInUseError):
        ServerThread(create_mock_app(ctx), port=server.port)
    started = time.perf_counter()
    server.stop()
    assert time.perf_counter() - started < 0.5


def test_journal_redacts_the_head_of_a_body_too_large_to_show_whole(server, monkeypatch):
    from mocks.common import journal

    monkeypatch.setattr(journal, "MAX_BODY_CHARS", 100)
    body = {"client_secret": "s3cr3t", "partner_api_key": "pk-123", "name": "x" * 500}
    requests.post(server.url + "/items", json=body)
    recorded = requests.get(server.url + "/_harness/journal").json()["entries"][-1]["request"]
    assert recorded["truncated"] is True and recorded["chars"] > 500
    assert "s3cr3t" not in recorded["head"] and "pk-123" not in recorded["head"]
    assert '"client_secret": "***"' in recorded["head"]


@pytest.mark.parametrize("path", ["/_harness//clock", "/items//", "/_harness/journal%2F"])
def test_doubled_or_encoded_slashes_are_the_json_404_not_a_redirect(server, path):
    """Issue 12 class 7: werkzeug merged '//' with a 308 and an HTML body; no vendor redirects."""
    reply = requests.get(server.url + path, allow_redirects=False)
    assert reply.status_code == 404 and reply.headers["Content-Type"] == "application/json"
    assert "no such endpoint" in json.dumps(reply.json())


@pytest.mark.parametrize("service, path, expected", [
    ("braze", "/users/track", {"message": "Request-URI Too Long"}),
    ("braze", "/_harness/health", {"error": "Request-URI Too Long"}),
    ("mixpanel", "/api/2.0/engage", {"request": "/api/2.0/engage", "error": "Request-URI Too Long"}),
    ("mixpanel", "/_harness/projects", {"error": "Request-URI Too Long"}),
    ("mixpanel", "/nowhere", {"error": "Request-URI Too Long", "status": 0}),
])
def test_a_request_line_over_the_servers_limit_is_a_json_414_in_the_paths_shape(service, path, expected):
    """Found by tests/fuzz: the stdlib server answered a request line over 64 KB with an HTML page."""
    from mocks.braze import create_app as braze_app
    from mocks.mixpanel import create_app as mixpanel_app
    app = (braze_app if service == "braze" else mixpanel_app)(clock=Clock())
    with ServerThread(app) as srv:
        reply = requests.get(srv.url + path + "?q=" + "x" * 70_000, timeout=10)
    assert reply.status_code == 414 and reply.headers["Content-Type"] == "application/json"
    assert reply.json() == expected
