"""The ingestion rules on the plain functions (no Flask, no store)."""
import pytest

from mocks.mixpanel.ingest import (RETENTION_FLOOR_MS, CleanEvent, Failure, clean_import_event, clean_track_event,
                                   retention_cutoff_ms, time_to_ms)

from .conftest import DAY_S, NOW_S, event

NOW_MS = NOW_S * 1000


def test_seconds_and_milliseconds_read_as_the_same_instant():
    assert time_to_ms(1262304000) == time_to_ms(1262304000000) == RETENTION_FLOOR_MS
    assert time_to_ms(1767225600.123) == 1767225600123
    assert time_to_ms("1767225600") is None and time_to_ms(True) is None and time_to_ms(float("nan")) is None


def test_a_valid_import_event_keeps_extras_apart_from_the_columns():
    clean = clean_import_event(event("Buy", NOW_S - 60, "u1", "abc-1", amount=3, token="t"), NOW_MS)
    assert clean == CleanEvent("Buy", NOW_MS - 60_000, "u1", "abc-1", b'{"amount":3}', None)


@pytest.mark.parametrize("props, field, message", [
    ({"distinct_id": "u", "$insert_id": "a"}, "properties.time", "'properties.time' is required"),
    ({"time": "yesterday", "distinct_id": "u", "$insert_id": "a"}, "properties.time",
     "'properties.time' is invalid: must be specified as seconds since epoch"),
    ({"time": 31535999, "distinct_id": "u", "$insert_id": "a"}, "properties.time",
     "'properties.time' is invalid: must not be before 1971-01-01"),
    ({"time": NOW_S + 3601, "distinct_id": "u", "$insert_id": "a"}, "properties.time",
     "'properties.time' is invalid: must not be more than 1 hour in the future"),
    ({"time": NOW_S, "$insert_id": "a"}, "properties.distinct_id", "'properties.distinct_id' is required"),
    ({"time": NOW_S, "distinct_id": "Undefined", "$insert_id": "a"}, "properties.distinct_id",
     "'properties.distinct_id' is invalid: 'Undefined' is a disallowed placeholder id"),
    ({"time": NOW_S, "distinct_id": ["u"], "$insert_id": "a"}, "properties.distinct_id",
     "'properties.distinct_id' is invalid: must be a string"),
    ({"time": NOW_S, "distinct_id": "u"}, "properties.$insert_id",
     "'properties.$insert_id' is invalid: must be a non-empty string"),
    ({"time": NOW_S, "distinct_id": "u", "$insert_id": "x" * 37}, "properties.$insert_id",
     "'properties.$insert_id' is invalid: must be at most 36 bytes and contain only alphanumeric characters or '-'"),
    ({"time": NOW_S, "distinct_id": "u", "$insert_id": "a_b"}, "properties.$insert_id",
     "'properties.$insert_id' is invalid: must be at most 36 bytes and contain only alphanumeric characters or '-'"),
    ({"time": NOW_S, "distinct_id": "u", "$insert_id": "null"}, "properties.$insert_id",
     "'properties.$insert_id' is invalid: value is a disallowed placeholder id"),
    ({"time": NOW_S, "$user_id": "none", "$insert_id": "a"}, "properties.$user_id",
     "'properties.$user_id' is invalid: must be a non-empty string that is not a placeholder id"),
])
def test_import_event_failures_name_the_field(props, field, message):
    assert clean_import_event({"event": "E", "properties": props}, NOW_MS) == Failure(field, message)


@pytest.mark.parametrize("raw, field, message", [
    ("text", "", "event must be a JSON object"),
    ({"properties": {}}, "event", "'event' is required and must be a non-empty string"),
    ({"event": "E", "properties": []}, "properties", "'properties' is required and must be a JSON object"),
    ({"event": "E", "properties": {f"p{i}": i for i in range(255)}}, "properties",
     "'properties' is invalid: an event must have fewer than 255 properties"),
    ({"event": "E", "properties": {"time": 1, "distinct_id": "u", "$insert_id": "a", "big": "x" * 1048576}}, "",
     "event is invalid: must be smaller than 1MB of uncompressed JSON"),
])
def test_shape_failures(raw, field, message):
    if field == "":
        raw = raw if not isinstance(raw, dict) else {**raw, "properties": {**raw["properties"], "time": NOW_S}}
    assert clean_import_event(raw, NOW_MS) == Failure(field, message)


