"""The Braze partner client: retries (HOUSE-9) with a scripted transport (no server, no sleeping),
and the HTTP transport against real sockets on 127.0.0.1."""
import json
import threading
from datetime import datetime, timezone
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import pytest

from mocks.mixpanel.cohort_sync.partner_client import (BrazePartnerClient, BrazeRefused, BrazeUnavailable, Reply,
                                                 RetryPolicy, TransportError, retry_after_seconds)

NOW = datetime(2026, 1, 1, tzinfo=timezone.utc)


def reply(status, body=None, headers=None):
    body = body if isinstance(body, bytes) else json.dumps(body or {"message": "success"}).encode()
    return Reply(status, {k.lower(): v for k, v in (headers or {}).items()}, body)


class ScriptedTransport:
    """Answers each request with the next scripted reply, or raises it if it is a TransportError;
    ``send_failures`` makes the sends themselves fail."""

    def __init__(self, *script, send_failures=()):
        self.script = list(script)
        self.send_failures = list(send_failures)
        self.posts = []

    def send(self, path, body):
        self.posts.append((path, json.loads(body)))
        if self.send_failures:
            raise self.send_failures.pop(0)

    def receive(self):
        outcome = self.script.pop(0)
        if isinstance(outcome, Exception):
            raise outcome
        return outcome

    def close(self):
        pass


def client(*script, retry=RetryPolicy(), send_failures=()):
    waits = []
    transport = ScriptedTransport(*script, send_failures=send_failures)
    braze = BrazePartnerClient("http://braze.test/", "partner-key", "import-key", retry=retry, sleep=waits.append,
                               now=lambda: NOW, transport=transport)
    return braze, transport, waits


def test_success_posts_the_credentials_in_the_body_to_the_partner_path():
    braze, transport, waits = client(reply(201))
    report = braze.change_users("7", [{"user_ids": ["a"]}])
    assert report.requests == 1 and report.attempts == [] and waits == []
    path, body = transport.posts[0]
    assert path == "/cohorts/users" and braze.base_url == "http://braze.test/partners/mixpanel"
    assert body == {"partner_api_key": "partner-key", "client_secret": "import-key", "cohort_id": "7",
                    "cohort_changes": [{"user_ids": ["a"]}]}


def test_name_endpoint_body():
    braze, transport, _ = client(reply(201))
    braze.name_cohort("7", "Buyers", "2026-01-01T00:00:00Z")
    path, body = transport.posts[0]
    assert path == "/cohorts"
    assert (body["cohort_id"], body["name"], body["created_at"]) == ("7", "Buyers", "2026-01-01T00:00:00Z")


def test_a_call_is_sent_by_start_and_answered_by_result():
    braze, transport, _ = client(reply(201))
    call = braze.users_call("7", [{"user_ids": ["a"]}])
    assert transport.posts == []
    call.start()
    assert len(transport.posts) == 1 and transport.script
    assert call.result().requests == 1 and transport.script == []
    assert call.start() is call and len(transport.posts) == 1  # starting twice sends once


def test_busy_answers_are_retried_with_exponential_backoff_then_succeed():
    braze, transport, waits = client(reply(503), reply(500), reply(502), reply(201))
    report = braze.change_users("7", [])
    assert report.requests == 4 and waits == [1.0, 2.0, 4.0] and len(transport.posts) == 4
    assert [a.reason for a in report.attempts] == ["HTTP 503: success", "HTTP 500: success", "HTTP 502: success"]


def test_retry_after_is_honoured_when_longer_than_the_backoff():
    braze, _, waits = client(reply(429, {"message": "slow down"}, {"Retry-After": "5"}),
                             reply(429, headers={"Retry-After": "1"}), reply(201))
    braze.change_users("7", [])
    assert waits == [5.0, 2.0]


def test_five_retries_at_most_then_the_call_fails_with_the_last_reason():
    braze, transport, waits = client(*[reply(503, {"message": "unavailable"})] * 6)
    with pytest.raises(BrazeUnavailable) as failed:
        braze.change_users("7", [])
    assert len(transport.posts) == 6 and waits == [1.0, 2.0, 4.0, 8.0, 16.0]
    assert failed.value.message == "Braze did not accept the call after 6 attempts: HTTP 503: unavailable"
    assert failed.value.report.attempts[-1].wait_s is None


def test_waits_stay_inside_the_60_second_budget():
    braze, transport, waits = client(reply(429, headers={"Retry-After": "50"}), reply(429, headers={"Retry-After": "20"}))
    with pytest.raises(BrazeUnavailable):
        braze.change_users("7", [])
    assert waits == [50.0] and len(transport.posts) == 2


def test_requests_without_an_answer_are_retried_with_the_transports_reason():
    braze, _, waits = client(TransportError("timed out after 2 s"), reply(201),
                             send_failures=[TransportError("connection failed (ConnectionRefusedError: refused)")])
    report = braze.change_users("7", [])
    assert waits == [1.0, 2.0] and report.requests == 3
    assert [a.reason for a in report.attempts] == ["connection failed (ConnectionRefusedError: refused)",
                                                  "timed out after 2 s"]


