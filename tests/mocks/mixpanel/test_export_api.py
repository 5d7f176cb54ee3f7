"""GET /api/2.0/export: JSONL, inclusive UTC dates, filters, canonical ids, limits."""
import json

import pytest

from .conftest import NOW_S, event, sa

DEC_30 = 1767052800  # 2025-12-30T00:00:00Z


@pytest.fixture()
def loaded(api, proj):
    events = [event("Buy", DEC_30 - 1, "early", "e-1", amount=1),
              event("Buy", DEC_30, "ann", "e-2", amount=5),
              event("View", DEC_30 + 86400 - 1, None, "e-3", **{"$device_id": "d1"}),
              event("Login", NOW_S - 10, None, "e-4", **{"$device_id": "d1", "$user_id": "bob"}),
              event("Buy", DEC_30 + 3600, "cid", "e-5", amount=50)]
    assert api.post(f"/_harness/projects/{proj['project_id']}/events", json={"events": events}).json[
        "num_records_imported"] == 5
    return proj


def export(api, proj, **params):
    return api.get("/api/2.0/export", query_string={"project_id": proj["project_id"], **params}, auth=sa(proj))


def lines(reply):
    assert reply.status_code == 200 and reply.mimetype == "text/plain", reply.data
    return [json.loads(line) for line in reply.data.decode().splitlines()]


def test_one_event_per_line_in_time_order_with_canonical_ids(api, loaded):
    exported = lines(export(api, loaded, from_date="2025-12-30", to_date="2025-12-30"))
    assert exported == [
        {"event": "Buy", "properties": {"time": DEC_30, "distinct_id": "ann", "$insert_id": "e-2", "amount": 5,
                                        "mp_processing_time_ms": DEC_30 * 1000}},
        {"event": "Buy", "properties": {"time": DEC_30 + 3600, "distinct_id": "cid", "$insert_id": "e-5", "amount": 50,
                                        "mp_processing_time_ms": (DEC_30 + 3600) * 1000}},
        {"event": "View", "properties": {"time": DEC_30 + 86399, "distinct_id": "bob", "$insert_id": "e-3",
                                         "$device_id": "d1", "mp_processing_time_ms": (DEC_30 + 86399) * 1000}}]


def test_filters_limit_and_milliseconds(api, loaded):
    api.patch("/_harness/limits", json={"export_per_second": 100})
    names = lambda reply: [e["properties"]["$insert_id"] for e in lines(reply)]  # noqa: E731
    assert names(export(api, loaded, from_date="2025-12-29", to_date="2025-12-31", event='["Buy", "Login"]')) == ["e-1", "e-2", "e-5", "e-4"]
    assert names(export(api, loaded, from_date="2025-12-29", to_date="2025-12-31", where='properties["amount"] >= 5')) == ["e-2", "e-5"]
    assert names(export(api, loaded, from_date="2025-12-29", to_date="2025-12-31", limit="2")) == ["e-1", "e-2"]
    first = lines(export(api, loaded, from_date="2025-12-29", to_date="2025-12-29", time_in_ms="true"))[0]
    assert first["properties"]["time"] == (DEC_30 - 1) * 1000
    assert export(api, loaded, from_date="2020-01-01", to_date="2020-01-02").data == b""


@pytest.mark.parametrize("params, message", [
    ({"to_date": "2025-12-30"}, "from_date is a required parameter (yyyy-mm-dd)"),
    ({"from_date": "2025-12-30"}, "to_date is a required parameter (yyyy-mm-dd)"),
    ({"from_date": "30/12/2025", "to_date": "2025-12-30"}, "from_date must be a date in yyyy-mm-dd format"),
    ({"from_date": "2025-12-31", "to_date": "2025-12-30"}, "to_date must not be before from_date"),
    ({"from_date": "2025-12-30", "to_date": "2025-12-30", "event": "Buy"}, "event must be valid JSON"),
    ({"from_date": "2025-12-30", "to_date": "2025-12-30", "event": "[1]"}, "event must be a JSON array of event names"),
    ({"from_date": "2025-12-30", "to_date": "2025-12-30", "limit": "100001"}, "limit must be an integer between 1 and 100000"),
    ({"from_date": "2025-12-30", "to_date": "2025-12-30", "where": "nope("}, "invalid where expression: unexpected 'nope': expected a value, properties[\"name\"] or defined(...)"),
])
def test_bad_parameters_answer_400(api, proj, params, message):
    reply = api.get("/api/2.0/export", query_string=params, auth=(proj["api_secret"], ""))
    assert reply.status_code == 400 and reply.json["error"] == message
    assert reply.json["request"].startswith("/api/2.0/export?")


def test_export_rate_limits_per_second_and_per_hour(api, proj, clock):
    pid = proj["project_id"]
    api.patch("/_harness/limits", json={"export_per_second": 2, "export_per_hour": 3})
    day = {"from_date": "2025-12-30", "to_date": "2025-12-30"}
    assert [export(api, proj, **day).status_code for _ in range(3)] == [200, 200, 429]
    reply = export(api, proj, **day)
    assert reply.json == {"request": f"/api/2.0/export?project_id={pid}&from_date=2025-12-30&to_date=2025-12-30",
                          "error": f"Query rate limit exceeded for project_id: {pid}. 3/2 queries in the last second. "
                                   "For more information, please consult our documentation at https://help.mixpanel.com"
                                   "/hc/en-us/articles/115004602563-Rate-Limits-for-Export-API-Endpoints"}
    clock.advance("1s")
    assert export(api, proj, **day).status_code == 200
    clock.advance("1s")
    reply = export(api, proj, **day)
    assert reply.status_code == 429 and "4/3 queries running in the last hour" in reply.json["error"]
    clock.advance("1h")
    assert export(api, proj, **day).status_code == 200


def test_export_window_rolls_over_on_wall_time_under_a_standing_clock(app, api, proj, clock):
    """The issue's report: 3 exports in one second, then 429 forever under serve's standing clock."""
    from mocks.common.ratelimit import RateLimiter
    wall = [500.0]
    app.extensions["harness"].limiter = RateLimiter(clock, lambda: wall[0])
    day = {"from_date": "2025-12-30", "to_date": "2025-12-30"}
    assert [export(api, proj, **day).status_code for _ in range(4)] == [200, 200, 200, 429]
    before = clock.now()
    wall[0] += 0.999
    reply = export(api, proj, **day)
    assert reply.status_code == 429 and "Retry-After" not in reply.headers  # Mixpanel sends none
    wall[0] += 0.001
    assert [export(api, proj, **day).status_code for _ in range(4)] == [200, 200, 200, 429]
    assert clock.now() == before
