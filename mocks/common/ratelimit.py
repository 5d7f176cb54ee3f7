"""Fixed-window rate limits that end on either of two clocks.

A key's window is the mock clock's epoch-aligned window (``timestamp // window``), so tests that move
the virtual clock roll windows over without waiting. It also ends once ``window`` seconds of
``time.monotonic()`` (the wall's monotonic clock: never set back, unlike the time of day) have
passed since the window's first call: under ``serve``'s standing virtual clock a real client that
sleeps out a 429 gets through again, as it would against the vendor, instead of being refused
forever. Whichever clock ends the window first wins; ``Retry-After`` is the shorter of the two waits.

``COHORT_HARNESS_RATE_LIMITS=off`` (read when a mock app is created) turns every limit off: the
switch for client test runs that are not about rate limits. The ``x-ratelimit-*`` headers are still
sent, with the full limit remaining.
"""
from __future__ import annotations

import math
import os
import threading
import time
from dataclasses import dataclass
from typing import Callable

from .clock import Clock

#: The environment switch for client test runs (``off`` disables every limit of the mocks).
SWITCH = "COHORT_HARNESS_RATE_LIMITS"


def limits_enabled_by_environment() -> bool:
    """False when ``COHORT_HARNESS_RATE_LIMITS`` is ``off`` (or ``0`` / ``false`` / ``no``)."""
    return os.environ.get(SWITCH, "on").strip().lower() not in ("off", "0", "false", "no")


@dataclass(frozen=True)
class RateDecision:
    allowed: bool
    limit: int
    remaining: int
    reset_epoch: int
    #: Whole seconds until the window ends (at least 1); meaningful when refused.
    retry_after: int = 1

    def headers(self) -> dict[str, str]:
        """Braze sends these lower-case; HTTP header names are case-insensitive anyway."""
        return {"x-ratelimit-limit": str(self.limit), "x-ratelimit-remaining": str(self.remaining),
                "x-ratelimit-reset": str(self.reset_epoch)}


@dataclass
class _Window:
    index: int        # the mock clock's window number
    wall_opened: float  # time.monotonic() at the window's first call
    count: int = 0


class RateLimiter:
    """Counts calls per key; ``wall`` is injectable so tests move wall time without sleeping."""

    def __init__(self, clock: Clock, wall: Callable[[], float] = time.monotonic, enabled: bool = True):
        self._clock = clock
        self._wall = wall
        self.enabled = enabled
        self._windows: dict[str, _Window] = {}
        self._lock = threading.Lock()

    def hit(self, key: str, limit: int, window_seconds: int) -> RateDecision:
        now, wall = self._clock.timestamp(), self._wall()
        index = int(now) // window_seconds
        with self._lock:
            current = self._windows.get(key)
            if current is None or current.index != index or wall - current.wall_opened >= window_seconds:
                current = self._windows[key] = _Window(index, wall)
            wait = min((index + 1) * window_seconds - now, current.wall_opened + window_seconds - wall)
            retry_after = max(1, math.ceil(wait))
            reset = int(now) + retry_after
            if not self.enabled:
                return RateDecision(True, limit, limit, reset, retry_after)
            if current.count >= limit:
                return RateDecision(False, limit, 0, reset, retry_after)
            current.count += 1
            return RateDecision(True, limit, limit - current.count, reset, retry_after)

    def reset(self) -> None:
        with self._lock:
            self._windows.clear()
