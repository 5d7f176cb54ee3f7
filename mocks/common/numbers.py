"""Numbers and times from the wire: decimal integers (query parameters, path segments), number
literals (``where``), durations, ISO-8601 instants and epoch times.

``str.isdigit()`` accepts ``²`` and other Unicode digits that ``int()`` refuses, and an unbounded string of
ASCII digits makes ``int()`` slow or raise; ``1e999`` is an infinite float, and an instant or duration past
year 9999 overflows ``datetime``: every place that reads a number or a time from the wire goes through here,
and gets None (not that kind of value) or :class:`OutOfRange` (that kind, too large), never an overflow.
"""
from __future__ import annotations

import math
import re
from datetime import datetime, timedelta, timezone

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


# -- numbers written in text (``where`` literals) -------------------------------------------------
#: An ASCII number literal: sign, digits, fraction, exponent (``\d`` would let in other scripts' digits).
_LITERAL = re.compile(r"-?[0-9]+(?:\.[0-9]+)?(?:[eE][-+]?[0-9]+)?")
#: Longer literals are refused before any conversion (a double has 17 significant digits; 400
#: characters leaves room for every finite double written out in full).
MAX_LITERAL_CHARS = 400


def parse_number_literal(text: str) -> int | float | None:
    """An ASCII number literal as an int (no fraction or exponent) or a float; None when it is not
    one, or when its magnitude does not fit a finite double (``1e999``, 5,000 digits)."""
    if len(text) > MAX_LITERAL_CHARS or not _LITERAL.fullmatch(text):
        return None
    if any(c in text for c in ".eE"):
        value = float(text)
        return value if math.isfinite(value) else None
    number = int(text)
    try:
        float(number)
    except OverflowError:
        return None
    return number


# -- instants and durations -------------------------------------------------------------------------
#: The first and last instants a datetime holds, in UTC: anything outside is refused, never overflowed.
FIRST_INSTANT = datetime.min.replace(tzinfo=timezone.utc)
LAST_INSTANT = datetime(9999, 12, 31, 23, 59, 59, tzinfo=timezone.utc)
#: Milliseconds since the epoch of those instants: epoch times are clamped to them.
FIRST_EPOCH_MS = -62_135_596_800_000
LAST_EPOCH_MS = 253_402_300_799_000
#: The longest duration a clock advance or an export interval may be (the cohort window's bound too).
MAX_DURATION_DAYS = 36_500
_DURATION = re.compile(r"\s*([0-9]{1,%d}(?:\.[0-9]{1,%d})?)\s*([smhd])\s*" % (MAX_DIGITS, MAX_DIGITS))
_UNIT_SECONDS = {"s": 1, "m": 60, "h": 3600, "d": 86400}


class OutOfRange(ValueError):
    """A number or time that is well formed but beyond what the mocks can hold."""


def parse_duration_text(text: str) -> timedelta | None:
    """``"15m"``, ``"90s"``, ``"2h"``, ``"3d"`` (one number, one unit) as a timedelta; None when it is
    not of that form; :class:`OutOfRange` above :data:`MAX_DURATION_DAYS` days."""
    match = _DURATION.fullmatch(text)
    if match is None:
        # digits past MAX_DIGITS are still a duration, just one too long to hold
        if re.fullmatch(r"\s*[0-9]+(?:\.[0-9]+)?\s*[smhd]\s*", text):
            raise OutOfRange(f"at most {MAX_DURATION_DAYS} days (100 years) at once")
        return None
    amount, unit = match.groups()
    seconds = float(amount) * _UNIT_SECONDS[unit]
    if seconds > MAX_DURATION_DAYS * 86400:
        raise OutOfRange(f"at most {MAX_DURATION_DAYS} days (100 years) at once")
    return timedelta(seconds=seconds)


def parse_iso_instant(text: str) -> datetime | None:
    """An ISO-8601 instant in UTC (a naive one is taken as UTC); None when it is not ISO-8601;
    :class:`OutOfRange` when, in UTC, it falls before year 1 or after 9999-12-31T23:59:59Z."""
    try:
        value = datetime.fromisoformat(text.strip().replace("Z", "+00:00").replace("z", "+00:00"))
    except ValueError:
        return None
    if value.tzinfo is None:
        value = value.replace(tzinfo=timezone.utc)
    try:
        value = value.astimezone(timezone.utc)
    except OverflowError:
        raise OutOfRange("it must fall between 0001-01-01T00:00:00Z and 9999-12-31T23:59:59Z") from None
    if value > LAST_INSTANT:
        raise OutOfRange("it must fall between 0001-01-01T00:00:00Z and 9999-12-31T23:59:59Z")
    return value


def add_duration(instant: datetime, delta: timedelta) -> datetime | None:
    """``instant + delta``, or None when the sum passes :data:`LAST_INSTANT` (or year 1)."""
    try:
        moved = instant + delta
    except OverflowError:
        return None
    return moved if moved <= LAST_INSTANT else None


def epoch_ms(value: float, scale: int = 1) -> int | None:
    """``value * scale`` milliseconds since the epoch as an int, clamped to the instants a datetime
    holds (so ``-1e306`` seconds is simply before every floor); None when ``value`` is not finite."""
    if not math.isfinite(value):
        return None
    bounded = min(max(value, FIRST_EPOCH_MS), LAST_EPOCH_MS) * scale
    return int(round(min(max(bounded, FIRST_EPOCH_MS), LAST_EPOCH_MS)))
