"""The two errors every harness client raises, so callers (CLI, Gherkin steps) handle one shape."""
from __future__ import annotations

from typing import Any


class HarnessHTTPError(Exception):
    """A target answered with a non-2xx status.

    ``message`` is the server's own text (its ``message`` or ``error`` field, or the raw body), so a
    step can assert the exact vendor error and the CLI can print it on one line.
    """

    def __init__(self, status: int, message: str, method: str, url: str, body: Any = None):
        super().__init__(f"{method} {url} -> {status}: {message}")
        self.status = status
        self.message = message
        self.method = method
        self.url = url
        self.body = body


class TargetUnreachable(Exception):
    """The target could not be reached at all (refused, reset, timed out): names the URL."""

    def __init__(self, url: str, reason: str):
        super().__init__(f"cannot reach {url}: {reason}")
        self.url = url
        self.reason = reason


def message_of(body: Any, fallback: str) -> str:
    """The human message of an error body: ``message``, then ``error``, then the body itself."""
    if isinstance(body, dict):
        for key in ("message", "error"):
            if isinstance(body.get(key), str) and body[key]:
                return body[key]
    if isinstance(body, str) and body.strip():
        return body.strip().splitlines()[0][:500]
    return fallback
