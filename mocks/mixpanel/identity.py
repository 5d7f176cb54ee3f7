"""Distinct ids as small integers, and Simplified ID Merge.

Every distinct_id a project has seen gets an int (events and cohort sets hold ints, not strings).
A merge points a ``$device:<id>`` at the ``$user_id`` it was first seen with; from then on the
device's events count for the user and only the user's id (the canonical one) is shown anywhere.
A device merges once: a later event pairing it with another user changes nothing.
"""
from __future__ import annotations

from array import array
from typing import Iterable


class IdRegistry:
    def __init__(self) -> None:
        self.ids: list[str] = []
        self._numbers: dict[str, int] = {}
        self._canonical = array("i")
        self.merges: dict[str, str] = {}

    def __len__(self) -> int:
        return len(self.ids)

    def number(self, distinct_id: str) -> int:
        """The int of a distinct_id, registering it when new."""
        found = self._numbers.get(distinct_id)
        if found is None:
            found = self._numbers[distinct_id] = len(self.ids)
            self.ids.append(distinct_id)
            self._canonical.append(found)
        return found

    def numbers(self, distinct_ids: list[str]) -> list[int]:
        """:meth:`number` of each, in order (new ids numbered in order of first appearance): one
        dict lookup per id in C, a Python call only for the ids not seen before."""
        found = list(map(self._numbers.get, distinct_ids))
        if None in found:
            number = self.number
            for position in [p for p, value in enumerate(found) if value is None]:
                found[position] = number(distinct_ids[position])
        return found  # type: ignore[return-value]  # every None was replaced

    def find(self, distinct_id: str) -> int | None:
        return self._numbers.get(distinct_id)

    def merge(self, device_id: str, user_id: str) -> bool:
        """Point a device id at a user id; False when the device was already merged."""
        device = self.number(device_id)
        if self._canonical[device] != device or device_id == user_id:
            return False
        user = self._canonical[self.number(user_id)]
        if user == device:
            return False
        self._canonical[device] = user
        self.merges[device_id] = self.ids[user]
        return True

    def canonical(self, number: int) -> int:
        return self._canonical[number]

    def canonical_id(self, distinct_id: str) -> str:
        """The id a distinct_id is shown as (itself unless it is a merged device)."""
        return self.merges.get(distinct_id, distinct_id)

    def to_canonical(self, numbers: Iterable[int]) -> Iterable[int]:
        """Map ints to their canonical ints (a no-op view when nothing was ever merged)."""
        return numbers if not self.merges else map(self._canonical.__getitem__, numbers)

    def names(self, numbers: Iterable[int]) -> set[str]:
        return set(map(self.ids.__getitem__, numbers))
