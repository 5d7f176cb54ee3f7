"""The fuzz target: both mocks embedded on free loopback ports, real tenants, every route of their url_maps.

A request is sent with ``http.client`` (so the path, headers and body go out byte for byte as generated),
counted, and judged by :func:`check_reply`: status < 500, no hang (a 10 s socket timeout), strict JSON,
and for a 4xx the error shape of the surface the path belongs to.
"""
from __future__ import annotations

import base64
import http.client
import json
import os
import threading
import time
from dataclasses import dataclass, field
from typing import Any, Iterator
from urllib.parse import quote, urlsplit

from flask import Flask
from werkzeug.routing import AnyConverter, Rule

from harness.embedded import EmbeddedMocks

LONG = os.environ.get("COHORT_FUZZ_LONG", "").strip().lower() not in ("", "0", "false", "no", "off")
TIMEOUT_S = 10.0
METHODS = ["GET", "POST", "PUT", "PATCH", "DELETE", "HEAD", "OPTIONS"]


class Counter:
    """Requests sent over the whole session (every test), with the time they took."""

    def __init__(self) -> None:
        self.count = 0
        self.wire_s = 0.0
        self.started = time.perf_counter()
        self.by_service: dict[str, int] = {}
        self.by_status: dict[str, int] = {}
        self.lock = threading.Lock()

    def hit(self, service: str) -> None:
        with self.lock:
            self.count += 1
            self.by_service[service] = self.by_service.get(service, 0) + 1

    def status(self, kind: str) -> None:
        with self.lock:
            self.by_status[kind] = self.by_status.get(kind, 0) + 1

    def elapsed(self) -> float:
        return time.perf_counter() - self.started


COUNTER = Counter()


# -- routes ---------------------------------------------------------------------------------------
@dataclass(frozen=True)
class Route:
    service: str          # "braze" | "mixpanel"
    rule: str             # "/_harness/projects/<pid>/cohorts"
    endpoint: str         # "mixpanel_control.create_cohort"
    methods: tuple[str, ...]
    variables: tuple[tuple[str, tuple[str, ...] | None], ...]  # name, the any() choices if any

    @property
    def id(self) -> str:
        return f"{self.service}:{'|'.join(self.methods)}:{self.rule}"


def routes_of(service: str, app: Flask) -> list[Route]:
    """Every rule of the app's url_map (a new route is fuzzed without touching this suite)."""
    found = []
    for rule in sorted(app.url_map.iter_rules(), key=lambda r: (r.rule, sorted(r.methods or ()))):
        found.append(Route(service, rule.rule, rule.endpoint,
                           tuple(sorted((rule.methods or set()) - {"HEAD", "OPTIONS"})), _variables(rule)))
    return found


def _variables(rule: Rule) -> tuple[tuple[str, tuple[str, ...] | None], ...]:
    out = []
    for name, converter in rule._converters.items():
        items = getattr(converter, "items", None) if isinstance(converter, AnyConverter) else None
        out.append((name, tuple(sorted(items)) if items else None))
    return tuple(out)


def all_routes() -> list[Route]:
    from mocks.braze import create_app as braze_app
    from mocks.common import Clock
    from mocks.mixpanel import create_app as mixpanel_app

    return routes_of("braze", braze_app(clock=Clock())) + routes_of("mixpanel", mixpanel_app(clock=Clock()))


def surface(service: str, path: str) -> str:
    """Which error shape a path answers in: ui (HTML, no JSON check), control, braze, or Mixpanel's
    query / import / token surfaces."""
    bare = path.split("?", 1)[0]
    if bare.startswith("/_harness/ui/") or bare == "/_harness/ui" or bare.startswith("/static/"):
        return "ui"
    if bare == "/_harness" or bare.startswith("/_harness/"):
        return "control"
    if service == "braze":
        return "braze"
    if bare.startswith("/api/"):
        return "query"
    if bare == "/import":
        return "import"
    if bare in ("/track", "/engage", "/groups"):
        return "token"
    return "mixpanel"


