"""Partner cohorts: naming, applying membership deltas, matching identifiers, and the match log.

Rules (reference braze.md "Partner cohort import API", SEED-6, HOUSE-3, HOUSE-4):
- an external_id or an alias matches the profile holding it (identified or alias-only);
- a device_id matches only a profile that is still anonymous; the device of an identified profile
  (including one that was anonymous and has been identified) is ignored;
- nothing else matches: a cohort import never creates users;
- membership is kept by cohort_id, so renaming (the name endpoint again) keeps the members;
- a users call for a cohort never named creates it, named after its id (HOUSE-3);
- each matched identifier of a change costs data points, unmatched ones cost nothing (HOUSE-4).

The users path runs for every identifier of a 1,000,000-member import, so it works on whole lists:
``map`` over the indexes, one set update per change object, and a match log that keeps each request's
lists as they are (the newest entries per cohort, with running totals) instead of a record per id.
"""
from __future__ import annotations

from collections import deque
from dataclasses import dataclass, field
from itertools import compress, islice
from typing import Any, Iterable

from .identity import UserDirectory

MATCHED, UNKNOWN_USER, DEVICE_OF_IDENTIFIED_USER = "matched", "unknown_user", "device_of_identified_user"
OUTCOMES = (MATCHED, UNKNOWN_USER, DEVICE_OF_IDENTIFIED_USER)
KIND_EXTERNAL_ID, KIND_DEVICE_ID, KIND_ALIAS = "external_id", "device_id", "alias"
ADD, REMOVE = "add", "remove"
IDENTIFIER_FIELDS = ("user_ids", "device_ids", "aliases")


@dataclass(slots=True)
class Matches:
    """The result of matching identifiers of one kind: three parallel lists, one place per identifier."""

    kind: str
    identifiers: list[str]
    outcomes: list[str]
    braze_ids: list[str | None]

    def matched_ids(self) -> list[str]:
        """The braze_ids of the matched identifiers (C-level filtering: 1,000 per partner call)."""
        return list(compress(self.braze_ids, map(MATCHED.__eq__, self.outcomes)))  # type: ignore[arg-type]

    def __len__(self) -> int:
        return len(self.identifiers)


def match_identifiers(directory: UserDirectory, kind: str, values: list[Any]) -> Matches:
    """Match identifiers of one kind (SEED-6.1 to 6.3): ``external_id`` and ``device_id`` values are
    strings, ``alias`` values are ``{"alias_name", "alias_label"}``.

    An external_id or an alias matches whoever holds it; a device matches only a user without an
    external_id, and the device of an identified user is reported with that user's braze_id.
    """
    if kind == KIND_EXTERNAL_ID:
        braze_ids = list(map(directory.by_external_id.get, values))
        outcomes = [UNKNOWN_USER if b is None else MATCHED for b in braze_ids]
        return Matches(kind, values, outcomes, braze_ids)
    if kind == KIND_ALIAS:
        keys = [(v["alias_label"], v["alias_name"]) for v in values]
        braze_ids = list(map(directory.by_alias.get, keys))
        outcomes = [UNKNOWN_USER if b is None else MATCHED for b in braze_ids]
        return Matches(kind, [f"{label}:{name}" for label, name in keys], outcomes, braze_ids)
    if kind == KIND_DEVICE_ID:
        users = directory.users
        braze_ids = list(map(directory.by_device.get, values))
        outcomes = [UNKNOWN_USER if b is None else MATCHED if users[b].external_id is None
                    else DEVICE_OF_IDENTIFIED_USER for b in braze_ids]
        return Matches(kind, values, outcomes, braze_ids)
    raise ValueError(f"unknown identifier kind {kind!r}")


def match_identifier(directory: UserDirectory, kind: str, value: str | dict[str, str]) -> tuple[str, str | None]:
    """``(outcome, braze_id)`` for one identifier (see :func:`match_identifiers`)."""
    matches = match_identifiers(directory, kind, [value])
    return matches.outcomes[0], matches.braze_ids[0]


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


@dataclass(slots=True)
class LogBatch:
    """The identifiers of one kind in one change object, as matched, and when."""

    first_sequence: int
    at: str
    operation: str
    matches: Matches


