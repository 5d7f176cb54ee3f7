"""The full segmentation grammar over HTTP: ``where`` on the raw export, on ``engage`` and on funnels
goes through the one parser; exact rows, and exact 400 bodies for malformed expressions."""
import json

import pytest

from .conftest import NOW_S, event, sa

DEC_31 = NOW_S - 86400  # 2025-12-31T00:00:00Z


@pytest.fixture()
def loaded(api, proj):
    base = f"/_harness/projects/{proj['project_id']}"
    events = [event("Buy", DEC_31 + 10, "ann", "b-1", price=9.5, qty=3, plan="pro"),
              event("Buy", DEC_31 + 20, "bob", "b-2", price=4, qty=2, plan="free"),
              event("Buy", DEC_31 + 30, "cid", "b-3", price=20, qty=0, plan="team"),
              event("View", DEC_31 + 40, "ann", "v-1", plan="pro")]
    assert api.post(base + "/events", json={"events": events}).json["num_records_imported"] == 4
    assert api.post(base + "/profiles", json={"profiles": [
        {"distinct_id": "ann", "properties": {"first": "Ann", "last": "Lee", "seats": 12, "used": 9, "plan": "pro"}},
        {"distinct_id": "bob", "properties": {"first": "Bob", "last": "Ray", "seats": 5, "used": 5, "plan": "free"}},
        {"distinct_id": "cid", "properties": {"first": "Cid", "seats": 0, "used": 0, "plan": "team"}}]}).status_code == 200
    api.patch("/_harness/limits", json={"export_per_second": 100})
    return proj


def export_ids(api, proj, where):
    reply = api.get("/api/2.0/export", auth=sa(proj), query_string={
        "project_id": proj["project_id"], "from_date": "2025-12-31", "to_date": "2025-12-31", "where": where})
    assert reply.status_code == 200, reply.data
    return [json.loads(line)["properties"]["$insert_id"] for line in reply.data.decode().splitlines()]


def engage_ids(api, proj, where):
    reply = api.post(f"/api/query/engage?project_id={proj['project_id']}", data={"where": where}, auth=sa(proj))
    assert reply.status_code == 200, reply.json
    return [row["$distinct_id"] for row in reply.json["results"]]


@pytest.mark.parametrize("where, expected", [
    ('properties["price"] * properties["qty"] > 20', ["b-1"]),           # 28.5, 8, 0
    ('properties["price"] * properties["qty"] >= 8', ["b-1", "b-2"]),
    ('properties["price"] + properties["qty"] * 2 == 8', ["b-2"]),        # precedence: 4 + 4
    ('(properties["price"] + properties["qty"]) * 2 == 12', ["b-2"]),
    ('properties["price"] / properties["qty"] > 2', ["b-1"]),             # b-3 divides by zero: undefined
    ('undefined(properties["price"] / properties["qty"])', ["b-3", "v-1"]),
    ('properties["price"] % 3 == 1', ["b-2"]),
    ('properties["plan"] in ["pro", "team"]', ["b-1", "b-3", "v-1"]),
    ('properties["plan"] in ["pro", "team"] and properties["price"] > 10', ["b-3"]),
    ('not properties["plan"] in ["pro"]', ["b-2", "b-3"]),
    ('properties["$time"] >= datetime("2025-12-31T00:00:00Z") + 25', ["b-3", "v-1"]),
])
def test_export_where(api, loaded, where, expected):
    assert export_ids(api, loaded, where) == expected


@pytest.mark.parametrize("where, expected", [
    ('properties["first"] + " " + properties["last"] == "Ann Lee"', ["ann"]),
    ('properties["seats"] - properties["used"] > 0', ["ann"]),
    ('properties["used"] / properties["seats"] >= 0.75', ["ann", "bob"]),  # cid: 0 / 0 is undefined
    ('user["plan"] in ["free", "team"]', ["bob", "cid"]),
    ('defined(user["last"]) and user["plan"] in ["pro", "free"]', ["ann", "bob"]),
])
def test_engage_where(api, loaded, where, expected):
    assert engage_ids(api, loaded, where) == expected


@pytest.mark.parametrize("where, message", [
    ('properties["price"] *', "expression ends where a value was expected"),
    ('properties["plan"] in ["pro", "team"', "expected ] but found the end of the expression"),
    ('properties["plan"] in ["pro",]', "unexpected ']': expected a value, properties[\"name\"] or defined(...)"),
    ('properties["price"] ^ 2 > 1', "unexpected character at position 20: '^ 2 > 1'"),
    ("-" * 65 + "1", "expression is nested more than 64 levels deep"),
    ('properties["price"] * 1e999 > 1', "the number 1e999 is out of range"),
])
def test_malformed_where_is_a_400_on_export_and_engage(api, loaded, where, message):
    pid = loaded["project_id"]
    reply = api.get("/api/2.0/export", auth=sa(loaded), query_string={
        "project_id": pid, "from_date": "2025-12-31", "to_date": "2025-12-31", "where": where})
    assert reply.status_code == 400
    assert reply.json == {"request": reply.json["request"], "error": f"invalid where expression: {message}"}
    assert reply.json["request"].startswith("/api/2.0/export?project_id=")
    reply = api.post(f"/api/query/engage?project_id={pid}", data={"where": where}, auth=sa(loaded))
    assert reply.status_code == 400
    assert reply.json == {"request": f"/api/query/engage?project_id={pid}", "error": f"invalid where expression: {message}"}


def test_funnels_filter_their_steps_with_where(api, loaded):
    pid = loaded["project_id"]
    reply = api.post(f"/_harness/projects/{pid}/funnels", json={"name": "Buy", "steps": ["View", "Buy"]})
    assert reply.status_code == 201
    params = {"project_id": pid, "funnel_id": "1", "from_date": "2025-12-31", "to_date": "2025-12-31"}
    everyone = api.get("/api/2.0/funnels", query_string=params, auth=sa(loaded)).json
    assert [s["count"] for s in everyone["data"]["2025-12-31"]["steps"]] == [1, 0]  # ann bought before viewing
    views = api.get("/api/2.0/funnels", query_string={**params, "where": 'properties["plan"] in ["pro"]'},
                    auth=sa(loaded)).json
    assert [s["count"] for s in views["data"]["2025-12-31"]["steps"]] == [1, 0]
    none = api.get("/api/2.0/funnels", query_string={**params, "where": 'properties["plan"] in ["team"]'},
                   auth=sa(loaded)).json
    assert [s["count"] for s in none["data"]["2025-12-31"]["steps"]] == [0, 0]
    bad = api.get("/api/2.0/funnels", query_string={**params, "where": "1 +"}, auth=sa(loaded))
    assert bad.status_code == 400
    assert bad.json["error"] == "invalid where expression: expression ends where a value was expected"
    segmented = api.get("/api/2.0/funnels", query_string={**params, "on": 'properties["plan"]'}, auth=sa(loaded))
    assert segmented.status_code == 400
    assert segmented.json["error"] == "on is not supported by this mock; filter with where"