# -- tenants ----------------------------------------------------------------------------------------
@dataclass
class Tenants:
    """A real Braze workspace and Mixpanel project with everything the routes refer to."""

    ws: str = ""
    rest_api_key: str = ""
    data_import_key: str = ""
    partner_api_key: str = ""
    braze_cohort: str = "fz-cohort"
    segment_id: str = ""
    campaign_id: str = ""
    canvas_id: str = ""
    braze_id: str = ""
    pid: str = ""
    token: str = ""
    api_secret: str = ""
    sa_user: str = ""
    sa_secret: str = ""
    cid: str = ""
    conn: str = ""
    eid: str = ""
    limits: dict[str, Any] = field(default_factory=dict)

    def path_values(self, name: str) -> list[str]:
        """Real values for a path variable of that name (unknown names only get hostile ones)."""
        return {
            "ws": [self.ws], "target_id": [self.campaign_id, self.canvas_id], "partner": ["mixpanel"],
            "cohort_id": [self.braze_cohort], "segment_id": [self.segment_id], "key": [self.data_import_key],
            "braze_id": [self.braze_id], "number": ["1"], "fault_id": ["1"], "pid": [self.pid], "cid": [self.cid],
            "conn": [self.conn], "eid": [self.eid], "distinct_id": ["fz-user-1", "fz-user-2"],
            "filename": ["ui.css"],
        }.get(name, [])


