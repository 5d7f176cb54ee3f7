"""Funnels, revenue and annotations as connectors read them (Airbyte's Mixpanel source): exact
shapes, figures computed from the project's events and profiles, and the Query API's errors."""
import json

import pytest

from mocks.mixpanel.reports import Funnel, buckets, funnel_report

from .conftest import NOW_S, event, sa

DAY = 86400


def load(api, proj, events):
    reply = api.post(f"/_harness/projects/{proj['project_id']}/events", json={"events": events})
    assert reply.status_code == 200, reply.json


def query(api, proj, path, **params):
    return api.get(path, query_string={"project_id": proj["project_id"], **params}, auth=sa(proj))


@pytest.fixture()
def funnel(api, proj):
    reply = api.post(f"/_harness/projects/{proj['project_id']}/funnels",
                     json={"name": "Checkout", "steps": ["View", "Cart", "Buy"], "window_days": 2})
    assert reply.status_code == 201
    return reply.json


def test_a_saved_funnel_is_listed_and_counted_per_day_of_entry(api, proj, funnel):
    assert funnel == {"funnel_id": 1, "name": "Checkout", "steps": ["View", "Cart", "Buy"], "window_days": 2}
    assert query(api, proj, "/api/2.0/funnels/list").json == [{"funnel_id": 1, "name": "Checkout"}]
    t0 = NOW_S - 5 * DAY  # 2025-12-27
    load(api, proj, [event("View", t0, "ann", "1"), event("Cart", t0 + 60, "ann", "2"), event("Buy", t0 + 180, "ann", "3"),
                     event("View", t0 + 100, "bob", "4"), event("Buy", t0 + 200, "bob", "5"),  # no Cart: stops at 1
                     event("View", t0 + DAY, "cy", "6"), event("Cart", t0 + 3.5 * DAY, "cy", "7")])  # 2.5 days on
    reply = query(api, proj, "/api/2.0/funnels", funnel_id="1", from_date="2025-12-27", to_date="2025-12-28")
    assert reply.status_code == 200, reply.json
    body = reply.json
    assert body["meta"] == {"dates": ["2025-12-27", "2025-12-28"]}
    first = body["data"]["2025-12-27"]
    assert [s["count"] for s in first["steps"]] == [2, 1, 1]
    assert [s["event"] for s in first["steps"]] == ["View", "Cart", "Buy"]
    assert [s["step_conv_ratio"] for s in first["steps"]] == [1.0, 0.5, 1.0]
    assert [s["overall_conv_ratio"] for s in first["steps"]] == [1.0, 0.5, 0.5]
    assert [s["avg_time"] for s in first["steps"]] == [None, 60.0, 120.0]
    assert first["analysis"] == {"completion": 1, "starting_amount": 2, "steps": 3, "worst": 2}
    assert [s["count"] for s in body["data"]["2025-12-28"]["steps"]] == [1, 0, 0]
    wider = query(api, proj, "/api/2.0/funnels", funnel_id="1", from_date="2025-12-28", to_date="2025-12-28", length="5")
    assert [s["count"] for s in wider.json["data"]["2025-12-28"]["steps"]] == [1, 1, 0]


@pytest.mark.parametrize("params, message", [
    ({"from_date": "2025-12-01", "to_date": "2025-12-02"}, "funnel_id is a required parameter (an integer)"),
    ({"funnel_id": "²", "from_date": "2025-12-01", "to_date": "2025-12-02"}, "funnel_id is a required parameter (an integer)"),
    ({"funnel_id": "9", "from_date": "2025-12-01", "to_date": "2025-12-02"}, "no funnel 9 in project 1"),
    ({"funnel_id": "1", "from_date": "2025-12-01", "to_date": "2026-01-02"}, "to_date cannot be later than today"),
    ({"funnel_id": "1", "from_date": "2025-12-03", "to_date": "2025-12-02"}, "to_date must not be before from_date"),
    ({"funnel_id": "1", "from_date": "2025-12-01", "to_date": "2025-12-02", "unit": "hour"},
     "unit must be one of day, week, month"),
    ({"funnel_id": "1", "to_date": "2025-12-02"}, "from_date is a required parameter (yyyy-mm-dd)"),
])
def test_funnel_queries_refuse_bad_parameters_in_the_query_error_shape(api, proj, funnel, params, message):
    reply = query(api, proj, "/api/2.0/funnels", **params)
    assert (reply.status_code, reply.json["error"]) == (400, message)
    assert reply.json["request"].startswith("/api/2.0/funnels?")


