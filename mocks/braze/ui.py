"""The Braze mock's dashboard (issue 14): the seed's Braze screens, over the same store calls the
control plane makes (SEED-2 keys, SEED-5 segments and targeting, SEED-6 the match log).

Every view holds the store lock, as the control plane's views do. A key never appears in a URL or in
a page in full, except once, right after it was generated (a one-time notice).
"""
from __future__ import annotations

import functools
from typing import Any, Callable

from flask import Blueprint, request, url_for

from mocks.common.app import mock_context
from mocks.common.ui import (FormError, Notice, Page, UiError, done, form_choice, form_text, render, vendor_blueprint,
                             whole_number)

from .audiences import COHORT_FILTER_SUFFIX, EXCLUDES, INCLUDES
from .cohorts import DEVICE_OF_IDENTIFIED_USER, MATCHED, REMOVE, UNKNOWN_USER, PartnerCohort
from .control import TARGET_KINDS, _cohort_filter, _rest_endpoint
from .errors import BrazeError, NotFoundError
from .identity import BrazeUser, iso_of
from .store import BrazeStore, DataImportKey, Workspace

OPERATORS = {"includes": INCLUDES, "excludes": EXCLUDES}
#: URL part -> (store kind, plural title, singular title as the seed writes it)
TARGET_PAGES = {"campaigns": ("campaigns", "Campaigns", "campaign"), "canvas": ("canvases", "Canvas", "Canvas")}
HOME = "braze_ui.home"


def _store() -> BrazeStore:
    return mock_context().store  # type: ignore[return-value]


def partner_title(partner: str) -> str:
    """``mixpanel`` -> ``Mixpanel`` (how the dashboard names a technology partner)."""
    return partner[:1].upper() + partner[1:]


def filter_name(partner: str) -> str:
    """The segment filter of a partner's cohorts, as Braze's dashboard names it: ``Mixpanel_Cohorts``."""
    return partner_title(partner) + COHORT_FILTER_SUFFIX[:2].upper() + COHORT_FILTER_SUFFIX[2:]


def _locked(view: Callable[..., Any]) -> Callable[..., Any]:
    """Run a view under the store lock, as the control plane does; an unknown workspace, segment,
    campaign, Canvas or cohort is a 404 page."""
    @functools.wraps(view)
    def handler(*args: Any, **kwargs: Any) -> Any:
        try:
            with _store().lock:
                return view(*args, **kwargs)
        except NotFoundError as exc:
            raise UiError(404, str(exc)) from None

    return handler


def _page(template: str, workspace: Workspace | None, section: str, crumbs: list[tuple[str, str | None]],
          status: int = 200, **context: Any) -> tuple[str, int]:
    workspaces = list(_store().workspaces.values())
    trail = [("Workspaces", url_for(HOME))]
    if workspace is not None:
        trail.append((workspace.name, url_for("braze_ui.workspace", ws=workspace.workspace_id)))
    title = crumbs[-1][0] if crumbs else (workspace.name if workspace else "Workspaces")
    return render(template, status, title=title, workspace=workspace, workspaces=workspaces, section=section,
                  picker_options=[(w.workspace_id, w.name) for w in workspaces],
                  breadcrumbs=trail + crumbs, **context)


def _key_number(workspace: Workspace, number: str) -> DataImportKey:
    keys = list(workspace.data_import_keys.values())
    index = whole_number(number)
    if index is None or not 1 <= index <= len(keys):
        raise UiError(404, f"no data import key number {number} in workspace {workspace.name}")
    return keys[index - 1]


def _cohort_options(workspace: Workspace) -> list[PartnerCohort]:
    return sorted(workspace.cohorts.all(), key=lambda c: (c.name.lower(), c.cohort_id))


