"""The request journal: what each mock received and answered, secrets redacted.

Tests and the conformance report read it to show "the last requests to the target". Bodies are
kept raw when recorded and parsed (and redacted) only when someone reads them: a large export
sends a thousand 40 KB bodies, and parsing each one twice on the hot path cost more than the
endpoint's own work.
"""
from __future__ import annotations

import base64
import binascii
import re
import threading
from collections import deque
from typing import Any, Iterable
from urllib.parse import parse_qsl

from .validation import parse_json

REDACTED = "***"
SECRET_KEYS = frozenset(
    {"partner_api_key", "client_secret", "api_secret", "api_key", "secret", "password", "token", "$token",
     "access_token", "data_import_key", "rest_api_key", "authorization", "key"}
)
#: Bodies up to this size are shown whole (parsed and redacted); larger ones as a redacted head.
MAX_BODY_CHARS = 4_000_000
#: How much of a body over :data:`MAX_BODY_CHARS` the journal shows (cut after redaction).
PREVIEW_CHARS = 2000
#: A tenant's secret shorter than this is redacted where a key or a message names it, not by its value
#: everywhere (a one-letter token would blank every "k" of every body).
MIN_SECRET_CHARS = 6
FORM = "application/x-www-form-urlencoded"

_KEY_NAMES = "|".join(re.escape(k.lstrip("$")) for k in sorted(SECRET_KEYS, key=len, reverse=True))
#: ``"client_secret": "..."`` (escaped quotes included, closing quote optional) or ``"token": 123``.
_JSON_PAIR = re.compile(r'("\$?(?:%s)"\s*:\s*)(?:"(?:[^"\\]|\\.)*"?|(?![\[{\s])[^,}\]\s]+)' % _KEY_NAMES,
                        re.IGNORECASE)
#: ``api_key=...`` in a form, a query string or a text (``$`` spelled plainly or as ``%24``).
_FORM_PAIR = re.compile(r"((?:^|(?<=[?&;\s]))(?:\$|%%24)?(?:%s)=)[^&\s]*" % _KEY_NAMES, re.IGNORECASE)
#: Vendor texts that quote a secret back: Braze's ``Partner not enabled for client with client secret:
#: <key>`` and ``Invalid API key: <key>``. The secret is the rest of the text (of the JSON string).
_MESSAGE_TRIGGERS = ("client secret: ", "api key: ")
_MESSAGE = re.compile(r'((?:%s))(?:[^"\\\n]|\\.)+' % "|".join(map(re.escape, _MESSAGE_TRIGGERS)),
                      re.IGNORECASE)


class RawBody:
    """A body as received, parsed only when the journal is read."""

    __slots__ = ("raw", "content_type")

    def __init__(self, raw: bytes | str, content_type: str):
        self.raw = raw
        self.content_type = content_type


class RawFields:
    """Query-string fields as received, redacted only when the journal is read."""

    __slots__ = ("fields",)

    def __init__(self, fields: dict[str, str]):
        self.fields = fields


