"""The Mixpanel control plane: projects, stats, bulk loaders, cohorts, limits, state."""
import pytest

from .conftest import NOW_S, event


def test_create_and_describe_projects(api):
    reply = api.post("/_harness/projects", json={"name": "Shop", "retention_days": 30, "token": "tok-12345678"})
    assert reply.status_code == 201
    project = reply.json
    assert set(project) == {"project_id", "name", "token", "api_secret", "service_account", "retention_days",
                            "retention_default", "created_at"}
    assert (project["token"], project["retention_days"], project["retention_default"], project["created_at"]) == (
        "tok-12345678", 30, False, "2026-01-01T00:00:00Z")
    assert set(project["service_account"]) == {"username", "secret"}
    assert api.get(f"/_harness/projects/{project['project_id']}").json == project
    assert api.get("/_harness/projects").json == {"projects": [project]}
    reply = api.post("/_harness/projects", json={"name": "Copy", "token": "tok-12345678"})
    assert reply.status_code == 409 and reply.json == {"error": "token and api_secret must be unique across projects"}


@pytest.mark.parametrize("body, message", [
    ({}, "invalid body at $: 'name' is a required property"),
    ({"name": ""}, "invalid body at $.name: '' should be non-empty"),
    ({"name": "x", "retention_days": 0}, "invalid body at $.retention_days: 0 is less than the minimum of 1"),
    ({"name": "x", "color": 1}, "invalid body at $: Additional properties are not allowed ('color' was unexpected)"),
])
def test_bad_project_bodies(api, body, message):
    reply = api.post("/_harness/projects", json=body)
    assert reply.status_code == 400 and reply.json == {"error": message}


def test_unknown_projects_and_cohorts_are_404(api, proj):
    assert api.get("/_harness/projects/999/stats").json == {"error": "no project 999"}
    assert api.get("/_harness/projects/abc/stats").status_code == 404
    reply = api.get(f"/_harness/projects/{proj['project_id']}/cohorts/77/members")
    assert reply.status_code == 404 and reply.json == {"error": f"no cohort 77 in project {proj['project_id']}"}


def test_bulk_loaders_and_stats(api, proj):
    base = f"/_harness/projects/{proj['project_id']}"
    reply = api.post(base + "/profiles", json={"profiles": [{"distinct_id": "ann", "properties": {"plan": "pro"}},
                                                             {"distinct_id": "bob"}]})
    assert reply.json == {"profiles_written": 2, "profiles": 2}
    events = [event("Buy", NOW_S, "ann", "b-1"), event("Buy", NOW_S, "ann", "b-1"), event("Buy", 1262303999, "ann"),
              event("Buy", NOW_S, "null", "b-3")]
    reply = api.post(base + "/events", json={"events": events * 600})
    assert reply.status_code == 200
    assert (reply.json["num_records_imported"], reply.json["removed_by_retention"], reply.json["duplicates"]) == (1200, 600, 1199)
    assert reply.json["failed_records"][0] == {"index": 3, "$insert_id": "b-3", "field": "properties.distinct_id",
                                               "message": "'properties.distinct_id' is invalid: 'null' is a disallowed placeholder id"}
    assert api.get(base + "/stats").json == {"events_stored": 1, "events_removed_by_retention": 600, "events_rejected": 600,
                                             "events_deduplicated": 1199, "profiles": 2, "identities_merged": 0, "cohorts": 0}


@pytest.mark.parametrize("path, body, message", [
    ("/profiles", {"profiles": [{"distinct_id": ""}]}, "invalid body at $.profiles[0]: 'distinct_id' must be a non-empty string"),
    ("/profiles", {"profiles": ["x"]}, "invalid body at $.profiles[0]: each profile must be a JSON object"),
    ("/profiles", {"profiles": [{"distinct_id": "a", "properties": []}]}, "invalid body at $.profiles[0]: 'properties' must be a JSON object"),
    ("/profiles", {"profiles": [{"distinct_id": "a", "x": 1}]}, "invalid body at $.profiles[0]: unexpected field 'x'"),
    ("/profiles", {}, "invalid body at $: 'profiles' is a required property"),
    ("/events", {"events": {}}, "invalid body at $.events: {} is not of type 'array'"),
])
def test_bad_bulk_bodies(api, proj, path, body, message):
    reply = api.post(f"/_harness/projects/{proj['project_id']}{path}", json=body)
    assert reply.status_code == 400 and reply.json == {"error": message}


def test_cohort_lifecycle(api, proj, clock):
    base = f"/_harness/projects/{proj['project_id']}"
    api.post(base + "/profiles", json={"profiles": [{"distinct_id": "ann", "properties": {"plan": "pro"}},
                                                     {"distinct_id": "bob", "properties": {"plan": "free"}}]})
    reply = api.post(base + "/cohorts", json={"name": "Pro", "description": "paying", "definition": {"property": "plan", "equals": "pro"}})
    assert reply.status_code == 201
    cid = reply.json["cohort_id"]
    assert reply.json == {"cohort_id": cid, "project_id": proj["project_id"], "name": "Pro", "description": "paying",
                          "is_visible": True, "definition": {"property": "plan", "equals": "pro"},
                          "created_at": "2026-01-01T00:00:00Z", "revision": 0}
    clock.advance("1h")
    assert api.get(f"{base}/cohorts/{cid}/members").json == {"cohort_id": cid, "evaluated_at": "2026-01-01T01:00:00Z",
                                                             "count": 1, "members": ["ann"]}
    reply = api.patch(f"{base}/cohorts/{cid}", json={"name": "Free", "definition": {"property": "plan", "equals": "free"}})
    assert (reply.json["name"], reply.json["revision"]) == ("Free", 1)
    assert api.get(f"{base}/cohorts").json["cohorts"][0]["count"] == 1
    assert api.get(f"{base}/cohorts/{cid}").json["name"] == "Free"
    assert api.get(f"{base}/cohorts/{cid}/members?at=2026-01-01T00:30:00Z").json["members"] == ["bob"]
    assert api.get(f"{base}/cohorts/{cid}/members?at=yesterday").json == {"error": "invalid ISO-8601 instant 'yesterday'"}