class Target:
    """Both mocks running, with tenants that :meth:`repair` makes again after a route that breaks them."""

    def __init__(self) -> None:
        # a 429 would stop the requests short of validation; the switch is read when the apps are built,
        # and put back at once so the rest of a test session keeps its rate limits
        before = os.environ.get("COHORT_HARNESS_RATE_LIMITS")
        os.environ["COHORT_HARNESS_RATE_LIMITS"] = "off"
        try:
            self.embedded = EmbeddedMocks()
        finally:
            if before is None:
                del os.environ["COHORT_HARNESS_RATE_LIMITS"]
            else:
                os.environ["COHORT_HARNESS_RATE_LIMITS"] = before
        self.embedded.start()
        self.urls = {"braze": self.embedded.braze_url, "mixpanel": self.embedded.mixpanel_url}
        self.t = Tenants()
        self.provision()

    def stop(self) -> None:
        self.embedded.stop()

    # plain calls for setting up (not counted as fuzz requests)
    def call(self, service: str, method: str, path: str, body: Any = None, headers: dict[str, str] | None = None,
             form: dict[str, str] | None = None) -> tuple[int, Any]:
        raw, hdrs = b"", dict(headers or {})
        if body is not None:
            raw, hdrs["Content-Type"] = json.dumps(body).encode(), "application/json"
        if form is not None:
            from urllib.parse import urlencode
            raw, hdrs["Content-Type"] = urlencode(form).encode(), "application/x-www-form-urlencoded"
        status, _, data = self.raw(service, method, path, hdrs, raw)
        try:
            return status, json.loads(data)
        except ValueError:
            return status, data

    def raw(self, service: str, method: str, path: str, headers: dict[str, Any], body: bytes) -> tuple[int, str, bytes]:
        where = urlsplit(self.urls[service])
        connection = http.client.HTTPConnection(where.hostname or "127.0.0.1", where.port, timeout=TIMEOUT_S)
        try:
            connection.putrequest(method, path, skip_accept_encoding=True)
            for name, value in headers.items():
                connection.putheader(name, value)
            connection.putheader("Content-Length", str(len(body)))
            try:
                connection.endheaders(body)
            except (BrokenPipeError, ConnectionResetError):
                pass  # the server answered (and closed) before reading the whole body: read that answer
            reply = connection.getresponse()
            data = reply.read() if method != "HEAD" else b""
            return reply.status, reply.getheader("Content-Type") or "", data
        finally:
            connection.close()

    def provision(self) -> None:
        t = Tenants()
        ok = self._ok
        _, partners = ok("braze", "GET", "/_harness/partners")
        t.partner_api_key = next(p["partner_api_key"] for p in partners["partners"] if p["name"] == "mixpanel")
        _, ws = ok("braze", "POST", "/_harness/workspaces", {"name": "fuzz"})
        t.ws, t.rest_api_key = ws["workspace_id"], ws["rest_api_key"]
        _, key = ok("braze", "POST", f"/_harness/workspaces/{t.ws}/data_import_keys", {"partner": "mixpanel"})
        t.data_import_key = key["key"]
        ok("braze", "POST", f"/_harness/workspaces/{t.ws}/users",
           {"users": [{"external_id": "fz-user-1", "attributes": {"plan": "pro"}}]})
        t.braze_id = ok("braze", "POST", f"/_harness/workspaces/{t.ws}/sdk/users", {"device_id": "fz-dev"})[1]["braze_id"]
        creds = {"partner_api_key": t.partner_api_key, "client_secret": t.data_import_key, "cohort_id": t.braze_cohort}
        ok("braze", "POST", "/partners/mixpanel/cohorts", {**creds, "name": "F", "created_at": "2026-01-01T00:00:00Z"})
        ok("braze", "POST", "/partners/mixpanel/cohorts/users", {**creds, "cohort_changes": [{"user_ids": ["fz-user-1"]}]})
        t.segment_id = ok("braze", "POST", f"/_harness/workspaces/{t.ws}/segments", {"name": "s", "filters": [
            {"type": "mixpanel_cohorts", "operator": "includes_value", "cohort_id": t.braze_cohort}]})[1]["segment_id"]
        t.campaign_id = ok("braze", "POST", f"/_harness/workspaces/{t.ws}/campaigns",
                           {"name": "c", "segment_id": t.segment_id})[1]["campaign_id"]
        t.canvas_id = ok("braze", "POST", f"/_harness/workspaces/{t.ws}/canvases",
                         {"name": "v", "segment_id": t.segment_id})[1]["canvas_id"]

        _, project = ok("mixpanel", "POST", "/_harness/projects", {"name": "fuzz"})
        t.pid, t.token, t.api_secret = str(project["project_id"]), project["token"], project["api_secret"]
        t.sa_user, t.sa_secret = project["service_account"]["username"], project["service_account"]["secret"]
        ok("mixpanel", "POST", f"/_harness/projects/{t.pid}/profiles", {"profiles": [
            {"distinct_id": "fz-user-1", "properties": {"plan": "pro", "n": 3}},
            {"distinct_id": "fz-user-2", "properties": {"plan": "free"}}]})
        ok("mixpanel", "POST", f"/_harness/projects/{t.pid}/events", {"events": [
            {"event": "E", "properties": {"distinct_id": "fz-user-1", "time": 1767225600, "$insert_id": "i1"}}]})
        t.cid = str(ok("mixpanel", "POST", f"/_harness/projects/{t.pid}/cohorts",
                       {"name": "c", "definition": {"property": "plan", "equals": "pro"}}
                       )[1]["cohort_id"])
        braze_rest = key["rest_endpoint"]
        t.conn = str(ok("mixpanel", "POST", f"/_harness/projects/{t.pid}/connections",
                        {"data_import_key": t.data_import_key, "rest_endpoint": braze_rest,
                         "partner_api_key": t.partner_api_key})[1]["connection_id"])
        t.eid = str(ok("mixpanel", "POST", f"/_harness/projects/{t.pid}/exports",
                       {"cohort_id": int(t.cid), "connection_id": int(t.conn), "mode": "dynamic"})[1]["export_id"])
        t.limits = ok("mixpanel", "GET", "/_harness/limits")[1]
        self.t = t

    def _ok(self, service: str, method: str, path: str, body: Any = None) -> tuple[int, Any]:
        status, reply = self.call(service, method, path, body)
        if status >= 300:
            raise AssertionError(f"fuzz setup: {method} {path} -> {status} {reply!r:.300}")
        return status, reply

    # -- after a route that changes what the tenants rely on -----------------------------------------
    #: endpoints whose success can break the tenants (credentials, keys, limits, fault rules, the stores)
    DISRUPTIVE = {"common_control.reset", "common_control.load_state", "common_control.add_fault",
                  "braze_control.invalidate_data_import_key", "braze_control.add_partner", "braze_ui.invalidate_key",
                  "braze_ui.generate_key", "mixpanel_control.update_project", "mixpanel_control.update_limits",
                  "braze_control.lock_cohort", "exports_control.update_connection", "mixpanel_ui.save_connection",
                  "braze_control.create_rest_api_key", "braze_control.create_data_import_key"}

    def after(self, route: Route, status: int) -> None:
        if route.endpoint in self.DISRUPTIVE and status < 400:
            self.repair()

    def repair(self) -> None:
        for service in ("braze", "mixpanel"):
            self.call(service, "DELETE", "/_harness/faults")
        if self.t.limits:
            self.call("mixpanel", "PATCH", "/_harness/limits", self.t.limits)
        self.provision()

    # -- what a route's requests carry ------------------------------------------------------------------
    def auth_headers(self) -> list[dict[str, bytes]]:
        """Credentials of every kind: valid ones of the tenants, and hostile ones."""
        t = self.t

        def basic(user: str, secret: str = "") -> bytes:
            return b"Basic " + base64.b64encode(f"{user}:{secret}".encode())
        return [
            {}, {"Authorization": b"Bearer " + t.rest_api_key.encode()},
            {"Authorization": basic(t.sa_user, t.sa_secret)}, {"Authorization": basic(t.api_secret)},
            {"Authorization": basic("jos\u00e9\u2603", "s\u00e9cret")}, {"Authorization": basic("\u00ff" * 300, "")},
            {"Authorization": basic(t.sa_user, "\u2603")}, {"Authorization": b"Basic " + "é".encode()},
            {"Authorization": b"Basic !!!notbase64"}, {"Authorization": b"Basic " + base64.b64encode(b"\xff\xfe:\x00")},
            {"Authorization": b"Bearer"}, {"Authorization": b"Bearer " + "cl\u00e9\u2603".encode()},
            {"Authorization": b"Bearer " + b"k" * 10_000}, {"Authorization": b"Digest x"}, {"Authorization": b"\xff\xfe"},
            {"Authorization": "Bearer\tk".encode()},
        ]

    def templates(self, endpoint: str) -> list[Any]:
        """Valid-looking bodies of an endpoint (with the tenants' real ids and keys), to be made hostile."""
        t = self.t
        creds = {"partner_api_key": t.partner_api_key, "client_secret": t.data_import_key, "cohort_id": t.braze_cohort}
        alias = {"alias_name": "n", "alias_label": "l"}
        definition = {"and": [{"property": "plan", "equals": "pro"},
                              {"event": "E", "within_days": 30, "at_least": 1}]}
        bodies: dict[str, list[Any]] = {
            "braze_partners.cohort_name": [{**creds, "name": "N", "created_at": "2026-01-01T00:00:00Z"}],
            "braze_partners.cohort_users": [{**creds, "cohort_changes": [
                {"user_ids": ["fz-user-1"], "device_ids": ["d"], "aliases": [alias], "should_remove": False}]}],
            "braze_rest.users_track": [{"attributes": [{"external_id": "fz-user-1", "plan": "x", "n": 1}],
                                        "events": [{"external_id": "fz-user-1", "name": "e", "time": "2026-01-01T00:00:00Z"}],
                                        "purchases": [{"external_id": "fz-user-1", "product_id": "p", "currency": "USD",
                                                       "price": 1, "time": "2026-01-01T00:00:00Z"}]}],
            "braze_rest.users_identify": [{"aliases_to_identify": [{"external_id": "fz-user-1", "user_alias": alias}]}],
            "braze_rest.users_alias_new": [{"user_aliases": [{"external_id": "fz-user-1", **alias}]}],
            "braze_rest.users_export_ids": [{"external_ids": ["fz-user-1"], "user_aliases": [alias], "device_id": "d",
                                             "braze_id": t.braze_id, "fields_to_export": ["braze_id"]}],
            "braze_rest.users_delete": [{"external_ids": ["zz"], "user_aliases": [alias], "braze_ids": ["b"]}],
            "braze_rest.users_merge": [{"merge_updates": [{"identifier_to_merge": {"external_id": "a"},
                                                           "identifier_to_keep": {"external_id": "fz-user-1"}}]}],
            "braze_control.add_partner": [{"name": "p-fuzz", "partner_api_key": "k"}],
            "braze_control.create_workspace": [{"name": "w"}],
            "braze_control.create_rest_api_key": [{"permissions": ["users.track"]}],
            "braze_control.create_data_import_key": [{"partner": "mixpanel"}],
            "braze_control.sdk_create_user": [{"device_id": "d-new", "attributes": {"a": 1}}],
            "braze_control.sdk_change_user": [{"device_id": "d-new", "external_id": "e"}],
            "braze_control.seed_users": [{"users": [{"external_id": "seeded", "aliases": [alias], "device_ids": ["dd"],
                                                     "attributes": {"plan": "x"}}]}],
            "braze_control.create_segment": [{"name": "s", "filters": [{"type": "mixpanel_cohorts",
                                                                       "operator": "excludes_value",
                                                                       "cohort_id": t.braze_cohort}]}],
            "braze_control.create_target": [{"name": "c", "segment_id": t.segment_id}],
            "common_control.move_clock": [{"advance": "1s"}, {"set": "2026-06-01T00:00:00Z"}],
            "common_control.add_fault": [{"path": "/never-called", "status": 503, "times": 1,
                                          "headers": {"X-A": "b"}, "delay_ms": 0}],
            "common_control.load_state": [{"service": "braze", "store": {"workspaces": []}},
                                          {"service": "mixpanel", "store": {"projects": []}}],
            "mixpanel_control.create_project": [{"name": "p", "retention_days": 30}],
            "mixpanel_control.update_project": [{"name": "p2", "retention_days": 60}],
            "mixpanel_control.update_limits": [{"query_per_hour": 100000, "engage_page_size": 1000}],
            "mixpanel_control.create_cohort": [{"name": "c", "definition": definition}],
            "mixpanel_control.update_cohort": [{"name": "c2", "definition": definition}],
            "mixpanel_control.load_profiles": [{"profiles": [{"distinct_id": "fz-user-3",
                                                              "properties": {"plan": "pro", "$created": "2026-01-01T00:00:00"}}]}],
            "mixpanel_control.load_events": [{"events": [{"event": "E", "properties": {
                "distinct_id": "fz-user-1", "time": 1767225600, "$insert_id": "i2"}}]}],
            "exports_control.add_connection": [{"data_import_key": t.data_import_key,
                                                "rest_endpoint": self.urls["braze"], "partner_api_key": t.partner_api_key,
                                                "user_id_property": "$distinct_id"}],
            "exports_control.update_connection": [{"name": "n", "alias_label": "l", "alias_property": "plan"}],
            "exports_control.create_export": [{"cohort_id": int(t.cid), "connection_id": int(t.conn), "mode": "dynamic",
                                               "interval": "15m"}],
            "mixpanel_ingestion.import_events": [[{"event": "E", "properties": {
                "distinct_id": "fz-user-1", "time": 1767225600, "$insert_id": "i3", "token": t.token}}]],
            "mixpanel_ingestion.track": [[{"event": "E", "properties": {"distinct_id": "fz-user-1", "time": 1767225600,
                                                                       "token": t.token}}]],
            "mixpanel_ingestion.engage": [[{"$token": t.token, "$distinct_id": "fz-user-1",
                                            "$set": {"plan": "x"}, "$add": {"n": 1}}]],
            "mixpanel_ingestion.groups": [[{"$token": t.token, "$group_key": "company", "$group_id": "g1",
                                            "$set": {"plan": "x"}}]],
            "mixpanel_query.engage_query": [{"where": 'properties["plan"] == "pro"', "filter_by_cohort": f'{{"id": {t.cid}}}'}],
            "mixpanel_query.engage_v2": [{"where": 'properties["n"] > 2', "output_properties": '["plan"]'}],
        }
        return bodies.get(endpoint, [])

    def query_values(self) -> dict[str, list[str]]:
        t = self.t
        return {"project_id": [t.pid], "verbose": ["1"], "strict": ["1", "0"], "page": ["0", "1"],
                "from_date": ["2025-12-01"], "to_date": ["2026-01-31"], "event": ['["E"]'],
                "where": ['properties["plan"] == "pro"', 'properties["n"] > 2'],
                "filter_by_cohort": [f'{{"id": {t.cid}}}'], "distinct_id": ["fz-user-1"], "limit": ["10"],
                "ws": [t.ws], "project": [t.pid], "outcome": ["matched"], "at": ["2026-01-01T00:00:00Z"]}


