"""The small parsers the steps share."""
from datetime import timedelta

import pytest

from harness.conformance.scenario_state import clock_duration, identifiers_in, parse_span, split_names, table_rows


@pytest.mark.parametrize("text, seconds", [
    ("15 minutes", 900), ("1 hour", 3600), ("3 days and 15 minutes", 3 * 86400 + 900),
    ("29 days 23 hours 20 minutes", 29 * 86400 + 23 * 3600 + 1200), ("45m", 2700), ("0m", 0),
])
def test_parse_span(text, seconds):
    assert parse_span(text) == timedelta(seconds=seconds)


def test_parse_span_refuses_text_without_a_duration():
    with pytest.raises(ValueError, match="not a duration: 'soon'"):
        parse_span("soon")


@pytest.mark.parametrize("seconds, text", [(900, "15m"), (3600, "1h"), (86400 * 3, "3d"), (3 * 86400 + 900, "4335m"),
                                           (90, "90s")])
def test_clock_duration_uses_the_largest_exact_unit(seconds, text):
    assert clock_duration(timedelta(seconds=seconds)) == text


def test_identifiers_in_cohort_changes():
    changes = [{"user_ids": ["a"], "aliases": [{"alias_name": "n", "alias_label": "l"}]},
               {"device_ids": ["d"], "should_remove": True}, "junk"]
    assert identifiers_in(changes) == [("user_ids", "a", False), ("aliases", "n", False), ("device_ids", "d", True)]
    assert identifiers_in({"user_ids": ["a"]}) == []


def test_tables_and_name_lists():
    assert table_rows([["user ", " external_id"], [" alice", "a "]]) == [{"user": "alice", "external_id": "a"}]
    assert split_names("alice, bob ,") == ["alice", "bob"]
