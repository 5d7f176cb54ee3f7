"""Braze's own endpoints, with the real paths, bodies, limits and messages (reference braze.md).

- Partner cohort import (``/partners/<partner>/cohorts`` and ``.../cohorts/users``): credentials in the
  body, checked in HOUSE-2's order: body is a JSON object, partner key, client secret, fields, size.
- The users REST endpoints and the list endpoints: ``Authorization: Bearer <REST API key>``, a
  permission per endpoint, ``x-ratelimit-*`` headers on every authenticated reply, 429 past the limit.

Errors are ``{"message": <text>}``. Rate-limit windows count on limiter time (``mocks/common/ratelimit.py``).
"""
from __future__ import annotations

import functools
from contextlib import contextmanager
from datetime import datetime
from typing import Any, Callable, Iterator

from flask import Blueprint, Response, request

from mocks.common.app import CONTROL_PREFIX, ApiError, current_store, json_reply, mock_context
from mocks.common.clock import ClockError, parse_instant
from mocks.common.numbers import parse_decimal, parse_in_range
from mocks.common.validation import InvalidBody, check_body, request_object

from . import reports, user_requests
from .store import BrazeStore, RestApiKey, Segment, Target, Workspace

BRAZE = "mocks.braze"
MAX_COHORT_IDENTIFIERS = 1000
INVALID_PARTNER_KEY = "Invalid Partner API key"
INVALID_CLIENT_SECRET = "Invalid client secret"
PARTNER_NOT_ENABLED = "Partner not enabled for client with client secret: {secret}"
UNAUTHORIZED_ACCESS = "Unauthorized access"
RESOURCE_LOCKED = "Resource locked"
TOO_MANY_IDENTIFIERS = "Only 1,000 `user_ids`, `device_ids`, and `aliases` are allowed per request"
INVALID_CREATED_AT = "`created_at` must be a valid time as an ISO-8601 string"
INVALID_API_KEY = "Invalid API key: {key}"
MISSING_PERMISSION = "This API key does not have the permission {permission!r}"
RATE_LIMITED = "Rate limit exceeded: {limit} requests per {window} seconds"
LIST_PAGE_SIZE = 100
SUCCESS = {"message": "success"}


def braze_error(status: int, message: str, headers: dict[str, str] | None = None) -> ApiError:
    """Braze's error shape: ``{"message": <text>}``."""
    return ApiError(status, {"message": message}, headers)


def braze_error_body(status: int, message: str) -> dict[str, str]:
    """The error body the shared pipeline uses for 404, 405, 413 and injected faults."""
    return {"message": message}


def _store() -> BrazeStore:
    return current_store(BrazeStore)


def _read_body(schema: str) -> dict[str, Any]:
    """The body as a JSON object; otherwise (not JSON, or not an object) the 400 the schema's root
    ``errorMessage`` gives for this endpoint (for partner calls, a documented Braze text)."""
    return request_object(BRAZE, schema)


def _check_body(schema: str, body: dict[str, Any]) -> None:
    check_body(BRAZE, schema, body)


@contextmanager
def _replies_with(headers: dict[str, str]) -> Iterator[None]:
    """Error replies raised inside carry ``headers`` too (the rate-limit headers), a body refused by its
    schema included (the reference's corrections: the headers come on every REST reply, errors included)."""
    try:
        yield
    except ApiError as error:
        error.headers = {**headers, **error.headers}
        raise
    except InvalidBody as error:
        raise braze_error(400, error.message, headers) from None


def _rate_limit(bucket: str, workspace: Workspace) -> dict[str, str]:
    """Count one call in the workspace's window for ``bucket``; the reply headers, or 429."""
    limit, window = _store().config.rate_limits[bucket]
    decision = mock_context().limiter.hit(f"{bucket}:{workspace.workspace_id}", limit, window)
    headers = decision.headers()
    if not decision.allowed:
        raise braze_error(429, RATE_LIMITED.format(limit=limit, window=window),
                          {**headers, "retry-after": str(decision.retry_after)})
    return headers


