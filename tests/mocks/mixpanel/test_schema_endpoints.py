"""Schema endpoints connectors call before reading: ``engage/properties`` and ``events/properties/top``."""
import pytest

from .conftest import NOW_S, event, import_url, sa


@pytest.mark.parametrize("prefix", ["/api/query", "/api/2.0"])
def test_engage_properties_counts_and_types(api, proj, prefix):
    api.post(f"/_harness/projects/{proj['project_id']}/profiles", json={"profiles": [
        {"distinct_id": "ann", "properties": {"plan": "pro", "seats": 3, "vip": True, "tags": ["a"],
                                              "$last_seen": "2026-01-01T00:00:00", "address": {"city": "Oslo"}}},
        {"distinct_id": "bob", "properties": {"plan": "free", "seats": "many"}},
        {"distinct_id": "cy", "properties": {"seats": 1}}]})
    reply = api.get(f"{prefix}/engage/properties?project_id={proj['project_id']}", auth=sa(proj))
    assert reply.status_code == 200
    body = reply.json
    assert set(body) == {"results", "session_id", "status"} and body["status"] == "ok"
    assert body["results"] == {
        "$last_seen": {"count": 1, "type": "datetime"}, "address": {"count": 1, "type": "object"},
        "plan": {"count": 2, "type": "string"}, "seats": {"count": 3, "type": "number"},
        "tags": {"count": 1, "type": "list"}, "vip": {"count": 1, "type": "boolean"}}


def test_engage_properties_needs_credentials(api, proj):
    reply = api.get(f"/api/query/engage/properties?project_id={proj['project_id']}")
    assert (reply.status_code, reply.json["error"]) == (401, "Invalid credentials")


def test_events_properties_top(api, proj):
    events = [event("Buy", NOW_S - i, amount=i, currency="EUR") for i in range(3)]
    events += [event("Buy", NOW_S - 9, amount=1), event("View", NOW_S, page="/")]
    assert api.post(import_url(proj), json=events, auth=sa(proj)).status_code == 200
    url = f"/api/2.0/events/properties/top?project_id={proj['project_id']}&event=Buy"
    assert api.get(url, auth=sa(proj)).json == {"amount": {"count": 4}, "currency": {"count": 3}}
    assert api.get(url + "&limit=1", auth=sa(proj)).json == {"amount": {"count": 4}}
    assert api.get(url.replace("Buy", "Nothing"), auth=sa(proj)).json == {}


@pytest.mark.parametrize("query, message", [("", "'event' is a required parameter"),
                                            ("&event=Buy&limit=0", "limit must be an integer from 1 to 10000")])
def test_events_properties_top_errors(api, proj, query, message):
    reply = api.get(f"/api/2.0/events/properties/top?project_id={proj['project_id']}{query}", auth=sa(proj))
    assert (reply.status_code, reply.json["error"]) == (400, message)
