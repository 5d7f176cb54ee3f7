"""The Mixpanel mock's dashboard (issue 14): projects, Integrations > Braze (SEED-3), cohorts and
Export to Braze (SEED-4), each export's status, schedule, controls and sync history, and profiles.

Actions call the :class:`~.cohort_sync.scheduler.CohortExportRegistry` and the store exactly as the control plane
does; a connection's body is checked by the control plane's own schema check. Braze's refusal of a
key is shown in Braze's words.
"""
from __future__ import annotations

import functools
import json
from datetime import datetime, timezone
from typing import Any, Callable

from flask import Blueprint, request, url_for

from mocks.common.app import ApiError, mock_context
from mocks.common.clock import to_iso
from mocks.common.validation import InvalidBody, check_body
from mocks.common.ui import (FormError, Notice, Page, UiError, done, form_choice, form_text, masked, render,
                             vendor_blueprint, whole_number)
from mocks.common.ui.chart import adds_and_removes

from .cohort_sync.control import SCHEMAS
from .cohort_sync.errors import CohortSyncError, UnknownItem
from .cohort_sync.model import ACTIVE, DYNAMIC, ONE_TIME, PAUSED, CohortExport, SyncRecord
from .cohort_sync.scheduler import CohortExportRegistry
from .errors import CohortNotFound, ProjectNotFound
from .store import MixpanelStore, Project

HOME = "mixpanel_ui.home"
#: radio value -> label (the seed's words)
MODES = {ONE_TIME: "One-time sync", DYNAMIC: "Dynamic sync"}
#: the connect form's fields -> their labels, also used to word the schema's complaints
CONNECT_FIELDS = {"data_import_key": "Braze data import key", "rest_endpoint": "REST endpoint", "name": "Name"}
CHART_SYNCS = 500


def _store() -> MixpanelStore:
    return mock_context().store  # type: ignore[return-value]


def status_label(export: CohortExport) -> str:
    return export.status.capitalize()


def _guarded(view: Callable[..., Any]) -> Callable[..., Any]:
    """Unknown projects, cohorts, connections and exports are error pages, never a 500."""
    @functools.wraps(view)
    def handler(*args: Any, **kwargs: Any) -> Any:
        try:
            return view(*args, **kwargs)
        except (ProjectNotFound, CohortNotFound) as exc:
            raise UiError(404, exc.message) from None
        except UnknownItem as exc:
            raise UiError(404, exc.message) from None

    return handler


def _project(pid: str) -> Project:
    return _store().project(_number(pid))  # type: ignore[arg-type]


def _number(text: str) -> int | str:
    """A path id as the store keys it: a whole number, else the text (which no project or cohort has)."""
    found = whole_number(text)
    return text if found is None else found