def explain(entry: dict[str, Any], workspace: Workspace) -> str:
    """SEED-6 in one sentence: why this identifier did (not) put a user in the cohort."""
    what = {"external_id": "external_id", "alias": "alias", "device_id": "device id"}.get(entry["kind"], entry["kind"])
    if entry["outcome"] == MATCHED:
        verb = "removed from" if entry["operation"] == REMOVE else "added to"
        return f"Matched user {entry['braze_id']} by {what}: {verb} the cohort."
    if entry["outcome"] == UNKNOWN_USER:
        return f"No Braze user has this {what}; a cohort import never creates users, so nobody was {entry['operation']}ed."
    if entry["outcome"] == DEVICE_OF_IDENTIFIED_USER:
        holder = workspace.directory.get(entry["braze_id"] or "")
        who = f"{entry['braze_id']} (external_id {holder.external_id})" if holder else str(entry["braze_id"])
        return (f"This device belongs to user {who}, who is identified: Braze matches a device id only "
                "while its user is anonymous, so it was ignored.")
    return entry["outcome"]


def ui_blueprint() -> Blueprint:
    bp = vendor_blueprint("braze_ui", __name__)
    bp.add_app_template_filter(iso_of, "iso")
    ws_path = "/workspaces/<ws>"

    # -- workspaces ----------------------------------------------------------------------------------
    @bp.get("/")
    @_locked
    def home() -> Any:
        return _page("braze/home.html", None, "home", [])

    @bp.get("/pick")
    @_locked
    def pick() -> Any:
        """The workspace picker in the header (a plain GET form, no script)."""
        return done("braze_ui.workspace", ws=_store().workspace(request.args.get("ws", "")).workspace_id)

    @bp.post("/workspaces")
    @_locked
    def create_workspace() -> Any:
        try:
            name = form_text("name", "Workspace name")
        except FormError as error:
            return _page("braze/home.html", None, "home", [], 400, error=error)
        workspace, _ = _store().create_workspace(name)
        return done("braze_ui.workspace", Notice(f"Workspace {name} created."), ws=workspace.workspace_id)

    @bp.get(ws_path)
    @_locked
    def workspace(ws: str) -> Any:
        w = _store().workspace(ws)
        return _page("braze/workspace.html", w, "overview", [], rest_keys=list(w.rest_api_keys.values()),
                     points=w.data_point_totals())

    # -- Technology Partners (SEED-2) ----------------------------------------------------------------
    @bp.get(ws_path + "/technology-partners")
    @_locked
    def partners(ws: str) -> Any:
        w = _store().workspace(ws)
        return _page("braze/partners.html", w, "partners", [("Technology Partners", None)],
                     partners=sorted(_store().partners), title_of=partner_title)

    def _partner_or_404(partner: str) -> str:
        if partner not in _store().partners:
            raise UiError(404, f"no technology partner {partner!r}")
        return partner

    def _partner_page(w: Workspace, partner: str, status: int = 200, **context: Any) -> tuple[str, int]:
        keys = [(i, k) for i, k in enumerate(w.data_import_keys.values(), 1) if k.partner == partner]
        return _page("braze/partner.html", w, "partners",
                     [("Technology Partners", url_for("braze_ui.partners", ws=w.workspace_id)),
                      (partner_title(partner), None)], status, partner=partner, keys=keys,
                     rest_endpoint=_rest_endpoint(), **context)

    @bp.get(ws_path + "/technology-partners/<partner>")
    @_locked
    def partner(ws: str, partner: str) -> Any:
        return _partner_page(_store().workspace(ws), _partner_or_404(partner))

    @bp.post(ws_path + "/technology-partners/<partner>/keys")
    @_locked
    def generate_key(ws: str, partner: str) -> Any:
        store = _store()
        key = store.add_data_import_key(store.workspace(ws), _partner_or_404(partner))
        notice = Notice(f"New data import key generated for {partner_title(partner)}.", secret=key.key,
                        secret_label="Data import key")
        return done("braze_ui.partner", notice, ws=ws, partner=partner)

    @bp.post(ws_path + "/technology-partners/<partner>/keys/<number>/invalidate")
    @_locked
    def invalidate_key(ws: str, partner: str, number: str) -> Any:
        store = _store()
        w = store.workspace(ws)
        entry = _key_number(w, number)
        store.invalidate_data_import_key(w, entry.key)
        return done("braze_ui.partner", Notice(f"Key ending {entry.key[-4:]} invalidated: it no longer "
                                               "authenticates."), ws=ws, partner=_partner_or_404(partner))

    # -- Segments (SEED-5.1, 5.2) ----------------------------------------------------------------------
    @bp.get(ws_path + "/segments")
    @_locked
    def segments(ws: str) -> Any:
        w = _store().workspace(ws)
        rows = [(s, len(w.segment_users(s.segment_id))) for s in w.segments.values()]
        return _page("braze/segments.html", w, "segments", [("Segments", None)], rows=rows)

    def _segment_form(w: Workspace, status: int = 200, **context: Any) -> tuple[str, int]:
        return _page("braze/segment_new.html", w, "segments",
                     [("Segments", url_for("braze_ui.segments", ws=w.workspace_id)), ("Create segment", None)],
                     status, filters=[(filter_name(p), p) for p in sorted(_store().partners)],
                     cohorts=_cohort_options(w), form=request.form, **context)

    @bp.get(ws_path + "/segments/new")
    @_locked
    def new_segment(ws: str) -> Any:
        return _segment_form(_store().workspace(ws))

    @bp.post(ws_path + "/segments")
    @_locked
    def create_segment(ws: str) -> Any:
        store = _store()
        w = store.workspace(ws)
        try:
            name = form_text("name", "Segment name")
            kind = form_choice("filter", "Filter", [filter_name(p) for p in store.partners])
            operator = OPERATORS[form_choice("operator", "Operator", list(OPERATORS))]
            cohort_id = form_choice("cohort", "Cohort", [c.cohort_id for c in w.cohorts.all()])
            cohort_filter = _cohort_filter(store, {"type": kind, "operator": operator, "cohort_id": cohort_id})
            if w.cohorts.get(cohort_filter.partner, cohort_id) is None:
                raise FormError(f"Cohort: {kind} has no cohort {cohort_id!r}.", "cohort")
        except (FormError, BrazeError) as exc:
            error = exc if isinstance(exc, FormError) else FormError(str(exc))
            return _segment_form(w, 400, error=error)
        segment = w.add_segment(name, [cohort_filter])
        return done("braze_ui.segment", Notice(f"Segment {name} saved."), ws=ws, segment_id=segment.segment_id)

    @bp.get(ws_path + "/segments/<segment_id>")
    @_locked
    def segment(ws: str, segment_id: str) -> Any:
        w = _store().workspace(ws)
        found = w.require_segment(segment_id)
        users = w.segment_users(segment_id)
        cohort_names = {(c.partner, c.cohort_id): c.name for c in w.cohorts.all()}
        return _page("braze/segment.html", w, "segments",
                     [("Segments", url_for("braze_ui.segments", ws=ws)), (found.name, None)],
                     segment=found, size=len(users), users=Page.of(users), cohort_names=cohort_names,
                     filter_name=filter_name)

    # -- Campaigns and Canvas (SEED-5.3) -------------------------------------------------------------
    def _kind(kinds: str) -> tuple[str, str, str]:
        if kinds not in TARGET_PAGES:
            raise UiError(404, f"no such page {kinds!r}")
        path_kind, title, singular = TARGET_PAGES[kinds]
        return TARGET_KINDS[path_kind], title, singular

    @bp.get(ws_path + "/<any(campaigns, canvas):kinds>")
    @_locked
    def targets(ws: str, kinds: str) -> Any:
        w = _store().workspace(ws)
        kind, title, singular = _kind(kinds)
        rows = [(t, w.segments.get(t.segment_id), len(w.audience(kind, t.target_id)))
                for t in w.targets[kind].values()]
        return _page("braze/targets.html", w, kinds, [(title, None)], rows=rows, kinds=kinds, singular=singular)

    def _target_form(w: Workspace, kinds: str, status: int = 200, **context: Any) -> tuple[str, int]:
        _, title, singular = _kind(kinds)
        return _page("braze/target_new.html", w, kinds,
                     [(title, url_for("braze_ui.targets", ws=w.workspace_id, kinds=kinds)),
                      (f"Create {singular}", None)], status, kinds=kinds, singular=singular,
                     segments=list(w.segments.values()), form=request.form, **context)

    @bp.get(ws_path + "/<any(campaigns, canvas):kinds>/new")
    @_locked
    def new_target(ws: str, kinds: str) -> Any:
        return _target_form(_store().workspace(ws), kinds)

    @bp.post(ws_path + "/<any(campaigns, canvas):kinds>")
    @_locked
    def create_target(ws: str, kinds: str) -> Any:
        w = _store().workspace(ws)
        kind, _, singular = _kind(kinds)
        try:
            name = form_text("name", "Name")
            segment_id = form_choice("segment", "Target segment", list(w.segments))
        except FormError as error:
            return _target_form(w, kinds, 400, error=error)
        target = w.add_target(kind, name, segment_id)
        return done("braze_ui.target", Notice(f"{singular[:1].upper() + singular[1:]} {name} saved."), ws=ws,
                    kinds=kinds, target_id=target.target_id)

    @bp.get(ws_path + "/<any(campaigns, canvas):kinds>/<target_id>")
    @_locked
    def target(ws: str, kinds: str, target_id: str) -> Any:
        w = _store().workspace(ws)
        kind, title, singular = _kind(kinds)
        found = w.require_target(kind, target_id)
        audience = w.audience(kind, target_id)
        return _page("braze/target.html", w, kinds,
                     [(title, url_for("braze_ui.targets", ws=ws, kinds=kinds)), (found.name, None)],
                     target=found, segment=w.segments.get(found.segment_id), size=len(audience),
                     users=Page.of(audience), kinds=kinds, singular=singular)

    # -- partner cohorts and the match log (SEED-6) ----------------------------------------------------
    @bp.get(ws_path + "/cohorts")
    @_locked
    def cohorts(ws: str) -> Any:
        w = _store().workspace(ws)
        return _page("braze/cohorts.html", w, "cohorts", [("Cohorts", None)], cohorts=_cohort_options(w),
                     title_of=partner_title)

    @bp.get(ws_path + "/cohorts/<partner>/<cohort_id>")
    @_locked
    def cohort(ws: str, partner: str, cohort_id: str) -> Any:
        w = _store().workspace(ws)
        found = w.require_cohort(partner, cohort_id)
        members = [w.directory.users[m] for m in sorted(found.members) if m in w.directory.users]
        query = request.args.get("identifier", "").strip()
        matches = [e for e in found.log.entries() if query.lower() in e["identifier"].lower()] if query else []
        return _page("braze/cohort.html", w, "cohorts",
                     [("Cohorts", url_for("braze_ui.cohorts", ws=ws)), (found.name, None)], cohort=found,
                     members=Page.of(members), query=query, matches=Page.of(matches, arg="log_page"),
                     explain=functools.partial(explain, workspace=w), title_of=partner_title,
                     locked=w.cohorts.is_locked(partner, cohort_id))

    # -- users ---------------------------------------------------------------------------------------------
    @bp.get(ws_path + "/users")
    @_locked
    def users(ws: str) -> Any:
        w = _store().workspace(ws)
        query = request.args.get("q", "").strip()
        found = [u for u in w.directory.users.values() if not query or _user_matches(u, query.lower())]
        return _page("braze/users.html", w, "users", [("Users", None)], users=Page.of(found), query=query)

    @bp.get(ws_path + "/users/<braze_id>")
    @_locked
    def user(ws: str, braze_id: str) -> Any:
        w = _store().workspace(ws)
        profile = w.directory.get(braze_id)
        if profile is None:
            raise UiError(404, f"no user {braze_id!r} in workspace {w.name}")
        cohorts_in = [c for c in _cohort_options(w) if braze_id in c.members]
        return _page("braze/user.html", w, "users", [("Users", url_for("braze_ui.users", ws=ws)),
                                                     (profile.external_id or braze_id, None)],
                     profile=profile, summary=profile.summary(), cohorts_in=cohorts_in, title_of=partner_title)

    return bp


def _user_matches(user: BrazeUser, query: str) -> bool:
    """A user search looks at every identifier a cohort import could match."""
    texts = [user.braze_id, user.external_id or "", *user.device_ids, *user.aliases.values()]
    return any(query in text.lower() for text in texts)