def real_path(route: Route, values: dict[str, str]) -> str:
    """The route's rule with each variable replaced by an (already encoded) segment."""
    path = route.rule
    for name, _ in route.variables:
        start = path.index("<")
        end = path.index(">", start)
        assert path[start + 1:end].split(":")[-1] == name, (route.rule, name)
        path = path[:start] + values[name] + path[end + 1:]
    return path


def encode_segment(text: str, keep_slash: bool = False) -> str:
    return quote(text, safe="/" if keep_slash else "")


# -- judging a reply --------------------------------------------------------------------------------
class NonJson(ValueError):
    pass


def strict_json(data: bytes) -> Any:
    def refuse(name: str) -> Any:
        raise NonJson(f"non-JSON constant {name}")
    return json.loads(data.decode("utf-8"), parse_constant=refuse)


def check_reply(service: str, method: str, path: str, status: int, content_type: str, data: bytes) -> None:
    """Raise AssertionError with what is wrong with the reply."""
    where = f"{service} {method} {path[:300]!r} -> {status} {content_type} {data[:300]!r}"
    assert status < 500, "server error: " + where
    kind = surface(service, path)
    if kind == "ui" or method == "HEAD":
        return
    assert not 300 <= status < 400, "redirect outside the UI: " + where
    mimetype = content_type.split(";")[0].strip().lower()
    body: Any = None
    if mimetype == "application/json":
        try:
            body = strict_json(data)
        except (ValueError, UnicodeDecodeError) as exc:
            raise AssertionError(f"not strict JSON ({exc}): {where}") from None
    if status < 400:
        return
    if kind == "token":
        if mimetype == "application/json":
            assert _is_dict_with(body, "error", str) and body.get("status") == 0, "token-API error shape: " + where
        else:
            assert data in (b"0",) or mimetype in ("image/gif", "application/javascript", "text/javascript"), \
                "token-API error shape: " + where
        return
    if kind == "import" and mimetype != "application/json":
        assert data == b"0", "import error shape: " + where
        return
    assert mimetype == "application/json", "error reply not JSON: " + where
    if kind in ("control", "mixpanel"):
        assert _is_dict_with(body, "error", str), "control-plane error shape: " + where
    elif kind == "braze":
        assert _is_dict_with(body, "message", str), "Braze error shape: " + where
        assert set(body) <= {"message", "errors"}, "Braze error shape: " + where
    elif kind == "query":
        assert _is_dict_with(body, "error", str) and isinstance(body.get("request"), str), "Query API error shape: " + where
    elif kind == "import":
        legacy = _is_dict_with(body, "error", str) and body.get("status") == 0
        documented = (_is_dict_with(body, "error", str) and body.get("code") == status
                      and isinstance(body.get("status"), str))
        assert legacy or documented, "import error shape: " + where


def _is_dict_with(body: Any, key: str, kind: type) -> bool:
    return isinstance(body, dict) and isinstance(body.get(key), kind) and bool(str(body.get(key)).strip())


def iter_routes(routes: list[Route], service: str) -> Iterator[Route]:
    return (r for r in routes if r.service == service)
