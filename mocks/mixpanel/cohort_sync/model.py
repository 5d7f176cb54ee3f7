"""The cohort sync to Braze, as plain classes (no Flask, no HTTP): who is exported under which
identifier, what Braze has acknowledged, the diff, the batches, and the record of each sync.

How one sync works (HOUSE-6, HOUSE-7, HOUSE-9):

The modules of the package: this one (the model), :mod:`.planner` (resolve, diff, batch),
:mod:`.wire` (Braze's encoding), :mod:`.runner` (one sync), :mod:`.scheduler` (all exports, the
clock grid), :mod:`.partner_client` (HTTP to Braze), :mod:`.control` (the control plane).

1. The cohort's members are evaluated at the sync's scheduled instant.
2. Each member gets one identifier from its profile (:meth:`BrazeConnection.identifier_for`);
   members without one are skipped and counted.
3. The identifiers are diffed, as sets, against the :class:`CohortSnapshot`: what Braze has
   acknowledged for this cohort through this connection.
4. The name endpoint is called when Braze has not been told the cohort's current name.
5. The changes go out in requests of at most 1,000 identifiers, one after another. What Braze
   acknowledged is written into the snapshot when the sync ends: after a success the snapshot is
   the exportable members themselves; after a failure half-way it gets exactly the acknowledged
   requests. Either way it matches what Braze holds, and the next sync sends exactly the rest:
   nothing lost, nothing sent twice (the only exception is a request Braze applied but whose reply
   never arrived).

The snapshot belongs to the (connection, cohort) pair, not to one export, because Braze keeps one
cohort per cohort_id: a second one-time export of the same cohort diffs against what the first one
left in Braze and removes who has left since (HOUSE-11).
"""
from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any, Mapping, NamedTuple, Protocol, Sequence

from mocks.common.clock import parse_instant, to_iso
from mocks.common.defaults import DEFAULT_PARTNER_API_KEY

DEFAULT_USER_ID_PROPERTY = "$braze_external_id"
#: Mixpanel's simplified ID merge names a profile seen only through a device ``$device:<id>``.
ANONYMOUS_PREFIX = "$device:"
#: HOUSE-7: identifiers per users request, counting user_ids + aliases + device_ids.
MAX_IDENTIFIERS_PER_REQUEST = 1000

ADD, REMOVE, NO_OP = "add", "remove", "no-op"
EXTERNAL_ID, ALIAS, DEVICE_ID = "external_id", "alias", "device_id"


# -- what Mixpanel's side offers the sync --------------------------------------------------------------
class CohortInfo(Protocol):
    """A cohort as the sync reads it (read-only)."""

    @property
    def cohort_id(self) -> Any: ...

    @property
    def name(self) -> str: ...

    @property
    def created_at(self) -> datetime: ...


class CohortProject(Protocol):
    """The part of a Mixpanel project the sync reads."""

    def find_cohort(self, cohort_id: Any) -> CohortInfo | None:
        """The cohort, or None when the project has no such cohort (any more)."""

    def member_profiles(self, cohort_id: Any, at: datetime) -> Sequence[tuple[str, Mapping[str, Any] | None]]: ...


# -- identifiers -----------------------------------------------------------------------------------
class Identifier(NamedTuple):
    """What Braze is sent for one user: an external id, an alias (name + label) or a device id."""

    kind: str
    value: str
    label: str = ""

    def to_dict(self) -> dict[str, str]:
        data = {"identifier": self.value, "identifier_type": self.kind}
        if self.kind == ALIAS:
            data["alias_label"] = self.label
        return data

    def to_list(self) -> list[str]:
        return [self.kind, self.value, self.label]


#: ``tuple.__new__`` builds these without the Python-level ``__new__`` of a NamedTuple: the sync
#: creates one per member, and for a million members the difference is seconds.
new_tuple = tuple.__new__


def external_id_identifier(value: str) -> Identifier:
    return new_tuple(Identifier, (EXTERNAL_ID, value, ""))


def _identifier_text(value: Any) -> str | None:
    """A profile property usable as an identifier: a non-empty string, or an integer written out."""
    if isinstance(value, str):
        return value if value and not value.isspace() else None
    if isinstance(value, int) and not isinstance(value, bool):
        return str(value)
    return None


