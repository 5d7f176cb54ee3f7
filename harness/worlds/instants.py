"""The instants and durations the harness accepts: what the clocks can reach and move by.

The clocks take any instant from year 1 to 9999-12-31T23:59:59Z and advances of up to 100 years
(``mocks/common/numbers.py``), but a clock at year 1 cannot be shown in a timezone west of UTC and
one near year 9999 cannot advance. The CLI's options and world validation check against
the same range, so a world that ``validate`` calls valid is one ``run`` can run.
"""
from __future__ import annotations

from datetime import datetime, timedelta, timezone

from mocks.common.clock import ClockError, parse_duration, parse_instant
from mocks.common.numbers import OutOfRange, parse_duration_text, parse_iso_instant

EARLIEST = datetime(1970, 1, 1, tzinfo=timezone.utc)
LATEST = datetime(9000, 1, 1, tzinfo=timezone.utc)
LONGEST = timedelta(days=3650)  # one advance: a longer one is a typo, and the syncs it runs are unbounded
RANGE_TEXT = "between 1970-01-01T00:00:00Z and 9000-01-01T00:00:00Z"


def checked_instant(text: str) -> datetime:
    """The instant ``text`` names, within the harness's range (:class:`ClockError` otherwise)."""
    try:
        value = parse_iso_instant(text) if isinstance(text, str) else None
    except OutOfRange:
        raise ClockError(f"instant {text!r} is out of range: use one {RANGE_TEXT}") from None
    if value is None:
        value = parse_instant(text)  # the clock's own wording of what is not an instant
    if not EARLIEST <= value <= LATEST:
        raise ClockError(f"instant {text!r} is out of range: use one {RANGE_TEXT}")
    return value


def checked_duration(text: str) -> timedelta:
    """The duration ``text`` names, at most :data:`LONGEST` (:class:`ClockError` otherwise)."""
    try:
        value = parse_duration_text(text) if isinstance(text, str) else None
    except OutOfRange:
        value = LONGEST * 2
    if value is None:
        value = parse_duration(text)  # the clock's own wording of what is not a duration
    if value > LONGEST:
        raise ClockError(f"duration {text!r} is too long: one advance moves at most {LONGEST.days}d")
    return value
