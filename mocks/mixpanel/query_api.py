"""Mixpanel's Query API (``cohorts/list`` and ``engage`` under ``/api/query`` and ``/api/2.0``)
and the raw event export (``GET /api/2.0/export``), with their rate limits on the mock's clock.

Errors of these APIs are ``{"request": "<path?query>", "error": "<message>"}``, the shape Mixpanel
answers its 429s with.
"""
from __future__ import annotations

import json
import re
import zlib
from collections import Counter
from datetime import date, datetime, timedelta, timezone
from typing import Any, Callable, ContextManager, Iterator

from flask import Blueprint, Response, request

from mocks.common import ApiError, json_reply, mock_context
from mocks.common.app import current_store
from mocks.common.numbers import id_or_text, parse_decimal, parse_in_range

from .engage import EngageSessions, ProfileQuery, select_profiles
from .expressions import ExpressionError, Predicate, parse_where
from .limits import ConcurrencyGate, Limits, export_second_message, query_limit_message
from .reports import UNITS, Funnel, funnel_report, revenue_report
from .store import CohortNotFound, MixpanelStore, Project, to_ms
from .errors import BadBody, BodyTooLarge
from .wire import authenticated_project, form_fields, is_form, read_body

QUERY_PREFIXES = {"/api/query": "query", "/api/2.0": "v2"}
MAX_EXPORT_LIMIT = 100_000
#: The longest range a funnel or revenue report covers (the mock's bound on the work of one query).
MAX_REPORT_DAYS = 3660
BODY_NOT_PARAMETERS = "request body must be form fields or a JSON object of parameters"


def query_error(status: int, message: str) -> ApiError:
    return ApiError(status, query_error_body(message))


def query_error_body(message: str) -> dict[str, str]:
    """The Query and Export APIs' error shape: ``{"request": <path and query>, "error": message}``."""
    path = request.full_path[:-1] if request.full_path.endswith("?") else request.full_path
    return {"request": path, "error": message}


