"""The one clock every time rule reads.

Retention, rolling cohort windows, the 15-minute sync schedule, snapshot age, rate-limit windows and
``created_at`` all ask a :class:`Clock` for "now". It is virtual by default: it starts at a fixed
instant and only moves when told, so tests never sleep. Advancing it runs every scheduled job that
falls due, in order, each at its own instant, and returns what fired.
"""
from __future__ import annotations

import threading
import time
from collections import deque
from contextlib import contextmanager
from datetime import datetime, timedelta, timezone
from typing import Any, Callable, Iterator, Protocol, TypeVar

from .numbers import LAST_INSTANT, OutOfRange, add_duration, parse_duration_text, parse_iso_instant

DEFAULT_START = datetime(2026, 1, 1, tzinfo=timezone.utc)
T = TypeVar("T")



class ClockError(ValueError):
    """A duration or instant the clock cannot understand."""


def parse_duration(text: str) -> timedelta:
    """Parse ``"15m"``, ``"90s"``, ``"2h"`` or ``"3d"`` (one number, one unit), at most
    :data:`~mocks.common.numbers.MAX_DURATION_DAYS` days."""
    if not isinstance(text, str):
        raise ClockError("duration must be a string such as '15m' (units s, m, h, d)")
    return _through_numbers(parse_duration_text, text, f"invalid duration {text!r}",
                            f"invalid duration {text!r}: use a number and one of s, m, h, d (e.g. '15m')")


def parse_instant(text: str) -> datetime:
    """Parse an ISO-8601 instant (a naive instant is taken as UTC) into UTC, within the calendar a
    datetime holds (``0001-01-01T00:00:00+01:00`` is before it)."""
    if not isinstance(text, str) or not text.strip():
        raise ClockError("instant must be an ISO-8601 string such as '2026-01-01T00:00:00Z'")
    return _through_numbers(parse_iso_instant, text, f"instant {text!r} is out of range",
                            f"invalid ISO-8601 instant {text!r}")


def _through_numbers(parse: Callable[[str], T | None], text: str, out_of_range: str, invalid: str) -> T:
    """``parse(text)`` of :mod:`mocks.common.numbers`, its None and :class:`OutOfRange` as a ClockError."""
    try:
        value = parse(text)
    except OutOfRange as exc:
        raise ClockError(f"{out_of_range}: {exc}") from None
    if value is None:
        raise ClockError(invalid)
    return value


def to_iso(value: datetime) -> str:
    """Format an instant as ISO-8601 UTC with a ``Z`` suffix."""
    value = value.astimezone(timezone.utc)
    text = value.isoformat(timespec="milliseconds" if value.microsecond else "seconds")
    return text.replace("+00:00", "Z")


class ScheduledJobs(Protocol):
    """Anything with work that falls due at instants of the clock (the sync scheduler)."""

    def next_due(self) -> datetime | None: ...

    def run_due(self, at: datetime) -> list[dict[str, Any]]: ...

    def runs_until(self, until: datetime) -> int: ...


#: The most scheduled runs one advance or set may make: each runs while the clock is held, so a move
#: over millions of them (100 years of a 15-minute export) would hold every later move for minutes.
MAX_RUNS_PER_MOVE = 100_000


FiredRow = dict[str, Any]
Sink = Callable[[FiredRow], None]


