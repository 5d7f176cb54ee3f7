"""Partner cohorts: naming, applying membership deltas, matching identifiers, and the match log.

Rules (reference braze.md "Partner cohort import API", SEED-6, HOUSE-3, HOUSE-4):
- an external_id or an alias matches the profile holding it (identified or alias-only);
- a device_id matches only a profile that is still anonymous; the device of an identified profile
  (including one that was anonymous and has been identified) is ignored;
- nothing else matches: a cohort import never creates users;
- membership is kept by cohort_id, so renaming (the name endpoint again) keeps the members;
- a users call for a cohort never named creates it, named after its id (HOUSE-3);
- each matched identifier of a change costs data points, unmatched ones cost nothing (HOUSE-4).

The users path runs once per identifier of a 1,000,000-member import: dictionary lookups and set
updates only, and a bounded match log (the newest entries per cohort, with running totals).
"""
from __future__ import annotations

from collections import deque
from dataclasses import dataclass, field
from typing import Any, Iterable

from .identity import UserDirectory

MATCHED, UNKNOWN_USER, DEVICE_OF_IDENTIFIED_USER = "matched", "unknown_user", "device_of_identified_user"
OUTCOMES = (MATCHED, UNKNOWN_USER, DEVICE_OF_IDENTIFIED_USER)
KIND_EXTERNAL_ID, KIND_DEVICE_ID, KIND_ALIAS = "external_id", "device_id", "alias"
ADD, REMOVE = "add", "remove"

#: One match-log entry: (sequence, at, operation, kind, identifier, outcome, braze_id, changed).
LogEntry = tuple[int, str, str, str, str, str, "str | None", bool]


def match_identifier(directory: UserDirectory, kind: str, value: str | dict[str, str]) -> tuple[str, str | None]:
    """``(outcome, braze_id)`` for one identifier of a cohort change (SEED-6.1 to 6.3).

    ``value`` is an external_id or device_id string, or ``{"alias_name", "alias_label"}``.
    The braze_id is given for a device of an identified user too, so the log can say whose it is.
    """
    if kind == KIND_EXTERNAL_ID:
        braze_id = directory.by_external_id.get(value)  # type: ignore[arg-type]
        return (MATCHED, braze_id) if braze_id is not None else (UNKNOWN_USER, None)
    if kind == KIND_ALIAS:
        braze_id = directory.by_alias.get((value["alias_label"], value["alias_name"]))  # type: ignore[index]
        return (MATCHED, braze_id) if braze_id is not None else (UNKNOWN_USER, None)
    if kind == KIND_DEVICE_ID:
        braze_id = directory.by_device.get(value)  # type: ignore[arg-type]
        if braze_id is None:
            return UNKNOWN_USER, None
        if directory.users[braze_id].external_id is None:
            return MATCHED, braze_id
        return DEVICE_OF_IDENTIFIED_USER, braze_id
    raise ValueError(f"unknown identifier kind {kind!r}")


def alias_text(alias: dict[str, str]) -> str:
    """How an alias appears as one identifier in the match log: ``label:name``."""
    return f"{alias['alias_label']}:{alias['alias_name']}"


@dataclass
class ChangeSummary:
    """What one users call did to a cohort."""

    identifiers: int = 0
    added: int = 0
    removed: int = 0
    outcomes: dict[str, int] = field(default_factory=lambda: dict.fromkeys(OUTCOMES, 0))

    @property
    def matched(self) -> int:
        return self.outcomes[MATCHED]

    def to_dict(self) -> dict[str, Any]:
        return {"identifiers": self.identifiers, "added": self.added, "removed": self.removed, **self.outcomes}


class PartnerCohort:
    """One cohort a partner sent to a workspace, keyed by (partner, cohort_id)."""

    def __init__(self, partner: str, cohort_id: str, name: str, created_at: str, named: bool, log_limit: int | None):
        self.partner = partner
        self.cohort_id = cohort_id
        self.name = name
        self.created_at = created_at
        self.named = named
        self.members: set[str] = set()
        self.log: deque[LogEntry] = deque(maxlen=log_limit)
        self.log_totals: dict[str, int] = dict.fromkeys(OUTCOMES, 0)
        self.logged = 0
        self.updated_at: str | None = None

    def summary(self) -> dict[str, Any]:
        return {"partner": self.partner, "cohort_id": self.cohort_id, "name": self.name,
                "created_at": self.created_at, "member_count": len(self.members), "named": self.named,
                "updated_at": self.updated_at}

    def log_entries(self, outcome: str | None = None, limit: int | None = None) -> list[dict[str, Any]]:
        """The kept entries, oldest first (optionally one outcome, optionally only the newest ``limit``)."""
        rows = [e for e in self.log if outcome is None or e[5] == outcome]
        if limit is not None:
            rows = rows[-limit:] if limit else []
        return [{"sequence": s, "at": at, "operation": op, "kind": kind, "identifier": ident, "outcome": out,
                 "braze_id": braze_id, "membership_changed": changed}
                for s, at, op, kind, ident, out, braze_id, changed in rows]

    def to_dict(self) -> dict[str, Any]:
        return {**self.summary(), "members": sorted(self.members), "log": [list(e) for e in self.log],
                "log_totals": dict(self.log_totals), "logged": self.logged}

    @classmethod
    def from_dict(cls, data: dict[str, Any], log_limit: int | None) -> "PartnerCohort":
        cohort = cls(data["partner"], data["cohort_id"], data["name"], data["created_at"], bool(data.get("named")),
                     log_limit)
        cohort.members = set(data.get("members") or [])
        cohort.log.extend(tuple(entry) for entry in data.get("log") or [])  # type: ignore[misc]
        cohort.log_totals.update(data.get("log_totals") or {})
        cohort.logged = int(data.get("logged") or 0)
        cohort.updated_at = data.get("updated_at")
        return cohort