# -- the connection ----------------------------------------------------------------------------------
@dataclass
class BrazeConnection:
    """A saved Braze connection of a project (SEED-3): where to send, with which key, and how a
    Mixpanel profile becomes a Braze identifier (HOUSE-6)."""

    connection_id: int
    project_id: Any
    data_import_key: str
    rest_endpoint: str
    created_at: datetime
    partner_api_key: str = DEFAULT_PARTNER_API_KEY
    name: str = ""
    user_id_property: str = DEFAULT_USER_ID_PROPERTY
    alias_label: str | None = None
    alias_property: str | None = None
    device_id_property: str | None = None

    EDITABLE = ("data_import_key", "rest_endpoint", "partner_api_key", "name", "user_id_property",
                "alias_label", "alias_property", "device_id_property")
    CREDENTIALS = ("data_import_key", "rest_endpoint", "partner_api_key")

    def identifier_for(self, distinct_id: str, properties: Mapping[str, Any]) -> Identifier | None:
        """HOUSE-6: the user id property, else the alias, else (anonymous profiles only) the device id.

        "Anonymous" means the canonical distinct_id is still ``$device:...``: the profile has never
        been identified in Mixpanel. An identified profile is never sent by device id, because in
        Braze its device ids no longer match anyone once the user is identified (SEED-6.3)."""
        external_id = _identifier_text(properties.get(self.user_id_property))
        if external_id is not None:
            return external_id_identifier(external_id)
        if self.alias_label and self.alias_property:
            alias = _identifier_text(properties.get(self.alias_property))
            if alias is not None:
                return Identifier(ALIAS, alias, self.alias_label)
        if self.device_id_property and distinct_id.startswith(ANONYMOUS_PREFIX):
            device_id = _identifier_text(properties.get(self.device_id_property))
            if device_id is not None:
                return Identifier(DEVICE_ID, device_id)
        return None

    def to_dict(self, reveal_secrets: bool = False) -> dict[str, Any]:
        data = {name: getattr(self, name) for name in self.EDITABLE}
        data.update(connection_id=self.connection_id, project_id=self.project_id, created_at=to_iso(self.created_at))
        if not reveal_secrets:
            data["data_import_key"] = mask_secret(self.data_import_key)
            data["partner_api_key"] = mask_secret(self.partner_api_key)
        return data

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> "BrazeConnection":
        fields = {name: data[name] for name in cls.EDITABLE if name in data}
        return cls(connection_id=data["connection_id"], project_id=data["project_id"],
                   created_at=parse_instant(data["created_at"]), **fields)


def mask_secret(secret: str) -> str:
    """Show only the last four characters of a key in listings."""
    return "****" + secret[-4:] if len(secret) > 8 else "****"


# -- what Braze holds ------------------------------------------------------------------------------------
@dataclass
class CohortSnapshot:
    """What Braze has acknowledged for one cohort through one connection.

    ``acknowledged`` maps each identifier Braze holds to the distinct_id it was sent for.
    ``pending_removal`` holds what Braze may still have from before a full sync restarted the
    snapshot: each entry leaves once it is re-added or removed. ``baseline_at`` is the instant of the
    last completed sync or full restart (whichever is later): older than the maximum age, the next
    sync is a full one (HOUSE-9)."""

    acknowledged: dict[Identifier, str] = field(default_factory=dict)
    pending_removal: dict[Identifier, str] = field(default_factory=dict)
    baseline_at: datetime | None = None
    completed_at: datetime | None = None
    name_sent: str | None = None

    def restart(self, at: datetime) -> None:
        """Begin a full sync: everything will be sent again; what Braze held is removed unless re-added."""
        self.pending_removal.update(self.acknowledged)
        self.acknowledged = {}
        self.baseline_at = at
        self.name_sent = None

    def is_stale(self, at: datetime, max_age: timedelta) -> bool:
        return self.baseline_at is not None and at - self.baseline_at > max_age

    def acknowledge(self, changes: list["Change"]) -> None:
        """Braze accepted a request: the snapshot now holds its adds and no longer its removes."""
        if self.pending_removal:
            for change in changes:
                self.pending_removal.pop(change.identifier, None)
        self.acknowledged.update((c.identifier, c.distinct_id) for c in changes if c.operation == ADD)
        for change in changes:
            if change.operation == REMOVE:
                self.acknowledged.pop(change.identifier, None)

    def acknowledge_plan(self, plan: "FinishedPlan") -> None:
        """Every change of ``plan`` was acknowledged. After a first or full sync (nothing was held)
        Braze holds exactly the plan's members, so their dict is taken over rather than rebuilt one
        entry at a time: the same content, without a million inserts."""
        if self.acknowledged:
            self.acknowledge(plan.changes)
        else:
            self.acknowledged = plan.current.by_identifier
            self.pending_removal = {}

    def complete(self, at: datetime) -> None:
        self.completed_at = self.baseline_at = at

    def summary(self) -> dict[str, Any]:
        return {"members": len(self.acknowledged), "pending_removal": len(self.pending_removal),
                "completed_at": _iso_or_none(self.completed_at), "name_sent": self.name_sent}

    def to_dict(self) -> dict[str, Any]:
        """``list(items())`` copies in one step, so a dump taken while a sync runs cannot fail."""
        return {"acknowledged": [[did, *ident.to_list()] for ident, did in list(self.acknowledged.items())],
                "pending_removal": [[did, *ident.to_list()] for ident, did in list(self.pending_removal.items())],
                "baseline_at": _iso_or_none(self.baseline_at), "completed_at": _iso_or_none(self.completed_at),
                "name_sent": self.name_sent}

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> "CohortSnapshot":
        def members(rows: list[list[str]]) -> dict[Identifier, str]:
            return {Identifier(kind, value, label): did for did, kind, value, label in rows}

        return cls(members(data.get("acknowledged", [])), members(data.get("pending_removal", [])),
                   _instant_or_none(data.get("baseline_at")), _instant_or_none(data.get("completed_at")),
                   data.get("name_sent"))