def ui_blueprint(registry: CohortExportRegistry) -> Blueprint:
    bp = vendor_blueprint("mixpanel_ui", __name__)
    bp.add_app_template_filter(_iso_ms, "iso_ms")
    project_path = "/projects/<pid>"

    def page(template: str, project: Project | None, section: str, crumbs: list[tuple[str, str | None]],
             status: int = 200, **context: Any) -> tuple[str, int]:
        trail = [("Projects", url_for(HOME))]
        if project is not None:
            trail.append((project.name, url_for("mixpanel_ui.project", pid=project.project_id)))
        title = crumbs[-1][0] if crumbs else (project.name if project else "Projects")
        projects = list(_store().projects.values())
        return render(template, status, title=title, project=project, projects=projects, section=section,
                      picker_options=[(p.project_id, p.name) for p in projects], breadcrumbs=trail + crumbs, status_label=status_label, modes=MODES, **context)

    def export_of(p: Project, eid: str) -> CohortExport:
        """Only a whole number reaches the registry (it would take ``"²"`` for a number)."""
        number = whole_number(eid)
        if number is None:
            raise UiError(404, f"no export {eid} in project {p.project_id}")
        return registry.export(p.project_id, number)

    # -- projects ------------------------------------------------------------------------------------
    @bp.get("/")
    def home() -> Any:
        return page("mixpanel/home.html", None, "home", [])

    @bp.get("/pick")
    @_guarded
    def pick() -> Any:
        """The project picker in the header (a plain GET form, no script)."""
        return done("mixpanel_ui.project", pid=_project(request.args.get("project", "")).project_id)

    @bp.post("/projects")
    def create_project() -> Any:
        try:
            name = form_text("name", "Project name")
        except FormError as error:
            return page("mixpanel/home.html", None, "home", [], 400, error=error)
        project = _store().create_project(name)
        return done("mixpanel_ui.project", Notice(f"Project {name} created."), pid=project.project_id)

    @bp.get(project_path)
    @_guarded
    def project(pid: str) -> Any:
        p = _project(pid)
        return page("mixpanel/project.html", p, "overview", [], stats=p.stats(mock_context().clock.now()))

    # -- Integrations > Braze (SEED-3) -----------------------------------------------------------------
    @bp.get(project_path + "/integrations")
    @_guarded
    def integrations(pid: str) -> Any:
        p = _project(pid)
        return page("mixpanel/integrations.html", p, "integrations", [("Integrations", None)])

    def braze_crumbs(p: Project) -> list[tuple[str, str | None]]:
        return [("Integrations", url_for("mixpanel_ui.integrations", pid=p.project_id)),
                ("Braze", url_for("mixpanel_ui.braze", pid=p.project_id))]

    @bp.get(project_path + "/integrations/braze")
    @_guarded
    def braze(pid: str) -> Any:
        p = _project(pid)
        exports = registry.exports(p.project_id)
        return page("mixpanel/braze.html", p, "integrations", braze_crumbs(p)[:1] + [("Braze", None)],
                    connections=registry.connections(p.project_id), exports=exports,
                    cohort_names={c.cohort_id: c.name for c in p.cohorts.values()})

    def connect_form(p: Project, status: int = 200, **context: Any) -> tuple[str, int]:
        return page("mixpanel/connect.html", p, "integrations", braze_crumbs(p) + [("Connect", None)], status,
                    form=request.form, **context)

    @bp.get(project_path + "/integrations/braze/connect")
    @_guarded
    def connect(pid: str) -> Any:
        return connect_form(_project(pid))

    @bp.post(project_path + "/integrations/braze/connect")
    @_guarded
    def save_connection(pid: str) -> Any:
        p = _project(pid)
        try:
            fields = {"data_import_key": form_text("data_import_key", CONNECT_FIELDS["data_import_key"], max_length=500),
                      "rest_endpoint": form_text("rest_endpoint", CONNECT_FIELDS["rest_endpoint"], max_length=500),
                      "name": form_text("name", CONNECT_FIELDS["name"], required=False)}
            connection = registry.add_connection(p.project_id, _checked_connection(fields))
        except FormError as error:
            return connect_form(p, 400, error=error)
        except CohortSyncError as exc:
            return connect_form(p, 400, error=FormError(_refusal_text(exc, request.form.get("data_import_key", ""))))
        label = connection.name or f"connection {connection.connection_id}"
        return done("mixpanel_ui.braze", Notice(f"Braze accepted the key: {label} saved."), pid=p.project_id)

    # -- Cohorts and Export to Braze (SEED-4) -------------------------------------------------------------
    def cohort_crumbs(p: Project) -> list[tuple[str, str | None]]:
        return [("Cohorts", url_for("mixpanel_ui.cohorts", pid=p.project_id))]

    @bp.get(project_path + "/cohorts")
    @_guarded
    def cohorts(pid: str) -> Any:
        p = _project(pid)
        now = mock_context().clock.now()
        rows = [(c, p.cohort_count(c.cohort_id, now)) for c in list(p.cohorts.values())]
        return page("mixpanel/cohorts.html", p, "cohorts", [("Cohorts", None)], rows=rows)

    @bp.get(project_path + "/cohorts/<cid>")
    @_guarded
    def cohort(pid: str, cid: str) -> Any:
        p = _project(pid)
        found = p.cohort(_number(cid))  # type: ignore[arg-type]
        members = sorted(p.cohort_members(found.cohort_id, mock_context().clock.now()))
        exports = [e for e in registry.exports(p.project_id) if e.cohort_id == found.cohort_id]
        return page("mixpanel/cohort.html", p, "cohorts", cohort_crumbs(p) + [(found.name, None)], cohort=found,
                    members=Page.of(members), exports=exports, cohort_names={found.cohort_id: found.name},
                    definition=json.dumps(found.definition, indent=2, sort_keys=True))

    def export_form(p: Project, cid: str, status: int = 200, **context: Any) -> tuple[str, int]:
        found = p.cohort(_number(cid))  # type: ignore[arg-type]
        crumbs = cohort_crumbs(p) + [(found.name, url_for("mixpanel_ui.cohort", pid=p.project_id, cid=cid)),
                                     ("Export to Braze", None)]
        return page("mixpanel/export_new.html", p, "cohorts", crumbs, status, cohort=found,
                    connections=registry.connections(p.project_id), form=request.form, **context)

    @bp.get(project_path + "/cohorts/<cid>/export")
    @_guarded
    def new_export(pid: str, cid: str) -> Any:
        return export_form(_project(pid), cid)

    @bp.post(project_path + "/cohorts/<cid>/export")
    @_guarded
    def create_export(pid: str, cid: str) -> Any:
        p = _project(pid)
        found = p.cohort(_number(cid))  # type: ignore[arg-type]
        try:
            connections = [str(c.connection_id) for c in registry.connections(p.project_id)]
            if not connections:
                raise FormError("Connect Braze first (Integrations › Braze › Connect).")
            connection_id = form_choice("connection", "Braze connection", connections)
            mode = form_choice("mode", "Sync", list(MODES))
            export, record = registry.create_export(p.project_id, found.cohort_id, int(connection_id), mode)
        except FormError as error:
            return export_form(p, cid, 400, error=error)
        except CohortSyncError as exc:
            return export_form(p, cid, 400, error=FormError(exc.message))
        return done("mixpanel_ui.export", Notice(f"{MODES[mode]} created; first sync: {_sync_line(record)}"),
                    pid=p.project_id, eid=export.export_id)

    # -- exports ------------------------------------------------------------------------------------------
    @bp.get(project_path + "/exports/<eid>")
    @_guarded
    def export(pid: str, eid: str) -> Any:
        p = _project(pid)
        found = export_of(p, eid)
        numbered = _numbered(found)
        chart = adds_and_removes([(r.scheduled_at, r.added, r.removed, f"Sync {n} at {_iso(r)}")
                                  for n, r in numbered[-CHART_SYNCS:]])
        cohort_name = p.cohorts[found.cohort_id].name if found.cohort_id in p.cohorts else str(found.cohort_id)
        return page("mixpanel/export.html", p, "cohorts",
                    [("Integrations", url_for("mixpanel_ui.integrations", pid=p.project_id)),
                     ("Braze", url_for("mixpanel_ui.braze", pid=p.project_id)), (f"Export {found.export_id}", None)],
                    export=found, cohort_name=cohort_name, chart=chart, chart_syncs=min(len(numbered), CHART_SYNCS),
                    syncs=Page.of(numbered[::-1]), connection=registry.connection(p.project_id, found.connection_id),
                    ACTIVE=ACTIVE, PAUSED=PAUSED)

    @bp.post(project_path + "/exports/<eid>/<any(stop, resume, run):action>")
    @_guarded
    def export_action(pid: str, eid: str, action: str) -> Any:
        p = _project(pid)
        export_of(p, eid)  # an unknown export is a 404 page, not a notice on one
        try:
            if action == "stop":
                registry.stop(p.project_id, eid)
                text = "Export stopped."
            else:
                _, record = (registry.resume if action == "resume" else registry.run_now)(p.project_id, eid)
                text = f"Synced: {_sync_line(record)}"
        except CohortSyncError as exc:
            return done("mixpanel_ui.export", Notice(exc.message, "error"), pid=p.project_id, eid=eid)
        return done("mixpanel_ui.export", Notice(text), pid=p.project_id, eid=eid)

    @bp.get(project_path + "/exports/<eid>/syncs/<number>")
    @_guarded
    def sync(pid: str, eid: str, number: str) -> Any:
        p = _project(pid)
        found = export_of(p, eid)
        kept = dict(_numbered(found))
        if whole_number(number) not in kept:
            raise UiError(404, f"sync {number} of export {found.export_id} is not kept (the newest "
                               f"{len(kept)} are)")
        record = kept[int(number)]  # a whole number, checked above
        return page("mixpanel/sync.html", p, "cohorts",
                    [("Braze", url_for("mixpanel_ui.braze", pid=p.project_id)),
                     (f"Export {found.export_id}", url_for("mixpanel_ui.export", pid=p.project_id, eid=eid)),
                     (f"Sync {number}", None)], export=found, record=record,
                    detail=record.to_dict(), operations=Page.of(record.to_dict()["operations"]))

    # -- profiles -----------------------------------------------------------------------------------------
    @bp.get(project_path + "/profiles")
    @_guarded
    def profiles(pid: str) -> Any:
        p = _project(pid)
        query = request.args.get("q", "").strip()
        ids = sorted(i for i in p.profile_ids() if query.lower() in i.lower())
        return page("mixpanel/profiles.html", p, "profiles", [("Users", None)], profiles=Page.of(ids), query=query)

    @bp.get(project_path + "/profiles/<path:distinct_id>")
    @_guarded
    def profile(pid: str, distinct_id: str) -> Any:
        p = _project(pid)
        events = p.user_events(distinct_id, mock_context().clock.now())
        if not p.has_profile(distinct_id) and not events:
            raise UiError(404, f"no profile or event for distinct_id {distinct_id!r}")
        canonical = p.canonical_id(distinct_id)
        return page("mixpanel/profile.html", p, "profiles",
                    [("Users", url_for("mixpanel_ui.profiles", pid=p.project_id)), (canonical, None)],
                    distinct_id=canonical, asked=distinct_id, properties=p.profile_properties(distinct_id),
                    merged=p.merged_ids(distinct_id), events=Page.of(events),
                    expired=sum(1 for e in events if e["expired"]), retention_days=p.retention_days)

    return bp


