"""The Braze test control plane under ``/_harness`` (README "Braze control plane").

Everything a test or the harness needs to set up and observe Braze: partners, workspaces and their
keys, SDK users and ``changeUser``, partner cohorts with members, match log and locks, segments,
campaigns, Canvases and the data point ledger. Errors are ``{"error": <text>}``; an unknown workspace
(or user, cohort, segment, ...) is a 404.
"""
from __future__ import annotations

import functools
from typing import Any, Callable

from flask import Blueprint, Response, request

from mocks.common.app import CONTROL_PREFIX, control_error, current_store, json_reply, mock_context
from mocks.common.numbers import parse_decimal
from mocks.common.validation import valid_body
from mocks.common.defaults import MIXPANEL_PARTNER

from .audiences import COHORT_FILTER_SUFFIX, CohortFilter
from .cohorts import OUTCOMES
from .errors import BrazeError, ConflictError, InvalidError, NotFoundError
from .identity import BrazeUser
from .store import CAMPAIGN, CANVAS, BrazeStore, DataImportKey, Workspace

_STATUS = {NotFoundError: 404, ConflictError: 409, InvalidError: 400}
TARGET_KINDS = {"campaigns": CAMPAIGN, "canvases": CANVAS}


def _store() -> BrazeStore:
    return current_store(BrazeStore)


def _locked(view: Callable[..., Any]) -> Callable[..., Response]:
    """Run a control view under the store lock; domain errors become 404 / 409 / 400, and an
    unknown workspace is a 404 before the body is looked at. A view returns a body (status 200)
    or ``(body, status)``."""
    @functools.wraps(view)
    def handler(*args: Any, **kwargs: Any) -> Response:
        try:
            with _store().lock:
                if "ws" in kwargs:
                    _store().workspace(kwargs["ws"])
                result = view(*args, **kwargs)
        except BrazeError as exc:
            raise control_error(_STATUS.get(type(exc), 400), str(exc)) from None
        body, status = result if isinstance(result, tuple) else (result, 200)
        return json_reply(body, status)

    return handler


def _body(schema: str, optional: bool = False) -> dict[str, Any]:
    """The JSON body, checked against ``schemas/<schema>.json`` (an empty body is ``{}`` if optional)."""
    return valid_body("mocks.braze", schema, optional)


def _users(users: list[BrazeUser]) -> dict[str, Any]:
    return {"users": [u.summary() for u in users], "count": len(users)}


def _each_in_order(field: str, specs: list[dict[str, Any]], apply: Callable[[dict[str, Any]], Any]) -> list[Any]:
    """``apply`` to each entry of a batch body, in order: what the same single calls one after another
    would do. The body is checked as a whole first (a bad entry: 400, nothing applied); an entry the
    domain refuses stops the batch with that call's error, prefixed ``<field>[i]: `` (the entries
    before it stay applied, as the single calls before it would have)."""
    done = []
    for index, spec in enumerate(specs):
        try:
            done.append(apply(spec))
        except BrazeError as exc:
            raise type(exc)(f"{field}[{index}]: {exc}; the {index} before it were applied") from None
    return done


def _rest_endpoint() -> str:
    """SEED-2.1: the REST endpoint the dashboard shows; here the mock's own base URL."""
    return _store().config.rest_endpoint or request.host_url.rstrip("/")


def _key_entry(key: DataImportKey) -> dict[str, Any]:
    return {"key": key.key, "partner": key.partner, "status": key.status, "created_at": key.created_at,
            "invalidated_at": key.invalidated_at, "rest_endpoint": _rest_endpoint()}


def _workspace_entry(workspace: Workspace) -> dict[str, Any]:
    return {"workspace_id": workspace.workspace_id, "name": workspace.name, "created_at": workspace.created_at,
            "users": len(workspace.directory), "cohorts": len(workspace.cohorts.cohorts)}


