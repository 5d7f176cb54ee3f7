"""The Braze mock's state: workspaces (isolated tenants), their keys, users, partner cohorts,
segments, campaigns, Canvases and data point ledger. Plain Python, no Flask.

The rules themselves live next door and are re-exported here: identity in :mod:`.identity`, partner
cohorts and matching in :mod:`.cohorts`, segments and audiences in :mod:`.audiences`, the users REST
endpoints in :mod:`.user_requests`.

Locking (the policy of :mod:`mocks.common.state`): only requests call into this store, and the views
hold the store's re-entrant ``lock`` around each check-then-change (``control._locked``, the partner
and users handlers in :mod:`.api`).
"""
from __future__ import annotations

import secrets
import threading
import uuid
from dataclasses import asdict, dataclass
from typing import Any, Iterable

from mocks.common.clock import Clock, to_iso

from . import user_requests
from .audiences import EXCLUDES, INCLUDES, CohortFilter, Segment, Target, segment_members
from .cohorts import (DEVICE_OF_IDENTIFIED_USER, MATCHED, UNKNOWN_USER, ChangeSummary, CohortBook, PartnerCohort,
                      match_identifier)
from .config import BrazeConfig
from .errors import BrazeError, ConflictError, InvalidError, NotFoundError
from .identity import BrazeUser, UserDirectory

__all__ = [
    "BrazeStore", "Workspace", "BrazeUser", "UserDirectory", "PartnerCohort", "CohortBook", "ChangeSummary",
    "CohortFilter", "Segment", "Target", "RestApiKey", "DataImportKey", "match_identifier", "segment_members",
    "BrazeError", "NotFoundError", "ConflictError", "InvalidError", "MATCHED", "UNKNOWN_USER",
    "DEVICE_OF_IDENTIFIED_USER", "INCLUDES", "EXCLUDES", "PERMISSIONS", "TRACK_SOURCE", "cohort_import_source",
]

#: Every permission a REST API key can carry in this mock.
PERMISSIONS = ("users.track", "users.identify", "users.alias.new", "users.alias.update", "users.export.ids",
               "users.export.segment", "users.delete", "users.merge", "segments.list", "segments.details",
               "segments.data_series", "campaigns.list", "campaigns.details", "canvas.list", "canvas.details")
ACTIVE, INVALIDATED = "active", "invalidated"
TRACK_SOURCE = "users.track"
CAMPAIGN, CANVAS = "campaign", "canvas"


def cohort_import_source(partner: str) -> str:
    """The ledger source of a partner's cohort import, e.g. ``cohort_import:mixpanel``."""
    return f"cohort_import:{partner}"


@dataclass
class RestApiKey:
    key: str
    permissions: list[str]
    created_at: str

    def allows(self, permission: str) -> bool:
        return permission in self.permissions


@dataclass
class DataImportKey:
    """A client secret generated for one partner (SEED-2); invalidated keys stay listed."""

    key: str
    partner: str
    status: str
    created_at: str
    invalidated_at: str | None = None


class IdSource:
    """braze_ids (24 hex characters, shaped like the ObjectIds Braze uses: time, machine, counter)
    and random tokens for keys and object ids."""

    def __init__(self, clock: Clock):
        self._clock = clock
        self.machine = secrets.token_hex(3)
        self.issued = 0  # braze_ids handed out so far (kept in the state, so a loaded store goes on counting)

    def braze_id(self) -> str:
        self.issued += 1
        return f"{int(self._clock.timestamp()) & 0xFFFFFFFF:08x}{self.machine}{self.issued & 0xFFFFFFFFFF:010x}"

    @staticmethod
    def token() -> str:
        return str(uuid.uuid4())


