"""The one clock every time rule reads.

Retention, rolling cohort windows, the 15-minute sync schedule, snapshot age, rate-limit windows and
``created_at`` all ask a :class:`Clock` for "now". It is virtual by default: it starts at a fixed
instant and only moves when told, so tests never sleep. Advancing it runs every scheduled job that
falls due, in order, each at its own instant, and returns what fired.
"""
from __future__ import annotations

import re
import threading
import time
from datetime import datetime, timedelta, timezone
from typing import Any, Protocol

DEFAULT_START = datetime(2026, 1, 1, tzinfo=timezone.utc)

_DURATION = re.compile(r"^\s*(\d+(?:\.\d+)?)\s*([smhd])\s*$")
_UNIT_SECONDS = {"s": 1, "m": 60, "h": 3600, "d": 86400}


class ClockError(ValueError):
    """A duration or instant the clock cannot understand."""


def parse_duration(text: str) -> timedelta:
    """Parse ``"15m"``, ``"90s"``, ``"2h"`` or ``"3d"`` (one number, one unit)."""
    if not isinstance(text, str):
        raise ClockError("duration must be a string such as '15m' (units s, m, h, d)")
    match = _DURATION.match(text)
    if not match:
        raise ClockError(f"invalid duration {text!r}: use a number and one of s, m, h, d (e.g. '15m')")
    amount, unit = match.groups()
    return timedelta(seconds=float(amount) * _UNIT_SECONDS[unit])


def parse_instant(text: str) -> datetime:
    """Parse an ISO-8601 instant; a naive instant is taken as UTC."""
    if not isinstance(text, str) or not text.strip():
        raise ClockError("instant must be an ISO-8601 string such as '2026-01-01T00:00:00Z'")
    try:
        value = datetime.fromisoformat(text.strip().replace("Z", "+00:00").replace("z", "+00:00"))
    except ValueError:
        raise ClockError(f"invalid ISO-8601 instant {text!r}") from None
    if value.tzinfo is None:
        value = value.replace(tzinfo=timezone.utc)
    return value.astimezone(timezone.utc)


def to_iso(value: datetime) -> str:
    """Format an instant as ISO-8601 UTC with a ``Z`` suffix."""
    value = value.astimezone(timezone.utc)
    text = value.isoformat(timespec="milliseconds" if value.microsecond else "seconds")
    return text.replace("+00:00", "Z")


class ScheduledJobs(Protocol):
    """Anything with work that falls due at instants of the clock (the sync scheduler)."""

    def next_due(self) -> datetime | None: ...

    def run_due(self, at: datetime) -> list[dict[str, Any]]: ...


class Clock:
    """A virtual, real or scaled clock.

    * ``virtual``: starts at ``start`` and moves only through :meth:`advance` / :meth:`set`.
    * ``real``: wall time.
    * ``scaled``: wall time since creation multiplied by ``scale``, added to ``start`` (demos).

    Reading :meth:`now` takes no lock, so an HTTP handler can read the clock while an advance is
    running syncs that call that handler.
    """

    MODES = ("virtual", "real", "scaled")

    def __init__(self, mode: str = "virtual", start: datetime | None = None, scale: float = 1.0):
        if mode not in self.MODES:
            raise ClockError(f"clock mode must be one of {', '.join(self.MODES)}")
        self.mode = mode
        self.scale = scale
        self._start = (start or DEFAULT_START).astimezone(timezone.utc)
        self._virtual_now = self._start
        self._wall_origin = time.monotonic()
        self._offset = timedelta(0)
        self._advance_lock = threading.Lock()
        self._schedulers: list[ScheduledJobs] = []

    # -- reading -------------------------------------------------------------------------------
    def now(self) -> datetime:
        if self.mode == "virtual":
            return self._virtual_now
        if self.mode == "real":
            return datetime.now(timezone.utc) + self._offset
        elapsed = (time.monotonic() - self._wall_origin) * self.scale
        return self._start + timedelta(seconds=elapsed) + self._offset

    def timestamp(self) -> float:
        return self.now().timestamp()

    # -- scheduling ----------------------------------------------------------------------------
    def add_scheduler(self, scheduler: ScheduledJobs) -> None:
        """Register work that must run when the clock passes its due instants."""
        self._schedulers.append(scheduler)

    def run_due(self) -> list[dict[str, Any]]:
        """Run what is due at the current instant (for real and scaled clocks, called by a ticker)."""
        with self._advance_lock:
            return self._run_until(self.now(), move=False)

    # -- moving --------------------------------------------------------------------------------
    def advance(self, delta: timedelta | str) -> list[dict[str, Any]]:
        """Move forward, running each due job at its own instant, in order; returns what fired."""
        if not isinstance(delta, timedelta):  # parse_duration refuses non-strings
            delta = parse_duration(delta)
        if delta < timedelta(0):
            raise ClockError("the clock cannot be advanced by a negative duration")
        with self._advance_lock:
            return self._run_until(self.now() + delta, move=True)

    def set(self, instant: datetime | str) -> list[dict[str, Any]]:
        """Jump to an instant. Forward jumps run due jobs in order; backward jumps run nothing."""
        if not isinstance(instant, datetime):  # parse_instant refuses non-strings
            instant = parse_instant(instant)
        instant = instant.astimezone(timezone.utc)
        with self._advance_lock:
            if instant <= self.now():
                self._move_to(instant)
                return []
            return self._run_until(instant, move=True)

    def _run_until(self, target: datetime, move: bool) -> list[dict[str, Any]]:
        fired: list[dict[str, Any]] = []
        while True:
            due = [(at, s) for s in self._schedulers if (at := s.next_due()) is not None and at <= target]
            if not due:
                break
            at, scheduler = min(due, key=lambda pair: pair[0])
            if move and at > self.now():
                self._move_to(at)
            fired.extend(scheduler.run_due(at))
        if move:
            self._move_to(target)
        return fired

    def _move_to(self, instant: datetime) -> None:
        if self.mode == "virtual":
            self._virtual_now = instant
        else:
            self._offset += instant - self.now()

    # -- state ---------------------------------------------------------------------------------
    def to_dict(self) -> dict[str, Any]:
        return {"mode": self.mode, "now": to_iso(self.now()), "scale": self.scale}

    def load(self, data: dict[str, Any]) -> None:
        """Restore the instant of a dumped state (the mode stays as configured)."""
        if "now" in data:
            with self._advance_lock:
                self._move_to(parse_instant(data["now"]))
