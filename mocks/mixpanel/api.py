"""Mixpanel's ingestion endpoints: ``POST /import``, ``/track`` and ``/engage``.

``/import`` answers in two styles. A JSON or NDJSON body gets the documented JSON replies
(``{"code": 200, "num_records_imported": N, "status": "OK"}``, 400 with ``failed_records``, 401, 413,
429). A form body with a ``data`` field (what the official Python client sends) gets the legacy
replies that client reads: ``{"error": null, "status": 1}`` with ``verbose=1``, else ``1`` / ``0``.
``/track`` and ``/engage`` authenticate with the project token inside each message.
"""
from __future__ import annotations

from http import HTTPStatus
from typing import Any, Callable

from flask import Blueprint, Response, request
from werkzeug.exceptions import HTTPException

from mocks.common import json_reply, mock_context
from mocks.common.app import current_store

from .limits import Limits
from .profiles import parse_group_update, parse_update
from .store import IngestReport, MixpanelStore, Project
from .errors import (BadBody, BodyTooLarge, FailedValidation, InvalidCredentials, MixpanelError, RateLimited,
                     TokenRefused)
from .wire import (MAX_BODY_BYTES, TOO_LARGE, as_list, authenticated_project, decode_data, form_fields, is_form,
                   parse_events, read_body)

MAX_BATCH = 2000
STATUS_TEXT = {200: "OK", 400: "Bad Request", 401: "Unauthorized", 413: "Request Entity Too Large",
               429: "Too Many Requests", 500: "Internal Server Error"}
#: The paths of this blueprint: an error the shared pipeline answers on one (404 of a method, 405, 413
#: over the 64 MB cap, a bug) takes that endpoint's reply style (:func:`ingestion_error`).
INGESTION_PATHS = frozenset({"/import", "/track", "/engage", "/groups"})
INVALID_CREDENTIALS = "Invalid credentials"
RATE_LIMITED = "Project exceeded rate limits. Please retry the request with exponential backoff."
FAILED_VALIDATION = "some data points in the request failed validation"


#: ``/import``'s status for each refusal (both reply styles).
IMPORT_STATUS: dict[type[MixpanelError], int] = {
    BadBody: 400, BodyTooLarge: 413, InvalidCredentials: 401, RateLimited: 429, FailedValidation: 400,
}
#: ``/track`` and ``/engage`` answer 200 to every refusal but a missing or unknown token.
TOKEN_STATUS: dict[type[MixpanelError], int] = {TokenRefused: 401}


def ingestion_blueprint(limits: Limits) -> Blueprint:
    bp = Blueprint("mixpanel_ingestion", __name__)

    @bp.route("/import", methods=["GET", "POST"])
    def import_events() -> Response:
        """GET carries base64 ``data`` in the query string (the official Node client's ``import()``)."""
        legacy, fields = is_form() or request.method == "GET", dict[str, str]()
        try:
            raw = _read(fields, legacy)
            project = authenticated_project(current_store(MixpanelStore), allow_token=True)
            if project is None:
                raise InvalidCredentials(INVALID_CREDENTIALS)
            _check_import_rate(project, limits)
            events = as_list(decode_data(fields.get("data"))) if legacy else parse_events(raw)
            report = _ingest_batch(project, events, "import", require_insert_id=fields.get("strict") == "1")
        except MixpanelError as refusal:
            return _import_refusal(refusal, legacy, fields)
        strict = fields.get("strict", "1") != "0"
        if report.failures and strict:
            return _import_refusal(FailedValidation(FAILED_VALIDATION, failed_records=_failed_records(report),
                                                    num_records_imported=report.imported), legacy, fields)
        if legacy:
            return _legacy_reply(fields, 200, None)
        return json_reply({"code": 200, "num_records_imported": report.imported, "status": "OK"})

    @bp.route("/track", methods=["GET", "POST"])
    def track() -> Response:
        return _token_endpoint(_track)

    @bp.route("/engage", methods=["GET", "POST"])
    def engage() -> Response:
        return _token_endpoint(_engage)

    @bp.route("/groups", methods=["GET", "POST"])
    def groups() -> Response:
        """Group profiles: form ``data`` with ``$token``, ``$group_key``, ``$group_id`` and one operation."""
        return _token_endpoint(_groups)

    return bp


# -- /import -------------------------------------------------------------------------------------
def _read(fields: dict[str, str], legacy: bool) -> bytes:
    """Read the body; for a form, fill ``fields`` first so even a refusal knows ``verbose``."""
    raw = read_body()
    fields.update(form_fields(raw) if legacy else request.args.to_dict())
    return raw


def _check_import_rate(project: Project, limits: Limits) -> None:
    decision = mock_context().limiter.hit(f"import:{project.project_id}", limits.import_requests_per_minute, 60)
    if not decision.allowed:
        raise RateLimited(RATE_LIMITED)


def _ingest_batch(project: Project, events: list[Any], source: str, require_insert_id: bool = True) -> IngestReport:
    if not events:
        raise BadBody("request body must contain at least one event")
    if len(events) > MAX_BATCH:
        raise BadBody(f"request exceeds max limit of {MAX_BATCH} events")
    return project.ingest(events, mock_context().clock.now(), source, require_insert_id)


def _failed_records(report: IngestReport) -> list[dict[str, Any]]:
    return [{"index": index, "$insert_id": insert_id, "field": failure.field, "message": failure.message}
            for index, insert_id, failure in report.failures]


