"""The Mixpanel control plane under ``/_harness`` (README "Mixpanel control plane"): projects, statistics, cohorts,
the mock-only bulk loaders and the rate limits. Errors are ``{"error": message}``."""
from __future__ import annotations

from datetime import datetime
from typing import Any

from flask import Blueprint, Response, request

from mocks.common import ClockError, control_error, json_reply, mock_context, parse_instant, to_iso
from mocks.common.app import current_store
from mocks.common.numbers import id_or_text
from mocks.common.validation import InvalidBody, valid_body

from .cohorts import Cohort
from .errors import CohortNotFound, CredentialsTaken, DefinitionError, MixpanelError, ProjectNotFound
from .limits import Limits
from .retention import VENDOR_DEFAULT
from .store import MixpanelStore, Project

#: The control plane's status for each refusal of the store's rules (the one place they get one).
STATUS: dict[type[MixpanelError], int] = {
    ProjectNotFound: 404, CohortNotFound: 404, CredentialsTaken: 409, DefinitionError: 400,
}


def validated(schema: str) -> dict[str, Any]:
    """The JSON object body, checked against ``schemas/<schema>.json`` (400 with where and why)."""
    try:
        return valid_body("mocks.mixpanel", schema)
    except InvalidBody as exc:
        raise control_error(400, f"invalid body at {exc.message}" if exc.location else exc.message) from None


def store() -> MixpanelStore:
    return current_store(MixpanelStore)


def project_of(pid: str) -> Project:
    return store().project(id_or_text(pid))  # type: ignore[arg-type]


def cohort_of(project: Project, cid: str) -> Cohort:
    return project.cohort(id_or_text(cid))  # type: ignore[arg-type]


def _instant_field(body: dict[str, Any], name: str) -> datetime | None:
    """An optional ISO-8601 instant of a control body; a bad one is a 400 naming the field."""
    if name not in body:
        return None
    try:
        return parse_instant(body[name])
    except ClockError as exc:
        raise control_error(400, f"invalid body at $.{name}: {exc}") from None


def _refusal_reply(error: MixpanelError) -> Response:
    """A refusal of the store's rules raised by a control view, with its status from :data:`STATUS`."""
    return json_reply({"error": error.message}, STATUS[type(error)])