class CohortBook:
    """The partner cohorts of one workspace, and the locks the control plane may put on them."""

    def __init__(self, directory: UserDirectory, log_limit: int | None):
        self.directory = directory
        self.log_limit = log_limit
        self.cohorts: dict[tuple[str, str], PartnerCohort] = {}
        self.locks: set[tuple[str, str]] = set()

    def get(self, partner: str, cohort_id: str) -> PartnerCohort | None:
        return self.cohorts.get((partner, cohort_id))

    def all(self) -> list[PartnerCohort]:
        return list(self.cohorts.values())

    def is_locked(self, partner: str, cohort_id: str) -> bool:
        return (partner, cohort_id) in self.locks

    def set_lock(self, partner: str, cohort_id: str, locked: bool) -> None:
        (self.locks.add if locked else self.locks.discard)((partner, cohort_id))

    def name(self, partner: str, cohort_id: str, name: str, created_at: str) -> PartnerCohort:
        """The name endpoint: create the cohort, or rename it keeping its members (upsert)."""
        cohort = self.cohorts.get((partner, cohort_id))
        if cohort is None:
            cohort = self.cohorts[(partner, cohort_id)] = PartnerCohort(partner, cohort_id, name, created_at, True,
                                                                        self.log_limit)
        cohort.name, cohort.created_at, cohort.named = name, created_at, True
        return cohort

    def apply_changes(self, partner: str, cohort_id: str, changes: Iterable[dict[str, Any]], now: str) -> ChangeSummary:
        """Apply the ``cohort_changes`` of a users call (already validated); never creates users."""
        cohort = self.cohorts.get((partner, cohort_id))
        if cohort is None:  # HOUSE-3: named after its id until the name endpoint names it
            cohort = self.cohorts[(partner, cohort_id)] = PartnerCohort(partner, cohort_id, cohort_id, now, False,
                                                                        self.log_limit)
        summary = ChangeSummary()
        for change in changes:
            operation = REMOVE if change.get("should_remove") is True else ADD
            for kind, values in ((KIND_EXTERNAL_ID, change.get("user_ids")), (KIND_DEVICE_ID, change.get("device_ids")),
                                 (KIND_ALIAS, change.get("aliases"))):
                if values:
                    self._apply(cohort, operation, kind, values, now, summary)
        cohort.updated_at = now
        return summary

    def _apply(self, cohort: PartnerCohort, operation: str, kind: str, values: list[Any], now: str,
               summary: ChangeSummary) -> None:
        members, log, totals, outcomes = cohort.members, cohort.log, cohort.log_totals, summary.outcomes
        directory = self.directory
        for value in values:
            outcome, braze_id = match_identifier(directory, kind, value)
            changed = False
            if outcome == MATCHED:
                if operation == ADD:
                    changed = braze_id not in members
                    members.add(braze_id)  # type: ignore[arg-type]
                    summary.added += changed
                else:
                    changed = braze_id in members
                    members.discard(braze_id)  # type: ignore[arg-type]
                    summary.removed += changed
            outcomes[outcome] += 1
            totals[outcome] += 1
            cohort.logged += 1
            identifier = alias_text(value) if kind == KIND_ALIAS else value
            log.append((cohort.logged, now, operation, kind, identifier, outcome, braze_id, changed))
        summary.identifiers += len(values)

    def forget_user(self, braze_id: str) -> None:
        """A profile disappeared (deleted or merged away): it leaves every cohort."""
        for cohort in self.cohorts.values():
            cohort.members.discard(braze_id)

    # -- state -----------------------------------------------------------------------------------
    def to_dict(self) -> dict[str, Any]:
        return {"cohorts": [c.to_dict() for c in self.cohorts.values()],
                "locks": [list(lock) for lock in sorted(self.locks)]}

    def load(self, data: dict[str, Any]) -> None:
        self.cohorts = {}
        for entry in data.get("cohorts") or []:
            cohort = PartnerCohort.from_dict(entry, self.log_limit)
            self.cohorts[(cohort.partner, cohort.cohort_id)] = cohort
        self.locks = {(p, c) for p, c in data.get("locks") or []}