class Workspace:
    """One Braze workspace (app group): nothing in it is visible from another workspace."""

    def __init__(self, workspace_id: str, name: str, created_at: str, clock: Clock, ids: IdSource,
                 config: BrazeConfig):
        self.workspace_id = workspace_id
        self.name = name
        self.created_at = created_at
        self._clock = clock
        self._ids = ids
        self._config = config
        self.directory = UserDirectory(ids.braze_id, clock.timestamp, on_remove=self._forget_user)
        self.cohorts = CohortBook(self.directory, config.match_log_limit)
        self.rest_api_keys: dict[str, RestApiKey] = {}
        self.data_import_keys: dict[str, DataImportKey] = {}
        self.segments: dict[str, Segment] = {}
        self.targets: dict[str, dict[str, Target]] = {CAMPAIGN: {}, CANVAS: {}}
        self.data_points: dict[str, int] = {}

    def now(self) -> str:
        return to_iso(self._clock.now())

    def _forget_user(self, user: BrazeUser) -> None:
        self.cohorts.forget_user(user.braze_id)

    # -- data points (HOUSE-4, SEED-1.1) ---------------------------------------------------------
    def charge(self, source: str, points: int) -> None:
        if points:
            self.data_points[source] = self.data_points.get(source, 0) + points

    def data_point_totals(self) -> dict[str, Any]:
        return {"total": sum(self.data_points.values()), "by_source": dict(self.data_points)}

    # -- partner cohorts -------------------------------------------------------------------------
    def name_cohort(self, partner: str, cohort_id: str, name: str, created_at: str) -> PartnerCohort:
        return self.cohorts.name(partner, cohort_id, name, created_at)

    def apply_cohort_changes(self, partner: str, cohort_id: str, changes: Iterable[dict[str, Any]]) -> ChangeSummary:
        summary = self.cohorts.apply_changes(partner, cohort_id, changes, self.now())
        self.charge(cohort_import_source(partner), summary.matched * self._config.data_points_per_cohort_change)
        return summary

    def require_cohort(self, partner: str, cohort_id: str) -> PartnerCohort:
        cohort = self.cohorts.get(partner, cohort_id)
        if cohort is None:
            raise NotFoundError(f"no cohort {cohort_id!r} from partner {partner!r} in workspace {self.workspace_id}")
        return cohort

    # -- users -----------------------------------------------------------------------------------
    def track(self, body: dict[str, Any]) -> user_requests.Outcome:
        outcome = user_requests.track(self.directory, body)
        self.charge(TRACK_SOURCE, outcome.data_points)
        return outcome

    # -- segments, campaigns, Canvases (SEED-5) --------------------------------------------------
    def add_segment(self, name: str, filters: list[CohortFilter]) -> Segment:
        segment = Segment(self._ids.token(), name, filters, self.now())
        self.segments[segment.segment_id] = segment
        return segment

    def require_segment(self, segment_id: str) -> Segment:
        if segment_id not in self.segments:
            raise NotFoundError(f"no segment {segment_id!r} in workspace {self.workspace_id}")
        return self.segments[segment_id]

    def segment_users(self, segment_id: str) -> list[BrazeUser]:
        return segment_members(self.directory, self.cohorts, self.require_segment(segment_id))

    def add_target(self, kind: str, name: str, segment_id: str, archived: bool = False) -> Target:
        self.require_segment(segment_id)
        target = Target(self._ids.token(), name, segment_id, self.now(), archived=archived)
        self.targets[kind][target.target_id] = target
        return target

    def require_target(self, kind: str, target_id: str) -> Target:
        if target_id not in self.targets[kind]:
            raise NotFoundError(f"no {kind} {target_id!r} in workspace {self.workspace_id}")
        return self.targets[kind][target_id]

    def audience(self, kind: str, target_id: str) -> list[BrazeUser]:
        """Who a campaign or Canvas would reach now: its segment, evaluated at call time."""
        return self.segment_users(self.require_target(kind, target_id).segment_id)

    # -- state -----------------------------------------------------------------------------------
    def to_dict(self) -> dict[str, Any]:
        return {
            "workspace_id": self.workspace_id, "name": self.name, "created_at": self.created_at,
            "users": self.directory.to_list(), **self.cohorts.to_dict(),
            "rest_api_keys": [asdict(k) for k in self.rest_api_keys.values()],
            "data_import_keys": [asdict(k) for k in self.data_import_keys.values()],
            "segments": [s.to_dict() for s in self.segments.values()],
            "campaigns": [t.to_dict() for t in self.targets[CAMPAIGN].values()],
            "canvases": [t.to_dict() for t in self.targets[CANVAS].values()],
            "data_points": dict(self.data_points),
        }

    def load(self, data: dict[str, Any]) -> None:
        self.directory.load(data.get("users") or [])
        self.cohorts.load(data)
        self._check_cohort_members()
        self.rest_api_keys = {k["key"]: RestApiKey(**k) for k in data.get("rest_api_keys") or []}
        self.data_import_keys = {k["key"]: DataImportKey(**k) for k in data.get("data_import_keys") or []}
        self.segments = {s["segment_id"]: Segment.from_dict(s) for s in data.get("segments") or []}
        self.targets = {kind: {t["target_id"]: Target.from_dict(t) for t in data.get(key) or []}
                        for kind, key in ((CAMPAIGN, "campaigns"), (CANVAS, "canvases"))}
        self.data_points = {str(k): int(v) for k, v in (data.get("data_points") or {}).items()}


    def _check_cohort_members(self) -> None:
        """A cohort holds users of its workspace only (a member that is not one broke its views)."""
        for cohort in self.cohorts.cohorts.values():
            for member in cohort.members:
                if not isinstance(member, str) or self.directory.get(member) is None:
                    raise ValueError(f"workspace {self.workspace_id}: cohort {cohort.partner}/{cohort.cohort_id} "
                                     f"has member {member!r}, who is not a user of the workspace")


