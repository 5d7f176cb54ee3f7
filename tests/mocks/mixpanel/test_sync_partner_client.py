"""The Braze partner client's retries (HOUSE-9), with a scripted session: no server, no sleeping."""
import json
from datetime import datetime, timezone

import pytest
import requests

from mocks.mixpanel.braze_partner_client import (BrazePartnerClient, BrazeRefused, BrazeUnavailable, RetryPolicy,
                                                 retry_after_seconds)

NOW = datetime(2026, 1, 1, tzinfo=timezone.utc)


def reply(status, body=None, headers=None):
    response = requests.Response()
    response.status_code = status
    response._content = (body if isinstance(body, bytes) else json.dumps(body or {"message": "success"}).encode())
    response.headers.update(headers or {})
    return response


class ScriptedSession:
    """Answers each post with the next scripted reply, or raises it if it is an exception."""

    def __init__(self, *script):
        self.script = list(script)
        self.posts = []

    def post(self, url, data, timeout, headers):
        self.posts.append((url, json.loads(data), timeout))
        outcome = self.script.pop(0)
        if isinstance(outcome, Exception):
            raise outcome
        return outcome

    def close(self):
        pass


def client(*script, retry=RetryPolicy()):
    waits = []
    session = ScriptedSession(*script)
    braze = BrazePartnerClient("http://braze.test/", "partner-key", "import-key", retry=retry, sleep=waits.append,
                               now=lambda: NOW, session=session, timeout=(1.0, 2.0))
    return braze, session, waits


def test_success_posts_the_credentials_in_the_body_to_the_partner_path():
    braze, session, waits = client(reply(201))
    report = braze.change_users("7", [{"user_ids": ["a"]}])
    assert report.requests == 1 and report.attempts == [] and waits == []
    url, body, timeout = session.posts[0]
    assert url == "http://braze.test/partners/mixpanel/cohorts/users" and timeout == (1.0, 2.0)
    assert body == {"partner_api_key": "partner-key", "client_secret": "import-key", "cohort_id": "7",
                    "cohort_changes": [{"user_ids": ["a"]}]}


def test_name_endpoint_body():
    braze, session, _ = client(reply(201))
    braze.name_cohort("7", "Buyers", "2026-01-01T00:00:00Z")
    url, body, _ = session.posts[0]
    assert url.endswith("/partners/mixpanel/cohorts")
    assert (body["cohort_id"], body["name"], body["created_at"]) == ("7", "Buyers", "2026-01-01T00:00:00Z")


def test_busy_answers_are_retried_with_exponential_backoff_then_succeed():
    braze, session, waits = client(reply(503), reply(500), reply(502), reply(201))
    report = braze.change_users("7", [])
    assert report.requests == 4 and waits == [1.0, 2.0, 4.0]
    assert [a.reason for a in report.attempts] == ["HTTP 503: success", "HTTP 500: success", "HTTP 502: success"]


def test_retry_after_is_honoured_when_longer_than_the_backoff():
    braze, _, waits = client(reply(429, {"message": "slow down"}, {"Retry-After": "5"}),
                             reply(429, headers={"Retry-After": "1"}), reply(201))
    braze.change_users("7", [])
    assert waits == [5.0, 2.0]


def test_five_retries_at_most_then_the_call_fails_with_the_last_reason():
    braze, session, waits = client(*[reply(503, {"message": "unavailable"})] * 6)
    with pytest.raises(BrazeUnavailable) as failed:
        braze.change_users("7", [])
    assert len(session.posts) == 6 and waits == [1.0, 2.0, 4.0, 8.0, 16.0]
    assert failed.value.message == "Braze did not accept the call after 6 attempts: HTTP 503: unavailable"
    assert failed.value.report.attempts[-1].wait_s is None


def test_waits_stay_inside_the_60_second_budget():
    braze, session, waits = client(reply(429, headers={"Retry-After": "50"}), reply(429, headers={"Retry-After": "20"}))
    with pytest.raises(BrazeUnavailable):
        braze.change_users("7", [])
    assert waits == [50.0] and len(session.posts) == 2


def test_timeouts_and_dropped_connections_are_retried():
    braze, _, waits = client(requests.ReadTimeout("slow"), requests.ConnectionError(ConnectionResetError("reset")),
                             reply(201))
    report = braze.change_users("7", [])
    assert waits == [1.0, 2.0]
    assert report.attempts[0].reason == "timed out after 2 s"
    assert report.attempts[1].reason.startswith("connection failed (ConnectionResetError")


@pytest.mark.parametrize("status", [400, 401, 403, 404])
def test_refusals_are_not_retried_and_carry_brazes_message(status):
    braze, session, waits = client(reply(status, {"message": "Invalid client secret"}))
    with pytest.raises(BrazeRefused) as refused:
        braze.change_users("7", [])
    assert (refused.value.status, refused.value.message, len(session.posts), waits) == (
        status, "Invalid client secret", 1, [])


def test_a_refusal_without_json_keeps_the_text():
    braze, _, _ = client(reply(403, b"<html>Forbidden</html>"))
    with pytest.raises(BrazeRefused, match="<html>Forbidden</html>"):
        braze.check_credentials()


def test_other_statuses_fail_at_once():
    braze, session, _ = client(reply(413, {"message": "too large"}))
    with pytest.raises(BrazeUnavailable, match="unexpected HTTP 413: too large"):
        braze.change_users("7", [])
    assert len(session.posts) == 1


def test_locked_resource_is_retried():
    braze, _, waits = client(reply(423, {"message": "Resource locked"}), reply(201))
    braze.change_users("7", [])
    assert waits == [1.0]


@pytest.mark.parametrize("value, seconds", [
    ("7", 7.0), ("Thu, 01 Jan 2026 00:00:30 GMT", 30.0), ("Wed, 31 Dec 2025 23:00:00 GMT", 0.0),
    ("soon", None), (None, None),
])
def test_retry_after_forms(value, seconds):
    assert retry_after_seconds(value, NOW) == seconds


def test_an_unreachable_endpoint_fails_after_the_retries():
    waits = []
    braze = BrazePartnerClient("http://127.0.0.1:9", "p", "k", sleep=waits.append, timeout=(0.5, 0.5))
    with pytest.raises(BrazeUnavailable, match=r"after 6 attempts: connection failed \(ConnectionRefusedError"):
        braze.check_credentials()
    assert waits == [1.0, 2.0, 4.0, 8.0, 16.0]
    braze.close()
