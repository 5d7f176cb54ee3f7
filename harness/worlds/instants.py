"""The instants and durations the harness accepts: what the clocks can reach and move by.

The clocks parse any ISO-8601 instant Python can represent, but a clock at year 1 cannot be shown
in a timezone west of UTC, a clock near year 9999 overflows on its next advance, and
``"99999999999d"`` is no ``timedelta`` at all. The CLI's options and world validation check against
the same range, so a world that ``validate`` calls valid is one ``run`` can run.
"""
from __future__ import annotations

from datetime import datetime, timedelta, timezone

from mocks.common.clock import ClockError, parse_duration, parse_instant

EARLIEST = datetime(1970, 1, 1, tzinfo=timezone.utc)
LATEST = datetime(9000, 1, 1, tzinfo=timezone.utc)
LONGEST = timedelta(days=3650)  # one advance: a longer one is a typo, and the syncs it runs are unbounded
RANGE_TEXT = "between 1970-01-01T00:00:00Z and 9000-01-01T00:00:00Z"


def checked_instant(text: str) -> datetime:
    """The instant ``text`` names, within the harness's range (:class:`ClockError` otherwise)."""
    try:
        value = parse_instant(text)
    except OverflowError:
        raise ClockError(f"instant {text!r} is out of range: use one {RANGE_TEXT}") from None
    if not EARLIEST <= value <= LATEST:
        raise ClockError(f"instant {text!r} is out of range: use one {RANGE_TEXT}")
    return value


def checked_duration(text: str) -> timedelta:
    """The duration ``text`` names, at most :data:`LONGEST` (:class:`ClockError` otherwise)."""
    try:
        value = parse_duration(text)
    except OverflowError:
        value = LONGEST * 2
    if value > LONGEST:
        raise ClockError(f"duration {text!r} is too long: one advance moves at most {LONGEST.days}d")
    return value