@pytest.mark.parametrize("method, body, message", [
    ("post", {"name": "x"}, "invalid body at $: 'definition' is a required property"),
    ("post", {"name": "x", "definition": {"event": "E", "at_least": "2"}},
     "invalid cohort definition at $.at_least: '2' is not of type 'integer'"),
    ("patch", {}, "invalid body at $: {} should be non-empty"),
    ("patch", {"definition": {"or": []}}, "invalid cohort definition at $.or: [] should be non-empty"),
])
def test_bad_cohort_bodies(api, proj, method, body, message):
    base = f"/_harness/projects/{proj['project_id']}/cohorts"
    cid = api.post(base, json={"name": "c", "definition": {"event": "E"}}).json["cohort_id"]
    reply = getattr(api, method)(base if method == "post" else f"{base}/{cid}", json=body)
    assert reply.status_code == 400 and reply.json == {"error": message}
    assert api.get(f"{base}/{cid}").json["definition"] == {"event": "E"}


def test_patch_project_retention(api, proj, clock):
    base = f"/_harness/projects/{proj['project_id']}"
    api.post(base + "/events", json={"events": [event("Buy", NOW_S - 40 * 86400), event("Buy", NOW_S)]})
    assert api.patch(base, json={"retention_days": 30}).json["retention_days"] == 30
    assert api.get(base + "/stats").json["events_stored"] == 1
    assert api.patch(base, json={"retention_days": None}).json["retention_days"] is None
    assert api.get(base + "/stats").json["events_stored"] == 2
    assert api.patch(base, json={}).json == {"error": "invalid body at $: {} should be non-empty"}


def test_limits(api):
    defaults = {"query_per_hour": 60, "query_concurrency": 5, "export_per_hour": 60, "export_per_second": 3,
                "export_concurrency": 100, "import_requests_per_minute": 900, "engage_page_size": 1000}
    assert api.get("/_harness/limits").json == defaults
    assert api.patch("/_harness/limits", json={"query_per_hour": 1000}).json == {**defaults, "query_per_hour": 1000}
    reply = api.patch("/_harness/limits", json={"query_per_hour": 0})
    assert reply.status_code == 400 and reply.json == {"error": "invalid body at $.query_per_hour: 0 is less than the minimum of 1"}


def test_limits_from_config(clock):
    from mocks.mixpanel import create_app

    app = create_app({"MIXPANEL_LIMITS": {"query_per_hour": 5000}}, clock=clock)
    assert app.test_client().get("/_harness/limits").json["query_per_hour"] == 5000
    with pytest.raises(ValueError, match="MIXPANEL_LIMITS at \\$: Additional properties"):
        create_app({"MIXPANEL_LIMITS": {"nope": 1}}, clock=clock)


def test_health_reset_and_state_round_trip(api, proj):
    assert api.get("/_harness/health").json["service"] == "mixpanel"
    base = f"/_harness/projects/{proj['project_id']}"
    api.post(base + "/events", json={"events": [event("Buy", NOW_S, "ann")]})
    api.post(base + "/cohorts", json={"name": "c", "definition": {"event": "Buy"}})
    state = api.get("/_harness/state").json
    assert api.post("/_harness/reset").status_code == 200
    assert api.get("/_harness/projects").json == {"projects": []}
    assert api.put("/_harness/state", json=state).status_code == 200
    assert api.get(base + "/cohorts/1/members").json["members"] == ["ann"]
    broken = {"service": "mixpanel", "store": {"projects": [{"project_id": 1}]}}
    reply = api.put("/_harness/state", json=broken)
    assert reply.status_code == 400 and reply.json["error"].startswith("invalid state:")


@pytest.mark.parametrize("segment", ["%C2%B2", "9" * 5000])
def test_hostile_numeric_path_segments_are_404(api, segment):
    """``²`` passed isdigit() and then int() raised: a 500 (issue 12)."""
    reply = api.get(f"/_harness/projects/{segment}/stats")
    assert reply.status_code == 404 and "error" in reply.json


@pytest.mark.parametrize("limit", ["%C2%B2", "9" * 5000])
def test_hostile_journal_limit_is_400(api, limit):
    reply = api.get(f"/_harness/journal?limit={limit}")
    assert reply.status_code == 400 and reply.json == {"error": "'limit' must be a positive integer"}


def test_non_ascii_service_account_username_is_401_not_500(store, project):
    """``compare_digest`` on str raised TypeError for non-ASCII text (issue 12, class 4)."""
    assert store.project_for_service_account(project.project_id, "üser", "sécret") is None
