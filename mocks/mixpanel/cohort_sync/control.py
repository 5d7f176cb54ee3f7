"""The control plane of Braze connections and cohort exports (SEED-3, SEED-4), and its installation.

Paths (the README's contract), under ``/_harness/projects/<pid>``:

* ``POST /connections``, ``GET /connections``, ``GET|PATCH /connections/<conn>``
* ``POST /exports`` (first sync at once), ``GET /exports``, ``GET /exports/<eid>`` (``?limit=N`` syncs)
* ``POST /exports/<eid>/stop``, ``/resume``, ``/run``

The rules live in :mod:`.scheduler`; this layer validates bodies against ``schemas/connection.json``
and ``schemas/export.json`` and turns the refusals of :mod:`.errors` into ``{"error": message}``
replies with the status of :data:`STATUS` (the one place where a refusal gets its status).
"""
from __future__ import annotations

from typing import Any, Callable, Protocol

from flask import Blueprint, Flask, Response, request

from mocks.common.app import ApiError, json_reply
from mocks.common.clock import Clock, ClockError, parse_duration
from mocks.common.numbers import MAX_DIGITS, id_or_text, parse_in_range
from mocks.common.validation import check_body, request_object, valid_body

from .errors import (BrazeUnreachable, CohortSyncError, CredentialsRefused, DynamicExportLimit,
                     ExportStateConflict, InvalidConnection, UnknownItem)
from .model import BrazeConnection, CohortExport
from .runner import SyncSettings
from .scheduler import CohortExportRegistry, ProjectDirectory

#: The store component's name: the key of the registry's state in a dump (fixtures pin it).
COMPONENT = "exports"
SCHEMAS = "mocks.mixpanel.cohort_sync"

#: The control plane's status for each refusal.
STATUS: dict[type[CohortSyncError], int] = {
    UnknownItem: 404, ExportStateConflict: 400, DynamicExportLimit: 400, InvalidConnection: 400,
    CredentialsRefused: 400, BrazeUnreachable: 502,
}


class ComponentHost(ProjectDirectory, Protocol):
    """The Mixpanel store as the installation needs it: projects, and components it resets, dumps
    and loads."""

    def attach(self, name: str, component: Any) -> None: ...


def install_cohort_sync(app: Flask, store: ComponentHost, clock: Clock,
                        settings: SyncSettings | None = None) -> CohortExportRegistry:
    """Attach the export registry to the store (reset, dump and load cover it), register it as a
    clock scheduler, and add the control plane (``settings``: the mock config's ``exports``)."""
    registry = CohortExportRegistry(store, clock, settings or SyncSettings())
    store.attach(COMPONENT, registry)
    clock.add_scheduler(registry)
    app.extensions["cohort_sync"] = registry
    app.register_blueprint(cohort_sync_blueprint(registry, store))
    return registry


def cohort_sync_blueprint(registry: CohortExportRegistry, projects: ProjectDirectory) -> Blueprint:
    bp = Blueprint("exports_control", __name__, url_prefix="/_harness/projects/<pid>")

    @bp.post("/connections")
    def add_connection(pid: str) -> Response:
        project_id = _project_id(projects, pid)
        body = valid_body(SCHEMAS, "connection")
        connection = _refusals(registry.add_connection, project_id, body)
        return json_reply(connection.to_dict(), 201)

    @bp.get("/connections")
    def list_connections(pid: str) -> Response:
        found = registry.connections(_project_id(projects, pid))
        return json_reply({"connections": [c.to_dict() for c in found]})

    @bp.get("/connections/<conn>")
    def get_connection(pid: str, conn: str) -> Response:
        return json_reply(_refusals(registry.connection, _project_id(projects, pid), conn).to_dict())

    @bp.patch("/connections/<conn>")
    def update_connection(pid: str, conn: str) -> Response:
        project_id = _project_id(projects, pid)
        current = _refusals(registry.connection, project_id, conn)
        changes = request_object()
        _valid_body("connection", {**_editable_fields(current), **changes})
        return json_reply(_refusals(registry.update_connection, project_id, conn, changes).to_dict())

    @bp.post("/exports")
    def create_export(pid: str) -> Response:
        project_id = _project_id(projects, pid)
        body = valid_body(SCHEMAS, "export")
        interval = _interval(body.get("interval"))
        export, _ = _refusals(registry.create_export, project_id, body["cohort_id"], body["connection_id"],
                                   body["mode"], interval)
        return json_reply(export.summary(), 201)

    @bp.get("/exports")
    def list_exports(pid: str) -> Response:
        return json_reply({"exports": [e.summary() for e in registry.exports(_project_id(projects, pid))]})

    @bp.get("/exports/<eid>")
    def get_export(pid: str, eid: str) -> Response:
        export = _refusals(registry.export, _project_id(projects, pid), eid)
        return json_reply(_export_detail(registry, export, _limit(request.args.get("limit"))))

    def state_change(action: Callable[..., Any]) -> Callable[[str, str], Response]:
        def handler(pid: str, eid: str) -> Response:
            result = _refusals(action, _project_id(projects, pid), eid)
            return json_reply(result[0].summary() if isinstance(result, tuple) else result.summary())
        return handler

    bp.add_url_rule("/exports/<eid>/stop", "stop_export", state_change(registry.stop), methods=["POST"])
    bp.add_url_rule("/exports/<eid>/resume", "resume_export", state_change(registry.resume), methods=["POST"])
    bp.add_url_rule("/exports/<eid>/run", "run_export", state_change(registry.run_now), methods=["POST"])
    return bp


# -- helpers ----------------------------------------------------------------------------------------------
def _error(status: int, message: str, **details: Any) -> ApiError:
    return ApiError(status, {"error": message, **details})


def _project_id(projects: ProjectDirectory, pid: str) -> int:
    """The project's id as the store keys it, or 404 with the store's message."""
    project_id = id_or_text(pid)
    if projects.find_project(project_id) is None:
        raise _error(404, f"no project {project_id!r}")
    return project_id  # type: ignore[return-value]


def _refusals(action: Callable[..., Any], *args: Any) -> Any:
    """Call the registry, turning its refusals into control-plane replies."""
    try:
        return action(*args)
    except CohortSyncError as exc:
        raise _error(STATUS[type(exc)], exc.message, **exc.details) from None


def _valid_body(schema: str, body: dict[str, Any]) -> dict[str, Any]:
    """The body, or 400 naming the first problem (a schema may word a rule with ``errorMessage``)."""
    return check_body(SCHEMAS, schema, body)


def _interval(text: str | None) -> Any:
    if text is None:
        return None
    try:
        interval = parse_duration(text)
    except ClockError as exc:
        raise _error(400, str(exc)) from None
    if interval.total_seconds() < 1:
        raise _error(400, "'interval' must be at least 1s")
    return interval


def _limit(text: str | None) -> int | None:
    if text is None:
        return None
    limit = parse_in_range(text, 1, 10 ** MAX_DIGITS)
    if limit is None:
        raise _error(400, "'limit' must be a positive integer")
    return limit


def _editable_fields(connection: BrazeConnection) -> dict[str, Any]:
    return {name: getattr(connection, name) for name in BrazeConnection.EDITABLE}


def _export_detail(registry: CohortExportRegistry, export: CohortExport, limit: int | None) -> dict[str, Any]:
    detail = export.to_dict()
    if limit is not None:
        detail["syncs"] = detail["syncs"][-limit:]
    snapshot = registry.snapshot_of(export)
    detail["snapshot"] = snapshot.summary() if snapshot else None
    return detail