def control_blueprint(limits: Limits) -> Blueprint:
    bp = Blueprint("mixpanel_control", __name__, url_prefix="/_harness")
    bp.register_error_handler(MixpanelError, _refusal_reply)

    # -- projects ------------------------------------------------------------------------------
    @bp.post("/projects")
    def create_project() -> Response:
        body = validated("project_create")
        now = mock_context().clock.now()
        created_at = _instant_field(body, "created_at") or now
        if created_at > now:
            raise control_error(400, f"created_at cannot be later than the mock clock's now ({to_iso(now)})")
        project = store().create_project(body["name"], body.get("retention_days", VENDOR_DEFAULT), body.get("token"),
                                         body.get("api_secret"), created_at)
        return json_reply(project.describe(), 201)

    @bp.get("/projects")
    def list_projects() -> Response:
        return json_reply({"projects": [p.describe() for p in list(store().projects.values())]})

    @bp.get("/projects/<pid>")
    def get_project(pid: str) -> Response:
        return json_reply(project_of(pid).describe())

    @bp.patch("/projects/<pid>")
    def update_project(pid: str) -> Response:
        project = project_of(pid)
        body = validated("project_patch")
        if "name" in body:
            project.name = body["name"]
        if "retention_days" in body:
            project.set_retention(body["retention_days"])
        return json_reply(project.describe())

    @bp.get("/projects/<pid>/stats")
    def stats(pid: str) -> Response:
        return json_reply(project_of(pid).stats(mock_context().clock.now()))

    # -- bulk loading (mock-only) --------------------------------------------------------------
    @bp.post("/projects/<pid>/profiles")
    def load_profiles(pid: str) -> Response:
        project = project_of(pid)
        items = validated("bulk_profiles")["profiles"]
        for index, item in enumerate(items):
            problem = _profile_item_problem(item)
            if problem:
                raise control_error(400, f"invalid body at $.profiles[{index}]: {problem}")
        written = project.set_profiles((item["distinct_id"], item.get("properties") or {}) for item in items)
        return json_reply({"profiles_written": written, "profiles": len(project.profiles)})

    @bp.get("/projects/<pid>/profiles/<path:distinct_id>")
    def get_profile(pid: str, distinct_id: str) -> Response:
        project = project_of(pid)
        if not project.has_profile(distinct_id):
            raise control_error(404, f"no profile for distinct_id {distinct_id!r}")
        return json_reply({"distinct_id": project.canonical_id(distinct_id),
                           "properties": project.profile_properties(distinct_id)})

    @bp.post("/projects/<pid>/events")
    def load_events(pid: str) -> Response:
        project = project_of(pid)
        events = validated("bulk_events")["events"]
        report = project.ingest(events, mock_context().clock.now())
        failed = [{"index": i, "$insert_id": insert_id, "field": f.field, "message": f.message}
                  for i, insert_id, f in report.failures]
        return json_reply({"num_records_imported": report.imported, "removed_by_retention": report.removed,
                           "duplicates": report.duplicates, "failed_records": failed})

    # -- cohorts -------------------------------------------------------------------------------
    @bp.post("/projects/<pid>/cohorts")
    def create_cohort(pid: str) -> Response:
        project = project_of(pid)
        body = validated("cohort_create")
        cohort = project.create_cohort(body["name"], body["definition"], mock_context().clock.now(),
                                       body.get("description", ""), body.get("is_visible", True))
        return json_reply(_cohort_view(project, cohort, with_count=False), 201)

    @bp.get("/projects/<pid>/cohorts")
    def list_cohorts(pid: str) -> Response:
        project = project_of(pid)
        return json_reply({"cohorts": [_cohort_view(project, c) for c in list(project.cohorts.values())]})

    @bp.get("/projects/<pid>/cohorts/<cid>")
    def get_cohort(pid: str, cid: str) -> Response:
        project = project_of(pid)
        return json_reply(_cohort_view(project, cohort_of(project, cid)))

    @bp.patch("/projects/<pid>/cohorts/<cid>")
    def update_cohort(pid: str, cid: str) -> Response:
        project = project_of(pid)
        cohort = cohort_of(project, cid)
        body = validated("cohort_patch")
        project.update_cohort(cohort.cohort_id, body)
        return json_reply(_cohort_view(project, cohort, with_count=False))

    @bp.get("/projects/<pid>/cohorts/<cid>/members")
    def cohort_members(pid: str, cid: str) -> Response:
        project = project_of(pid)
        cohort = cohort_of(project, cid)
        at = mock_context().clock.now()
        if request.args.get("at"):
            try:
                at = parse_instant(request.args["at"])
            except ClockError as exc:
                raise control_error(400, str(exc)) from None
        members = sorted(project.cohort_members(cohort.cohort_id, at))
        return json_reply({"cohort_id": cohort.cohort_id, "evaluated_at": to_iso(at), "count": len(members),
                           "members": members})

    # -- saved reports the Query API reads (funnels, annotations) --------------------------------
    @bp.post("/projects/<pid>/funnels")
    def create_funnel(pid: str) -> Response:
        project = project_of(pid)
        body = validated("funnel_create")
        return json_reply(project.create_funnel(body["name"], body["steps"], body.get("window_days", 30)).to_dict(), 201)

    @bp.post("/projects/<pid>/annotations")
    def add_annotation(pid: str) -> Response:
        project = project_of(pid)
        body = validated("annotation_create")
        try:
            datetime.strptime(body["date"], "%Y-%m-%d %H:%M:%S")
        except ValueError:
            raise control_error(400, f"invalid body at $.date: {body['date']!r} is not a real date and time") from None
        return json_reply(project.add_annotation(body["date"], body["description"]).to_dict(), 201)

    # -- limits --------------------------------------------------------------------------------
    @bp.get("/limits")
    def get_limits() -> Response:
        return json_reply(limits.to_dict())

    @bp.patch("/limits")
    def update_limits() -> Response:
        limits.update(validated("limits_patch"))
        return json_reply(limits.to_dict())

    return bp


def _profile_item_problem(item: Any) -> str | None:
    if not isinstance(item, dict):
        return "each profile must be a JSON object"
    distinct_id = item.get("distinct_id")
    if not isinstance(distinct_id, str) or not distinct_id:
        return "'distinct_id' must be a non-empty string"
    if not isinstance(item.get("properties", {}), dict):
        return "'properties' must be a JSON object"
    extra = set(item) - {"distinct_id", "properties"}
    return f"unexpected field {sorted(extra)[0]!r}" if extra else None


def _cohort_view(project: Project, cohort: Cohort, with_count: bool = True) -> dict[str, Any]:
    view = {"cohort_id": cohort.cohort_id, "project_id": project.project_id, "name": cohort.name,
            "description": cohort.description, "is_visible": cohort.is_visible, "definition": cohort.definition,
            "created_at": to_iso(cohort.created_at), "revision": cohort.revision}
    if with_count:
        view["count"] = project.cohort_count(cohort.cohort_id, mock_context().clock.now())
    return view

