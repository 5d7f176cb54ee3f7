"""POST /import over HTTP: bodies, auth, documented replies, retention and deduplication."""
import gzip
import json

import pytest

from .conftest import NOW_S, event, import_url, sa

OK = {"code": 200, "status": "OK"}
UNAUTHORIZED = {"code": 401, "error": "Invalid credentials", "status": "Unauthorized"}


def stats(api, proj):
    return api.get(f"/_harness/projects/{proj['project_id']}/stats").json


def test_a_json_array_is_imported(api, proj):
    reply = api.post(import_url(proj), json=[event("Buy", NOW_S - 60), event("View", NOW_S - 30)], auth=sa(proj))
    assert reply.status_code == 200 and reply.json == {**OK, "num_records_imported": 2}
    assert stats(api, proj)["events_stored"] == 2


def test_ndjson_and_gzip_are_accepted(api, proj):
    lines = "\n".join(json.dumps(event("Buy", NOW_S - i)) for i in range(3)) + "\n"
    reply = api.post(import_url(proj), data=gzip.compress(lines.encode()), auth=sa(proj),
                     headers={"Content-Type": "application/x-ndjson", "Content-Encoding": "gzip"})
    assert reply.json == {**OK, "num_records_imported": 3}


def test_failed_records_are_listed_and_valid_rows_still_imported(api, proj):
    body = "\n".join([json.dumps(event("Buy", NOW_S, "u1", "good-1")), "{not json",
                      json.dumps(event("Buy", NOW_S + 7200, "u1", "late-1")), json.dumps(event("Buy", NOW_S, "anon", "anon-1"))])
    reply = api.post(import_url(proj), data=body, auth=sa(proj), content_type="application/x-ndjson")
    assert reply.status_code == 400
    assert reply.json == {
        "code": 400, "error": "some data points in the request failed validation",
        "failed_records": [
            {"index": 1, "$insert_id": "", "field": "", "message": "record is not valid JSON"},
            {"index": 2, "$insert_id": "late-1", "field": "properties.time",
             "message": "'properties.time' is invalid: must not be more than 1 hour in the future"},
            {"index": 3, "$insert_id": "anon-1", "field": "properties.distinct_id",
             "message": "'properties.distinct_id' is invalid: 'anon' is a disallowed placeholder id"}],
        "num_records_imported": 1, "status": "Bad Request"}
    assert stats(api, proj)["events_stored"] == 1 and stats(api, proj)["events_rejected"] == 3


def test_strict_0_drops_invalid_rows_silently(api, proj):
    reply = api.post(import_url(proj, strict="0"), json=[event("Buy", NOW_S), event("Buy", "bad")], auth=sa(proj))
    assert reply.status_code == 200 and reply.json == {**OK, "num_records_imported": 1}


@pytest.mark.parametrize("removed, kept", [(1262303999, 1262304000), (1262303999999, 1262304000000)])
def test_retention_boundary_in_seconds_and_milliseconds(api, proj, removed, kept):
    # about the 2010 floor alone: no rolling window (the vendor's 2-year default would drop 2010 too)
    assert api.patch(f"/_harness/projects/{proj['project_id']}", json={"retention_days": None}).status_code == 200
    batch = [event("Buy", removed, "old"), event("Buy", kept, "edge")]
    reply = api.post(import_url(proj), json=batch, auth=sa(proj))
    assert reply.status_code == 200 and reply.json == {**OK, "num_records_imported": 1}
    assert stats(api, proj)["events_removed_by_retention"] == 1 and stats(api, proj)["events_stored"] == 1
    exported = api.get(f"/api/2.0/export?project_id={proj['project_id']}&from_date=2009-12-31&to_date=2010-01-01",
                       auth=sa(proj)).data.decode().splitlines()
    assert [json.loads(line)["properties"]["distinct_id"] for line in exported] == ["edge"]
    cohort = api.post(f"/_harness/projects/{proj['project_id']}/cohorts",
                      json={"name": "buyers", "definition": {"event": "Buy"}}).json["cohort_id"]
    assert api.get(f"/_harness/projects/{proj['project_id']}/cohorts/{cohort}/members").json["members"] == ["edge"]


def test_duplicates_are_kept_once_but_counted_as_imported(api, proj):
    batch = [event("Buy", NOW_S, "u1", "dup-1"), event("Buy", NOW_S, "u1", "dup-1")]
    assert api.post(import_url(proj), json=batch, auth=sa(proj)).json["num_records_imported"] == 2
    assert api.post(import_url(proj), json=batch[:1], auth=sa(proj)).json["num_records_imported"] == 1
    assert stats(api, proj)["events_stored"] == 1 and stats(api, proj)["events_deduplicated"] == 2


@pytest.mark.parametrize("query, auth", [
    ("?project_id={pid}", None),
    ("?project_id={pid}", ("nobody", "wrong")),
    ("?project_id=999", "sa"),
    ("?project_id=abc", "sa"),
    ("", ("not-a-secret", "")),
])
def test_bad_credentials_answer_401(api, proj, query, auth):
    credentials = sa(proj) if auth == "sa" else auth
    reply = api.post("/import" + query.format(pid=proj["project_id"]), json=[event("Buy", NOW_S)], auth=credentials)
    assert reply.status_code == 401 and reply.json == UNAUTHORIZED


