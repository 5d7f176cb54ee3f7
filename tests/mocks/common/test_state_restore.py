"""Issue 12, class 2: a refused state load changes nothing, a wrong type is a clean 400, Braze refuses a
cohort member that is not a user."""
import copy

import pytest

from mocks.braze import create_app as create_braze_app
from mocks.common import Clock
from mocks.mixpanel import create_app as create_mixpanel_app


@pytest.fixture()
def mixpanel():
    return create_mixpanel_app(clock=Clock()).test_client()


@pytest.fixture()
def braze():
    return create_braze_app(clock=Clock()).test_client()


def test_a_refused_mixpanel_load_keeps_every_project(mixpanel):
    pid = mixpanel.post("/_harness/projects", json={"name": "keep me"}).json["project_id"]
    state = mixpanel.get("/_harness/state").json
    broken = copy.deepcopy(state)
    broken["store"]["components"]["exports"] = {"exports": [{"export_id": 1}]}
    reply = mixpanel.put("/_harness/state", json=broken)
    assert reply.status_code == 400 and reply.json == {"error": "invalid state: 'project_id'"}
    assert [p["project_id"] for p in mixpanel.get("/_harness/projects").json["projects"]] == [pid]


@pytest.mark.parametrize("where, value", [("projects", [{"project_id": "x"}]), ("projects", "nope"),
                                          ("components", [1])])
def test_a_wrong_type_in_a_mixpanel_dump_is_a_400(mixpanel, where, value):
    mixpanel.post("/_harness/projects", json={"name": "keep me"})
    state = mixpanel.get("/_harness/state").json
    state["store"][where] = value
    reply = mixpanel.put("/_harness/state", json=state)
    assert reply.status_code == 400 and reply.json["error"].startswith("invalid state: "), reply.json
    assert len(mixpanel.get("/_harness/projects").json["projects"]) == 1


def test_braze_refuses_a_cohort_member_that_is_not_a_user(braze):
    ws = braze.post("/_harness/workspaces", json={"name": "w"}).json["workspace_id"]
    state = braze.get("/_harness/state").json
    workspace = state["store"]["workspaces"][0]
    workspace["cohorts"] = [{"partner": "mixpanel", "cohort_id": "7", "name": "C", "created_at": "2026-01-01T00:00:00Z",
                             "named": True, "members": ["ghost"], "match_log": {}}]
    reply = braze.put("/_harness/state", json=state)
    assert reply.status_code == 400
    assert reply.json == {"error": f"invalid state: workspace {ws}: cohort mixpanel/7 has member 'ghost', "
                                   f"who is not a user of the workspace"}
    assert braze.get(f"/_harness/workspaces/{ws}").status_code == 200


def test_an_add_that_would_overflow_leaves_the_property_and_the_state_stays_json(mixpanel):
    import json
    proj = mixpanel.post("/_harness/projects", json={"name": "p"}).json
    update = {"$token": proj["token"], "$distinct_id": "a", "$add": {"n": 1.7e308}}
    for _ in range(2):
        reply = mixpanel.post("/engage", data={"verbose": "1", "data": json.dumps(update)})
        assert reply.json == {"error": None, "status": 1}
    state = json.loads(mixpanel.get("/_harness/state").data, parse_constant=_refuse)
    assert state["store"]["projects"][0]["profiles"] == {"a": {"n": 1.7e308, "$last_seen": "2026-01-01T00:00:00"}}


def _refuse(constant):
    raise ValueError(f"{constant} is not JSON")
