"""What both mock apps share: fault injection, the journal, JSON error replies and the common
control plane (health, reset, state, clock, journal, faults).

A vendor package builds its Flask app with :func:`create_mock_app`, handing over its store (the
domain state) and a function that shapes an error body the way that vendor does.
"""
from __future__ import annotations

import json
import time
from dataclasses import dataclass, field
from typing import Any, Callable, TypeVar

from flask import Blueprint, Flask, Response, current_app, g, request
from werkzeug.exceptions import HTTPException

from .clock import Clock, ClockError, to_iso
from .faults import FaultError, FaultRegistry, parse_rule
from .journal import Journal, RawBody, RawFields, Redactor
from .numbers import MAX_DIGITS, parse_in_range
from .ratelimit import RateLimiter, limits_enabled_by_environment
from .state import SecretHolder, Store
from .validation import InvalidBody, request_json, request_object

CONTROL_PREFIX = "/_harness"
#: A vendor's error for a request on its own paths: a JSON body, or a whole Response when the surface
#: answers in another form (Mixpanel's legacy ``0``); it may look at ``request`` to pick its surface.
ErrorBody = Callable[[int, str], Any]
#: ``app.extensions`` key of the dashboards' page for a bug (``str`` message -> Response, or None when the
#: request is not on a dashboard path); installed by ``mocks.common.ui.install_ui``.
BUG_PAGE = "harness_bug_page"


class ApiError(Exception):
    """An error reply with an exact status and body (the vendor's, or the control plane's)."""

    def __init__(self, status: int, body: Any, headers: dict[str, str] | None = None):
        super().__init__(status, body)
        self.status = status
        self.body = body
        self.headers = headers or {}


def control_error(status: int, message: str) -> ApiError:
    """Control-plane errors are ``{"error": message}``."""
    return ApiError(status, {"error": message})


@dataclass
class MockContext:
    """Everything the request layer of one mock app needs; kept in ``app.extensions['harness']``."""

    service: str
    store: Store
    clock: Clock
    error_body: ErrorBody
    journal: Journal = field(default_factory=Journal)
    faults: FaultRegistry = field(default_factory=FaultRegistry)
    limiter: RateLimiter = field(init=False)
    #: Where ``serve --log-requests`` sends one line per request (None: not logged).
    request_log: Callable[[str], None] | None = None

    def __post_init__(self) -> None:
        self.limiter = RateLimiter(self.clock, enabled=limits_enabled_by_environment())

    def secrets(self) -> list[str]:
        """The tenants' keys and tokens, which the journal never shows in clear."""
        return list(self.store.secret_values()) if isinstance(self.store, SecretHolder) else []


class StateRefused(ValueError):
    """A state dump the mock will not load; nothing of it was loaded."""


def restore_state(ctx: MockContext, body: Any) -> None:
    """Load a dump of ``GET /_harness/state`` into ``ctx``: the one path of ``PUT /_harness/state``
    and of ``serve --state-file`` at startup, which calls it in-process (a state file may be far over
    the HTTP body cap). The store loads all or nothing; every malformed field is a refusal."""
    if not isinstance(body, dict):
        raise StateRefused("the state must be a JSON object (a dump from GET /_harness/state)")
    if body.get("service") not in (None, ctx.service):
        raise StateRefused(f"state belongs to service {body.get('service')!r}, not {ctx.service!r}")
    store = body.get("store")
    if not isinstance(store, dict):
        raise StateRefused("'store' must be a JSON object (a dump from GET /_harness/state)")
    ctx.journal.remember(ctx.secrets())  # entries of the state being replaced keep its secrets hidden
    try:
        ctx.store.load(store)
        if isinstance(body.get("clock"), dict):
            ctx.clock.load(body["clock"])
    except (KeyError, TypeError, ValueError, AttributeError, IndexError) as exc:
        raise StateRefused(f"invalid state: {exc}") from None


def mock_context() -> MockContext:
    return current_app.extensions["harness"]


S = TypeVar("S", bound=Store)


def current_store(kind: type[S]) -> S:
    """The running mock's store, typed as the vendor's own store class (one accessor for every view)."""
    store = mock_context().store
    if not isinstance(store, kind):
        raise TypeError(f"the running mock's store is a {type(store).__name__}, not a {kind.__name__}")
    return store


def json_reply(body: Any, status: int = 200, headers: dict[str, str] | None = None) -> Response:
    response = Response(json.dumps(body, separators=(",", ":")), status=status, mimetype="application/json")
    for name, value in (headers or {}).items():
        response.headers[name] = value
    return response


