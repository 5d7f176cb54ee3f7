"""The request journal: what each mock received and answered, secrets redacted.

Tests and the conformance report read it to show "the last requests to the target". Bodies are
kept raw when recorded and parsed (and redacted) only when someone reads them: a large export
sends a thousand 40 KB bodies, and parsing each one twice on the hot path cost more than the
endpoint's own work.
"""
from __future__ import annotations

import re
import threading
from collections import deque
from typing import Any

from .validation import parse_json

REDACTED = "***"
SECRET_KEYS = frozenset(
    {"partner_api_key", "client_secret", "api_secret", "secret", "password", "token", "$token",
     "data_import_key", "rest_api_key", "authorization", "key"}
)
#: Bodies up to this size are shown whole (parsed and redacted); larger ones as a redacted head.
MAX_BODY_CHARS = 4_000_000
_SECRET_IN_TEXT = re.compile(r'("(?:%s)"\s*:\s*)"[^"]*"' % "|".join(re.escape(k) for k in sorted(SECRET_KEYS)),
                             re.IGNORECASE)


class RawBody:
    """A body as received, parsed only when the journal is read."""

    __slots__ = ("raw", "content_type")

    def __init__(self, raw: bytes | str, content_type: str):
        self.raw = raw
        self.content_type = content_type


def redact(value: Any) -> Any:
    """Return a copy of a JSON value with every secret-looking field replaced by ``***``."""
    if isinstance(value, dict):
        return {k: (REDACTED if str(k).lower() in SECRET_KEYS and v not in (None, "") else redact(v))
                for k, v in value.items()}
    if isinstance(value, list):
        return [redact(v) for v in value]
    return value


def body_for_journal(raw: bytes | str | None, content_type: str = "") -> Any:
    """Parse a body for the journal: JSON is redacted; other text is kept (truncated)."""
    if raw is None:
        return None
    text = raw.decode("utf-8", "replace") if isinstance(raw, bytes) else raw
    if len(text) > MAX_BODY_CHARS:
        return {"truncated": True, "chars": len(text), "head": _SECRET_IN_TEXT.sub(r'\1"***"', text[:2000])}
    if "json" in content_type or text[:1] in "[{":
        try:
            return redact(parse_json(text))
        except ValueError:  # not strict JSON (NaN, too deep, ...) is kept as text: replies stay JSON
            pass
    return text


def _materialise(entry: dict[str, Any]) -> dict[str, Any]:
    """Parse the raw bodies of an entry in place (once) and return it."""
    for name in ("request", "response"):
        body = entry.get(name)
        if isinstance(body, RawBody):
            entry[name] = body_for_journal(body.raw, body.content_type)
    return entry


def _path_matches(entry_path: str, wanted: str | None) -> bool:
    """No filter, an exact path, or a prefix written with a trailing ``*``."""
    if not wanted:
        return True
    if wanted.endswith("*"):
        return entry_path.startswith(wanted[:-1])
    return entry_path == wanted


class Journal:
    """A bounded, thread-safe list of request/response entries, newest last."""

    def __init__(self, max_entries: int = 2000):
        self._entries: deque[dict[str, Any]] = deque(maxlen=max_entries)
        self._lock = threading.Lock()
        self.enabled = True

    def record(self, entry: dict[str, Any]) -> None:
        if self.enabled:
            with self._lock:
                self._entries.append(entry)

    def entries(self, path: str | None = None, method: str | None = None,
                limit: int | None = None) -> list[dict[str, Any]]:
        with self._lock:
            found = [e for e in self._entries
                     if _path_matches(e["path"], path) and (not method or e["method"] == method.upper())]
            found = found[-limit:] if limit else found
            return [_materialise(e) for e in found]

    def clear(self) -> None:
        with self._lock:
            self._entries.clear()