@pytest.mark.parametrize("status", [400, 401, 403, 404])
def test_refusals_are_not_retried_and_carry_brazes_message(status):
    braze, transport, waits = client(reply(status, {"message": "Invalid client secret"}))
    with pytest.raises(BrazeRefused) as refused:
        braze.change_users("7", [])
    assert (refused.value.status, refused.value.message, len(transport.posts), waits) == (
        status, "Invalid client secret", 1, [])


def test_a_refusal_without_json_keeps_the_text():
    braze, _, _ = client(reply(403, b"<html>Forbidden</html>"))
    with pytest.raises(BrazeRefused, match="<html>Forbidden</html>"):
        braze.check_credentials()


def test_other_statuses_fail_at_once():
    braze, transport, _ = client(reply(413, {"message": "too large"}))
    with pytest.raises(BrazeUnavailable, match="unexpected HTTP 413: too large"):
        braze.change_users("7", [])
    assert len(transport.posts) == 1


def test_locked_resource_is_retried():
    braze, _, waits = client(reply(423, {"message": "Resource locked"}), reply(201))
    braze.change_users("7", [])
    assert waits == [1.0]


@pytest.mark.parametrize("value, seconds", [
    ("7", 7.0), ("Thu, 01 Jan 2026 00:00:30 GMT", 30.0), ("Wed, 31 Dec 2025 23:00:00 GMT", 0.0),
    ("soon", None), (None, None),
    ("\u00b2", None), ("\u0663", None), ("9" * 5000, float("inf")),  # issue 12 class 3: '²' was a ValueError
])
def test_retry_after_forms(value, seconds):
    assert retry_after_seconds(value, NOW) == seconds


# -- the HTTP transport, on real sockets ----------------------------------------------------------------
class KeepAliveServer:
    """An HTTP/1.1 server on 127.0.0.1 answering POSTs from a script, one word per request:
    ``ok`` (201, connection kept), ``ok-then-close`` (201 without saying so, then the server closes
    the idle connection, as keep-alive servers do) and ``drop`` (closed without an answer)."""

    def __init__(self, *script):
        self.script = list(script)
        self.paths = []
        self.connections = 0
        server = self

        class Handler(BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"

            def setup(self):
                super().setup()
                server.connections += 1

            def do_POST(self):
                self.rfile.read(int(self.headers["Content-Length"]))
                server.paths.append(self.path)
                action = server.script.pop(0)
                if action == "drop":
                    self.close_connection = True
                    return
                body = b'{"message":"success"}'
                self.send_response(201)
                self.send_header("Content-Length", str(len(body)))
                self.end_headers()
                self.wfile.write(body)
                self.close_connection = action == "ok-then-close"

            def log_message(self, *args):
                pass

        self.closed = threading.Event()

        class Server(ThreadingHTTPServer):
            def shutdown_request(self, request):
                super().shutdown_request(request)
                server.closed.set()

        self.httpd = Server(("127.0.0.1", 0), Handler)
        self.httpd.daemon_threads = True
        self.url = f"http://127.0.0.1:{self.httpd.server_port}"
        self.thread = threading.Thread(target=self.httpd.serve_forever, daemon=True)

    def __enter__(self):
        self.thread.start()
        return self

    def __exit__(self, *exc):
        self.httpd.shutdown()
        self.httpd.server_close()


def http_client(url, waits):
    return BrazePartnerClient(url, "p", "k", sleep=waits.append, timeout=(2.0, 5.0))


def test_consecutive_calls_share_one_kept_alive_connection_under_the_endpoints_path():
    with KeepAliveServer("ok", "ok", "ok") as server:
        braze = http_client(server.url + "/vendor/v2/", [])
        for _ in range(3):
            assert braze.change_users("7", []).requests == 1
        braze.close()
    assert server.connections == 1 and server.paths == ["/vendor/v2/partners/mixpanel/cohorts/users"] * 3


def test_a_connection_the_server_closed_while_idle_is_reopened_not_counted_as_a_failure():
    with KeepAliveServer("ok-then-close", "ok") as server:
        braze = http_client(server.url, [])
        braze.change_users("7", [])
        assert server.closed.wait(5)
        report = braze.change_users("7", [])
        braze.close()
    assert (report.requests, report.attempts, server.connections) == (1, [], 2)


def test_a_dropped_connection_is_retried_on_a_new_one():
    waits = []
    with KeepAliveServer("drop", "ok") as server:
        braze = http_client(server.url, waits)
        report = braze.change_users("7", [])
        braze.close()
    assert report.requests == 2 and waits == [1.0] and server.connections == 2
    assert report.attempts[0].reason.startswith("connection failed (RemoteDisconnected")


def test_an_unreachable_endpoint_fails_after_the_retries():
    waits = []
    braze = BrazePartnerClient("http://127.0.0.1:9", "p", "k", sleep=waits.append, timeout=(0.5, 0.5))
    with pytest.raises(BrazeUnavailable, match=r"after 6 attempts: connection failed \(ConnectionRefusedError"):
        braze.check_credentials()
    assert waits == [1.0, 2.0, 4.0, 8.0, 16.0]
    braze.close()