# -- the diff ----------------------------------------------------------------------------------------------
class Change(NamedTuple):
    distinct_id: str
    identifier: Identifier
    operation: str


@dataclass
class ExportableMembers:
    """A cohort's members at one instant, as Braze identifiers (HOUSE-6)."""

    by_identifier: dict[Identifier, str]
    member_count: int
    skipped: list[str]
    shared: list[tuple[str, Identifier]]


#: A cohort member with its profile properties (read-only), as :class:`CohortProject` lists them.
Member = tuple[str, Mapping[str, Any] | None]


class FinishedPlan(Protocol):
    """What the snapshot and the record read off a finished :class:`~.planner.SyncPlan`."""

    @property
    def current(self) -> ExportableMembers: ...

    @property
    def add_count(self) -> int: ...

    @property
    def unchanged_count(self) -> int: ...

    @property
    def removes(self) -> list[Change]: ...

    @property
    def changes(self) -> list[Change]: ...

    def first_changes(self, limit: int) -> list[Change]: ...

    def unchanged(self, limit: int) -> list[Change]: ...


# -- the record of one sync ---------------------------------------------------------------------------
SUCCESS, FAILED, PAUSED = "success", "failed", "paused"


@dataclass
class SyncRecord:
    """One sync, as the export's history shows it. Per-user operations are kept up to
    ``operations_cap`` (changes first, then no-ops); the counts always cover everyone, so a
    1,000,000-member sync does not keep a million rows per run."""

    scheduled_at: datetime
    ran_at: datetime
    trigger: str
    kind: str = "diff"
    result: str = SUCCESS
    error: str | None = None
    members: int = 0
    added: int = 0
    removed: int = 0
    unchanged: int = 0
    skipped: int = 0
    not_sent: int = 0
    requests: int = 0
    name_sent: bool = False
    retries: list[dict[str, Any]] = field(default_factory=list)
    operations: list[Change] = field(default_factory=list)
    operation_counts: dict[str, int] = field(default_factory=lambda: {ADD: 0, REMOVE: 0, NO_OP: 0})
    skipped_distinct_ids: list[str] = field(default_factory=list)

    def describe_plan(self, current: ExportableMembers, plan: "FinishedPlan", cap: int) -> None:
        self.members = current.member_count
        self.skipped = len(current.skipped)
        self.skipped_distinct_ids = current.skipped[:cap]
        self.unchanged = plan.unchanged_count
        self.operation_counts = {ADD: plan.add_count, REMOVE: len(plan.removes), NO_OP: plan.unchanged_count}
        self.operations = plan.first_changes(cap)
        self.operations += plan.unchanged(cap - len(self.operations))
        self.not_sent = plan.add_count + len(plan.removes)

    def count_all_sent(self, plan: "FinishedPlan") -> None:
        self.added, self.removed, self.not_sent = plan.add_count, len(plan.removes), 0

    def count_sent(self, batch: list[Change]) -> None:
        adds = sum(1 for change in batch if change.operation == ADD)
        self.added += adds
        self.removed += len(batch) - adds
        self.not_sent -= len(batch)

    @property
    def waited_s(self) -> float:
        return sum(entry["wait_s"] or 0 for entry in self.retries)

    def summary(self) -> dict[str, Any]:
        return {"scheduled_at": to_iso(self.scheduled_at), "ran_at": to_iso(self.ran_at), "trigger": self.trigger,
                "kind": self.kind, "result": self.result, "error": self.error, "members": self.members,
                "added": self.added, "removed": self.removed, "unchanged": self.unchanged, "skipped": self.skipped,
                "not_sent": self.not_sent, "requests": self.requests, "name_sent": self.name_sent,
                "waited_s": self.waited_s}

    def to_dict(self) -> dict[str, Any]:
        return {**self.summary(), "retries": self.retries,
                "operations": [{"distinct_id": c.distinct_id, **c.identifier.to_dict(), "operation": c.operation}
                               for c in self.operations],
                "operation_counts": self.operation_counts,
                "operations_truncated": len(self.operations) < sum(self.operation_counts.values()),
                "skipped_distinct_ids": self.skipped_distinct_ids}

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> "SyncRecord":
        record = cls(parse_instant(data["scheduled_at"]), parse_instant(data["ran_at"]), data["trigger"])
        for name in ("kind", "result", "error", "members", "added", "removed", "unchanged", "skipped",
                     "not_sent", "requests", "name_sent", "retries", "operation_counts", "skipped_distinct_ids"):
            if name in data:
                setattr(record, name, data[name])
        record.operations = [Change(op["distinct_id"], Identifier(op["identifier_type"], op["identifier"],
                                                                  op.get("alias_label", "")), op["operation"])
                             for op in data.get("operations", [])]
        return record


