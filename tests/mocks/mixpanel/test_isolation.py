"""Two projects on one app see nothing of each other, over every API."""
import json

from .conftest import NOW_S, event, import_url, sa


def test_two_projects_are_isolated(api, proj):
    other = api.post("/_harness/projects", json={"name": "Other"}).json
    assert api.post(import_url(proj), json=[event("Buy", NOW_S, "ann")], auth=sa(proj)).status_code == 200
    api.post("/engage", data={"data": json.dumps({"$token": proj["token"], "$distinct_id": "ann", "$set": {"plan": "pro"}})})
    api.post(f"/_harness/projects/{proj['project_id']}/cohorts", json={"name": "mine", "definition": {"event": "Buy"}})
    cohort = api.post(f"/_harness/projects/{other['project_id']}/cohorts",
                      json={"name": "theirs", "definition": {"or": [{"event": "Buy"}, {"property": "plan", "defined": True}]}}).json

    assert api.get(f"/_harness/projects/{other['project_id']}/cohorts/{cohort['cohort_id']}/members").json["members"] == []
    assert api.post(f"/api/query/engage?project_id={other['project_id']}", auth=sa(other)).json["total"] == 0
    assert [c["name"] for c in api.get(f"/api/2.0/cohorts/list?project_id={other['project_id']}", auth=sa(other)).json] == ["theirs"]
    exported = api.get("/api/2.0/export", query_string={"project_id": other["project_id"], "from_date": "2025-12-31",
                                                         "to_date": "2026-01-01"}, auth=sa(other))
    assert exported.status_code == 200 and exported.data == b""
    assert api.get(f"/_harness/projects/{other['project_id']}/stats").json["events_stored"] == 0
    crossed = api.post(import_url(other), json=[event("Buy", NOW_S)], auth=sa(proj))
    assert crossed.status_code == 401
    assert api.get(f"/api/2.0/cohorts/list?project_id={other['project_id']}", auth=sa(proj)).status_code == 401
    assert api.get(f"/api/2.0/cohorts/list?project_id={other['project_id']}", auth=(proj["api_secret"], "")).status_code == 401