def create_mock_app(ctx: MockContext, config: dict[str, Any] | None = None) -> Flask:
    """A Flask app with the shared request pipeline and the common control plane registered."""
    app = Flask(f"mocks.{ctx.service}")
    # werkzeug answers '//' with a 308 and an HTML page; the vendors answer an unknown path with their
    # JSON 404, so a doubled slash is just a path that does not exist
    app.url_map.merge_slashes = False
    app.config.update(MAX_CONTENT_LENGTH=64 * 1024 * 1024, JSON_SORT_KEYS=False)
    app.config.update(config or {})
    app.extensions["harness"] = ctx
    app.before_request(_inject_fault)
    app.after_request(_record_in_journal)
    app.after_request(_log_request)
    app.register_error_handler(ApiError, _api_error_reply)
    app.register_error_handler(InvalidBody, _invalid_body_reply)
    app.register_error_handler(HTTPException, _http_error_reply)
    app.register_error_handler(Exception, _unexpected_error_reply)
    app.register_blueprint(_common_control_blueprint())
    return app


# -- request pipeline -------------------------------------------------------------------------------
def _is_control(path: str) -> bool:
    return path == CONTROL_PREFIX or path.startswith(CONTROL_PREFIX + "/")


def _inject_fault() -> Response | None:
    g.started = time.perf_counter()
    if _is_control(request.path):
        return None
    rule = mock_context().faults.take(request.method, request.path)
    if rule is None:
        return None
    if rule.delay_ms:
        time.sleep(rule.delay_ms / 1000)
    if rule.drop_connection:
        _drop_connection()
        g.dropped = True
        return Response(status=500)
    if rule.status is None:
        return None
    if rule.body is None:
        response = error_reply(rule.status, "injected fault")
    else:
        response = Response(rule.body if isinstance(rule.body, str) else json.dumps(rule.body), status=rule.status,
                            mimetype="text/plain" if isinstance(rule.body, str) else "application/json")
    for name, value in rule.headers.items():
        response.headers[name] = value
    return response


def _drop_connection() -> None:
    """Close the client's socket without replying (the client sees a dropped connection)."""
    import socket

    sock = request.environ.get("werkzeug.socket")
    if sock is None:
        return
    try:
        sock.shutdown(socket.SHUT_RDWR)
    except OSError:
        pass


def _record_in_journal(response: Response) -> Response:
    if _is_control(request.path):
        return response
    ctx = mock_context()
    if not ctx.journal.enabled:
        return response
    response_body: Any = None
    if not response.is_streamed:
        response_body = RawBody(response.get_data(), response.mimetype or "")
    headers = {k.lower(): v for k, v in request.headers.items() if k.lower() in ("content-type", "content-encoding")}
    ctx.journal.record({
        "method": request.method,
        "path": request.path,
        "query": RawFields(request.args.to_dict()),
        "headers": headers,
        "status": "dropped" if g.get("dropped") else response.status_code,
        "request": _raw_request_body(),
        "response": response_body,
        "at": to_iso(ctx.clock.now()),
        "duration_ms": round((time.perf_counter() - g.get("started", time.perf_counter())) * 1000, 3),
    })
    return response


def _log_request(response: Response) -> Response:
    """One line per request, control plane included, secrets in the query string masked."""
    sink = mock_context().request_log
    if sink is not None:
        fields = Redactor(mock_context().secrets()).fields(request.args.to_dict())
        query = "&".join(f"{k}={v if isinstance(v, str) else json.dumps(v)}" for k, v in fields.items())
        took = (time.perf_counter() - g.get("started", time.perf_counter())) * 1000
        status = "dropped" if g.get("dropped") else response.status_code
        sink(f"{mock_context().service} {request.method} {request.path}{'?' + query if query else ''} "
             f"-> {status} ({took:.1f} ms)")
    return response


def _raw_request_body() -> RawBody | None:
    """The request body for the journal; None when it was refused unread (e.g. 413 too large)."""
    try:
        return RawBody(request.get_data(cache=True), request.mimetype or "")
    except HTTPException:
        return None


def _api_error_reply(error: ApiError) -> Response:
    return json_reply(error.body, error.status, error.headers)


def error_reply(status: int, message: str) -> Response:
    """An error in the shape of the surface the request is on: ``{"error": message}`` on the control
    plane, else the vendor's :data:`ErrorBody` (which may pick among its own surfaces)."""
    if _is_control(request.path):
        return json_reply({"error": message}, status)
    body = mock_context().error_body(status, message)
    return body if isinstance(body, Response) else json_reply(body, status)


def _invalid_body_reply(error: InvalidBody) -> Response:
    """A body refused by the validation path: 400 in the control plane's shape or the vendor's."""
    return error_reply(400, error.message)