class MatchLog:
    """Per-identifier match log of a cohort, kept as batches; holds at least the newest ``limit``
    entries (``None``: all) and shows exactly that many. Totals count every entry ever logged."""

    def __init__(self, limit: int | None):
        self.limit = limit
        self.batches: deque[LogBatch] = deque()
        self.kept = 0
        self.logged = 0
        self.totals: dict[str, int] = dict.fromkeys(OUTCOMES, 0)

    def append(self, at: str, operation: str, matches: Matches) -> None:
        for outcome in OUTCOMES:
            self.totals[outcome] += matches.outcomes.count(outcome)
        first = self.logged + 1
        self.logged += len(matches)
        if self.limit == 0:
            return
        self.batches.append(LogBatch(first, at, operation, matches))
        self.kept += len(matches)
        while self.limit is not None and self.kept - len(self.batches[0].matches) >= self.limit:
            self.kept -= len(self.batches.popleft().matches)

    def entries(self, outcome: str | None = None, limit: int | None = None) -> list[dict[str, Any]]:
        """The newest entries (at most the log's limit), oldest first; optionally of one outcome and
        only the last ``limit`` of those."""
        skip = self.kept - self.limit if self.limit is not None and self.kept > self.limit else 0
        rows = [{"sequence": batch.first_sequence + i, "at": batch.at, "operation": batch.operation,
                 "kind": batch.matches.kind, "identifier": ident, "outcome": out, "braze_id": braze_id}
                for batch in self.batches
                for i, (ident, out, braze_id) in enumerate(zip(batch.matches.identifiers, batch.matches.outcomes,
                                                               batch.matches.braze_ids))]
        rows = [row for row in islice(rows, skip, None) if outcome is None or row["outcome"] == outcome]
        if limit is not None:
            rows = rows[len(rows) - limit:] if limit else []
        return rows

    def to_dict(self) -> dict[str, Any]:
        return {"logged": self.logged, "totals": dict(self.totals),
                "batches": [[b.first_sequence, b.at, b.operation, b.matches.kind, b.matches.identifiers,
                             b.matches.outcomes, b.matches.braze_ids] for b in self.batches]}

    def load(self, data: dict[str, Any]) -> None:
        self.logged = int(data.get("logged") or 0)
        self.totals.update(data.get("totals") or {})
        self.batches = deque(LogBatch(first, at, operation, Matches(kind, list(ids), list(outs), list(bids)))
                             for first, at, operation, kind, ids, outs, bids in data.get("batches") or [])
        self.kept = sum(len(b.matches) for b in self.batches)


class PartnerCohort:
    """One cohort a partner sent to a workspace, keyed by (partner, cohort_id)."""

    def __init__(self, partner: str, cohort_id: str, name: str, created_at: str, named: bool, log_limit: int | None):
        self.partner = partner
        self.cohort_id = cohort_id
        self.name = name
        self.created_at = created_at
        self.named = named
        self.members: set[str] = set()
        self.log = MatchLog(log_limit)
        self.updated_at: str | None = None

    def summary(self) -> dict[str, Any]:
        return {"partner": self.partner, "cohort_id": self.cohort_id, "name": self.name,
                "created_at": self.created_at, "member_count": len(self.members), "named": self.named,
                "updated_at": self.updated_at}

    def apply(self, operation: str, matches: Matches, at: str, summary: ChangeSummary) -> None:
        """Add or remove the matched users (one set operation) and log every identifier."""
        before = len(self.members)
        if operation == ADD:
            self.members.update(matches.matched_ids())
            summary.added += len(self.members) - before
        else:
            self.members.difference_update(matches.matched_ids())
            summary.removed += before - len(self.members)
        for outcome in OUTCOMES:
            summary.outcomes[outcome] += matches.outcomes.count(outcome)
        summary.identifiers += len(matches)
        self.log.append(at, operation, matches)

    def to_dict(self) -> dict[str, Any]:
        return {**self.summary(), "members": sorted(self.members), "match_log": self.log.to_dict()}

    @classmethod
    def from_dict(cls, data: dict[str, Any], log_limit: int | None) -> "PartnerCohort":
        cohort = cls(data["partner"], data["cohort_id"], data["name"], data["created_at"], bool(data.get("named")),
                     log_limit)
        cohort.members = set(data.get("members") or [])
        cohort.log.load(data.get("match_log") or {})
        cohort.updated_at = data.get("updated_at")
        return cohort


def _split_user_ids(user_ids: list[Any] | None) -> tuple[list[str], list[dict[str, str]]]:
    """``user_ids`` holds external_id strings and, as the partner page's field table allows, alias objects."""
    if not user_ids or all(type(value) is str for value in user_ids):
        return user_ids or [], []
    return ([value for value in user_ids if isinstance(value, str)],
            [value for value in user_ids if not isinstance(value, str)])


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
        """Apply the ``cohort_changes`` of a users call (already validated); never creates users.

        A call without a single identifier only checks credentials (partners send one to test a
        key), so it creates no cohort."""
        changes = list(changes)
        cohort = self.cohorts.get((partner, cohort_id))
        if cohort is None and not any(change.get(field) for change in changes for field in IDENTIFIER_FIELDS):
            return ChangeSummary()
        if cohort is None:  # HOUSE-3: named after its id until the name endpoint names it
            cohort = self.cohorts[(partner, cohort_id)] = PartnerCohort(partner, cohort_id, cohort_id, now, False,
                                                                        self.log_limit)
        summary = ChangeSummary()
        for change in changes:
            operation = REMOVE if change.get("should_remove") is True else ADD
            external_ids, inline_aliases = _split_user_ids(change.get("user_ids"))
            for kind, values in ((KIND_EXTERNAL_ID, external_ids), (KIND_ALIAS, inline_aliases),
                                 (KIND_DEVICE_ID, change.get("device_ids")), (KIND_ALIAS, change.get("aliases"))):
                if values:
                    cohort.apply(operation, match_identifiers(self.directory, kind, values), now, summary)
        cohort.updated_at = now
        return summary

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
