"""Numbers from the wire: ASCII digits only, bounded length (issue 12, class 3)."""
from __future__ import annotations

import pytest

from datetime import datetime, timedelta, timezone

from mocks.common.numbers import (FIRST_EPOCH_MS, LAST_EPOCH_MS, LAST_INSTANT, MAX_DIGITS, OutOfRange, add_duration,
                                  epoch_ms, id_or_text, parse_decimal, parse_duration_text, parse_in_range,
                                  parse_iso_instant, parse_number_literal)


@pytest.mark.parametrize("text", ["²", "١٢", "", " ", "-1", "+1", "1.0", "1e3", "9" * (MAX_DIGITS + 1), "9" * 5000])
def test_refuses_what_is_not_a_bounded_ascii_decimal(text):
    assert parse_decimal(text) is None


def test_reads_ascii_decimals():
    assert parse_decimal(" 42 ") == 42
    assert parse_decimal(" 42 ", strip=False) is None
    assert parse_decimal("9" * MAX_DIGITS) == int("9" * MAX_DIGITS)
    assert parse_in_range("5", 1, 5) == 5 and parse_in_range("6", 1, 5) is None


def test_path_segments_that_are_not_ids_stay_text():
    assert id_or_text("12") == 12 and id_or_text("²") == "²" and id_or_text("9" * 5000) == "9" * 5000


@pytest.mark.parametrize("text", ["\u00b2", "\u0663", "1e999", "-1e999", "9" * 5000, "9" * 400, "1.", "+1", "0x10"])
def test_number_literals_that_are_not_finite_ascii_numbers(text):
    assert parse_number_literal(text) is None


def test_number_literals():
    assert parse_number_literal("-12") == -12 and parse_number_literal("2.5e3") == 2500.0
    assert parse_number_literal("9" * 300) == int("9" * 300)


@pytest.mark.parametrize("text", ["99999999999d", "9" * 5000 + "d", "36501d", "876601h"])
def test_durations_past_100_years_are_out_of_range(text):
    with pytest.raises(OutOfRange):
        parse_duration_text(text)


def test_durations():
    assert parse_duration_text(" 36500d ") == timedelta(days=36500)
    assert parse_duration_text("1.5m") == timedelta(seconds=90)
    assert parse_duration_text("\u00b2d") is None and parse_duration_text("5y") is None


@pytest.mark.parametrize("text", ["0001-01-01T00:00:00+01:00", "9999-12-31T23:59:59-01:00"])
def test_instants_outside_the_calendar_in_utc_are_out_of_range(text):
    with pytest.raises(OutOfRange):
        parse_iso_instant(text)


def test_instants_and_the_last_one():
    assert parse_iso_instant("2026-01-01T01:00:00+01:00") == datetime(2026, 1, 1, tzinfo=timezone.utc)
    assert parse_iso_instant("9999-12-31T23:59:59Z") == LAST_INSTANT and parse_iso_instant("soon") is None
    assert add_duration(LAST_INSTANT, timedelta(seconds=1)) is None
    assert add_duration(datetime.max.replace(tzinfo=timezone.utc), timedelta(days=1)) is None


@pytest.mark.parametrize("value, scale, expected", [
    (-1e306, 1000, FIRST_EPOCH_MS), (1e306, 1000, LAST_EPOCH_MS), (1e306, 1, LAST_EPOCH_MS),
    (1767225600, 1000, 1767225600000), (1767225600123, 1, 1767225600123), (float("inf"), 1, None),
])
def test_epoch_times_are_clamped_to_the_calendar(value, scale, expected):
    assert epoch_ms(value, scale) == expected
