"""The one sync planner: resolve members to identifiers, diff them against the snapshot, and cut
the changes into batches (HOUSE-6, HOUSE-7), while the batches are being sent.

:class:`SyncPlan` batches once. The runner sends its :meth:`~SyncPlan.batches`; when the sync
ends the plan is finished (:meth:`~SyncPlan.finish`) and answers both "what did the whole plan
change" and "which changes did the first N acknowledged batches carry"
(:meth:`~SyncPlan.carried_by`), so a failure half-way books exactly the accepted batches from the
same plan that sent them.
"""
from __future__ import annotations

import heapq
from itertools import chain, islice
from types import MappingProxyType
from typing import Any, Iterator, Mapping, Sequence

from .model import (ADD, EXTERNAL_ID, MAX_IDENTIFIERS_PER_REQUEST, NO_OP, REMOVE, BrazeConnection, Change,
                    CohortSnapshot, ExportableMembers, Identifier, Member, new_tuple)

_NO_PROPERTIES: Mapping[str, Any] = MappingProxyType({})


class MemberResolver:
    """Gives each member its Braze identifier, a slice of members at a time, so that a sync can
    send its first adds while later members are still being resolved.

    This runs on every sync of every member, the hot path of a large dynamic export. When two
    profiles carry one identifier the smallest distinct_id sends it and the others are no-ops,
    whatever order the members come in, so the whole cohort is never sorted (only the changes are)."""

    def __init__(self, members: Sequence[Member], connection: BrazeConnection):
        self._members = members
        self._connection = connection
        self._position = 0
        self.by_identifier: dict[Identifier, str] = {}
        self._skipped: list[str] = []
        self._shared: list[tuple[str, Identifier]] = []

    @property
    def done(self) -> bool:
        return self._position >= len(self._members)

    def resolve_next(self, count: int) -> list[tuple[Identifier, str]]:
        """Resolve the next ``count`` members; the identifiers claimed for the first time, in member
        order, each with the member claiming it."""
        start, self._position = self._position, min(self._position + count, len(self._members))
        by_identifier, connection = self.by_identifier, self._connection
        claim = by_identifier.setdefault
        claimed: list[tuple[Identifier, str]] = []
        user_id_property = connection.user_id_property
        for distinct_id, properties in self._members[start:self._position]:
            properties = properties or _NO_PROPERTIES
            value = properties.get(user_id_property)
            if value.__class__ is str and value and not value.isspace():  # the usual case, inlined
                identifier: Identifier | None = new_tuple(Identifier, (EXTERNAL_ID, value, ""))
            else:
                identifier = connection.identifier_for(distinct_id, properties)
            if identifier is None:
                self._skipped.append(distinct_id)
                continue
            owner = claim(identifier, distinct_id)
            if owner is distinct_id:
                claimed.append((identifier, distinct_id))
                continue
            if distinct_id < owner:
                by_identifier[identifier] = distinct_id
                owner, distinct_id = distinct_id, owner
            self._shared.append((distinct_id, identifier))
        return claimed

    def finish(self) -> ExportableMembers:
        """Resolve whoever is left; the whole cohort as identifiers."""
        self.resolve_next(len(self._members))
        self._skipped.sort()
        self._shared.sort()
        return ExportableMembers(self.by_identifier, len(self._members), self._skipped, self._shared)

class PlanNotFinished(RuntimeError):
    """A count or list of the whole plan was asked for before :meth:`SyncPlan.finish`."""


