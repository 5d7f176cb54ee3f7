"""The events of one project, stored in columns and indexed for fast cohort evaluation.

Memory matters (a world of 5,000,000 events must fit well under 2 GiB), so an event is not a dict:
it is one slot in a few typed arrays (name id, time in ms, user id), 36 bytes of a shared bytearray
for its ``$insert_id`` and, only when it has other properties, one compact JSON ``bytes``.

Two indexes answer the questions cohorts and exports ask:

* per event name, the times in ascending order with the parallel user ids and row numbers, so
  "did E between t0 and t1" is two bisects and a slice;
* per user, the rows of that user, so a duplicate (event, time, distinct_id, $insert_id) is found by
  looking at that user's few events instead of a set of every key ever seen.

Duplicates: the latest ingested copy is the one queries use, the raw export returns every copy
(Mixpanel's reference, corrections section). Every copy is stored; when a later copy arrives the
earlier row is marked *superseded* (a set of row numbers, plus a count per name index). Query scans
skip marked rows; while a name has none (the common case) they keep their plain slices, so the mark
costs nothing on a world without duplicates. A superseded row has the same name, time and user as
the row that replaced it, so time windows and per-user spans are the same with or without it.

Appends go to a pending tail that is merged into the sorted arrays on the next read, so a bulk load
of millions of out-of-order events costs one sort, not one insert each.
"""
from __future__ import annotations

import heapq
import json
from array import array
from bisect import bisect_left, bisect_right
from typing import Any, Iterable, Iterator

INSERT_ID_SLOT = 36
_EMPTY_SLOT = bytes(INSERT_ID_SLOT)
#: A user with more events than this gets a set of its event keys instead of a linear scan.
_SCAN_LIMIT = 64
_SHARED_BLOB_BYTES, _SHARED_BLOBS = 48, 100_000
_NEVER_FIRST, _NEVER_LAST = 2 ** 62, -(2 ** 62)


class NameIndex:
    """The events of one name in time order: ``times``, ``users`` and ``rows`` are parallel arrays.
    Late (out-of-order) appends wait in three pending arrays until the next read."""

    def __init__(self) -> None:
        self.times, self.users, self.rows = array("q"), array("i"), array("i")
        self._late_times, self._late_users, self._late_rows = array("q"), array("i"), array("i")
        #: How many of this name's rows a later duplicate superseded: 0 lets scans take plain slices.
        self.superseded = 0

    def add(self, time_ms: int, user: int, row: int) -> None:
        if not self._late_times and (not self.times or time_ms >= self.times[-1]):
            self.times.append(time_ms)
            self.users.append(user)
            self.rows.append(row)
        else:
            self._late_times.append(time_ms)
            self._late_users.append(user)
            self._late_rows.append(row)

    def settle(self) -> None:
        """Merge the pending appends into the sorted arrays. Sorting is stable on time alone, and
        every pending row is newer than every sorted one, so equal times keep storage order."""
        if not self._late_times:
            return
        late_times, late_users, late_rows = self._late_times, self._late_users, self._late_rows
        self._late_times, self._late_users, self._late_rows = array("q"), array("i"), array("i")
        if len(late_times) * 4 > len(self.times):
            self.times, self.users, self.rows = _sorted_by_time(self.times + late_times, self.users + late_users,
                                                                self.rows + late_rows)
            return
        late_times, late_users, late_rows = _sorted_by_time(late_times, late_users, late_rows)
        times, users, rows = array("q"), array("i"), array("i")
        start = 0
        for time_ms, user, row in zip(late_times, late_users, late_rows):
            cut = bisect_right(self.times, time_ms, start)
            times.extend(self.times[start:cut])
            users.extend(self.users[start:cut])
            rows.extend(self.rows[start:cut])
            times.append(time_ms)
            users.append(user)
            rows.append(row)
            start = cut
        times.extend(self.times[start:])
        users.extend(self.users[start:])
        rows.extend(self.rows[start:])
        self.times, self.users, self.rows = times, users, rows

    def window(self, start_ms: int, end_ms: int) -> tuple[int, int]:
        """Positions of the events with ``start_ms <= time <= end_ms``."""
        self.settle()
        return bisect_left(self.times, start_ms), bisect_right(self.times, end_ms)


