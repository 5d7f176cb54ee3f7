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
from itertools import groupby, islice
from operator import le
from typing import Any, Iterable, Iterator

INSERT_ID_SLOT = 36
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

    def extend(self, times: list[int], users: list[int], rows: Iterable[int]) -> None:
        """Append a batch of this name's events (rows ascending). In time order after the sorted
        arrays they join those at once, else they wait with the late ones: after :meth:`settle`
        the arrays are the same as after :meth:`add` of each."""
        if (not self._late_times and (not self.times or times[0] >= self.times[-1])
                and all(map(le, times, islice(times, 1, None)))):
            self.times.extend(times)
            self.users.extend(users)
            self.rows.extend(rows)
        else:
            self._late_times.extend(times)
            self._late_users.extend(users)
            self._late_rows.extend(rows)

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
        return not self.add_batch([name], [time_ms], [user], [insert_id], [extras])

    def add_batch(self, names: list[str], times: list[int], users: list[int], insert_ids: list[str],
                  extras: list[bytes | None]) -> int:
        """Store a run of events at once, with the same outcome as :meth:`add` of each in order;
        returns how many were duplicates (of a stored event or of one earlier in the run). The
        columns are extended once; what stays per event is the per-user work: the duplicate lookup in
        the user's few rows, the user's row list and time span."""
        count = len(times)
        if not count:
            return 0
        for name in dict.fromkeys(names):  # new names get their ids in order of first appearance
            self.name_id(name)
        ids = list(map(self._name_ids.__getitem__, names))
        base = len(self.time_col)
        self.name_col.extend(ids)
        self.time_col.extend(times)
        self.user_col.extend(users)
        slots = b"".join([i.encode().ljust(INSERT_ID_SLOT, b"\0") for i in insert_ids])
        if len(slots) != INSERT_ID_SLOT * count:  # the import rules never let one through; a state dump might
            raise ValueError("an $insert_id is longer than 36 bytes")
        self.insert_ids += slots
        self.extras.extend(map(self._shared, extras) if any(extras) else extras)
        self._index_names(ids, times, users, base)
        top = max(users) + 1
        if top > len(self._first_time):
            self._first_time.extend([_NEVER_FIRST] * (top - len(self._first_time)))
            self._last_time.extend([_NEVER_LAST] * (top - len(self._last_time)))
        return self._index_users(ids, times, users, insert_ids, base)

    def _index_names(self, ids: list[int], times: list[int], users: list[int], base: int) -> None:
        """Each name's rows of the batch, in row order, to its index in one extend."""
        if ids.count(ids[0]) == len(ids):
            self.by_name[ids[0]].extend(times, users, range(base, base + len(ids)))
            return
        for name_id, group in groupby(sorted(range(len(ids)), key=ids.__getitem__), key=ids.__getitem__):
            positions = list(group)
            self.by_name[name_id].extend(list(map(times.__getitem__, positions)),
                                         list(map(users.__getitem__, positions)), map(base.__add__, positions))

    def _index_users(self, ids: list[int], times: list[int], users: list[int], insert_ids: list[str],
                     base: int) -> int:
        """The per-user part of :meth:`add_batch`, one loop: rows, heavy users' key maps, spans and
        duplicates (a later copy supersedes the live one, as in :meth:`add`)."""
        user_rows, user_keys, superseded, by_name = self._user_rows, self._user_keys, self.superseded, self.by_name
        time_col, name_col, slots = self.time_col, self.name_col, self.insert_ids
        first, last = self._first_time, self._last_time
        duplicates = 0
        for row, user, time_ms, name_id, insert_id in zip(range(base, base + len(ids)), users, times, ids, insert_ids):
            rows = user_rows.get(user)
            if rows is None:
                user_rows[user] = array("i", (row,))
            else:
                keys = user_keys.get(user)
                previous = None
                if keys is not None:
                    key = (name_id, time_ms, bytes(slots[row * INSERT_ID_SLOT:(row + 1) * INSERT_ID_SLOT]))
                    if insert_id:
                        previous = keys.get(key)
                    keys[key] = row
                elif insert_id:
                    for older in reversed(rows):
                        if (time_col[older] == time_ms and name_col[older] == name_id
                                and slots[older * INSERT_ID_SLOT:(older + 1) * INSERT_ID_SLOT]
                                == slots[row * INSERT_ID_SLOT:(row + 1) * INSERT_ID_SLOT]):
                            previous = older
                            break
                if previous is not None:
                    superseded.add(previous)
                    by_name[name_id].superseded += 1
                    duplicates += 1
                rows.append(row)
                if keys is None and len(rows) > _SCAN_LIMIT:
                    user_keys[user] = {self._key(r): r for r in rows}
            if time_ms < first[user]:
                first[user] = time_ms
            if time_ms > last[user]:
                last[user] = time_ms
        return duplicates

    def _shared(self, blob: bytes | None) -> bytes | None:
        """Small property blobs repeat a lot (``{"plan":"pro"}``): keep one copy of each, up to a bound."""
        if blob is None or len(blob) > _SHARED_BLOB_BYTES:
            return blob
        found = self._small_blobs.get(blob)
        if found is None and len(self._small_blobs) < _SHARED_BLOBS:
            found = self._small_blobs[blob] = blob
        return found or blob

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