class BrazeStore:
    """All workspaces of one Braze mock, the partners it knows, and key lookups across workspaces.

    Request handlers hold :attr:`lock` while they read or change the state (the server is threaded).
    """

    def __init__(self, config: BrazeConfig | None = None, clock: Clock | None = None):
        self.config = config or BrazeConfig()
        self.clock = clock or Clock()
        self.lock = threading.RLock()
        self.ids = IdSource(self.clock)
        self.partners: dict[str, str] = {}
        self.workspaces: dict[str, Workspace] = {}
        self._rest_keys: dict[str, str] = {}
        self._import_keys: dict[str, str] = {}
        #: Files of ``/users/export/segment`` by object prefix (not part of the saved state: a download
        #: link is short-lived at Braze too).
        self.segment_exports: dict[str, bytes] = {}
        self.reset()

    def now(self) -> str:
        return to_iso(self.clock.now())

    def reset(self) -> None:
        with self.lock:
            self.partners = dict(self.config.all_partners)
            self.workspaces = {}
            self._rest_keys = {}
            self._import_keys = {}
            self.segment_exports = {}

    # -- partners --------------------------------------------------------------------------------
    def register_partner(self, name: str, partner_api_key: str | None = None) -> str:
        """Add (or re-key) a partner; returns its partner API key."""
        self.partners[name] = partner_api_key or self.ids.token()
        return self.partners[name]

    # -- workspaces and keys ---------------------------------------------------------------------
    def create_workspace(self, name: str | None = None) -> tuple[Workspace, RestApiKey]:
        """A new workspace and its first REST API key, which carries every permission."""
        workspace_id = self.ids.token()
        workspace = Workspace(workspace_id, name or workspace_id, self.now(), self.clock, self.ids, self.config)
        self.workspaces[workspace_id] = workspace
        return workspace, self.add_rest_api_key(workspace, list(PERMISSIONS))

    def workspace(self, workspace_id: str) -> Workspace:
        if workspace_id not in self.workspaces:
            raise NotFoundError(f"no workspace {workspace_id!r}")
        return self.workspaces[workspace_id]

    def add_rest_api_key(self, workspace: Workspace, permissions: list[str]) -> RestApiKey:
        unknown = [p for p in permissions if p not in PERMISSIONS]
        if unknown:
            raise InvalidError(f"unknown permissions {unknown}; known: {', '.join(PERMISSIONS)}")
        key = RestApiKey(self.ids.token(), list(dict.fromkeys(permissions)), self.now())
        workspace.rest_api_keys[key.key] = key
        self._rest_keys[key.key] = workspace.workspace_id
        return key

    def add_data_import_key(self, workspace: Workspace, partner: str) -> DataImportKey:
        """SEED-2.1/2.2: generate a data import key for a partner (several may be active at once)."""
        if partner not in self.partners:
            raise InvalidError(f"unknown partner {partner!r}; known: {', '.join(sorted(self.partners))}")
        key = DataImportKey(self.ids.token(), partner, ACTIVE, self.now())
        workspace.data_import_keys[key.key] = key
        self._import_keys[key.key] = workspace.workspace_id
        return key

    def invalidate_data_import_key(self, workspace: Workspace, key: str) -> DataImportKey:
        """SEED-2.2: the key stays listed, marked invalidated, and no longer authenticates."""
        if key not in workspace.data_import_keys:
            raise NotFoundError(f"no data import key {key!r} in workspace {workspace.workspace_id}")
        entry = workspace.data_import_keys[key]
        if entry.status == ACTIVE:
            entry.status, entry.invalidated_at = INVALIDATED, self.now()
        return entry

    def resolve_rest_key(self, key: str) -> tuple[Workspace, RestApiKey] | None:
        workspace_id = self._rest_keys.get(key)
        if workspace_id is None:
            return None
        workspace = self.workspaces[workspace_id]
        return workspace, workspace.rest_api_keys[key]

    def resolve_import_key(self, key: str) -> tuple[Workspace, DataImportKey] | None:
        """The workspace and entry of an *active* data import key, else None."""
        workspace_id = self._import_keys.get(key)
        if workspace_id is None:
            return None
        workspace = self.workspaces[workspace_id]
        entry = workspace.data_import_keys[key]
        return (workspace, entry) if entry.status == ACTIVE else None

    def secret_values(self) -> list[str]:
        """Every partner key, REST API key and data import key (the journal redacts them)."""
        with self.lock:
            return [*self.partners.values(), *self._rest_keys, *self._import_keys]

    def export_segment(self, workspace: Workspace, segment_id: str, fields: list[str],
                       custom_attributes: list[str] | None = None) -> str:
        """Snapshot a segment's users into a file now; returns its object prefix (``<uuid>-<epoch seconds>``)."""
        users = workspace.segment_users(segment_id)
        prefix = f"{self.ids.token()}-{int(self.clock.timestamp())}"
        self.segment_exports[prefix] = user_requests.export_segment_file(users, prefix, fields, custom_attributes)
        return prefix

    # -- state -----------------------------------------------------------------------------------
    def _load_workspace(self, entry: dict[str, Any]) -> Workspace:
        if not isinstance(entry.get("workspace_id"), str):
            raise TypeError("every workspace needs a string 'workspace_id'")
        workspace = Workspace(entry["workspace_id"], entry["name"], entry["created_at"], self.clock, self.ids,
                              self.config)
        workspace.load(entry)
        return workspace

    def to_dict(self) -> dict[str, Any]:
        with self.lock:
            return {"partners": dict(self.partners), "braze_ids_issued": self.ids.issued,
                    "workspaces": [w.to_dict() for w in self.workspaces.values()]}

    def load(self, data: dict[str, Any]) -> None:
        """Replace the whole state with a dump from :meth:`to_dict`. A malformed dump raises
        ``ValueError`` (or ``KeyError``/``TypeError``) and leaves the old state in place."""
        with self.lock:
            try:
                workspaces = {w.workspace_id: w for w in map(self._load_workspace, data.get("workspaces") or [])}
            except AttributeError as exc:  # a field of the wrong JSON type deep inside the dump
                raise ValueError(str(exc)) from None
            partners = data.get("partners") or self.config.all_partners
            if not isinstance(partners, dict):
                raise TypeError("'partners' must be an object")
            self.partners = dict(partners)
            self.workspaces = workspaces
            self._rest_keys = {k: w.workspace_id for w in workspaces.values() for k in w.rest_api_keys}
            self._import_keys = {k: w.workspace_id for w in workspaces.values() for k in w.data_import_keys}
            self.ids.issued = int(data.get("braze_ids_issued") or 0)