def query_blueprint(limits: Limits, sessions: EngageSessions) -> Blueprint:
    bp = Blueprint("mixpanel_query", __name__)
    gate = ConcurrencyGate()

    def cohorts_list() -> Response:
        project = _project()
        _params()  # no parameters of its own, but a body it cannot read is refused, not ignored
        with _query_slot(project, limits, gate):
            now = mock_context().clock.now()
            return json_reply([_cohort_entry(project, c.cohort_id, now) for c in list(project.cohorts.values())])

    def engage() -> Response:
        project = _project()
        with _query_slot(project, limits, gate):
            return json_reply(_engage_page(project, _params(), limits.engage_page_size, sessions))

    def engage_properties() -> Response:
        """The profile properties and their types (connectors read it before reading ``engage``)."""
        project = _project()
        _params()
        with _query_slot(project, limits, gate):
            profiles = [project.profile_properties(i) for i in project.profile_ids()]
            return json_reply({"results": property_summary(profiles), "session_id": sessions.open(
                project.project_id, []), "status": "ok"})

    for prefix, label in QUERY_PREFIXES.items():
        bp.add_url_rule(f"{prefix}/cohorts/list", f"cohorts_list_{label}", cohorts_list, methods=["GET", "POST"])
        bp.add_url_rule(f"{prefix}/engage", f"engage_{label}", engage, methods=["GET", "POST"])
        bp.add_url_rule(f"{prefix}/engage/properties", f"engage_properties_{label}", engage_properties,
                        methods=["GET", "POST"])

    @bp.route("/api/2.0/events/properties/top", methods=["GET", "POST"])
    def events_properties_top() -> Response:
        """``{"<prop>": {"count": n}}``: the event's most used properties, most used first."""
        project = _project()
        params = _params()
        name = params.get("event")
        if not name:
            raise query_error(400, "'event' is a required parameter")
        limit = _bounded_int(params.get("limit"), "limit", 10, 1, 10_000)
        with _query_slot(project, limits, gate):
            events = project.export(0, 2 ** 62, [name], mock_context().clock.now())
            counts = property_counts(e["properties"] for e in events)
            top = sorted(counts.items(), key=lambda item: (-item[1], item[0]))[:limit]
            return json_reply({key: {"count": count} for key, count in top})

    # -- saved reports: funnels, revenue, annotations (mocks/mixpanel/reports.py) -------------------
    @bp.route("/api/2.0/funnels/list", methods=["GET", "POST"])
    def funnels_list() -> Response:
        """``[{"funnel_id", "name"}]``: the project's saved funnels."""
        project = _project()
        _params()
        with _query_slot(project, limits, gate):
            return json_reply([{"funnel_id": f.funnel_id, "name": f.name} for f in list(project.funnels.values())])

    @bp.route("/api/2.0/funnels", methods=["GET", "POST"])
    def funnels() -> Response:
        project = _project()
        params = _params()
        funnel_id = parse_decimal(params.get("funnel_id") or "")
        if funnel_id is None:
            raise query_error(400, "funnel_id is a required parameter (an integer)")
        funnel = project.funnels.get(funnel_id)
        if funnel is None:
            raise query_error(400, f"no funnel {funnel_id} in project {project.project_id}")
        now = mock_context().clock.now()
        first, last, unit = _report_range(params, now)
        window = _bounded_int(params.get("length"), "length", funnel.window_days, 1, 366)
        where = _where(params)
        if params.get("on"):  # refused, not ignored: a segmented funnel would answer other figures
            raise query_error(400, "on is not supported by this mock; filter with where")
        funnel = Funnel(funnel.funnel_id, funnel.name, funnel.steps, window)
        start = to_ms(datetime.combine(first, datetime.min.time(), timezone.utc))
        end = to_ms(datetime.combine(last + timedelta(days=window + 1), datetime.min.time(), timezone.utc)) - 1
        with _query_slot(project, limits, gate):
            events = project.step_events(list(funnel.steps), start, end, now, where)
            return json_reply(funnel_report(funnel, events, first, last, unit))

    @bp.route("/api/2.0/engage/revenue", methods=["GET", "POST"])
    def revenue() -> Response:
        project = _project()
        params = _params()
        now = mock_context().clock.now()
        first, last, unit = _report_range(params, now)
        with _query_slot(project, limits, gate):
            profiles = [project.profile_properties(i) for i in project.profile_ids()]
            return json_reply({**revenue_report(profiles, first, last, unit, now),
                               "session_id": sessions.open(project.project_id, [])})

    @bp.route("/api/app/projects/<pid>/annotations", methods=["GET"])
    def annotations(pid: str) -> Response:
        """``{"results": [{"id", "project_id", "date", "description"}]}``, optionally between
        ``from_date`` and ``to_date`` (the dates annotated, inclusive)."""
        project = authenticated_project(current_store(MixpanelStore), allow_token=False, path_project_id=pid)
        if project is None:
            raise query_error(401, "Invalid credentials")
        params = request.args.to_dict()
        first = _date(params, "from_date").date() if params.get("from_date") else None
        last = _date(params, "to_date").date() if params.get("to_date") else None
        found = [a.to_dict() for a in list(project.annotations)
                 if (first is None or a.date[:10] >= first.isoformat()) and (last is None or a.date[:10] <= last.isoformat())]
        return json_reply({"results": found})

    @bp.get("/api/2.0/export")
    def export() -> Response:
        project = _project()
        params = request.args.to_dict()
        now = mock_context().clock.now()
        start_ms, end_ms, names, where, limit, in_ms = _export_params(params, now)
        key = f"export:{project.project_id}"
        _check_export_rate(project, limits, gate, key)
        # the raw export is not deduplicated: every copy of a duplicate, in ingestion order
        lines = _export_lines(project.export(start_ms, end_ms, names, now, in_ms, every_copy=True), where, limit)
        if not _accepts_gzip():
            return Response(_released(lines, gate, key), mimetype="text/plain")
        reply = Response(_gzipped(_released(lines, gate, key)), mimetype="text/plain")
        reply.headers["Content-Encoding"] = "gzip"
        return reply

    return bp


def _project() -> Project:
    project = authenticated_project(current_store(MixpanelStore), allow_token=False)
    if project is None:
        raise query_error(401, "Invalid credentials")
    return project


def _params() -> dict[str, str]:
    """Query string with the body's fields over it: a form, or a JSON object (Airbyte posts
    ``{"filter_by_cohort": "{\"id\": N}"}`` as JSON). A body that is neither is a 400, never ignored.
    The raw body stays readable for the journal."""
    try:
        if is_form():
            return form_fields(request.get_data(cache=True))
        raw = read_body()
    except BadBody as exc:
        raise query_error(400, str(exc)) from None
    except BodyTooLarge as exc:
        raise query_error(413, str(exc)) from None
    if not raw.strip():
        return request.args.to_dict()
    return {**request.args.to_dict(), **_json_object_fields(raw)}