class Redactor:
    """The one redaction of the journal, for parsed values and raw text alike.

    A parsed value (JSON, form fields) loses the value of every key of :data:`SECRET_KEYS`; every
    string in it, and any text that does not parse, also goes through :meth:`text`: secret-keyed
    pairs written as JSON or as form fields, the vendor messages that quote a key, and every known
    secret value of the tenants (``secrets``, at least :data:`MIN_SECRET_CHARS` long)."""

    def __init__(self, secrets: Iterable[str] = ()):
        values = sorted({s for s in secrets if isinstance(s, str) and len(s) >= MIN_SECRET_CHARS},
                        key=len, reverse=True)
        self._plain = values
        self._values = re.compile("|".join(map(re.escape, values))) if values else None

    def text(self, text: str) -> str:
        """Raw text with every secret it shows replaced by ``***``."""
        text = _JSON_PAIR.sub(r'\1"***"', text)
        text = _FORM_PAIR.sub(r"\1***", text)
        return self._leaf(text)

    def _leaf(self, text: str) -> str:
        """A string inside a parsed value: messages quoting a key, and known secret values."""
        text = _MESSAGE.sub(r"\1***", text)
        return self._values.sub(REDACTED, text) if self._values is not None else text

    def value(self, value: Any, strings: bool = True) -> Any:
        """A copy of a parsed value with every secret replaced by ``***`` (``strings=False``: by key
        only, when the raw text shows that no string of it quotes a secret)."""
        if isinstance(value, dict):
            return {k: (REDACTED if str(k).lower() in SECRET_KEYS and v not in (None, "") else self.value(v, strings))
                    for k, v in value.items()}
        if isinstance(value, list):
            return [self.value(v, strings) for v in value]
        if strings and isinstance(value, str):
            return self._leaf(value)
        return value

    def _parsed(self, value: Any, text: str) -> Any:
        """``value`` parsed from ``text``, redacted; its strings are only walked when the text may
        quote a secret in one (a large sync body has thousands of strings and none does)."""
        lowered = text.lower()  # plain substring tests: a regex search costs more than the parse
        strings = ("\\" in text or any(trigger in lowered for trigger in _MESSAGE_TRIGGERS)
                   or any(value in text for value in self._plain))
        return self.value(value, strings)

    def fields(self, fields: dict[str, str]) -> dict[str, Any]:
        """Form or query-string fields; ``data`` (JSON or base64-encoded JSON) is shown decoded."""
        shown: dict[str, Any] = {}
        for name, value in fields.items():
            if name.lower() in SECRET_KEYS and value:
                shown[name] = REDACTED
            elif name == "data":
                shown[name] = self._data(value)
            else:
                shown[name] = self.value(value)
        return shown

    def _data(self, value: str) -> Any:
        decoded = _json_or_none(value)
        if decoded is not None:
            return self._parsed(decoded[0], value)
        padded = value.strip() + "=" * (-len(value.strip()) % 4)
        for decode in (base64.b64decode, base64.urlsafe_b64decode):
            try:
                text = decode(padded).decode("utf-8")
            except (ValueError, binascii.Error):
                continue
            decoded = _json_or_none(text)
            return self._parsed(decoded[0], text) if decoded is not None else self.text(text)
        return self.text(value)

    def body(self, raw: bytes | str | None, content_type: str = "") -> Any:
        """A body for the journal: JSON and forms parsed and redacted, other text redacted as text.
        A body over :data:`MAX_BODY_CHARS` is redacted whole, then cut to its first
        :data:`PREVIEW_CHARS` characters, so the cut never leaves part of a secret."""
        if raw is None:
            return None
        text = raw.decode("utf-8", "replace") if isinstance(raw, bytes) else raw
        if len(text) > MAX_BODY_CHARS:
            return {"truncated": True, "chars": len(text), "head": self.text(text)[:PREVIEW_CHARS]}
        if content_type == FORM:
            return self.fields(dict(parse_qsl(text, keep_blank_values=True)))
        if "json" in content_type or text.lstrip()[:1] in ("[", "{"):
            decoded = _json_or_none(text)
            if decoded is not None:
                return self._parsed(decoded[0], text)
        return self.text(text)  # not strict JSON (NaN, too deep, NDJSON, ...) is kept as text: replies stay JSON


def _json_or_none(text: str) -> tuple[Any] | None:
    """``(value,)`` when ``text`` is strict JSON (after surrounding whitespace), else None."""
    try:
        return (parse_json(text.strip()),)
    except ValueError:
        return None


def _materialise(entry: dict[str, Any], redactor: Redactor) -> dict[str, Any]:
    """Parse and redact the raw parts of an entry in place (once) and return it."""
    for name in ("request", "response"):
        body = entry.get(name)
        if isinstance(body, RawBody):
            entry[name] = redactor.body(body.raw, body.content_type)
    query = entry.get("query")
    if isinstance(query, RawFields):
        entry["query"] = redactor.fields(query.fields)
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
        self._remembered: set[str] = set()
        self.enabled = True

    def record(self, entry: dict[str, Any]) -> None:
        if self.enabled:
            with self._lock:
                self._entries.append(entry)

    def remember(self, secrets: Iterable[str]) -> None:
        """Keep redacting ``secrets`` in the entries already recorded, after the state that holds
        them is replaced (``PUT /_harness/state``); forgotten when the journal is cleared."""
        with self._lock:
            if self._entries:
                self._remembered.update(secrets)

    def entries(self, path: str | None = None, method: str | None = None, limit: int | None = None,
                secrets: Iterable[str] = ()) -> list[dict[str, Any]]:
        """The matching entries, redacted with ``secrets`` (the tenants' keys and tokens) too."""
        with self._lock:
            found = [e for e in self._entries
                     if _path_matches(e["path"], path) and (not method or e["method"] == method.upper())]
            found = found[-limit:] if limit else found
            redactor = Redactor(self._remembered.union(secrets))
            return [_materialise(e, redactor) for e in found]

    def clear(self) -> None:
        with self._lock:
            self._entries.clear()
            self._remembered.clear()
