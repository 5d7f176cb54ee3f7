"""Issue 12 class 6: no secret in clear in ``GET /_harness/journal``, whatever the shape of the body.

Each test sends one of the leaks the issue found to a real mock over loopback HTTP, checks that the
reply on the wire is untouched (the vendor's exact text), then that the secret is nowhere in the
journal reply while the rest of the entry is still there to read."""
from __future__ import annotations

import base64
import json
from typing import Any, Iterator

import pytest
import requests

from mocks.braze import create_app as create_braze_app
from mocks.common import Clock, ServerThread, journal
from mocks.mixpanel import create_app as create_mixpanel_app

FORM = {"Content-Type": "application/x-www-form-urlencoded"}


@pytest.fixture(scope="module")
def servers() -> Iterator[tuple[str, str]]:
    with ServerThread(create_braze_app(clock=Clock())) as braze, \
            ServerThread(create_mixpanel_app(clock=Clock())) as mixpanel:
        yield braze.url, mixpanel.url


@pytest.fixture()
def braze(servers: tuple[str, str]) -> str:
    requests.post(servers[0] + "/_harness/reset", timeout=10)
    return servers[0]


@pytest.fixture()
def mixpanel(servers: tuple[str, str]) -> str:
    requests.post(servers[1] + "/_harness/reset", timeout=10)
    return servers[1]


@pytest.fixture()
def project(mixpanel: str) -> dict[str, Any]:
    reply = requests.post(mixpanel + "/_harness/projects", json={"name": "leaks"}, timeout=10)
    assert reply.status_code == 201, reply.text
    return reply.json()


def journal_text(url: str) -> str:
    reply = requests.get(url + "/_harness/journal", timeout=10)
    assert reply.status_code == 200
    json.loads(reply.text, parse_constant=lambda name: pytest.fail(f"{name} in the journal"))
    return reply.text


def last_entry(url: str) -> dict[str, Any]:
    entries: list[dict[str, Any]] = requests.get(url + "/_harness/journal", timeout=10).json()["entries"]
    return entries[-1]


def b64(value: Any) -> str:
    return base64.b64encode(json.dumps(value).encode()).decode()


# -- form bodies ---------------------------------------------------------------------------------
def test_api_key_and_api_secret_in_a_form_body(mixpanel, project):
    event = {"event": "e", "properties": {"distinct_id": "u1", "time": 1767225600, "$insert_id": "i1"}}
    body = {"data": json.dumps([event]), "api_key": "form-api-key-0001", "api_secret": project["api_secret"],
            "verbose": "1"}
    reply = requests.post(mixpanel + "/import", data=body, auth=(project["api_secret"], ""), timeout=10)
    assert reply.status_code == 200, reply.text
    text = journal_text(mixpanel)
    assert "form-api-key-0001" not in text and project["api_secret"] not in text
    recorded = last_entry(mixpanel)["request"]
    assert recorded["api_key"] == "***" and recorded["api_secret"] == "***" and recorded["verbose"] == "1"
    assert recorded["data"][0]["event"] == "e"  # the data field is shown decoded


@pytest.mark.parametrize("encode", [json.dumps, b64], ids=["plain", "base64"])
@pytest.mark.parametrize("many", [False, True], ids=["object", "list"])
def test_the_token_inside_a_form_data_field(mixpanel, project, encode, many):
    event = {"event": "e", "properties": {"token": project["token"], "distinct_id": "u1"}}
    reply = requests.post(mixpanel + "/track?verbose=1", data={"data": encode([event] if many else event)},
                          timeout=10)
    assert reply.json() == {"error": None, "status": 1}
    assert project["token"] not in journal_text(mixpanel)
    data = last_entry(mixpanel)["request"]["data"]
    assert (data[0] if many else data)["properties"] == {"token": "***", "distinct_id": "u1"}


def test_the_token_inside_a_base64_data_query_string(mixpanel, project):
    event = {"event": "e", "properties": {"token": project["token"], "distinct_id": "u1"}}
    assert requests.get(mixpanel + "/track", params={"data": b64(event)}, timeout=10).text == "1"
    assert project["token"] not in journal_text(mixpanel)
    assert last_entry(mixpanel)["query"]["data"]["properties"]["token"] == "***"