def _json_object_fields(raw: bytes) -> dict[str, str]:
    """A JSON object body as parameters: strings as they are, other values as their JSON text
    (``{"filter_by_cohort": {"id": 2}}`` means the same as its string form)."""
    try:
        body = json.loads(raw)
    except (ValueError, RecursionError):
        body = None
    if not isinstance(body, dict):
        raise query_error(400, BODY_NOT_PARAMETERS)
    return {str(key): value if isinstance(value, str) else json.dumps(value) for key, value in body.items()}


# -- rate limits ---------------------------------------------------------------------------------
def _query_slot(project: Project, limits: Limits, gate: ConcurrencyGate) -> ContextManager[None]:
    """Count the query against 60/hour and 5 at once; 429 with Mixpanel's wording when over."""
    key = f"query:{project.project_id}"
    taken, running = gate.enter(key, limits.query_concurrency)
    if not taken:
        raise query_error(429, query_limit_message(project.project_id, running, limits.query_concurrency,
                                                   limits.query_per_hour, limits.query_per_hour))
    decision = mock_context().limiter.hit(key, limits.query_per_hour, 3600)
    if not decision.allowed:
        gate.leave(key)
        raise query_error(429, query_limit_message(project.project_id, running, limits.query_concurrency,
                                                   limits.query_per_hour + 1, limits.query_per_hour))
    return gate.held(key)


def _check_export_rate(project: Project, limits: Limits, gate: ConcurrencyGate, key: str) -> None:
    pid = project.project_id
    taken, running = gate.enter(key, limits.export_concurrency)
    if not taken:
        raise query_error(429, query_limit_message(pid, running, limits.export_concurrency,
                                                   limits.export_per_hour, limits.export_per_hour))
    limiter = mock_context().limiter
    if not limiter.hit(key + ":second", limits.export_per_second, 1).allowed:
        gate.leave(key)
        raise query_error(429, export_second_message(pid, limits.export_per_second + 1, limits.export_per_second))
    if not limiter.hit(key + ":hour", limits.export_per_hour, 3600).allowed:
        gate.leave(key)
        raise query_error(429, query_limit_message(pid, running, limits.export_concurrency,
                                                   limits.export_per_hour + 1, limits.export_per_hour))


def _released(lines: Iterator[str], gate: ConcurrencyGate, key: str) -> Iterator[str]:
    """Stream the export and give its concurrency slot back when done (or abandoned)."""
    with gate.held(key):
        yield from lines


# -- cohorts/list --------------------------------------------------------------------------------
def _cohort_entry(project: Project, cohort_id: int, now: datetime) -> dict[str, Any]:
    cohort = project.cohort(cohort_id)
    return {"count": project.cohort_count(cohort_id, now), "is_visible": 1 if cohort.is_visible else 0,
            "description": cohort.description, "created": cohort.created_at.strftime("%Y-%m-%d %H:%M:%S"),
            "project_id": project.project_id, "id": cohort.cohort_id, "name": cohort.name}


# -- engage --------------------------------------------------------------------------------------
def _engage_page(project: Project, params: dict[str, str], max_page_size: int, sessions: EngageSessions
                 ) -> dict[str, Any]:
    page = _page_number(params.get("page"))
    page_size = _page_size(params.get("page_size"), max_page_size)
    session_id = params.get("session_id") or None
    if page > 0 and session_id is None:
        raise query_error(400, "page > 0 needs the session_id of the first page's reply")
    ids = sessions.get(project.project_id, session_id) if session_id else None
    if session_id and ids is None:
        raise query_error(400, f"session_id {session_id!r} is unknown or has expired; ask page 0 again")
    group_key = params.get("data_group_id")
    properties_of = _group_properties(project, params, group_key) if group_key else project.profile_properties
    if ids is None:
        ids = (sorted(project.group_ids(group_key)) if group_key
               else select_profiles(project, _profile_query(project, params), mock_context().clock.now()))
        session_id = sessions.open(project.project_id, ids)
    output = _json_param(params, "output_properties", list)
    results = [{"$distinct_id": distinct_id, "$properties": _shown(properties_of(distinct_id), output)}
               for distinct_id in ids[page * page_size:(page + 1) * page_size]]
    return {"page": page, "page_size": page_size, "results": results, "session_id": session_id,
            "status": "ok", "total": len(ids)}