# -- partner cohort import ------------------------------------------------------------------------
def _authorize_partner(partner: str, body: dict[str, Any]) -> Workspace:
    """Partner key, then client secret (a data import key of this partner that is still active)."""
    store = _store()
    expected = store.partners.get(partner)
    if expected is None:
        raise braze_error(401, UNAUTHORIZED_ACCESS)
    if body.get("partner_api_key") != expected:
        raise braze_error(401, INVALID_PARTNER_KEY)
    secret = body.get("client_secret")
    found = store.resolve_import_key(secret) if isinstance(secret, str) else None
    if found is None:
        raise braze_error(401, INVALID_CLIENT_SECRET)
    workspace, key = found
    if key.partner != partner:
        raise braze_error(401, PARTNER_NOT_ENABLED.format(secret=secret))
    return workspace


def _check_created_at(body: dict[str, Any]) -> None:
    try:
        parse_instant(body["created_at"])
    except ClockError:
        raise braze_error(400, INVALID_CREATED_AT) from None


def _check_size(body: dict[str, Any]) -> None:
    """At most 1,000 identifiers over user_ids, device_ids and aliases of all change objects."""
    count = sum(len(c.get("user_ids") or ()) + len(c.get("device_ids") or ()) + len(c.get("aliases") or ())
                for c in body["cohort_changes"])
    if count > MAX_COHORT_IDENTIFIERS:
        raise braze_error(400, TOO_MANY_IDENTIFIERS)


def _accept_partner_call(partner: str, schema: str,
                         check: Callable[[dict[str, Any]], None]) -> tuple[Workspace, dict[str, Any], dict[str, str]]:
    """Every check of a partner call in HOUSE-2's order, then the cohort lock (423).
    Returns the workspace, the body and the rate-limit headers of the reply."""
    body = _read_body(schema)
    workspace = _authorize_partner(partner, body)
    headers = _rate_limit("partner", workspace)
    with _replies_with(headers):
        _check_body(schema, body)
        check(body)
        if workspace.cohorts.is_locked(partner, body["cohort_id"]):
            raise braze_error(423, RESOURCE_LOCKED)
    return workspace, body, headers


def partner_blueprint() -> Blueprint:
    bp = Blueprint("braze_partners", __name__)

    @bp.post("/partners/<partner>/cohorts")
    def cohort_name(partner: str) -> Response:
        with _store().lock:
            workspace, body, headers = _accept_partner_call(partner, "partner_cohort_name", _check_created_at)
            workspace.name_cohort(partner, body["cohort_id"], body["name"], body["created_at"])
        return json_reply(SUCCESS, 201, headers)

    @bp.post("/partners/<partner>/cohorts/users")
    def cohort_users(partner: str) -> Response:
        with _store().lock:
            workspace, body, headers = _accept_partner_call(partner, "partner_cohort_users", _check_size)
            workspace.apply_cohort_changes(partner, body["cohort_id"], body["cohort_changes"])
        return json_reply(SUCCESS, 201, headers)

    return bp


# -- REST API (Bearer keys) -----------------------------------------------------------------------
RestView = Callable[[Workspace], tuple[dict[str, Any], int]]


def _authenticate() -> tuple[Workspace, RestApiKey]:
    header = request.headers.get("Authorization", "")
    scheme, _, key = header.partition(" ")
    key = key.strip() if scheme.lower() == "bearer" else ""
    found = _store().resolve_rest_key(key) if key else None
    if found is None:
        raise braze_error(401, INVALID_API_KEY.format(key=key))
    return found


def _authorize(api_key: RestApiKey, permission: str) -> None:
    if not api_key.allows(permission):
        raise braze_error(403, MISSING_PERMISSION.format(permission=permission))


def _rest_endpoint(bp: Blueprint, rule: str, permission: str, bucket: str,
                   method: str = "POST") -> Callable[[RestView], RestView]:
    """Register a REST view ``view(workspace) -> (body, status)`` behind auth and rate limits."""
    def register(view: RestView) -> RestView:
        @bp.route(rule, methods=[method], endpoint=view.__name__)
        @functools.wraps(view)
        def handler() -> Response:
            with _store().lock:
                workspace, api_key = _authenticate()
                headers = _rate_limit(bucket, workspace)  # a 403 names its workspace: it counts and has headers
                with _replies_with(headers):
                    _authorize(api_key, permission)
                    body, status = view(workspace)
            return json_reply(body, status, headers)

        return view

    return register


def _checked_body(schema: str) -> dict[str, Any]:
    body = _read_body(schema)
    _check_body(schema, body)
    return body


def _checked_query(schema: str) -> dict[str, str]:
    """The query string (first value of each parameter) accepted by its schema: the GET endpoints' one
    validation path (a refusal is the schema's 400, with the rate-limit headers)."""
    return check_body(BRAZE, schema, request.args.to_dict())