# -- text the JSON sniff used to miss --------------------------------------------------------------
def test_a_text_body_with_a_leading_newline(braze):
    body = '\n{"partner_api_key": "pk-leading-newline", "client_secret": "cs-leading-newline"}'
    reply = requests.post(braze + "/partners/mixpanel/cohorts/users", data=body, timeout=10,
                          headers={"Content-Type": "text/plain"})
    assert reply.status_code == 401
    text = journal_text(braze)
    assert "pk-leading-newline" not in text and "cs-leading-newline" not in text
    assert last_entry(braze)["request"] == {"partner_api_key": "***", "client_secret": "***"}


def test_ndjson_lines_carrying_the_token(mixpanel, project):
    lines = "\n".join(json.dumps({"event": "e", "properties": {"token": project["token"], "distinct_id": f"u{i}",
                                                                 "time": 1767225600, "$insert_id": f"i{i}"}})
                      for i in range(3))
    reply = requests.post(mixpanel + "/import", data=lines, auth=(project["api_secret"], ""), timeout=10,
                          headers={"Content-Type": "application/x-ndjson"})
    assert reply.status_code == 200, reply.text
    assert project["token"] not in journal_text(mixpanel)
    assert '"token": "***"' in last_entry(mixpanel)["request"]


def test_json_deeper_than_the_parser_limit(braze):
    deep = "[" * 200 + "]" * 200
    body = '{"partner_api_key": "pk-too-deep-0001", "client_secret": "cs\\"too-deep", "x": %s}' % deep
    reply = requests.post(braze + "/partners/mixpanel/cohorts/users", data=body, timeout=10,
                          headers={"Content-Type": "application/json"})
    assert reply.status_code == 400
    text = journal_text(braze)
    assert "pk-too-deep-0001" not in text and "too-deep" not in text
    assert last_entry(braze)["request"].startswith('{"partner_api_key": "***", "client_secret": "***"')


@pytest.mark.parametrize("cut_at", range(1, 38, 4))
def test_no_half_secret_is_left_at_the_preview_cut(braze, monkeypatch, cut_at):
    """The body is longer than the preview, and the cut falls ``cut_at`` characters into the secret."""
    monkeypatch.setattr(journal, "MAX_BODY_CHARS", 100)
    secret = "cs-0123456789abcdefghijklmnopqrstuvwxyz"
    preview = journal.PREVIEW_CHARS
    opening, closing = '{"name": "', '", "client_secret": "'
    body = opening + "n" * (preview - cut_at - len(opening) - len(closing)) + closing + secret
    body += '", "tail": "' + "t" * 500 + '"}'
    assert body[preview - cut_at:preview] == secret[:cut_at]
    requests.post(braze + "/partners/mixpanel/cohorts/users", data=body, timeout=10,
                  headers={"Content-Type": "application/json"})
    recorded = last_entry(braze)["request"]
    assert recorded["truncated"] is True and recorded["chars"] == len(body)
    assert len(recorded["head"]) <= preview
    for start in range(len(secret) - 3):
        assert secret[start:start + 4] not in recorded["head"]


def test_a_secret_past_the_preview_cut_is_not_in_the_journal(braze, monkeypatch):
    monkeypatch.setattr(journal, "MAX_BODY_CHARS", 100)
    body = json.dumps({"name": "x" * 5000, "client_secret": "cs-far-past-the-cut"})
    requests.post(braze + "/partners/mixpanel/cohorts/users", data=body, timeout=10,
                  headers={"Content-Type": "application/json"})
    assert "cs-far-past-the-cut" not in journal_text(braze)


# -- vendor texts that echo a secret ---------------------------------------------------------------
def braze_workspace(braze: str) -> tuple[str, str, str]:
    """A workspace with a data import key of another partner: (mixpanel's partner key, that key, rest key)."""
    created = requests.post(braze + "/_harness/workspaces", json={"name": "w"}, timeout=10).json()
    partners = requests.get(braze + "/_harness/partners", timeout=10).json()["partners"]
    requests.post(braze + "/_harness/partners", json={"name": "amplitude"}, timeout=10)
    other = requests.post(f"{braze}/_harness/workspaces/{created['workspace_id']}/data_import_keys",
                          json={"partner": "amplitude"}, timeout=10).json()["key"]
    mixpanel_key = next(p["partner_api_key"] for p in partners if p["name"] == "mixpanel")
    return mixpanel_key, other, created["rest_api_key"]


