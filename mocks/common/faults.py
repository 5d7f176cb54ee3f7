"""Fault rules: make a mock misbehave on purpose (status, body, headers, latency, dropped connection).

A rule matches a method and a path (``*`` wildcards allowed) and fires for the next ``times`` calls,
or with a seeded ``probability``, so fault tests are repeatable.
"""
from __future__ import annotations

import fnmatch
import itertools
import random
import re
import threading
from dataclasses import asdict, dataclass, field
from typing import Any


class FaultError(ValueError):
    """A fault rule that cannot be understood."""


@dataclass
class FaultRule:
    path: str
    method: str = "*"
    status: int | None = None
    body: Any = None
    headers: dict[str, str] = field(default_factory=dict)
    delay_ms: int = 0
    drop_connection: bool = False
    times: int | None = None
    probability: float | None = None
    seed: int | None = None
    fault_id: str = ""
    fired: int = 0

    def matches(self, method: str, path: str) -> bool:
        return (self.method in ("*", method.upper())) and fnmatch.fnmatchcase(path, self.path)

    def to_dict(self) -> dict[str, Any]:
        data = asdict(self)
        data["remaining"] = None if self.times is None else max(self.times - self.fired, 0)
        return data


MAX_HEADER_BYTES = 16_384
_HEADER_NAME = re.compile(r"[!#$%&'*+\-.^_`|~0-9A-Za-z]+")


def _sendable_headers(headers: Any) -> bool:
    """Whether every header can go on the wire as HTTP/1.1 sends it: a token name, a Latin-1 value
    with no CR/LF/NUL (which would split or end the reply), and a total a client will read."""
    if not isinstance(headers, dict):
        return False
    size = 0
    for name, value in headers.items():
        if not isinstance(name, str) or not _HEADER_NAME.fullmatch(name) or isinstance(value, bool):
            return False
        if not isinstance(value, (str, int)):
            return False
        text = str(value)
        try:
            size += len(name) + len(text.encode("latin-1")) + 4
        except UnicodeEncodeError:
            return False
        if any(c in text for c in "\r\n\0"):
            return False
    return size <= MAX_HEADER_BYTES


def parse_rule(data: Any) -> FaultRule:
    """Validate a fault rule body from the control plane."""
    if not isinstance(data, dict):
        raise FaultError("fault rule must be a JSON object")
    path = data.get("path")
    if not isinstance(path, str) or not path.startswith("/"):
        raise FaultError("'path' must be a string starting with '/' (wildcards '*' allowed)")
    method = data.get("method", "*")
    if not isinstance(method, str) or not method:
        raise FaultError("'method' must be an HTTP method or '*'")
    status = data.get("status")
    if status is not None and (not isinstance(status, int) or isinstance(status, bool) or not 200 <= status <= 599):
        # a 1xx is not a final reply: a client that gets one waits for another and hangs
        raise FaultError("'status' must be an integer HTTP status between 200 and 599")
    headers = data.get("headers") or {}
    if not _sendable_headers(headers):
        raise FaultError("'headers' must be an object of header names (letters, digits, !#$%&'*+-.^_`|~) to "
                         f"Latin-1 values without CR, LF or NUL, {MAX_HEADER_BYTES} bytes at most in all")
    delay = data.get("delay_ms", 0)
    if not isinstance(delay, int) or isinstance(delay, bool) or not 0 <= delay <= 120_000:
        raise FaultError("'delay_ms' must be an integer between 0 and 120000")
    drop = data.get("drop_connection", False)
    if not isinstance(drop, bool):
        raise FaultError("'drop_connection' must be a boolean")
    times = data.get("times")
    if times is not None and (not isinstance(times, int) or isinstance(times, bool) or times < 1):
        raise FaultError("'times' must be a positive integer")
    probability = data.get("probability")
    if probability is not None and (isinstance(probability, bool) or not isinstance(probability, (int, float)) or not 0 <= probability <= 1):
        raise FaultError("'probability' must be a number between 0 and 1")
    seed = data.get("seed")
    if seed is not None and (not isinstance(seed, int) or isinstance(seed, bool)):
        raise FaultError("'seed' must be an integer")
    if status is None and not drop and not delay:
        raise FaultError("a fault rule needs at least one of 'status', 'drop_connection' or 'delay_ms'")
    return FaultRule(path=path, method=method.upper(), status=status, body=data.get("body"),
                     headers={k: str(v) for k, v in headers.items()}, delay_ms=delay, drop_connection=drop,
                     times=times, probability=None if probability is None else float(probability), seed=seed)


class FaultRegistry:
    """The active fault rules of one mock app; the first matching live rule fires."""

    def __init__(self) -> None:
        self._rules: list[FaultRule] = []
        self._random: dict[str, random.Random] = {}
        self._ids = itertools.count(1)
        self._lock = threading.Lock()

    def add(self, rule: FaultRule) -> FaultRule:
        with self._lock:
            rule.fault_id = f"fault-{next(self._ids)}"
            self._rules.append(rule)
            self._random[rule.fault_id] = random.Random(rule.seed)
        return rule

    def list(self) -> list[dict[str, Any]]:
        with self._lock:
            return [r.to_dict() for r in self._rules]

    def remove(self, fault_id: str | None = None) -> int:
        """Remove one rule, or all rules when ``fault_id`` is None; returns how many went."""
        with self._lock:
            before = len(self._rules)
            self._rules = [r for r in self._rules if fault_id is not None and r.fault_id != fault_id]
            return before - len(self._rules)

    def take(self, method: str, path: str) -> FaultRule | None:
        """The rule to apply to this request, if any, counting it as fired."""
        if not self._rules:
            return None
        with self._lock:
            for rule in self._rules:
                if rule.times is not None and rule.fired >= rule.times:
                    continue
                if not rule.matches(method, path):
                    continue
                if rule.probability is not None and self._random[rule.fault_id].random() >= rule.probability:
                    continue
                rule.fired += 1
                return rule
        return None