#: Filters the mock applies to user profiles only; with ``data_group_id`` they are refused, not ignored.
USER_ONLY_FILTERS = ("filter_by_cohort", "where", "distinct_id", "distinct_ids", "behaviors")


def _group_properties(project: Project, params: dict[str, str], group_key: str) -> Callable[[str], dict[str, Any]]:
    """``data_group_id`` reads the group profiles of that group key (``/groups``)."""
    used = [name for name in USER_ONLY_FILTERS if params.get(name)]
    if used:
        raise query_error(400, f"{used[0]} cannot be combined with data_group_id in this mock")
    return lambda group_id: project.group_properties(group_key, group_id)


def _page_number(value: str | None) -> int:
    if value is None or value == "":
        return 0
    number = parse_decimal(value)
    if number is None:
        raise query_error(400, "page must be a non-negative integer")
    return number


def _page_size(value: str | None, maximum: int) -> int:
    """``page_size`` (Airbyte sends it): 1 up to the configured page size (Mixpanel's 1,000), which is the default."""
    return _bounded_int(value, "page_size", maximum, 1, maximum)


def _bounded_int(value: str | None, name: str, default: int, low: int, high: int) -> int:
    if value is None or value == "":
        return default
    number = parse_in_range(value, low, high)
    if number is None:
        raise query_error(400, f"{name} must be an integer from {low} to {high}")
    return number


# -- schema endpoints ----------------------------------------------------------------------------
#: Columns every exported event carries: not properties a user chose, so not in ``events/properties/top``.
EVENT_COLUMNS = frozenset({"time", "distinct_id", "$insert_id", "mp_processing_time_ms"})
_DATETIME = re.compile(r"\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}")


def property_type(value: Any) -> str:
    """Mixpanel's type names; a string shaped like ``YYYY-MM-DDTHH:MM:SS`` is a datetime, as Mixpanel infers it."""
    if isinstance(value, bool):
        return "boolean"
    if isinstance(value, (int, float)):
        return "number"
    if isinstance(value, list):
        return "list"
    if isinstance(value, dict):
        return "object"
    return "datetime" if isinstance(value, str) and _DATETIME.match(value) else "string"


def property_summary(profiles: list[dict[str, Any]]) -> dict[str, dict[str, Any]]:
    """Per property: how many profiles have it, and its most common type (the first seen on a tie)."""
    types: dict[str, Counter[str]] = {}
    for profile in profiles:
        for key, value in profile.items():
            types.setdefault(key, Counter())[property_type(value)] += 1
    return {key: {"count": sum(seen.values()), "type": seen.most_common(1)[0][0]} for key, seen in sorted(types.items())}


def property_counts(properties: Iterator[dict[str, Any]]) -> Counter[str]:
    counts: Counter[str] = Counter()
    for props in properties:
        counts.update(key for key in props if key not in EVENT_COLUMNS)
    return counts


def _profile_query(project: Project, params: dict[str, str]) -> ProfileQuery:
    if params.get("behaviors"):
        if params.get("filter_by_cohort"):
            raise query_error(400, "behaviors and filter_by_cohort are mutually exclusive")
        raise query_error(400, "behaviors is not supported by this mock; use filter_by_cohort")
    cohort_id = _cohort_filter(project, params)
    ids = _json_param(params, "distinct_ids", list)
    if ids is not None and not all(isinstance(i, str) for i in ids):
        raise query_error(400, "distinct_ids must be a JSON array of strings")
    if params.get("distinct_id"):
        ids = [params["distinct_id"]] + (ids or [])
    where = _where(params)
    include_all = params.get("include_all_users", "true").strip().lower() not in ("false", "0")
    return ProfileQuery(cohort_id, where, tuple(ids) if ids is not None else None, include_all)


def _cohort_filter(project: Project, params: dict[str, str]) -> int | None:
    spec = _json_param(params, "filter_by_cohort", dict)
    if spec is None:
        return None
    cohort_id = spec.get("id")
    if isinstance(cohort_id, str):
        cohort_id = id_or_text(cohort_id)
    if not isinstance(cohort_id, int) or isinstance(cohort_id, bool):
        raise query_error(400, 'filter_by_cohort must be a JSON object like {"id": 123}')
    try:
        project.cohort(cohort_id)
    except CohortNotFound:
        raise query_error(400, f"cohort {cohort_id} does not exist in project {project.project_id}") from None
    return cohort_id


