"""Decimal integers from query parameters, path segments and ``where`` literals.

``str.isdigit()`` accepts ``²`` and other Unicode digits that ``int()`` refuses, and an unbounded string of
ASCII digits makes ``int()`` slow or raise: every place that reads a number from the wire goes through here.
"""
from __future__ import annotations

import re

#: Digits allowed in one number: far above any id, page or limit the mocks use, far below Python's limit.
MAX_DIGITS = 18
_DECIMAL = re.compile(r"[0-9]{1,%d}" % MAX_DIGITS)


def parse_decimal(text: str | None, *, strip: bool = True) -> int | None:
    """The non-negative integer ``text`` spells in ASCII digits (at most ``MAX_DIGITS``), or None."""
    if text is None:
        return None
    candidate = text.strip() if strip else text
    if not _DECIMAL.fullmatch(candidate):
        return None
    return int(candidate)


def parse_in_range(text: str | None, low: int, high: int) -> int | None:
    """``parse_decimal`` limited to ``low..high`` inclusive, or None."""
    value = parse_decimal(text)
    if value is None or not low <= value <= high:
        return None
    return value


def id_or_text(text: str) -> int | str:
    """A path segment as an integer id when it is one, else the text (so lookups answer 'not found')."""
    value = parse_decimal(text, strip=False)
    return text if value is None else value
