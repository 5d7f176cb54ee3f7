"""No input makes the Braze mock answer 500: a generated batch of bad bodies per endpoint, unknown
paths and methods. Every refusal is a 4xx with a non-empty message in the endpoint's error shape."""
import copy
import json
import random

import pytest

from .conftest import BrazeSession, start

ALIAS = {"alias_name": "n", "alias_label": "l"}
WRONG_VALUES = [None, True, 0, -1.5, "", "x" * 5000, "\u0000\ud7ff\u202e", [], [None], {}, {"": None}, [[[[[]]]]]]


def endpoints(braze):
    """(method, path, a valid body, error field) of every endpoint that takes a body."""
    ws = f"/_harness/workspaces/{braze.ws}"
    return [
        ("POST", "/partners/mixpanel/cohorts",
         braze.credentials(cohort_id="c", name="N", created_at="2026-01-01T00:00:00Z"), "message"),
        ("POST", "/partners/mixpanel/cohorts/users",
         braze.credentials(cohort_id="c", cohort_changes=[{"user_ids": ["u"], "device_ids": ["d"], "aliases": [ALIAS],
                                                           "should_remove": False}]), "message"),
        ("POST", "/users/track", {"attributes": [{"external_id": "u", "a": 1}],
                                  "events": [{"external_id": "u", "name": "e", "time": "2026-01-01T00:00:00Z"}],
                                  "purchases": [{"external_id": "u", "product_id": "p", "currency": "USD",
                                                 "price": 1, "time": "2026-01-01T00:00:00Z"}]}, "message"),
        ("POST", "/users/identify", {"aliases_to_identify": [{"external_id": "u", "user_alias": ALIAS}]}, "message"),
        ("POST", "/users/alias/new", {"user_aliases": [{"external_id": "u", **ALIAS}]}, "message"),
        ("POST", "/users/export/ids", {"external_ids": ["u"], "user_aliases": [ALIAS], "device_id": "d",
                                       "fields_to_export": ["braze_id"]}, "message"),
        ("POST", "/users/delete", {"external_ids": ["zz"]}, "message"),
        ("POST", "/users/delete", {"email_addresses": ["zz@example.com"]}, "message"),
        ("POST", "/users/merge", {"merge_updates": [{"identifier_to_merge": {"external_id": "a"},
                                                     "identifier_to_keep": {"external_id": "b"}}]}, "message"),
        ("POST", "/_harness/partners", {"name": "p1", "partner_api_key": "k"}, "error"),
        ("POST", "/_harness/workspaces", {"name": "w"}, "error"),
        ("POST", f"{ws}/rest_api_keys", {"permissions": ["users.track"]}, "error"),
        ("POST", f"{ws}/data_import_keys", {"partner": "mixpanel"}, "error"),
        ("POST", f"{ws}/sdk/users", {"device_id": "d-new", "attributes": {"a": 1}}, "error"),
        ("POST", f"{ws}/sdk/change_user", {"device_id": "d-new", "external_id": "e"}, "error"),
        ("POST", f"{ws}/users", {"users": [{"external_id": "seeded", "aliases": [ALIAS], "device_ids": ["dd"],
                                            "attributes": {}}]}, "error"),
        ("POST", f"{ws}/segments", {"name": "s", "filters": [{"type": "mixpanel_cohorts", "operator": "excludes_value",
                                                              "cohort_id": "c"}]}, "error"),
        ("POST", f"{ws}/campaigns", {"name": "c", "segment_id": "nope"}, "error"),
        ("POST", f"{ws}/canvases", {"name": "c", "segment_id": "nope"}, "error"),
        ("PUT", "/_harness/state", {"store": {"workspaces": [{"workspace_id": 1}]}}, "error"),
        ("POST", "/_harness/clock", {"advance": "1s"}, "error"),
        ("POST", "/_harness/faults", {"path": "/never-called", "status": 503, "times": 1}, "error"),
    ]


def bad_bodies(body, rng):
    """Raw bodies: not JSON, not objects, each field missing or of a wrong type, random edits."""
    yield b"{not json"
    yield b"[" * 50_000
    yield b'{"a": ' * 20_000 + b"1" + b"}" * 20_000
    yield b"\xff\xfe\x00"
    yield b""
    for value in ([body], "body", 12, None):
        yield json.dumps(value).encode()
    for key in body:
        without = {k: v for k, v in body.items() if k != key}
        yield json.dumps(without).encode()
        for wrong in rng.sample(WRONG_VALUES, 4):
            yield json.dumps({**body, key: wrong}).encode()
    for _ in range(15):
        edited = copy.deepcopy(body)
        node = edited
        while isinstance(node, (dict, list)) and node:
            key = rng.choice(list(node)) if isinstance(node, dict) else rng.randrange(len(node))
            if rng.random() < 0.4 or not isinstance(node[key], (dict, list)) or not node[key]:
                node[key] = copy.deepcopy(rng.choice(WRONG_VALUES))
                break
            node = node[key]
        yield json.dumps(edited).encode()