def test_partner_not_enabled_echoing_the_client_secret(braze):
    partner_key, other_key, _ = braze_workspace(braze)
    body = {"partner_api_key": partner_key, "client_secret": other_key, "cohort_id": "c1", "cohort_changes": []}
    reply = requests.post(braze + "/partners/mixpanel/cohorts/users", json=body, timeout=10)
    assert (reply.status_code, reply.json()) == (
        401, {"message": f"Partner not enabled for client with client secret: {other_key}"})  # exact on the wire
    assert other_key not in journal_text(braze)
    assert last_entry(braze)["response"] == {"message": "Partner not enabled for client with client secret: ***"}


def test_the_mixpanel_connection_refusal_repeating_it(braze, mixpanel, project):
    _, other_key, _ = braze_workspace(braze)
    reply = requests.post(f"{mixpanel}/_harness/projects/{project['project_id']}/connections", timeout=10,
                          json={"data_import_key": other_key, "rest_endpoint": braze})
    assert reply.status_code == 400
    assert reply.json()["error"] == f"Partner not enabled for client with client secret: {other_key}"
    assert other_key not in journal_text(braze) and other_key not in journal_text(mixpanel)
    assert last_entry(braze)["response"] == {"message": "Partner not enabled for client with client secret: ***"}


def test_an_invalid_rest_key_echoed_back(braze):
    braze_workspace(braze)
    reply = requests.post(braze + "/users/track", json={"attributes": []}, timeout=10,
                          headers={"Authorization": "Bearer rest-key-nobody-has"})
    assert reply.status_code == 401 and "rest-key-nobody-has" in reply.text
    assert "rest-key-nobody-has" not in journal_text(braze)


def test_a_tenant_secret_under_any_key_and_in_any_text(braze, mixpanel, project):
    _, other_key, rest_key = braze_workspace(braze)
    requests.post(braze + "/items", data=f"notes: {other_key} and {rest_key}", timeout=10)
    requests.post(mixpanel + "/import", data=f"id={project['token']}", timeout=10,
                  headers={"Content-Type": "text/plain"})
    assert other_key not in journal_text(braze) and rest_key not in journal_text(braze)
    assert project["token"] not in journal_text(mixpanel)


def test_secrets_of_a_state_replaced_since_the_request(mixpanel, project):
    event = {"event": "e", "properties": {"distinct_id": "u1", "note": project["api_secret"]}}
    requests.post(mixpanel + "/track", data={"data": json.dumps(event)}, timeout=10)
    requests.put(mixpanel + "/_harness/state", timeout=10,
                 json={"service": "mixpanel", "store": requests.get(mixpanel + "/_harness/state").json()["store"]
                       | {"projects": []}})
    assert project["api_secret"] not in journal_text(mixpanel)


def test_the_query_string_is_redacted_too(braze):
    requests.get(braze + "/items", params={"api_key": "qs-api-key", "client_secret": "qs-secret", "page": "2"},
                 timeout=10)
    assert last_entry(braze)["query"] == {"api_key": "***", "client_secret": "***", "page": "2"}


def test_the_request_log_redacts_the_query_the_same_way():
    """``serve --log-requests`` prints the query string through the same redaction."""
    app = create_mixpanel_app(clock=Clock())
    lines: list[str] = []
    app.extensions["harness"].request_log = lines.append
    client = app.test_client()
    project = client.post("/_harness/projects", json={"name": "log"}).get_json()
    event = {"event": "e", "properties": {"token": project["token"], "distinct_id": "u1"}}
    assert client.get("/track", query_string={"data": b64(event), "api_key": "log-api-key"}).get_data() == b"1"
    logged = next(line for line in lines if line.startswith("mixpanel GET /track?"))
    assert project["token"] not in logged and "log-api-key" not in logged
    assert '"token": "***"' in logged and "api_key=***" in logged
