"""The one validation path: the strict door (NaN, Infinity, overflowing numbers, depth) and the one
domain error, seen directly and over real HTTP on both mocks and their control planes."""
import json

import pytest
import requests

from mocks.braze import create_app as create_braze_app
from mocks.common import Clock, ServerThread
from mocks.common.validation import MAX_DEPTH, InvalidBody, NotJson, check_body, parse_json, too_deep
from mocks.mixpanel import create_app as create_mixpanel_app

PARTNER_NOT_OBJECT = ("`cohort_changes` must be an array of objects each with key `user_ids` and/or `device_ids` "
                      "mapping to an array of strings, or an `aliases` object")


def nested(depth: int) -> str:
    return "[" * depth + "]" * depth


@pytest.mark.parametrize("text, reason", [
    ("NaN", "NaN is not a JSON number"),
    ('{"a": Infinity}', "Infinity is not a JSON number"),
    ('{"a": [-Infinity]}', "-Infinity is not a JSON number"),
    ('{"a": 1e309}', "the number 1e309 is out of range"),
    ('{"a": -2.5e400}', "the number -2.5e400 is out of range"),
    ('{"a": 1' + "0" * 400 + "}", "the number 1" + "0" * 39 + "... is out of range"),
    (nested(MAX_DEPTH + 1), f"nested more than {MAX_DEPTH} levels deep"),
    (nested(100_000), f"nested more than {MAX_DEPTH} levels deep"),
    ('{"a": ', ""),
    (b"\xff\xfe", ""),
])
def test_the_door_refuses_what_is_not_strict_json(text, reason):
    with pytest.raises(NotJson) as caught:
        parse_json(text)
    assert str(caught.value) == reason


def test_integers_are_bounded_at_the_edge_of_a_double_with_or_without_the_per_number_check():
    largest = 2 ** 1024
    for text in (str(largest), str(-largest), "1" + "0" * 308 + "9"):
        with pytest.raises(NotJson, match="is out of range"):
            parse_json(f'{{"t": [1, 2, "{"a1" * 3}", {text}]}}')
        with pytest.raises(NotJson, match="is out of range"):
            parse_json(f'[{text}]'.encode())
    fine = [10 ** 308, -(largest - 1), 10 ** 307, 12345]  # 309 digits that still fit: the check runs, lets them in
    assert parse_json(json.dumps(fine)) == fine
    assert parse_json(json.dumps({"t": 10 ** 300, "id": "9" * 308 + "x"})) == {"t": 10 ** 300, "id": "9" * 308 + "x"}
    assert parse_json('"\ud800 lone surrogate"' ) == "\ud800 lone surrogate"


def test_the_door_lets_ordinary_json_through_unchanged():
    body = {"a": [1, -2, 3.5, 1e308, 10 ** 300, None, True, "NaN"], "b": json.loads(nested(MAX_DEPTH - 1))}
    assert parse_json(json.dumps(body)) == body
    assert parse_json(nested(MAX_DEPTH).encode()) == json.loads(nested(MAX_DEPTH))


def test_depth_counts_objects_and_arrays_alike_not_brackets_in_strings():
    assert not too_deep({"a": [1, {"b": 2}]}, 3)
    assert too_deep({"a": [1, {"b": []}]}, 3)
    assert not too_deep("x", 0) and not too_deep([["a"] * 1000] * 10, 2)
    assert parse_json(json.dumps({"a": "[" * 100, "b": ["]" * 100]})) == {"a": "[" * 100, "b": ["]" * 100]}
    assert not too_deep([[], [], [[]]], 3) and too_deep([[], [], [[[]]]], 3)


def test_check_body_raises_one_error_with_the_location_and_the_whole_message():
    with pytest.raises(InvalidBody) as caught:
        check_body("mocks.braze", "control_workspace", {"name": 3})
    assert (caught.value.location, caught.value.message) == ("$.name", "$.name: must be of type string")
    with pytest.raises(InvalidBody) as caught:
        check_body("mocks.mixpanel", "project_create", {"name": ""})
    assert (caught.value.location, caught.value.message) == ("$.name", "$.name: '' should be non-empty")
    assert check_body("mocks.braze", "control_workspace", {"name": "w"}) == {"name": "w"}