def _query_instant(query: dict[str, str], name: str) -> datetime | None:
    if name not in query:
        return None
    try:
        return parse_instant(query[name])
    except ClockError:
        raise braze_error(400, f"'{name}' must be an ISO-8601 time") from None


def _not_found(kind_id: str, value: str) -> ApiError:
    return braze_error(404, f"{kind_id} {value!r} not found")


def _segment(workspace: Workspace, segment_id: str) -> Segment:
    segment = workspace.segments.get(segment_id)
    if segment is None:
        raise _not_found("segment_id", segment_id)
    return segment


def _target(workspace: Workspace, kind: str, query: dict[str, str]) -> Target:
    key = f"{kind}_id"
    target = workspace.targets[kind].get(query[key])
    if target is None:
        raise _not_found(key, query[key])
    return target


def _listed(workspace: Workspace, kind: str) -> list[Target]:
    query = _checked_query("targets_list")
    return reports.listed_targets(workspace.targets[kind].values(), query.get("include_archived") == "true",
                                  _query_instant(query, "last_edit.time[gt]"))


def _with_errors(reply: dict[str, Any], outcome: user_requests.Outcome) -> dict[str, Any]:
    if outcome.errors:
        reply["errors"] = outcome.errors
    return reply


def _aliases_reply(outcome: user_requests.Outcome, array: str) -> tuple[dict[str, Any], int]:
    """The reply of /users/identify and /users/alias/new: how many objects of ``array`` went through."""
    return _with_errors({"aliases_processed": outcome.processed.get(array, 0), "message": "success"}, outcome), 201


def _page_of(items: list[Any]) -> list[Any]:
    """``?page=`` (0-based, 100 per page) and ``?sort_direction=asc|desc`` (by creation time)."""
    page = request.args.get("page", "0")
    page_number = parse_decimal(page, strip=False)
    if page_number is None:
        raise braze_error(400, "'page' must be a non-negative integer")
    direction = request.args.get("sort_direction", "asc")
    if direction not in ("asc", "desc"):
        raise braze_error(400, "'sort_direction' must be 'asc' or 'desc'")
    ordered = items[::-1] if direction == "desc" else items
    start = page_number * LIST_PAGE_SIZE
    return ordered[start:start + LIST_PAGE_SIZE]