def _checked_connection(fields: dict[str, str]) -> dict[str, str]:
    """The control plane's schema check of a connection, its complaint worded with the form's labels."""
    body = {k: v for k, v in fields.items() if v or k != "name"}
    try:
        return check_body(SCHEMAS, "connection", body)
    except InvalidBody as exc:
        message = exc.message
        for name, label in CONNECT_FIELDS.items():
            message = message.replace(f"$.{name}", label)
        raise FormError(message) from None


def _refusal_text(error: CohortSyncError, secret: str) -> str:
    """Braze's words, except the key itself (Braze may quote it back): a page shows a key masked."""
    message = error.message.replace(secret.strip(), masked(secret.strip())) if secret.strip() else error.message
    status = error.details.get("braze_status")
    return f"Braze refused the connection (HTTP {status}): {message}" if status else message


def _numbered(export: CohortExport) -> list[tuple[int, SyncRecord]]:
    """The kept syncs with their numbers since the export began (older ones fall out of the history)."""
    first = export.sync_count - len(export.syncs) + 1
    return list(enumerate(export.syncs, first))


def _iso(record: SyncRecord) -> str:
    return record.summary()["scheduled_at"]


def _iso_ms(ms: int) -> str:
    return to_iso(datetime.fromtimestamp(ms / 1000, timezone.utc))


def _sync_line(record: SyncRecord) -> str:
    line = f"{record.result}, +{record.added} added, −{record.removed} removed, {record.unchanged} unchanged"
    return line + (f" ({record.error})" if record.error else "")