# -- the export -------------------------------------------------------------------------------------------
ONE_TIME, DYNAMIC = "one_time", "dynamic"
ACTIVE, STOPPED, FINISHED = "active", "stopped", "finished"


@dataclass
class CohortExport:
    """One export of a cohort to a connection (SEED-4): its mode, state, schedule and history.

    Status: ``active`` (syncing), ``paused`` (Braze refused; ``error`` says why), ``finished`` (a
    one-time export that has synced), ``stopped`` (by the user). Scheduled syncs fall on
    ``created_at + k x interval`` (HOUSE-8)."""

    export_id: int
    project_id: Any
    cohort_id: Any
    connection_id: int
    mode: str
    interval: timedelta
    created_at: datetime
    status: str = ACTIVE
    error: str | None = None
    next_sync_at: datetime | None = None
    needs_full_sync: bool = True
    syncs: list[SyncRecord] = field(default_factory=list)
    sync_count: int = 0

    def next_slot_after(self, instant: datetime) -> datetime:
        """The first instant of the schedule grid strictly after ``instant``."""
        steps = (instant - self.created_at) // self.interval + 1
        return self.created_at + max(steps, 1) * self.interval

    def settle(self, record: SyncRecord) -> None:
        """Status and next sync after ``record``: a refusal pauses, a one-time export that succeeded
        is finished, anything else stays on the grid (a failed one-time export retries at the next
        slot, since it was never delivered)."""
        self.error = record.error
        if record.result == PAUSED:
            self.status, self.next_sync_at = PAUSED, None
        elif self.mode == ONE_TIME and record.result == SUCCESS:
            self.status, self.next_sync_at = FINISHED, None
        else:
            self.next_sync_at = self.next_slot_after(record.scheduled_at)

    def remember(self, record: SyncRecord, keep: int) -> None:
        self.syncs.append(record)
        self.sync_count += 1
        if len(self.syncs) > keep:
            del self.syncs[:len(self.syncs) - keep]

    def summary(self) -> dict[str, Any]:
        return {"export_id": self.export_id, "project_id": self.project_id, "cohort_id": self.cohort_id,
                "connection_id": self.connection_id, "mode": self.mode,
                "interval_s": int(self.interval.total_seconds()), "created_at": to_iso(self.created_at),
                "status": self.status, "error": self.error, "next_sync_at": _iso_or_none(self.next_sync_at),
                "sync_count": self.sync_count,
                "last_sync": self.syncs[-1].summary() if self.syncs else None}

    def to_dict(self) -> dict[str, Any]:
        return {**self.summary(), "needs_full_sync": self.needs_full_sync,
                "syncs": [record.to_dict() for record in self.syncs]}

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> "CohortExport":
        return cls(export_id=data["export_id"], project_id=data["project_id"], cohort_id=data["cohort_id"],
                   connection_id=data["connection_id"], mode=data["mode"],
                   interval=timedelta(seconds=data["interval_s"]), created_at=parse_instant(data["created_at"]),
                   status=data["status"], error=data.get("error"),
                   next_sync_at=_instant_or_none(data.get("next_sync_at")),
                   needs_full_sync=data.get("needs_full_sync", False),
                   syncs=[SyncRecord.from_dict(r) for r in data.get("syncs", [])],
                   sync_count=data.get("sync_count", len(data.get("syncs", []))))


def _iso_or_none(value: datetime | None) -> str | None:
    return None if value is None else to_iso(value)


def _instant_or_none(value: str | None) -> datetime | None:
    return None if value is None else parse_instant(value)
