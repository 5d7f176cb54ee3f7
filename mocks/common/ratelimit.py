"""Fixed-window rate limits measured on the mock's clock (so tests move time instead of waiting)."""
from __future__ import annotations

import threading
from dataclasses import dataclass

from .clock import Clock


@dataclass(frozen=True)
class RateDecision:
    allowed: bool
    limit: int
    remaining: int
    reset_epoch: int

    def headers(self) -> dict[str, str]:
        """Braze sends these lower-case; HTTP header names are case-insensitive anyway."""
        return {"x-ratelimit-limit": str(self.limit), "x-ratelimit-remaining": str(self.remaining),
                "x-ratelimit-reset": str(self.reset_epoch)}


class RateLimiter:
    """Counts calls per key in fixed windows aligned to the epoch."""

    def __init__(self, clock: Clock):
        self._clock = clock
        self._counts: dict[tuple[str, int], int] = {}
        self._lock = threading.Lock()

    def hit(self, key: str, limit: int, window_seconds: int) -> RateDecision:
        now = int(self._clock.timestamp())
        window = now // window_seconds
        reset = (window + 1) * window_seconds
        with self._lock:
            count = self._counts.get((key, window), 0)
            if count >= limit:
                return RateDecision(False, limit, 0, reset)
            self._counts[(key, window)] = count + 1
            if len(self._counts) > 10_000:
                self._counts = {k: v for k, v in self._counts.items() if k[1] >= window - 1}
        return RateDecision(True, limit, limit - count - 1, reset)

    def reset(self) -> None:
        with self._lock:
            self._counts.clear()