def rest_blueprint() -> Blueprint:
    bp = Blueprint("braze_rest", __name__)

    @_rest_endpoint(bp, "/users/track", "users.track", "users.track")
    def users_track(workspace: Workspace) -> tuple[dict[str, Any], int]:
        body = _checked_body("users_track")
        outcome = workspace.track(body)
        reply: dict[str, Any] = {"message": "success"}
        for array in ("attributes", "events", "purchases"):
            if array in body:
                reply[f"{array}_processed"] = outcome.processed.get(array, 0)
        return _with_errors(reply, outcome), 201

    @_rest_endpoint(bp, "/users/identify", "users.identify", "users.identity")
    def users_identify(workspace: Workspace) -> tuple[dict[str, Any], int]:
        body = _checked_body("users_identify")
        try:
            outcome = user_requests.identify(workspace.directory, body)
        except user_requests.RequestRejected as exc:
            raise braze_error(400, str(exc)) from None
        # Braze's reply has one count: every object of the three arrays that went through (docs/braze.md)
        return _with_errors({"aliases_processed": sum(outcome.processed.values()), "message": "success"},
                            outcome), 201

    @_rest_endpoint(bp, "/users/alias/new", "users.alias.new", "users.identity")
    def users_alias_new(workspace: Workspace) -> tuple[dict[str, Any], int]:
        body = _checked_body("users_alias_new")
        return _aliases_reply(user_requests.new_aliases(workspace.directory, body["user_aliases"]), "user_aliases")

    @_rest_endpoint(bp, "/users/alias/update", "users.alias.update", "users.identity")
    def users_alias_update(workspace: Workspace) -> tuple[dict[str, Any], int]:
        body = _checked_body("users_alias_update")
        return _aliases_reply(user_requests.update_aliases(workspace.directory, body["alias_updates"]),
                              "alias_updates")

    @_rest_endpoint(bp, "/users/export/ids", "users.export.ids", "users.export.ids")
    def users_export_ids(workspace: Workspace) -> tuple[dict[str, Any], int]:
        return user_requests.export_ids(workspace.directory, _checked_body("users_export_ids")), 201

    @_rest_endpoint(bp, "/users/export/segment", "users.export.segment", "default")
    def users_export_segment(workspace: Workspace) -> tuple[dict[str, Any], int]:
        body = _checked_body("users_export_segment")
        segment = _segment(workspace, body["segment_id"])
        prefix = _store().export_segment(workspace, segment.segment_id, body["fields_to_export"],
                                         body.get("custom_attributes_to_export"))
        url = f"{request.host_url.rstrip('/')}{CONTROL_PREFIX}/segment_exports/{prefix}.zip"
        return {"message": "success", "object_prefix": prefix, "url": url}, 201

    @_rest_endpoint(bp, "/users/delete", "users.delete", "users.identity")
    def users_delete(workspace: Workspace) -> tuple[dict[str, Any], int]:
        body = _checked_body("users_delete")
        try:
            deleted = user_requests.delete(workspace.directory, body)
        except user_requests.RequestRejected as exc:
            raise braze_error(400, str(exc)) from None
        return {"deleted": deleted, "message": "success"}, 201

    @_rest_endpoint(bp, "/users/merge", "users.merge", "users.identity")
    def users_merge(workspace: Workspace) -> tuple[dict[str, Any], int]:
        body = _checked_body("users_merge")
        try:
            user_requests.merge(workspace.directory, body["merge_updates"])
        except user_requests.RequestRejected as exc:
            raise braze_error(400, str(exc)) from None
        return dict(SUCCESS), 202

    @_rest_endpoint(bp, "/segments/list", "segments.list", "default", method="GET")
    def segments_list(workspace: Workspace) -> tuple[dict[str, Any], int]:
        segments = [{"id": s.segment_id, "name": s.name, "analytics_tracking_enabled": False, "tags": []}
                    for s in _page_of(list(workspace.segments.values()))]
        return {"message": "success", "segments": segments}, 200

    @_rest_endpoint(bp, "/segments/details", "segments.details", "default", method="GET")
    def segments_details(workspace: Workspace) -> tuple[dict[str, Any], int]:
        query = _checked_query("segments_details")
        return reports.segment_details(_segment(workspace, query["segment_id"])), 200

    @_rest_endpoint(bp, "/segments/data_series", "segments.data_series", "default", method="GET")
    def segments_data_series(workspace: Workspace) -> tuple[dict[str, Any], int]:
        query = _checked_query("segments_data_series")
        length = parse_in_range(query.get("length"), reports.MIN_SERIES_DAYS, reports.MAX_SERIES_DAYS)
        if length is None:
            raise braze_error(400, "'length' must be an integer between 1 and 100")
        ending_at = _query_instant(query, "ending_at") or _store().clock.now()
        segment = _segment(workspace, query["segment_id"])
        size = len(workspace.segment_users(segment.segment_id))
        return reports.data_series(segment, size, length, ending_at), 200

    @_rest_endpoint(bp, "/campaigns/list", "campaigns.list", "default", method="GET")
    def campaigns_list(workspace: Workspace) -> tuple[dict[str, Any], int]:
        campaigns = [{"id": t.target_id, "last_edited": t.created_at, "name": t.name, "is_api_campaign": False,
                      "tags": t.tags} for t in _page_of(_listed(workspace, "campaign"))]
        return {"message": "success", "campaigns": campaigns}, 200

    @_rest_endpoint(bp, "/campaigns/details", "campaigns.details", "default", method="GET")
    def campaigns_details(workspace: Workspace) -> tuple[dict[str, Any], int]:
        return reports.campaign_details(_target(workspace, "campaign", _checked_query("campaigns_details"))), 200

    @_rest_endpoint(bp, "/canvas/list", "canvas.list", "default", method="GET")
    def canvas_list(workspace: Workspace) -> tuple[dict[str, Any], int]:
        canvases = [{"id": t.target_id, "last_edited": t.created_at, "name": t.name, "tags": t.tags}
                    for t in _page_of(_listed(workspace, "canvas"))]
        return {"canvases": canvases, "message": "success"}, 200

    @_rest_endpoint(bp, "/canvas/details", "canvas.details", "default", method="GET")
    def canvas_details(workspace: Workspace) -> tuple[dict[str, Any], int]:
        return reports.canvas_details(_target(workspace, "canvas", _checked_query("canvas_details"))), 200

    return bp
