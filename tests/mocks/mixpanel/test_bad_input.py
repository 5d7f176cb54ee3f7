"""Generated bad input for every endpoint: always a 4xx (or /track's documented 200 + ``0``), never a 500."""
import base64
import http.client
import json
import random

import pytest

from .conftest import sa


def nested(depth: int) -> str:
    return "[" * depth + "]" * depth


def random_json(rng: random.Random, depth: int = 0):
    kinds = ["null", "bool", "int", "float", "str", "list", "dict"] if depth < 4 else ["null", "int", "str"]
    kind = rng.choice(kinds)
    if kind == "null":
        return None
    if kind == "bool":
        return rng.random() < 0.5
    if kind == "int":
        return rng.choice([0, -1, 2 ** 63, -(2 ** 70), rng.randrange(-10 ** 12, 10 ** 12)])
    if kind == "float":
        return rng.choice([1e308, -0.0, 3.14, 1e-300])
    if kind == "str":
        return rng.choice(["", "null", "anon", "$device:", "x" * 300, "\u2603", "1970-01-01", '"', "properties["])
    if kind == "list":
        return [random_json(rng, depth + 1) for _ in range(rng.randrange(4))]
    keys = ["event", "properties", "time", "distinct_id", "$insert_id", "$token", "$distinct_id", "$set", "$add",
            "$union", "$unset", "name", "definition", "profiles", "events", "retention_days", "id", "token"]
    return {rng.choice(keys): random_json(rng, depth + 1) for _ in range(rng.randrange(5))}


def bad_bodies(seed: int):
    rng = random.Random(seed)
    fixed = [b"", b"\xff\xfe\x00", b"{", b"[", b"null", b"0", b'"text"', b"[[]]", b"{}", b"[{}]",
             nested(5000).encode(), nested(900).encode(), ('{"a":' * 3000 + "1" + "}" * 3000).encode()]
    return fixed + [json.dumps(random_json(rng)).encode() for _ in range(60)]


def assert_no_server_error(reply, allow_200=False):
    assert reply.status_code < 500, reply.data[:300]
    if not allow_200:
        assert 400 <= reply.status_code < 500 or reply.status_code in (200, 201), reply.status_code


@pytest.fixture()
def world(api, proj):
    base = f"/_harness/projects/{proj['project_id']}"
    api.post(base + "/cohorts", json={"name": "c", "definition": {"event": "E"}})
    api.patch("/_harness/limits", json={"query_per_hour": 100000, "export_per_second": 100000, "export_per_hour": 100000,
                                        "import_requests_per_minute": 100000})
    return proj


@pytest.mark.parametrize("content_type", ["application/json", "application/x-ndjson", "text/plain"])
def test_import_bodies(api, world, content_type):
    url = f"/import?strict=1&project_id={world['project_id']}"
    for body in bad_bodies(1):
        reply = api.post(url, data=body, content_type=content_type, auth=sa(world))
        assert_no_server_error(reply)
        assert reply.status_code in (200, 400), (body[:80], reply.json)


@pytest.mark.parametrize("path", ["/import", "/track", "/engage"])
def test_form_data_fields(api, world, path):
    url = f"{path}?project_id={world['project_id']}&verbose=1"
    for body in bad_bodies(2):
        for data in (body, body.replace(b"$token", world["token"].encode())):
            reply = api.post(url, data={"data": data.decode("utf-8", "replace")}, auth=sa(world))
            assert_no_server_error(reply, allow_200=True)
            assert isinstance(reply.json, dict) and reply.json["status"] in (0, 1)


def test_track_and_engage_messages_with_a_valid_token(api, world):
    rng = random.Random(3)
    for _ in range(150):
        message = random_json(rng)
        if isinstance(message, dict):
            message.setdefault("properties", {})
            if isinstance(message["properties"], dict):
                message["properties"]["token"] = world["token"]
            message["$token"] = world["token"]
        for path in ("/track", "/engage"):
            reply = api.post(path + "?verbose=1", data={"data": json.dumps(message)})
            assert reply.status_code in (200, 401) and reply.json["status"] in (0, 1)