def _sorted_by_time(times: array, users: array, rows: array) -> tuple[array, array, array]:
    order = sorted(range(len(times)), key=times.__getitem__)
    return (array("q", map(times.__getitem__, order)), array("i", map(users.__getitem__, order)),
            array("i", map(rows.__getitem__, order)))


class EventLog:
    """All stored events of one project; users are the int ids of :class:`~.identity.IdRegistry`."""

    def __init__(self) -> None:
        self.names: list[str] = []
        self._name_ids: dict[str, int] = {}
        self.name_col = array("i")
        self.time_col = array("q")
        self.user_col = array("i")
        self.insert_ids = bytearray()
        self.extras: list[bytes | None] = []
        self.by_name: dict[int, NameIndex] = {}
        self._user_rows: dict[int, array] = {}
        #: Heavy users: each event key -> the row of its latest (live) copy.
        self._user_keys: dict[int, dict[tuple[int, int, bytes], int]] = {}
        #: Rows a later copy of the same event replaced: kept for the raw export, skipped by queries.
        self.superseded: set[int] = set()
        self._first_time, self._last_time = array("q"), array("q")
        self._small_blobs: dict[bytes, bytes] = {}

    def __len__(self) -> int:
        """Every stored copy, superseded ones included (see :meth:`live_count`)."""
        return len(self.time_col)

    def live_count(self) -> int:
        """The events queries see: one per duplicate key."""
        return len(self.time_col) - len(self.superseded)

    # -- writing -----------------------------------------------------------------------------
    def name_id(self, name: str) -> int:
        found = self._name_ids.get(name)
        if found is None:
            found = self._name_ids[name] = len(self.names)
            self.names.append(name)
            self.by_name[found] = NameIndex()
        return found

    def add(self, name: str, time_ms: int, user: int, insert_id: str, extras: bytes | None) -> bool:
        """Store one event (``extras``: its other properties as compact JSON). Always stored; False
        when it duplicates a stored one, whose row it then supersedes (the latest copy wins)."""
        name_id = self.name_id(name)
        slot = _slot(insert_id)
        row = len(self.time_col)
        fresh = True
        if insert_id:
            previous = self._live_copy(name_id, time_ms, user, slot)
            if previous is not None:
                self.superseded.add(previous)
                self.by_name[name_id].superseded += 1
                fresh = False
        self.name_col.append(name_id)
        self.time_col.append(time_ms)
        self.user_col.append(user)
        self.insert_ids += slot
        self.extras.append(self._shared(extras))
        self.by_name[name_id].add(time_ms, user, row)
        self._index_user(user, row, (name_id, time_ms, slot))
        self._track_span(user, time_ms)
        return fresh

    def _shared(self, blob: bytes | None) -> bytes | None:
        """Small property blobs repeat a lot (``{"plan":"pro"}``): keep one copy of each, up to a bound."""
        if blob is None or len(blob) > _SHARED_BLOB_BYTES:
            return blob
        found = self._small_blobs.get(blob)
        if found is None and len(self._small_blobs) < _SHARED_BLOBS:
            found = self._small_blobs[blob] = blob
        return found or blob

    def _track_span(self, user: int, time_ms: int) -> None:
        """First and last event time per user: who the project knows at an instant, without a scan."""
        if user >= len(self._first_time):
            missing = user + 1 - len(self._first_time)
            self._first_time.extend([_NEVER_FIRST] * missing)
            self._last_time.extend([_NEVER_LAST] * missing)
        self._first_time[user] = min(self._first_time[user], time_ms)
        self._last_time[user] = max(self._last_time[user], time_ms)

    def _live_copy(self, name_id: int, time_ms: int, user: int, slot: bytes) -> int | None:
        """The row of the live copy of this event key, if one is stored. Scanning newest first, the
        first match is the live one (every older match was superseded by it)."""
        keys = self._user_keys.get(user)
        if keys is not None:
            return keys.get((name_id, time_ms, slot))
        rows = self._user_rows.get(user)
        if rows is None:
            return None
        time_col, name_col, insert_ids = self.time_col, self.name_col, self.insert_ids
        for row in reversed(rows):
            if (time_col[row] == time_ms and name_col[row] == name_id
                    and insert_ids[row * INSERT_ID_SLOT:(row + 1) * INSERT_ID_SLOT] == slot):
                return row
        return None

    def _index_user(self, user: int, row: int, key: tuple[int, int, bytes]) -> None:
        rows = self._user_rows.get(user)
        if rows is None:
            rows = self._user_rows[user] = array("i")
        rows.append(row)
        keys = self._user_keys.get(user)
        if keys is not None:
            keys[key] = row
        elif len(rows) > _SCAN_LIMIT:
            # in storage order, so a later copy's row overwrites an earlier one's: the live copy stays
            self._user_keys[user] = {self._key(r): r for r in rows}

    def _key(self, row: int) -> tuple[int, int, bytes]:
        return self.name_col[row], self.time_col[row], bytes(self.insert_ids[row * INSERT_ID_SLOT:(row + 1) * INSERT_ID_SLOT])

    # -- reading -----------------------------------------------------------------------------
    def insert_id(self, row: int) -> str:
        return self.insert_ids[row * INSERT_ID_SLOT:(row + 1) * INSERT_ID_SLOT].rstrip(b"\0").decode()

    def properties(self, row: int) -> dict[str, Any]:
        """The stored properties of one event other than time, distinct_id and $insert_id."""
        blob = self.extras[row]
        return json.loads(blob) if blob else {}

    def index(self, name: str) -> NameIndex | None:
        found = self._name_ids.get(name)
        return None if found is None else self.by_name[found]

    def count_between(self, start_ms: int, end_ms: int) -> int:
        """Live events timed in the window (superseded copies left out, as queries see them)."""
        total = 0
        for index in self.by_name.values():
            lo, hi = index.window(start_ms, end_ms)
            total += hi - lo
        time_col = self.time_col
        return total - sum(1 for row in self.superseded if start_ms <= time_col[row] <= end_ms)

    def users_between(self, index: NameIndex, lo: int, hi: int) -> Any:
        """The users of positions ``lo:hi`` of a name index, one per live event: the plain slice
        while the name has no superseded row, else the slice without them."""
        if not index.superseded:
            return index.users[lo:hi]
        gone = self.superseded
        return [user for user, row in zip(index.users[lo:hi], index.rows[lo:hi]) if row not in gone]

    def live_between(self, index: NameIndex, lo: int, hi: int) -> Iterator[tuple[int, int]]:
        """(user, row) of the live events at positions ``lo:hi`` of a name index."""
        pairs = zip(index.users[lo:hi], index.rows[lo:hi])
        if not index.superseded:
            return pairs
        gone = self.superseded
        return ((user, row) for user, row in pairs if row not in gone)

    def users_active(self, start_ms: int, end_ms: int) -> list[int]:
        """Users whose first event is not after ``end_ms`` and whose last is not before ``start_ms``
        (a user with events only outside the window on both sides also counts)."""
        first, last = self._first_time, self._last_time
        return [user for user in range(len(first)) if last[user] >= start_ms and first[user] <= end_ms]

    def rows_in_order(self, names: Iterable[str] | None, start_ms: int, end_ms: int,
                      every_copy: bool = False) -> Iterator[int]:
        """Rows of the window in time order (ties in storage order), optionally of some names only;
        superseded copies only with ``every_copy`` (the raw export)."""
        wanted = self.by_name.values() if names is None else [i for i in map(self.index, names) if i]
        streams = []
        for index in wanted:
            lo, hi = index.window(start_ms, end_ms)
            if hi > lo:
                streams.append(zip(index.times[lo:hi], index.rows[lo:hi]))
        gone = set() if every_copy else self.superseded
        for _, row in heapq.merge(*streams):
            if row not in gone:
                yield row

    def all_rows(self) -> range:
        """Every stored copy in ingestion order (state dumps keep them all)."""
        return range(len(self.time_col))

    def is_live(self, row: int) -> bool:
        return row not in self.superseded

    def rows_of(self, user: int) -> list[int]:
        """The live rows stored under one user int, in storage order (a profile page lists them)."""
        gone = self.superseded
        return [row for row in self._user_rows.get(user, ()) if row not in gone]


def _slot(insert_id: str) -> bytes:
    if not insert_id:
        return _EMPTY_SLOT
    raw = insert_id.encode()
    return raw + bytes(INSERT_ID_SLOT - len(raw))
