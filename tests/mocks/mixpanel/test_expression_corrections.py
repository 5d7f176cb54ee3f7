"""Segmentation-expression corrections: typecasts, ``undefined()``, and ``$time`` against ``datetime(...)``
(Airbyte's incremental export sends ``properties["$time"]>=datetime(1796074377)``)."""
import pytest

from mocks.mixpanel.expressions import ExpressionError, parse_where

from .conftest import NOW_S, event, import_url, sa


@pytest.mark.parametrize("text, props, expected", [
    ('properties["$time"]>=datetime(1796074377)', {"time": 1796074377}, True),
    ('properties["$time"]>=datetime(1796074377)', {"time": 1796074376}, False),
    ('properties["$time"]>=datetime(1796074377)', {"time": 1796074377000}, True),  # time_in_ms export
    ('event["$time"] < datetime("2026-01-01T00:00:00")', {"time": 1767225599}, True),
    ('event["$time"] < datetime("2026-01-01T00:00:00Z")', {"time": 1767225600}, False),
    ('properties["seen"] > datetime("2025-06-01")', {"seen": "2025-07-01T10:00:00"}, True),
    ('properties["seen"] > datetime("2025-06-01")', {"seen": "not a date"}, False),
    ('number(properties["n"]) >= 10', {"n": "12"}, True),
    ('number(properties["n"]) >= 10', {"n": "x"}, False),
    ('string(properties["n"]) == "12"', {"n": 12}, True),
    ('boolean(properties["flag"])', {"flag": 1}, True),
    ('undefined(properties["gone"])', {}, True),
    ('not undefined(properties["gone"])', {"gone": None}, True),
])
def test_expressions(text, props, expected):
    assert parse_where(text)(props) is expected


def test_an_unknown_function_is_refused():
    with pytest.raises(ExpressionError, match="unexpected 'weekday'"):
        parse_where('weekday(properties["$time"]) == 1')


def test_airbyte_incremental_export(api, proj):
    events = [event("Buy", NOW_S - 7200, insert_id="old"), event("Buy", NOW_S - 60, insert_id="new")]
    assert api.post(import_url(proj), json=events, auth=sa(proj)).status_code == 200
    reply = api.get("/api/2.0/export", auth=sa(proj), query_string={
        "project_id": proj["project_id"], "from_date": "2025-12-31", "to_date": "2026-01-01",
        "where": f'properties["$time"]>=datetime({NOW_S - 3600})'})
    assert reply.status_code == 200
    assert [line for line in reply.data.decode().splitlines() if '"new"' in line] and b'"old"' not in reply.data
