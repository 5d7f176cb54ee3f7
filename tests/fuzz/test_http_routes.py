"""Issue 12: hostile requests to every vendor and control-plane route of both mocks, over real loopback HTTP.

Routes come from each Flask app's url_map, so a new route is fuzzed without touching this file. Each
reply must be: status < 500, within 10 s, strict JSON when it says JSON, and for a 4xx the error shape
of its surface (``target.check_reply``). About a minute by default; ``COHORT_FUZZ_LONG=1`` runs ten times
as many examples (over 20,000 requests) and prints the request count and time at the end.
"""
from __future__ import annotations

import socket
import time
from typing import Any
from urllib.parse import quote, urlencode

import pytest
import os

from hypothesis import HealthCheck, Phase, given, settings, strategies as st

from . import values as v
from .target import LONG, METHODS, Route, Target, all_routes, check_reply, real_path, COUNTER

ROUTES = all_routes()
EXAMPLES = 200 if LONG else 18
#: COHORT_FUZZ_SHRINK=0 reports the first failing example as found (faster when many fail)
SHRINK = os.environ.get("COHORT_FUZZ_SHRINK", "1") != "0"
FUZZ = settings(max_examples=EXAMPLES, deadline=None, derandomize=True, database=None,
                suppress_health_check=list(HealthCheck),
                phases=[Phase.explicit, Phase.generate] + ([Phase.shrink] if SHRINK else []))
CONTENT_TYPES = [b"application/json", b"application/json", b"application/x-www-form-urlencoded", b"text/plain",
                 b"application/x-ndjson", b"application/octet-stream", b"multipart/form-data",
                 b"application/json; charset=utf-16", b"application/json; charset=\xc3\xa9", b"\xc3\xa9/x", b"",
                 b"application/x-www-form-urlencoded; charset=latin-1"]


QUERY = st.dictionaries(st.sampled_from(v.QUERY_NAMES), st.one_of(
    st.just("__real__"), v.hostile_text(), st.sampled_from(["x" * 20_000, "é" * 5_000])), max_size=4)


def _header_ok(value: bytes) -> bool:
    return not any(c in value for c in (b"\r", b"\n", b"\x00")) and not value[:1].isspace() and len(value) < 9000


EXTRA_HEADERS = st.dictionaries(
    st.sampled_from(["X-Forwarded-For", "Accept", "X-Test", "Content-Encoding", "Accept-Charset", "Cookie"]),
    st.one_of(st.sampled_from(["é".encode(), "☃".encode(), b"gzip", b"\xff", b"x" * 8000, b"1, 2", b"*/*"]),
              v.hostile_text().map(lambda s: s.encode()).filter(_header_ok)), max_size=2)


def test_the_enumerated_routes_cover_both_mocks_and_the_known_routes(target: Target) -> None:
    ids = {(r.service, r.rule) for r in ROUTES}
    assert len([r for r in ROUTES if r.service == "braze"]) > 50 and len([r for r in ROUTES if r.service == "mixpanel"]) > 50
    for known in [("braze", "/users/track"), ("braze", "/partners/<partner>/cohorts/users"),
                  ("braze", "/_harness/workspaces/<ws>/cohorts/<partner>/<cohort_id>/members"),
                  ("mixpanel", "/import"), ("mixpanel", "/engage"), ("mixpanel", "/api/2.0/export"),
                  ("mixpanel", "/api/query/engage"), ("mixpanel", "/_harness/projects/<pid>/exports/<eid>/run"),
                  ("mixpanel", "/_harness/clock"), ("braze", "/_harness/state")]:
        assert known in ids, known
    running = {(service, rule.rule) for service, app in zip(("braze", "mixpanel"), target.embedded._apps)
               for rule in app.url_map.iter_rules()}
    assert running == ids  # the suite fuzzes exactly what the running servers serve


def send(target: Target, route: Route | None, service: str, method: str, path: str, headers: dict[str, bytes],
         body: bytes) -> None:
    COUNTER.hit(service)
    began = time.perf_counter()
    try:
        status, content_type, data = target.raw(service, method, path, headers, body)
    except (socket.timeout, TimeoutError):
        raise AssertionError(f"hang: no reply in 10 s to {service} {method} {path[:300]!r} body {body[:300]!r}") from None
    except (ConnectionError, OSError) as exc:
        raise AssertionError(f"connection broken ({exc!r}): {service} {method} {path[:300]!r} body {body[:300]!r}") from None
    COUNTER.wire_s += time.perf_counter() - began
    COUNTER.status(f"{status // 100}xx")
    check_reply(service, method, path, status, content_type, data)
    if route is not None:
        target.after(route, status)