def test_generated_bad_bodies_never_get_a_500(http):
    """On a server of its own: some edits turn into valid state loads and fault rules."""
    srv = start()
    try:
        assert_no_500(BrazeSession(srv.url, http))
    finally:
        srv.stop()


def assert_no_500(braze):
    rng = random.Random(2)
    seen = 0
    for method, path, body, field in endpoints(braze):
        for raw in bad_bodies(body, rng):
            reply = braze.http.request(method, braze.url + path, data=raw,
                                       headers={"Content-Type": "application/json",
                                                "Authorization": f"Bearer {braze.rest_key}"})
            assert reply.status_code < 500, (method, path, raw[:200], reply.text[:300])
            if reply.status_code >= 400:
                message = reply.json()[field]
                assert isinstance(message, str) and message.strip(), (path, raw[:200])
            seen += 1
    assert seen > 500


@pytest.mark.parametrize("path, body, status, message", [
    ("/partners/mixpanel/cohorts/users", {"cohort_id": "c", "cohort_changes": [{"user_ids": ["u"] * 200_000}]}, 400,
     "Only 1,000 `user_ids`, `device_ids`, and `aliases` are allowed per request"),
    ("/partners/mixpanel/cohorts/users", {"cohort_id": "c", "cohort_changes": [{"aliases": [ALIAS]}] * 50_000}, 400,
     "Only 1,000 `user_ids`, `device_ids`, and `aliases` are allowed per request"),
    ("/partners/mixpanel/cohorts/users", {"cohort_id": "c", "cohort_changes": [{"user_ids": ["u"] * 100_000 + [1]}]},
     400, "`cohort_changes` must be an array of objects each with key `user_ids` and/or `device_ids` mapping to an "
          "array of strings, or an `aliases` object"),
    ("/partners/mixpanel/cohorts", {"cohort_id": "c", "name": "n" * 1_000_000, "created_at": "x"}, 400,
     "`created_at` must be a valid time as an ISO-8601 string"),
])
def test_huge_partner_bodies_are_refused_quickly(braze, path, body, status, message):
    reply = braze.http.post(braze.url + path, json={**braze.credentials(), **body})
    assert (reply.status_code, reply.json()) == (status, {"message": message})
    assert reply.elapsed.total_seconds() < 10  # a guard against work that grows with the body, not a speed target


@pytest.mark.parametrize("path, body, message", [
    ("/users/track", {"attributes": [{"external_id": "u"}] * 100_000}, "Max Input Length Exceeded"),
    ("/users/merge", {"merge_updates": [{}] * 100_000}, "a single request may not contain more than 50 merge updates"),
    ("/users/export/ids", {"external_ids": ["u"] * 100_000}, "The max number of external_ids and aliases per request was exceeded"),
])
def test_huge_rest_bodies_are_refused(braze, path, body, message):
    reply = braze.rest(path, body)
    assert (reply.status_code, reply.json()) == (400, {"message": message})


def test_a_body_over_the_size_limit_is_413_in_brazes_shape(http):
    srv = start({"MAX_CONTENT_LENGTH": 10_000})  # upper-case settings go to Flask
    try:
        reply = http.post(srv.url + "/partners/mixpanel/cohorts/users", json={"cohort_changes": ["u" * 20_000]})
        assert (reply.status_code, reply.json()) == (413, {"message": "request body too large"})
    finally:
        srv.stop()


@pytest.mark.parametrize("method, path, status", [
    ("GET", "/partners/mixpanel/cohorts", 405), ("DELETE", "/users/track", 405), ("GET", "/users/track", 405),
    ("POST", "/segments/list", 405), ("GET", "/nowhere", 404), ("POST", "/partners/mixpanel", 404),
    ("POST", "/partners/mixpanel/cohorts/users/extra", 404), ("PATCH", "/_harness/workspaces", 405),
    ("GET", "/_harness/workspaces/w/cohorts/mixpanel", 404),
])
def test_unknown_paths_and_methods_get_json_4xx(braze, method, path, status):
    reply = braze.http.request(method, braze.url + path)
    assert reply.status_code == status
    body = reply.json()
    assert isinstance(body.get("message") or body.get("error"), str)
