"""Rate limits of the Mixpanel mock, measured on the mock's clock, and configurable.

Defaults are Mixpanel's documented numbers: Query API 60 queries per hour and 5 at once; raw
export 60 per hour, 3 per second and 100 at once. Ingestion is limited by volume at Mixpanel
(~30k events/s); the mock approximates that as requests per minute per project (900 requests of
2,000 events is 30k events/s). Tests and the harness raise them with the app config
``MIXPANEL_LIMITS`` or ``PATCH /_harness/limits``.
"""
from __future__ import annotations

import threading
from contextlib import contextmanager
from dataclasses import asdict, dataclass
from typing import Any, Iterator

RATE_DOCS = "https://help.mixpanel.com/hc/en-us/articles/115004602563-Rate-Limits-for-Export-API-Endpoints"


@dataclass
class Limits:
    query_per_hour: int = 60
    query_concurrency: int = 5
    export_per_hour: int = 60
    export_per_second: int = 3
    export_concurrency: int = 100
    import_requests_per_minute: int = 900
    engage_page_size: int = 1000

    def update(self, changes: dict[str, Any]) -> None:
        """Apply changes already checked against ``schemas/limits_patch.json``."""
        for name, value in changes.items():
            setattr(self, name, value)

    def to_dict(self) -> dict[str, int]:
        return asdict(self)


class ConcurrencyGate:
    """How many requests of a kind run at once for a project."""

    def __init__(self) -> None:
        self._running: dict[str, int] = {}
        self._lock = threading.Lock()

    def enter(self, key: str, limit: int) -> tuple[bool, int]:
        """Take a slot; returns (taken, running including this one)."""
        with self._lock:
            running = self._running.get(key, 0) + 1
            if running > limit:
                return False, running
            self._running[key] = running
            return True, running

    def leave(self, key: str) -> None:
        with self._lock:
            self._running[key] = max(self._running.get(key, 1) - 1, 0)

    @contextmanager
    def held(self, key: str) -> Iterator[None]:
        try:
            yield
        finally:
            self.leave(key)


def query_limit_message(project_id: int, running: int, concurrency: int, used: int, per_hour: int) -> str:
    """Mixpanel's wording of a Query API 429 (as its API answers it)."""
    return (f"Query rate limit exceeded for project_id: {project_id}. {running}/{concurrency} queries running "
            f"concurrently and {used}/{per_hour} queries running in the last hour. For more information, "
            f"please consult our documentation at {RATE_DOCS}")


def export_second_message(project_id: int, used: int, per_second: int) -> str:
    """The per-second limit of the raw export (same shape, the mock's wording)."""
    return (f"Query rate limit exceeded for project_id: {project_id}. {used}/{per_second} queries in the last "
            f"second. For more information, please consult our documentation at {RATE_DOCS}")