class FiredSummary:
    """What one advance ran, in bounded memory: the count, per-job counts (one entry per export),
    and the first and last ``KEEP_EACH_END`` rows. An hour over a 1-second export runs 3,600 syncs
    and 30 days 2.6 million: keeping every row made the reply 1.3 MB an hour and the memory of a
    long advance grow without end (issue 12, class 8)."""

    KEEP_EACH_END = 10
    JOB_KEYS = ("service", "job", "project_id", "export_id")

    def __init__(self) -> None:
        self.fired_count = 0
        self._head: list[FiredRow] = []
        self._tail: deque[FiredRow] = deque(maxlen=self.KEEP_EACH_END)
        self._jobs: dict[tuple[Any, ...], dict[str, Any]] = {}

    def add(self, row: FiredRow) -> None:
        self.fired_count += 1
        (self._head if len(self._head) < self.KEEP_EACH_END else self._tail).append(row)
        key = tuple(row.get(name) for name in self.JOB_KEYS)
        job = self._jobs.get(key)
        if job is None:
            job = self._jobs[key] = {**dict(zip(self.JOB_KEYS, key)), "count": 0, "results": {},
                                     "added": 0, "removed": 0}
        job["count"] += 1
        result = str(row.get("result"))
        job["results"][result] = job["results"].get(result, 0) + 1
        job["added"] += row.get("added") or 0
        job["removed"] += row.get("removed") or 0

    def to_dict(self) -> dict[str, Any]:
        """``fired`` holds every row when there are at most ``2 x KEEP_EACH_END``, else the first and
        last ones (``fired_truncated``); ``exports`` always counts all of them."""
        fired = self._head + list(self._tail)
        return {"fired_count": self.fired_count, "fired_truncated": self.fired_count > len(fired),
                "first": fired[0] if fired else None, "last": fired[-1] if fired else None,
                "exports": list(self._jobs.values()), "fired": fired}


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
        fired: list[FiredRow] = []
        with self._advance_lock:
            self._run_until(self.now(), move=False, sink=fired.append)
        return fired

    # -- moving --------------------------------------------------------------------------------
    def advance(self, delta: timedelta | str) -> list[dict[str, Any]]:
        """Move forward, running each due job at its own instant, in order; returns every row that
        fired (in-process callers with few syncs; the control plane uses :meth:`advance_summarised`)."""
        fired: list[FiredRow] = []
        self._advance(delta, fired.append)
        return fired

    def advance_summarised(self, delta: timedelta | str) -> FiredSummary:
        """Like :meth:`advance`, keeping only a bounded :class:`FiredSummary` of what fired."""
        summary = FiredSummary()
        self._advance(delta, summary.add)
        return summary

    def set(self, instant: datetime | str) -> list[dict[str, Any]]:
        """Jump to an instant. Forward jumps run due jobs in order; backward jumps run nothing."""
        fired: list[FiredRow] = []
        self._set(instant, fired.append)
        return fired

    def set_summarised(self, instant: datetime | str) -> FiredSummary:
        """Like :meth:`set`, keeping only a bounded :class:`FiredSummary` of what fired."""
        summary = FiredSummary()
        self._set(instant, summary.add)
        return summary

    def _advance(self, delta: timedelta | str, sink: Sink) -> None:
        given = delta.strip() if isinstance(delta, str) else str(delta)
        if not isinstance(delta, timedelta):  # parse_duration refuses non-strings
            delta = parse_duration(delta)
        if delta < timedelta(0):
            raise ClockError("the clock cannot be advanced by a negative duration")
        with self._advance_lock:
            now = self.now()
            target = add_duration(now, delta)
            if target is None:
                raise ClockError(f"advancing {given} from {to_iso(now)} would pass {to_iso(LAST_INSTANT)}")
            self._run_until(target, move=True, sink=sink)

    def _set(self, instant: datetime | str, sink: Sink) -> None:
        if not isinstance(instant, datetime):  # parse_instant refuses non-strings
            instant = parse_instant(instant)
        instant = instant.astimezone(timezone.utc)
        with self._advance_lock:
            if instant <= self.now():
                self._move_to(instant)
                return
            self._run_until(instant, move=True, sink=sink)

    def _run_until(self, target: datetime, move: bool, sink: Sink) -> None:
        """Run due jobs up to ``target``, handing each fired row to ``sink`` as it comes (so a long
        advance holds no list of them). A move over more than :data:`MAX_RUNS_PER_MOVE` runs is
        refused before anything runs."""
        runs = sum(s.runs_until(target) for s in self._schedulers if hasattr(s, "runs_until"))
        if runs > MAX_RUNS_PER_MOVE:
            raise ClockError(f"moving the clock from {to_iso(self.now())} to {to_iso(target)} would run {runs} "
                             f"scheduled syncs, more than {MAX_RUNS_PER_MOVE} in one move: "
                             "move the clock in smaller steps")
        while True:
            due = [(at, s) for s in self._schedulers if (at := s.next_due()) is not None and at <= target]
            if not due:
                break
            at, scheduler = min(due, key=lambda pair: pair[0])
            if move and at > self.now():
                self._move_to(at)
            for row in scheduler.run_due(at):
                sink(row)
        if move:
            self._move_to(target)

    def _move_to(self, instant: datetime) -> None:
        if self.mode == "virtual":
            self._virtual_now = instant
        else:
            self._offset += instant - self.now()

    @contextmanager
    def held(self, timeout: float) -> Iterator[bool]:
        """Wait up to ``timeout`` s for a running advance (and its syncs) to finish and keep the next
        one from starting inside; yields whether the wait succeeded. ``serve`` saves its state here,
        so a Ctrl-C during a sync batch does not save a snapshot that misses what Braze was sent."""
        acquired = self._advance_lock.acquire(timeout=timeout)
        try:
            yield acquired
        finally:
            if acquired:
                self._advance_lock.release()

    # -- state ---------------------------------------------------------------------------------
    def to_dict(self) -> dict[str, Any]:
        return {"mode": self.mode, "now": to_iso(self.now()), "scale": self.scale}

    def load(self, data: dict[str, Any]) -> None:
        """Restore the instant of a dumped state (the mode stays as configured)."""
        if "now" in data:
            with self._advance_lock:
                self._move_to(parse_instant(data["now"]))
