"""Numbers from the wire: ASCII digits only, bounded length (issue 12, class 3)."""
from __future__ import annotations

import pytest

from mocks.common.numbers import MAX_DIGITS, id_or_text, parse_decimal, parse_in_range


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