def _import_refusal(refusal: MixpanelError, legacy: bool, fields: dict[str, str]) -> Response:
    status = IMPORT_STATUS[type(refusal)]
    if legacy:
        return _legacy_reply(fields, status, refusal.message, **refusal.extra)
    return _import_error(status, refusal.message, **refusal.extra)


def _import_error(status: int, message: str, **extra: Any) -> Response:
    """``/import``'s JSON error: ``{"code", "error", ..., "status": <reason phrase>}``."""
    body = {"code": status, "error": message, **extra, "status": STATUS_TEXT.get(status) or _phrase(status)}
    return json_reply(body, status)


def _phrase(status: int) -> str:
    try:
        return HTTPStatus(status).phrase
    except ValueError:
        return "Error"


def ingestion_error(status: int, message: str) -> Response:
    """An error the shared pipeline answers on an ingestion path, in that endpoint's reply style:
    ``/import``'s JSON error, or the legacy ``0`` / ``{"error", "status": 0}``. A body over the 64 MB
    cap is over ``/import``'s own limit too, and gets its text."""
    if status == 413:
        message = TOO_LARGE.format(limit=MAX_BODY_BYTES)
    if request.path == "/import" and not (is_form() or request.method == "GET"):
        return _import_error(status, message)
    return _legacy_reply(_readable_fields(), status, message)


def _readable_fields() -> dict[str, str]:
    """The form and query fields when the body can still be read (not over the cap), else the query's."""
    try:
        return form_fields(request.get_data(cache=True)) if is_form() else request.args.to_dict()
    except (HTTPException, MixpanelError):
        return request.args.to_dict()


def _legacy_reply(fields: dict[str, str], status: int, error: str | None, **extra: Any) -> Response:
    """``/track``-style reply: ``1`` / ``0``, or with ``verbose=1`` ``{"error", "status": 1|0}``."""
    ok = error is None
    if fields.get("verbose") == "1":
        return json_reply({"error": error, "status": 1 if ok else 0, **extra}, status)
    return Response("1" if ok else "0", status=status, mimetype="text/plain")


# -- /track and /engage --------------------------------------------------------------------------
def _token_endpoint(handler: Any) -> Response:
    """Read ``data`` (form, JSON body or query string) and hand the messages to ``handler``."""
    fields: dict[str, str] = {}
    try:
        raw = _read(fields, legacy=True)
        items = as_list(_json_body(raw) if not is_form() and _has_json_body(raw) else decode_data(fields.get("data")))
        if not items:
            raise BadBody("data, missing or empty")
        if len(items) > MAX_BATCH:
            raise BadBody(f"too many items in data: at most {MAX_BATCH} per request")
        error = handler(items)
    except MixpanelError as refusal:
        return _legacy_reply(fields, TOKEN_STATUS.get(type(refusal), 200), refusal.message)
    return _legacy_reply(fields, 200, error)


def _has_json_body(raw: bytes) -> bool:
    return (request.mimetype or "") == "application/json" and bool(raw.strip())


def _json_body(raw: bytes) -> Any:
    try:
        text = raw.decode("utf-8")
    except UnicodeDecodeError:
        raise BadBody("data, not valid JSON or base64-encoded JSON") from None
    return decode_data(text)


def _by_token(items: list[Any], token_of: Any) -> tuple[dict[int, tuple[Project, list[Any]]], str | None]:
    """Group messages by the project their token opens; the first token problem, if any."""
    store = current_store(MixpanelStore)
    groups: dict[int, tuple[Project, list[Any]]] = {}
    problem = None
    for item in items:
        token = token_of(item)
        project = store.project_by_token(token) if isinstance(token, str) else None
        if project is None:
            problem = problem or ("token, missing or empty" if not token else "token, not a valid project token")
            continue
        groups.setdefault(project.project_id, (project, []))[1].append(item)
    if not groups:
        raise TokenRefused(problem or "token, missing or empty")
    return groups, problem


def _track(items: list[Any]) -> str | None:
    """Store the events of each project; an error only when no event at all was accepted."""
    groups, problem = _by_token(items, lambda e: (e.get("properties") or {}).get("token")
                                if isinstance(e, dict) and isinstance(e.get("properties"), dict) else None)
    accepted, first_failure = 0, None
    for project, events in groups.values():
        report = project.ingest(events, mock_context().clock.now(), "track")
        accepted += report.imported + report.removed
        if report.failures and first_failure is None:
            first_failure = report.failures[0][2]
    if accepted:
        return None
    return first_failure.message if first_failure else problem


def _engage(items: list[Any]) -> str | None:
    now = mock_context().clock.now()
    return _apply_messages(items, parse_update, lambda project, update: project.update_profile(update, now))


def _groups(items: list[Any]) -> str | None:
    return _apply_messages(items, parse_group_update, Project.update_group)


def _apply_messages(items: list[Any], parse: Callable[[Any], Any], apply: Callable[[Project, Any], None]) -> str | None:
    """Apply each valid message to the project its ``$token`` opens; an error only when none applied."""
    groups, problem = _by_token(items, lambda m: m.get("$token") if isinstance(m, dict) else None)
    applied, first_problem = 0, None
    for project, messages in groups.values():
        for message in messages:
            update = parse(message)
            if isinstance(update, str):
                first_problem = first_problem or update
                continue
            apply(project, update)
            applied += 1
    if applied:
        return None
    return first_problem or problem