def draw_path(data: st.DataObject, target: Target, route: Route) -> str:
    segments = {}
    for name, choices in route.variables:
        real = list(choices) if choices else target.t.path_values(name)
        text = data.draw(v.segment(real), label=name)
        safe = data.draw(st.sampled_from(["", "", "%", "/%"]) if text not in real else st.just(""), label="safe")
        segments[name] = quote(text, safe=safe) or quote(text)
    path = real_path(route, segments)
    query = data.draw(QUERY, label="query")
    known = target.query_values()
    pairs = [(k, data.draw(st.sampled_from(known.get(k, ["1"])), label=k) if value == "__real__" else value)
             for k, value in query.items()]
    if route.service == "mixpanel" and data.draw(st.booleans(), label="pid"):
        pairs.append(("project_id", target.t.pid))
    tail = data.draw(st.sampled_from(["", "", "", "&", "&&==", "&%zz=%", "&a[]=1&a[]=2"]), label="tail")
    return path + ("?" + urlencode(pairs) + tail if pairs or tail else "")


def draw_body(data: st.DataObject, target: Target, route: Route) -> tuple[bytes, bytes | None]:
    templates = target.templates(route.endpoint)
    kinds = ["json", "json", "form", "binary", "empty", "none", "valid"] + ["template"] * 3 * bool(templates)
    kind = data.draw(st.sampled_from(kinds), label="body kind")
    if kind == "template":
        return data.draw(v.mutated(data.draw(st.sampled_from(templates)))).encode(), b"application/json"
    if kind == "valid" and templates:
        import json
        return json.dumps(data.draw(st.sampled_from(templates))).encode(), b"application/json"
    if kind in ("json", "valid"):
        return data.draw(v.json_text(), label="json").encode(), b"application/json"
    if kind == "form":
        form = data.draw(v.form_body(target.t.token), label="form")
        return urlencode(form).encode(), b"application/x-www-form-urlencoded"
    if kind == "binary":
        return data.draw(st.one_of(st.binary(max_size=3000), st.just(b"\xff\xfe\x00"), st.just(b"\x00" * 70_000))), None
    return b"", None


def draw_headers(data: st.DataObject, target: Target, natural: bytes | None, has_body: bool) -> dict[str, bytes]:
    headers = dict(data.draw(st.sampled_from(target.auth_headers()), label="auth"))
    if has_body or data.draw(st.booleans()):
        wrong = data.draw(st.booleans(), label="wrong type")
        content_type = data.draw(st.sampled_from(CONTENT_TYPES)) if wrong or natural is None else natural
        if content_type:
            headers["Content-Type"] = content_type
    extra = data.draw(EXTRA_HEADERS, label="headers")
    headers.update(extra)
    return headers


@FUZZ
@given(data=st.data())
@pytest.mark.parametrize("route", ROUTES, ids=lambda r: r.id)
def test_every_route_answers_hostile_requests_without_a_server_error(target: Target, route: Route,
                                                                     data: st.DataObject) -> None:
    methods = list(route.methods)
    method = data.draw(st.one_of(st.sampled_from(methods), st.sampled_from(methods), st.sampled_from(METHODS)),
                       label="method")
    path = draw_path(data, target, route)
    body, natural = draw_body(data, target, route) if method not in ("GET", "HEAD") or data.draw(st.booleans()) \
        else (b"", None)
    headers = draw_headers(data, target, natural, bool(body))
    send(target, route, route.service, method, path, headers, body)


@FUZZ
@given(data=st.data(), service=st.sampled_from(["braze", "mixpanel"]))
def test_paths_that_match_no_route_get_the_json_404_of_their_surface(target: Target, service: str,
                                                                     data: st.DataObject) -> None:
    prefix = data.draw(st.sampled_from(["/", "/_harness/", "/api/2.0/", "/api/query/", "/users/", "/partners/",
                                        "/_harness/projects/", "/_harness/workspaces/", "//", "/_harness//"]))
    rest = data.draw(v.hostile_text(), label="rest")
    path = prefix + quote(rest, safe=data.draw(st.sampled_from(["", "/", "%/"])))
    send(target, None, service, data.draw(st.sampled_from(METHODS)), path, {}, b"")