@pytest.mark.parametrize("username", ["api_secret", "token"])
def test_project_secret_or_token_as_basic_username(api, proj, username):
    reply = api.post("/import?strict=1", json=[event("Buy", NOW_S)], auth=(proj[username], ""))
    assert reply.json == {**OK, "num_records_imported": 1}


def test_bodies_over_10_mb_answer_413(api, proj):
    too_big = b"[" + b" " * (10 * 1024 * 1024) + b"]"
    expected = {"code": 413, "error": "request exceeds max limit of 10485760 bytes", "status": "Request Entity Too Large"}
    reply = api.post(import_url(proj), data=too_big, auth=sa(proj), content_type="application/json")
    assert reply.status_code == 413 and reply.json == expected
    reply = api.post(import_url(proj), data=gzip.compress(too_big), auth=sa(proj), content_type="application/json",
                     headers={"Content-Encoding": "gzip"})
    assert reply.status_code == 413 and reply.json == expected


@pytest.mark.parametrize("body, content_type, message", [
    (json.dumps([event("E", NOW_S)] * 2001), "application/json", "request exceeds max limit of 2000 events"),
    ("[]", "application/json", "request body must contain at least one event"),
    ("[{", "application/json", "request body is not a valid JSON array"),
    ("", "application/json", "request body is empty"),
    (b"\xff\xfe", "application/json", "request body is not valid UTF-8"),
])
def test_unreadable_batches_answer_400(api, proj, body, content_type, message):
    reply = api.post(import_url(proj), data=body, auth=sa(proj), content_type=content_type)
    assert reply.status_code == 400 and reply.json == {"code": 400, "error": message, "status": "Bad Request"}


def test_bad_gzip_answers_400(api, proj):
    reply = api.post(import_url(proj), data=b"not gzip", auth=sa(proj), content_type="application/json",
                     headers={"Content-Encoding": "gzip"})
    assert reply.json == {"code": 400, "error": "request body is not valid gzip", "status": "Bad Request"}


def test_rate_limit_answers_429_until_the_next_minute(api, proj, clock):
    assert api.patch("/_harness/limits", json={"import_requests_per_minute": 1}).status_code == 200
    assert api.post(import_url(proj), json=[event("E", NOW_S)], auth=sa(proj)).status_code == 200
    reply = api.post(import_url(proj), json=[event("E", NOW_S)], auth=sa(proj))
    assert reply.status_code == 429 and "Retry-After" not in reply.headers
    assert reply.json == {"code": 429, "status": "Too Many Requests",
                          "error": "Project exceeded rate limits. Please retry the request with exponential backoff."}
    clock.advance("1m")
    assert api.post(import_url(proj), json=[event("E", NOW_S)], auth=sa(proj)).status_code == 200


class TestLegacyFormBody:
    """What the official Python client sends: form ``data`` (JSON or base64) and ``verbose=1``."""

    def test_verbose_success_and_failure(self, api, proj):
        good = {"data": json.dumps(event("Buy", NOW_S)), "verbose": "1", "ip": "0"}
        reply = api.post(import_url(proj, strict=None), data=good, auth=sa(proj))
        assert reply.status_code == 200 and reply.json == {"error": None, "status": 1}
        bad = {"data": json.dumps([event("Buy", NOW_S, "u1", "ok-1"), event("Buy", "x", "u1", "bad-1")]), "verbose": "1"}
        reply = api.post(import_url(proj, strict=None), data=bad, auth=sa(proj))
        assert reply.status_code == 400 and reply.json == {
            "error": "some data points in the request failed validation", "status": 0, "num_records_imported": 1,
            "failed_records": [{"index": 1, "$insert_id": "bad-1", "field": "properties.time",
                                "message": "'properties.time' is invalid: must be specified as seconds since epoch"}]}

    def test_plain_replies_and_base64_data(self, api, proj):
        import base64

        data = base64.b64encode(json.dumps(event("Buy", NOW_S)).encode()).decode()
        reply = api.post(import_url(proj, strict=None), data={"data": data}, auth=sa(proj))
        assert (reply.status_code, reply.data, reply.mimetype) == (200, b"1", "text/plain")
        reply = api.post(import_url(proj, strict=None), data={"data": "x"}, auth=("bad", "bad"))
        assert (reply.status_code, reply.data) == (401, b"0")

    def test_verbose_refusals(self, api, proj):
        reply = api.post(import_url(proj, strict=None), data={"verbose": "1"}, auth=sa(proj))
        assert reply.status_code == 400 and reply.json == {"error": "data, missing or empty", "status": 0}
        reply = api.post(import_url(proj, strict=None), data={"verbose": "1", "data": "[]"}, auth=("x", ""))
        assert reply.status_code == 401 and reply.json == {"error": "Invalid credentials", "status": 0}
