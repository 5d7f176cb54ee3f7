"""How a step says what it expected and what it saw, so the report can show both.

Steps fail with :class:`Mismatch` (an ``AssertionError`` carrying ``expected`` and ``observed``); any
other exception (a target's error reply, an unreachable target) is described by :func:`describe`.
"""
from __future__ import annotations

import json
from typing import Any, Iterable

from harness.clients import HarnessHTTPError, TargetUnreachable


class Mismatch(AssertionError):
    """A target did not behave as the step expects."""

    def __init__(self, what: str, expected: Any, observed: Any):
        self.what = what
        self.expected = _text(expected)
        self.observed = _text(observed)
        super().__init__(f"{what}: expected {self.expected}, observed {self.observed}")


def expect_equal(what: str, observed: Any, expected: Any) -> None:
    if observed != expected:
        raise Mismatch(what, expected, observed)


def expect_true(what: str, condition: bool, expected: Any, observed: Any) -> None:
    if not condition:
        raise Mismatch(what, expected, observed)


def expect_same_items(what: str, observed: Iterable[Any], expected: Iterable[Any]) -> None:
    """Equal as multisets; the message lists both sorted, so the difference is easy to read."""
    observed_sorted = sorted(observed, key=_sort_key)
    expected_sorted = sorted(expected, key=_sort_key)
    if observed_sorted != expected_sorted:
        raise Mismatch(what, expected_sorted, observed_sorted)


def describe(error: BaseException) -> tuple[str, str]:
    """``(expected, observed)`` for any exception a step raised."""
    if isinstance(error, Mismatch):
        return f"{error.what}: {error.expected}", error.observed
    if isinstance(error, HarnessHTTPError):
        return (f"a 2xx reply to {error.method} {error.url}",
                f"{error.status} {_text(error.body) if error.body is not None else error.message}")
    if isinstance(error, TargetUnreachable):
        return f"an answer from {error.url}", f"no answer: {error.reason}"
    if isinstance(error, AssertionError):
        return "the step's check to hold", str(error) or "assertion failed"
    return "the step to complete", f"{type(error).__name__}: {error}"


def _text(value: Any) -> str:
    if isinstance(value, str):
        return repr(value)
    try:
        return json.dumps(value, sort_keys=True, default=str)
    except (TypeError, ValueError):
        return repr(value)


def _sort_key(value: Any) -> str:
    return json.dumps(value, sort_keys=True, default=str)