@pytest.mark.parametrize("prefix", ["/api/query", "/api/2.0"])
def test_query_engage_fields(api, world, prefix):
    rng = random.Random(4)
    fields = ["where", "filter_by_cohort", "distinct_ids", "distinct_id", "output_properties", "page", "session_id",
              "include_all_users", "behaviors"]
    for _ in range(120):
        form = {rng.choice(fields): rng.choice([json.dumps(random_json(rng)), nested(3000), "-1", "", "((", "\u2603"])
                for _ in range(rng.randrange(1, 4))}
        reply = api.post(f"{prefix}/engage?project_id={world['project_id']}", data=form, auth=sa(world))
        assert reply.status_code in (200, 400), (form, reply.json)


def test_export_parameters(api, world):
    rng = random.Random(5)
    names = ["from_date", "to_date", "event", "where", "limit", "time_in_ms"]
    for _ in range(120):
        params = {"from_date": "2025-12-01", "to_date": "2026-01-01"}
        params.update({rng.choice(names): rng.choice([json.dumps(random_json(rng)), "2026-02-30", "0", "99999999999",
                                                      nested(2000), "not defined(", ""]) for _ in range(2)})
        reply = api.get("/api/2.0/export", query_string={"project_id": world["project_id"], **params}, auth=sa(world))
        assert reply.status_code in (200, 400), (params, reply.json)


@pytest.mark.parametrize("method, path", [
    ("post", "/_harness/projects"), ("patch", "/_harness/projects/{pid}"), ("post", "/_harness/projects/{pid}/profiles"),
    ("post", "/_harness/projects/{pid}/events"), ("post", "/_harness/projects/{pid}/cohorts"),
    ("patch", "/_harness/projects/{pid}/cohorts/1"), ("patch", "/_harness/limits"), ("put", "/_harness/state"),
])
def test_control_plane_bodies(api, world, method, path):
    url = path.format(pid=world["project_id"])
    for body in bad_bodies(6):
        reply = getattr(api, method)(url, data=body, content_type="application/json")
        assert_no_server_error(reply)
    for definition in (random_json(random.Random(seed)) for seed in range(100)):
        reply = api.post(f"/_harness/projects/{world['project_id']}/cohorts", json={"name": "x", "definition": definition})
        assert reply.status_code in (201, 400), (definition, reply.json)


@pytest.mark.parametrize("header", [b"Basic \xc3\xa9", b"Basic \xff\xfe", b"Basic !!!notbase64",
                                    b"Basic " + base64.b64encode(b"\xff\xfe:\x00")])
@pytest.mark.parametrize("path, expected", [
    ("/api/2.0/engage", {"request": "/api/2.0/engage?project_id=1", "error": "Invalid credentials"}),
    ("/api/query/cohorts/list", {"request": "/api/query/cohorts/list?project_id=1", "error": "Invalid credentials"}),
    ("/import", {"code": 401, "error": "Invalid credentials", "status": "Unauthorized"}),
])
def test_undecodable_basic_credentials_are_401_not_500(path, expected, header):
    """Found by tests/fuzz: werkzeug raises ValueError on a Basic payload that is not ASCII base64."""
    from mocks.common import Clock, ServerThread
    from mocks.mixpanel import create_app as make
    with ServerThread(make(clock=Clock())) as server:
        connection = http.client.HTTPConnection(server.host, server.port, timeout=10)
        connection.putrequest("POST", path + "?project_id=1")
        connection.putheader("Authorization", header)
        connection.putheader("Content-Type", "application/json")
        connection.putheader("Content-Length", "2")
        connection.endheaders(b"[]")
        reply = connection.getresponse()
        assert (reply.status, json.loads(reply.read())) == (401, expected)
        connection.close()