class SyncPlan:
    """A sync plan made while it is sent, so planning a large cohort hides in Braze's time.

    :meth:`batches` gives the changes (adds in member order, the order the project first saw the
    members, then removes in the order Braze acknowledged them: the same batches on every run), but
    resolves members only as far as the next batch needs: the first request goes out after the
    first thousand adds are known, not after the millionth. The removes, the counts and the record
    need every member, so they wait for :meth:`finish`. The snapshot must not change until the
    plan is finished; the members Braze already holds (no-ops) are counted and listed on demand
    (:meth:`unchanged`), because on a large cohort they are nearly everyone."""

    RESOLVE_SLICE = 1000

    def __init__(self, members: Sequence[Member], connection: BrazeConnection, snapshot: CohortSnapshot,
                 batch_size: int = MAX_IDENTIFIERS_PER_REQUEST):
        self.batch_size = batch_size
        self._resolver = MemberResolver(members, connection)
        self._snapshot = snapshot
        self._held = snapshot.acknowledged
        self._added: list[Identifier] = []  # in member order
        self._not_claimed: dict[Identifier, str] = dict(snapshot.acknowledged)  # held, no member claimed yet
        self._adds = self._adds_as_resolved()
        self._batched = False
        self._current: ExportableMembers | None = None
        self._removes: list[Change] = []

    # -- while sending -------------------------------------------------------------------------------
    def batches(self) -> Iterator[list[Change]]:
        """The plan's batches of at most ``batch_size`` changes; read once (a second reading would
        see the adds already taken)."""
        if self._batched:
            raise RuntimeError("a sync plan's batches are read once")
        self._batched = True
        changes = chain(self._adds, self._removes_when_finished())
        while batch := list(islice(changes, self.batch_size)):
            yield batch

    def _adds_as_resolved(self) -> Iterator[Change]:
        """One lookup per member finds both sides of the diff: each identifier claimed is taken out
        of a copy of the snapshot, so what is left there at the end is what Braze must remove (in
        the snapshot's order), with no second pass over a million acknowledged identifiers."""
        resolver, added, take = self._resolver, self._added, self._not_claimed.pop
        while not resolver.done:
            for identifier, distinct_id in resolver.resolve_next(self.RESOLVE_SLICE):
                if take(identifier, None) is None:
                    added.append(identifier)
                    yield new_tuple(Change, (distinct_id, identifier, ADD))

    def _removes_when_finished(self) -> Iterator[Change]:
        yield from self.finish().removes

    # -- once every member is known ------------------------------------------------------------------
    def finish(self) -> "SyncPlan":
        """Resolve the members not reached yet and complete the diff (once); the plan itself."""
        if self._current is None:
            for _ in self._adds:  # the adds not sent yet, found the same way as the sent ones
                pass
            self._current = current = self._resolver.finish()
            now = current.by_identifier
            gone = [new_tuple(Change, (did, ident, REMOVE)) for ident, did in self._not_claimed.items()]
            pending = [new_tuple(Change, (did, ident, REMOVE))
                       for ident, did in self._snapshot.pending_removal.items() if ident not in now]
            self._removes = gone + pending
        return self

    @property
    def current(self) -> ExportableMembers:
        if self._current is None:
            raise PlanNotFinished("finish the plan first")
        return self._current

    @property
    def add_count(self) -> int:
        self.current  # noqa: B018 - the adds are all known once the plan is finished
        return len(self._added)

    @property
    def unchanged_count(self) -> int:
        current = self.current
        return len(current.by_identifier) - len(self._added) + len(current.shared)

    @property
    def removes(self) -> list[Change]:
        self.current  # noqa: B018
        return self._removes

    def iter_adds(self) -> Iterator[Change]:
        now = self.current.by_identifier
        return (new_tuple(Change, (now[ident], ident, ADD)) for ident in self._added)

    @property
    def adds(self) -> list[Change]:
        return list(self.iter_adds())

    @property
    def changes(self) -> list[Change]:
        return [*self.iter_adds(), *self.removes]

    def first_changes(self, limit: int) -> list[Change]:
        return list(islice(chain(self.iter_adds(), self.removes), max(limit, 0)))

    def carried_by(self, acknowledged: int) -> list[Change]:
        """The changes the first ``acknowledged`` batches carried, as :meth:`batches` cut them
        (the last of them may be a partial batch: the plan's end)."""
        return self.first_changes(acknowledged * self.batch_size)

    def unchanged(self, limit: int) -> list[Change]:
        """The first ``limit`` no-ops by distinct_id (members Braze already holds, then members
        sharing an identifier another member sends); only the sample is ordered, not everyone."""
        if limit <= 0:
            return []
        held, current = self._held, self.current
        first = heapq.nsmallest(limit, ((did, ident) for ident, did in current.by_identifier.items()
                                        if ident in held))
        first += current.shared[:limit - len(first)]
        return [new_tuple(Change, (did, ident, NO_OP)) for did, ident in first]