def test_weekly_buckets_start_on_monday():
    assert buckets(*map(__import__("datetime").date.fromisoformat, ("2025-12-27", "2026-01-06")), "week") == [
        "2025-12-22", "2025-12-29", "2026-01-05"]
    steps = Funnel(1, "f", ("A", "B"))
    report = funnel_report(steps, [], __import__("datetime").date(2026, 1, 1), __import__("datetime").date(2026, 1, 31),
                           "month")
    assert report["meta"]["dates"] == ["2026-01-01"]
    assert report["data"]["2026-01-01"]["analysis"] == {"completion": 0, "starting_amount": 0, "steps": 2, "worst": 2}


def test_revenue_sums_the_profiles_transactions_per_day(api, proj):
    charges = {"ann": [{"$time": "2025-12-30T10:00:00", "$amount": 9.5}, {"$time": "2025-12-31T08:00:00", "$amount": 2}],
               "bob": [{"$time": "2025-12-30T11:00:00", "$amount": 5}, {"$time": "2025-12-30T12:00:00", "$amount": 1e300}],
               "cy": []}
    for distinct_id, transactions in charges.items():
        body = {"$token": proj["token"], "$distinct_id": distinct_id, "$set": {"$transactions": transactions}}
        assert api.post("/engage", data={"data": json.dumps(body)}).data == b"1"
    reply = query(api, proj, "/api/2.0/engage/revenue", from_date="2025-12-30", to_date="2025-12-31")
    body = reply.json
    assert body["status"] == "ok" and body["session_id"] and body["computed_at"].startswith("2026-01-01T00:00:00")
    assert body["results"] == {"$overall": {"amount": 16.5, "count": 3, "paid_count": 2},
                               "2025-12-30": {"amount": 14.5, "count": 3, "paid_count": 2},
                               "2025-12-31": {"amount": 2.0, "count": 3, "paid_count": 1}}


def test_annotations_are_read_by_project_path_and_date(api, proj):
    pid = proj["project_id"]
    for when, text in (("2025-12-20 00:00:00", "launch"), ("2025-12-31 09:30:00", "sale")):
        reply = api.post(f"/_harness/projects/{pid}/annotations", json={"date": when, "description": text})
        assert reply.status_code == 201
    path = f"/api/app/projects/{pid}/annotations"
    every = api.get(path, auth=sa(proj)).json
    assert every == {"results": [{"id": 1, "project_id": pid, "date": "2025-12-20 00:00:00", "description": "launch"},
                                 {"id": 2, "project_id": pid, "date": "2025-12-31 09:30:00", "description": "sale"}]}
    late = api.get(path, query_string={"from_date": "2025-12-25", "to_date": "2025-12-31"}, auth=sa(proj)).json
    assert [a["description"] for a in late["results"]] == ["sale"]
    assert api.get(path, auth=("nobody", "x")).status_code == 401
    assert api.get(f"/api/app/projects/{pid + 1}/annotations", auth=sa(proj)).status_code == 401
    refused = api.post(f"/_harness/projects/{pid}/annotations", json={"date": "2025-02-30 00:00:00", "description": ""})
    assert (refused.status_code, refused.json) == (400, {"error": "invalid body at $.date: '2025-02-30 00:00:00' is not "
                                                                  "a real date and time"})


def test_funnels_and_annotations_survive_a_state_round_trip(api, proj, funnel):
    pid = proj["project_id"]
    api.post(f"/_harness/projects/{pid}/annotations", json={"date": "2025-12-20 00:00:00", "description": "launch"})
    state = api.get("/_harness/state").json
    assert api.post("/_harness/reset").status_code == 200
    assert api.put("/_harness/state", json=state).status_code == 200
    assert query(api, proj, "/api/2.0/funnels/list").json == [{"funnel_id": 1, "name": "Checkout"}]
    assert len(api.get(f"/api/app/projects/{pid}/annotations", auth=sa(proj)).json["results"]) == 1