# -- over HTTP ------------------------------------------------------------------------------------
@pytest.fixture(scope="module")
def servers():
    clock = Clock()
    with ServerThread(create_braze_app(clock=clock)) as braze, ServerThread(create_mixpanel_app(clock=clock)) as mp:
        yield braze.url, mp.url


def post(url: str, text: str) -> requests.Response:
    return requests.post(url, data=text, headers={"Content-Type": "application/json"}, timeout=10)


HOSTILE = ['{"name": NaN}', '{"name": "w", "x": Infinity}', '{"name": 1e999}', '{"name": ' + nested(200) + "}"]


@pytest.mark.parametrize("text", HOSTILE)
def test_braze_partner_api_answers_its_invalid_body_text(servers, text):
    reply = post(servers[0] + "/partners/mixpanel/cohorts/users", text)
    assert (reply.status_code, reply.json()) == (400, {"message": PARTNER_NOT_OBJECT})


@pytest.mark.parametrize("path", ["/_harness/workspaces", "/_harness/partners"])
@pytest.mark.parametrize("text", HOSTILE)
def test_braze_control_plane_refuses_at_the_door(servers, path, text):
    reply = post(servers[0] + path, text)
    assert reply.status_code == 400
    assert reply.json()["error"].startswith("request body must be valid JSON (")


@pytest.mark.parametrize("path", ["/_harness/projects", "/_harness/projects/{pid}/connections",
                                  "/_harness/projects/{pid}/exports", "/_harness/clock", "/_harness/faults"])
def test_mixpanel_and_common_control_planes_refuse_at_the_door(servers, path):
    pid = requests.post(servers[1] + "/_harness/projects", json={"name": "door"}, timeout=10).json()["project_id"]
    path = path.format(pid=pid)
    reply = post(servers[1] + path, '{"name": NaN}')
    assert (reply.status_code, reply.json()) == (400, {"error": "request body must be valid JSON (NaN is not a JSON number)"})
    reply = post(servers[1] + path, '{"name": ' + nested(MAX_DEPTH) + "}")
    assert (reply.status_code, reply.json()) == (400, {"error": f"request body must be valid JSON (nested more than "
                                                                f"{MAX_DEPTH} levels deep)"})


def test_mixpanel_control_plane_keeps_its_wording(servers):
    reply = post(servers[1] + "/_harness/projects", '{"name": "x", "retention_days": 0}')
    assert reply.json() == {"error": "invalid body at $.retention_days: 0 is less than the minimum of 1"}
    assert post(servers[1] + "/_harness/projects", "[1]").json() == {"error": "request body must be a JSON object"}
    assert post(servers[1] + "/_harness/projects", "{").json() == {"error": "request body must be valid JSON"}


def test_a_non_finite_profile_value_never_reaches_the_store(servers):
    project = requests.post(servers[1] + "/_harness/projects", json={"name": "nan"}, timeout=10).json()
    data = '[{"$token": "%s", "$distinct_id": "u1", "$set": {"score": NaN}}]' % project["token"]
    reply = requests.post(servers[1] + "/engage?verbose=1", data={"data": data}, timeout=10)
    assert (reply.status_code, reply.json()) == (200, {"error": "data, not valid JSON or base64-encoded JSON",
                                                       "status": 0})
    state = requests.get(servers[1] + "/_harness/state", timeout=10)
    json.loads(state.text, parse_constant=lambda name: pytest.fail(f"{name} in the state"))
    assert "NaN" not in state.text


def test_the_journal_keeps_a_non_finite_body_as_text_so_its_reply_stays_json(servers):
    post(servers[0] + "/partners/mixpanel/cohorts/users", '{"cohort_id": NaN}')
    reply = requests.get(servers[0] + "/_harness/journal?path=/partners/mixpanel/cohorts/users", timeout=10)
    entries = json.loads(reply.text, parse_constant=lambda name: pytest.fail(f"{name} in the journal reply"))["entries"]
    assert entries[-1]["request"] == '{"cohort_id": NaN}'