def test_a_time_up_to_an_hour_ahead_is_set_to_now():
    assert clean_import_event(event("E", NOW_S + 3600), NOW_MS).time_ms == NOW_MS


def test_simplified_id_merge_ids():
    device_only = clean_import_event(event("E", NOW_S, None, **{"$device_id": "d1"}), NOW_MS)
    assert (device_only.distinct_id, device_only.merge) == ("$device:d1", None)
    both = clean_import_event(event("E", NOW_S, "ignored", **{"$device_id": "d1", "$user_id": "alice"}), NOW_MS)
    assert (both.distinct_id, both.merge) == ("alice", ("$device:d1", "alice"))
    assert b'"$device_id":"d1"' in both.extras


def test_empty_distinct_id_is_accepted():
    assert clean_import_event(event("E", NOW_S, ""), NOW_MS).distinct_id == ""


def test_track_accepts_the_last_five_days_only():
    assert isinstance(clean_track_event(event("E", NOW_S - 5 * DAY_S), NOW_MS), CleanEvent)
    assert clean_track_event(event("E", NOW_S - 5 * DAY_S - 1), NOW_MS) == Failure(
        "properties.time", "'properties.time' is invalid: /track only accepts events from the last 5 days; "
                           "send older events to /import")


def test_track_defaults_time_and_allows_anonymous_events_without_insert_id():
    clean = clean_track_event({"event": "Open", "properties": {"token": "t"}}, NOW_MS)
    assert (clean.time_ms, clean.distinct_id, clean.insert_id, clean.extras) == (NOW_MS, "", "", None)


def test_retention_cutoff_is_the_2010_floor_or_the_rolling_window():
    assert retention_cutoff_ms(NOW_MS, None) == RETENTION_FLOOR_MS
    assert retention_cutoff_ms(NOW_MS, 30) == NOW_MS - 30 * DAY_S * 1000
    assert retention_cutoff_ms(RETENTION_FLOOR_MS + 1000, 30) == RETENTION_FLOOR_MS


def test_the_one_pass_check_of_plain_events_agrees_with_the_full_rules():
    """Every event the fast path accepts gets exactly what the full rules give; it declines the rest."""
    import itertools
    import random

    from mocks.mixpanel.ingest import full_import_event, plain_import_event

    now_ms = 1_767_225_600_000
    names = ["Buy", "", "  ", "$merge", 3, None]
    times = [1_767_225_600, 1_767_225_600_123, 1_767_229_300, 1_767_229_200_001, 1_767_233_000, 30_000_000,
             31_536_000, 31_535_999, 0, -5, 1.5, True, "1767225600", None, 10_000_000_000, 9_999_999_999]
    ids = ["u1", "", "anon", " NULL ", "0", 7, None, True, "$device:x"]
    insert_ids = ["i-1", "", "x" * 36, "x" * 37, "bad id", "null", 5, None, "é"]
    rng = random.Random(15)
    accepted = 0
    for name, time, distinct_id, insert_id in itertools.product(names, times, ids, insert_ids):
        props = {"time": time, "distinct_id": distinct_id, "$insert_id": insert_id, "amount": 2}
        props.pop(rng.choice(["", "", "", "", "time", "distinct_id", "$insert_id", "amount"]), None)
        if rng.random() < 0.1:
            props[rng.choice(["$user_id", "$device_id"])] = "u9"
        raw = {"event": name, "properties": props}
        for required in (True, False):
            plain = plain_import_event(raw, now_ms, required)
            if plain is not None:
                accepted += 1
                assert plain == full_import_event(raw, now_ms, required), raw
    assert accepted >= 18  # every valid combination of the lists above
    assert plain_import_event([1], now_ms, True) is None
    assert plain_import_event({"event": "e", "properties": {str(i): i for i in range(255)}}, now_ms, True) is None