def _http_error_reply(error: HTTPException) -> Response:
    return error_reply(error.code or 500, _http_message(error))


def _http_message(error: HTTPException) -> str:
    if error.code == 404:
        return f"no such endpoint: {request.method} {request.path}"
    if error.code == 405:
        return f"method {request.method} is not allowed on {request.path}"
    if error.code == 413:
        return "request body too large"
    return error.description or error.name


def _unexpected_error_reply(error: Exception) -> Response:
    """A bug in the mock, never a user's mistake: logged, and a 500 in the shape of the surface it
    happened on (a dashboard's error page, the control plane's ``{"error"}``, the vendor's own)."""
    current_app.logger.exception("unexpected error in mock")
    message = f"internal mock error: {type(error).__name__}"
    bug_page = current_app.extensions.get(BUG_PAGE)
    page = bug_page(message) if bug_page is not None else None
    return page if isinstance(page, Response) else error_reply(500, message)


# -- common control plane ---------------------------------------------------------------------------
def _common_control_blueprint() -> Blueprint:
    bp = Blueprint("common_control", __name__, url_prefix=CONTROL_PREFIX)

    @bp.get("/health")
    def health() -> Response:
        ctx = mock_context()
        return json_reply({"status": "ok", "service": ctx.service, "now": to_iso(ctx.clock.now())})

    @bp.get("/openapi.json")
    def openapi() -> Response:
        """This mock's OpenAPI 3.1 document (vendor API and control plane), generated from its routes."""
        from .openapi import openapi_document

        if "openapi" not in current_app.extensions:
            current_app.extensions["openapi"] = openapi_document(current_app._get_current_object(),  # type: ignore[attr-defined]
                                                                 mock_context().service)
        return json_reply(current_app.extensions["openapi"])

    @bp.post("/reset")
    def reset() -> Response:
        ctx = mock_context()
        ctx.store.reset()
        ctx.journal.clear()
        ctx.faults.remove(None)
        ctx.limiter.reset()
        return json_reply({"status": "reset"})

    @bp.get("/state")
    def dump_state() -> Response:
        ctx = mock_context()
        return json_reply({"service": ctx.service, "clock": ctx.clock.to_dict(), "store": ctx.store.to_dict()})

    @bp.put("/state")
    def load_state() -> Response:
        try:
            restore_state(mock_context(), request_object())
        except StateRefused as exc:
            raise control_error(400, str(exc)) from None
        return json_reply({"status": "loaded"})

    @bp.get("/clock")
    def get_clock() -> Response:
        ctx = mock_context()
        return json_reply({"now": to_iso(ctx.clock.now()), "mode": ctx.clock.mode})

    @bp.post("/clock")
    def move_clock() -> Response:
        ctx = mock_context()
        body = request_object()
        if ("advance" in body) == ("set" in body):
            raise control_error(400, "give exactly one of 'advance' (e.g. \"15m\") or 'set' (ISO-8601)")
        try:
            summary = (ctx.clock.advance_summarised(body["advance"]) if "advance" in body
                       else ctx.clock.set_summarised(body["set"]))
        except ClockError as exc:
            raise control_error(400, str(exc)) from None
        return json_reply({"now": to_iso(ctx.clock.now()), **summary.to_dict()})

    @bp.get("/journal")
    def get_journal() -> Response:
        limit = request.args.get("limit")
        count = parse_in_range(limit, 1, 10 ** MAX_DIGITS) if limit is not None else None
        if limit is not None and count is None:
            raise control_error(400, "'limit' must be a positive integer")
        ctx = mock_context()
        entries = ctx.journal.entries(request.args.get("path"), request.args.get("method"), count, ctx.secrets())
        return json_reply({"entries": entries})

    @bp.delete("/journal")
    def clear_journal() -> Response:
        mock_context().journal.clear()
        return json_reply({"status": "cleared"})

    @bp.get("/faults")
    def list_faults() -> Response:
        return json_reply({"faults": mock_context().faults.list()})

    @bp.post("/faults")
    def add_fault() -> Response:
        try:
            rule = parse_rule(request_json())
        except FaultError as exc:
            raise control_error(400, str(exc)) from None
        mock_context().faults.add(rule)
        return json_reply({"fault_id": rule.fault_id}, 201)

    @bp.delete("/faults")
    def clear_faults() -> Response:
        return json_reply({"removed": mock_context().faults.remove(None)})

    @bp.delete("/faults/<fault_id>")
    def delete_fault(fault_id: str) -> Response:
        if not mock_context().faults.remove(fault_id):
            raise control_error(404, f"no fault rule {fault_id!r}")
        return json_reply({"removed": 1})

    return bp