def _cohort_filter(store: BrazeStore, data: dict[str, Any]) -> CohortFilter:
    """``{"type": "mixpanel_cohorts", ...}``: the type names the partner (``Mixpanel_Cohorts`` too)."""
    kind = data["type"].lower()
    partner = kind.removesuffix(COHORT_FILTER_SUFFIX)
    if not kind.endswith(COHORT_FILTER_SUFFIX) or partner not in store.partners:
        known = ", ".join(f"{p}{COHORT_FILTER_SUFFIX}" for p in sorted(store.partners))
        raise InvalidError(f"unknown filter type {data['type']!r}; known: {known}")
    return CohortFilter(partner, data["operator"], data["cohort_id"])


def control_blueprint() -> Blueprint:
    bp = Blueprint("braze_control", __name__, url_prefix=CONTROL_PREFIX)
    ws_path = "/workspaces/<ws>"

    # -- partners --------------------------------------------------------------------------------
    @bp.get("/partners")
    @_locked
    def list_partners() -> Any:
        return {"partners": [{"name": n, "partner_api_key": k} for n, k in _store().partners.items()]}

    @bp.post("/partners")
    @_locked
    def add_partner() -> Any:
        body = _body("control_partner")
        key = _store().register_partner(body["name"], body.get("partner_api_key"))
        return {"name": body["name"], "partner_api_key": key}, 201

    # -- workspaces and keys ---------------------------------------------------------------------
    @bp.get("/workspaces")
    @_locked
    def list_workspaces() -> Any:
        return {"workspaces": [_workspace_entry(w) for w in _store().workspaces.values()]}

    @bp.post("/workspaces")
    @_locked
    def create_workspace() -> Any:
        workspace, key = _store().create_workspace(_body("control_workspace", optional=True).get("name"))
        return {**_workspace_entry(workspace), "rest_api_key": key.key, "permissions": key.permissions}, 201

    @bp.get(ws_path)
    @_locked
    def get_workspace(ws: str) -> Any:
        return _workspace_entry(_store().workspace(ws))

    @bp.get(ws_path + "/rest_api_keys")
    @_locked
    def list_rest_api_keys(ws: str) -> Any:
        keys = _store().workspace(ws).rest_api_keys.values()
        return {"rest_api_keys": [{"rest_api_key": k.key, "permissions": k.permissions, "created_at": k.created_at}
                                  for k in keys]}

    @bp.post(ws_path + "/rest_api_keys")
    @_locked
    def create_rest_api_key(ws: str) -> Any:
        store = _store()
        key = store.add_rest_api_key(store.workspace(ws), _body("control_rest_api_key")["permissions"])
        return {"rest_api_key": key.key, "permissions": key.permissions}, 201

    @bp.post(ws_path + "/data_import_keys")
    @_locked
    def create_data_import_key(ws: str) -> Any:
        store = _store()
        partner = _body("control_data_import_key", optional=True).get("partner", MIXPANEL_PARTNER)
        return _key_entry(store.add_data_import_key(store.workspace(ws), partner)), 201

    @bp.get(ws_path + "/data_import_keys")
    @_locked
    def list_data_import_keys(ws: str) -> Any:
        keys = _store().workspace(ws).data_import_keys.values()
        return {"keys": [_key_entry(k) for k in keys], "rest_endpoint": _rest_endpoint()}

    @bp.delete(ws_path + "/data_import_keys/<key>")
    @_locked
    def invalidate_data_import_key(ws: str, key: str) -> Any:
        store = _store()
        return _key_entry(store.invalidate_data_import_key(store.workspace(ws), key))

    # -- users -----------------------------------------------------------------------------------
    @bp.post(ws_path + "/sdk/users")
    @_locked
    def sdk_create_user(ws: str) -> Any:
        body = _body("control_sdk_user")
        user = _store().workspace(ws).directory.create_sdk_user(body["device_id"], body.get("attributes"))
        return {"braze_id": user.braze_id, "user": user.summary()}, 201

    @bp.post(ws_path + "/sdk/change_user")
    @_locked
    def sdk_change_user(ws: str) -> Any:
        body = _body("control_change_user")
        user, outcome = _store().workspace(ws).directory.change_user(body["device_id"], body["external_id"])
        return {"braze_id": user.braze_id, "outcome": outcome, "user": user.summary()}

    @bp.post(ws_path + "/sdk/users/batch")
    @_locked
    def sdk_create_users(ws: str) -> Any:
        """``sdk/users`` for each entry, in order (world loading); see :func:`_each_in_order`."""
        directory = _store().workspace(ws).directory
        users = _each_in_order("users", _body("control_sdk_users_batch")["users"],
                               lambda spec: directory.create_sdk_user(spec["device_id"], spec.get("attributes")))
        return {"braze_ids": [u.braze_id for u in users], "count": len(users)}, 201

    @bp.post(ws_path + "/sdk/change_user/batch")
    @_locked
    def sdk_change_users(ws: str) -> Any:
        """``sdk/change_user`` for each entry, in order; see :func:`_each_in_order`."""
        directory = _store().workspace(ws).directory
        results = _each_in_order("changes", _body("control_change_user_batch")["changes"],
                                 lambda spec: directory.change_user(spec["device_id"], spec["external_id"]))
        return {"results": [{"braze_id": user.braze_id, "outcome": outcome} for user, outcome in results],
                "count": len(results)}

    @bp.get(ws_path + "/users")
    @_locked
    def list_users(ws: str) -> Any:
        return _users(list(_store().workspace(ws).directory.users.values()))

    @bp.post(ws_path + "/users")
    @_locked
    def seed_users(ws: str) -> Any:
        """Create many profiles at once (worlds and benchmarks); all or nothing."""
        directory = _store().workspace(ws).directory
        created: list[BrazeUser] = []
        for index, spec in enumerate(_body("control_users")["users"]):
            aliases = [(a["alias_label"], a["alias_name"]) for a in spec.get("aliases", [])]
            try:
                created.append(directory.create(spec.get("external_id"), aliases, spec.get("device_ids", []),
                                                spec.get("attributes")))
            except ConflictError as exc:
                for user in created:
                    directory.delete(user)
                raise ConflictError(f"users[{index}]: {exc}; no user was created") from None
        return {"braze_ids": [u.braze_id for u in created], "count": len(created)}, 201

    # -- partner cohorts -------------------------------------------------------------------------
    cohort_path = ws_path + "/cohorts/<partner>/<cohort_id>"

    @bp.get(ws_path + "/cohorts")
    @_locked
    def list_cohorts(ws: str) -> Any:
        return {"cohorts": [c.summary() for c in _store().workspace(ws).cohorts.all()]}

    @bp.get(cohort_path)
    @_locked
    def get_cohort(ws: str, partner: str, cohort_id: str) -> Any:
        workspace = _store().workspace(ws)
        cohort = workspace.require_cohort(partner, cohort_id)
        return {**cohort.summary(), "locked": workspace.cohorts.is_locked(partner, cohort_id)}

    @bp.get(cohort_path + "/members")
    @_locked
    def cohort_members(ws: str, partner: str, cohort_id: str) -> Any:
        workspace = _store().workspace(ws)
        members = sorted(workspace.require_cohort(partner, cohort_id).members)
        return {"members": [workspace.directory.users[m].summary() for m in members], "count": len(members)}

    @bp.get(cohort_path + "/match_log")
    @_locked
    def cohort_match_log(ws: str, partner: str, cohort_id: str) -> Any:
        cohort = _store().workspace(ws).require_cohort(partner, cohort_id)
        outcome, limit = request.args.get("outcome"), request.args.get("limit")
        if outcome is not None and outcome not in OUTCOMES:
            raise InvalidError(f"'outcome' must be one of {', '.join(OUTCOMES)}")
        count = parse_decimal(limit, strip=False)
        if limit is not None and count is None:
            raise InvalidError("'limit' must be a non-negative integer")
        entries = cohort.log.entries(outcome, count)
        return {"entries": entries, "logged": cohort.log.logged, "by_outcome": dict(cohort.log.totals)}

    @bp.put(cohort_path + "/lock")
    @_locked
    def lock_cohort(ws: str, partner: str, cohort_id: str) -> Any:
        """Partner calls for this cohort answer ``423 Resource locked`` until it is unlocked."""
        _store().workspace(ws).cohorts.set_lock(partner, cohort_id, True)
        return {"partner": partner, "cohort_id": cohort_id, "locked": True}

    @bp.delete(cohort_path + "/lock")
    @_locked
    def unlock_cohort(ws: str, partner: str, cohort_id: str) -> Any:
        _store().workspace(ws).cohorts.set_lock(partner, cohort_id, False)
        return {"partner": partner, "cohort_id": cohort_id, "locked": False}

    # -- segments, campaigns, Canvases (SEED-5) --------------------------------------------------
    @bp.post(ws_path + "/segments")
    @_locked
    def create_segment(ws: str) -> Any:
        store = _store()
        workspace = store.workspace(ws)
        body = _body("control_segment")
        segment = workspace.add_segment(body["name"], [_cohort_filter(store, f) for f in body["filters"]])
        return segment.to_dict(), 201

    @bp.get(ws_path + "/segments")
    @_locked
    def list_segments(ws: str) -> Any:
        return {"segments": [s.to_dict() for s in _store().workspace(ws).segments.values()]}

    @bp.get(ws_path + "/segments/<segment_id>")
    @_locked
    def get_segment(ws: str, segment_id: str) -> Any:
        return _store().workspace(ws).require_segment(segment_id).to_dict()

    @bp.get(ws_path + "/segments/<segment_id>/users")
    @_locked
    def segment_users(ws: str, segment_id: str) -> Any:
        return _users(_store().workspace(ws).segment_users(segment_id))

    @bp.post(ws_path + "/<any(campaigns, canvases):kind>")
    @_locked
    def create_target(ws: str, kind: str) -> Any:
        body = _body("control_target")
        target = _store().workspace(ws).add_target(TARGET_KINDS[kind], body["name"], body["segment_id"],
                                                    archived=body.get("archived", False))
        return {f"{TARGET_KINDS[kind]}_id": target.target_id, **target.to_dict()}, 201

    @bp.get(ws_path + "/<any(campaigns, canvases):kind>")
    @_locked
    def list_targets(ws: str, kind: str) -> Any:
        targets = _store().workspace(ws).targets[TARGET_KINDS[kind]].values()
        return {kind: [{f"{TARGET_KINDS[kind]}_id": t.target_id, **t.to_dict()} for t in targets]}

    @bp.get(ws_path + "/<any(campaigns, canvases):kind>/<target_id>/audience")
    @_locked
    def target_audience(ws: str, kind: str, target_id: str) -> Any:
        return _users(_store().workspace(ws).audience(TARGET_KINDS[kind], target_id))

    # -- /users/export/segment files (the URL its reply gives) ------------------------------------
    @bp.get("/segment_exports/<prefix>.zip")
    def segment_export_file(prefix: str) -> Response:
        """No key needed: the URL stands for Braze's pre-signed download link."""
        with _store().lock:
            data = _store().segment_exports.get(prefix)
        if data is None:
            raise control_error(404, f"no segment export {prefix!r}")
        return Response(data, 200, mimetype="application/zip")

    # -- data points (HOUSE-4, SEED-1.1) ---------------------------------------------------------
    @bp.get(ws_path + "/data_points")
    @_locked
    def data_points(ws: str) -> Any:
        return _store().workspace(ws).data_point_totals()

    return bp