def _where(params: dict[str, str]) -> Predicate | None:
    if not params.get("where"):
        return None
    try:
        return parse_where(params["where"])
    except ExpressionError as exc:
        raise query_error(400, f"invalid where expression: {exc}") from None


def _json_param(params: dict[str, str], name: str, kind: type) -> Any:
    text = params.get(name)
    if text is None or text == "":
        return None
    try:
        value = json.loads(text)
    except (ValueError, RecursionError):
        raise query_error(400, f"{name} must be valid JSON") from None
    if not isinstance(value, kind):
        raise query_error(400, f"{name} must be a JSON {'array' if kind is list else 'object'}")
    return value


def _shown(properties: dict[str, Any], output: list[Any] | None) -> dict[str, Any]:
    if output is None:
        return properties
    return {k: properties[k] for k in output if isinstance(k, str) and k in properties}


# -- export --------------------------------------------------------------------------------------
def _export_params(params: dict[str, str], now: datetime) -> tuple[int, int, list[str] | None, Any, int | None, bool]:
    start, end = _date(params, "from_date"), _date(params, "to_date")
    if end < start:
        raise query_error(400, "to_date must not be before from_date")
    if end.date() > now.astimezone(timezone.utc).date():  # "today" is the mock clock's UTC day
        raise query_error(400, "to_date cannot be later than today")
    names = _json_param(params, "event", list)
    if names is not None and not all(isinstance(n, str) for n in names):
        raise query_error(400, "event must be a JSON array of event names")
    where = _where(params)
    limit = None
    if params.get("limit"):
        limit = parse_in_range(params["limit"], 1, MAX_EXPORT_LIMIT)
        if limit is None:
            raise query_error(400, f"limit must be an integer between 1 and {MAX_EXPORT_LIMIT}")
    in_ms = params.get("time_in_ms", "").strip().lower() in ("true", "1")
    return to_ms(start), to_ms(end + timedelta(days=1)) - 1, names, where, limit, in_ms


def _report_range(params: dict[str, str], now: datetime) -> tuple[date, date, str]:
    """``from_date``, ``to_date`` (not after today, the mock clock's UTC day) and ``unit`` of a report."""
    first, last = _date(params, "from_date").date(), _date(params, "to_date").date()
    if last < first:
        raise query_error(400, "to_date must not be before from_date")
    if last > now.astimezone(timezone.utc).date():
        raise query_error(400, "to_date cannot be later than today")
    if (last - first).days > MAX_REPORT_DAYS:
        raise query_error(400, f"the range from from_date to to_date is at most {MAX_REPORT_DAYS} days")
    unit = params.get("unit") or "day"
    if unit not in UNITS:
        raise query_error(400, f"unit must be one of {', '.join(UNITS)}")
    return first, last, unit


def _date(params: dict[str, str], name: str) -> datetime:
    text = params.get(name)
    if not text:
        raise query_error(400, f"{name} is a required parameter (yyyy-mm-dd)")
    try:
        return datetime.strptime(text.strip(), "%Y-%m-%d").replace(tzinfo=timezone.utc)
    except ValueError:
        raise query_error(400, f"{name} must be a date in yyyy-mm-dd format") from None


def _export_lines(events: Iterator[dict[str, Any]], where: Any, limit: int | None) -> Iterator[str]:
    sent = 0
    for event in events:
        if limit is not None and sent >= limit:
            return
        if where is not None and not where(event["properties"]):
            continue
        sent += 1
        event["properties"]["mp_processing_time_ms"] = _processing_time_ms(event["properties"])
        yield json.dumps(event, separators=(",", ":")) + "\n"


def _processing_time_ms(properties: dict[str, Any]) -> int:
    """The mock keeps no ingestion instant per event, so an event counts as processed at its own time
    (in ms; ``time`` is in seconds unless ``time_in_ms``); docs/clients.md says so."""
    time = properties["time"]
    return time if time >= 10_000_000_000 else time * 1000


def _accepts_gzip() -> bool:
    return any(part.split(";")[0].strip().lower() == "gzip"
               for part in request.headers.get("Accept-Encoding", "").split(","))


def _gzipped(chunks: Iterator[str]) -> Iterator[bytes]:
    """Stream the export gzipped (``Accept-Encoding: gzip``), one compressor over the whole reply."""
    compressor = zlib.compressobj(6, zlib.DEFLATED, 31)
    for chunk in chunks:
        data = compressor.compress(chunk.encode())
        if data:
            yield data
    yield compressor.flush()
