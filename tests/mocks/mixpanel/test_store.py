"""The store: projects, credentials, one cohort counter, attached components, dump and load."""
from datetime import timedelta

import pytest

from mocks.mixpanel.errors import CohortNotFound, CredentialsTaken, ProjectNotFound

from .conftest import NOW_S, START, event


class Counter:
    def __init__(self):
        self.value = 0

    def reset(self):
        self.value = 0

    def to_dict(self):
        return {"value": self.value}

    def load(self, data):
        self.value = data["value"]


def test_projects_are_found_by_id_token_secret_and_service_account(store):
    first, second = store.create_project("a", retention_days=30), store.create_project("b")
    assert store.project(second.project_id) is second
    assert store.project_by_token(first.token) is first and store.project_by_token(None) is None
    assert store.project_by_secret(second.api_secret) is second
    account = first.service_account
    assert store.project_for_service_account(first.project_id, account["username"], account["secret"]) is first
    assert store.project_for_service_account(second.project_id, account["username"], account["secret"]) is None
    with pytest.raises(ProjectNotFound):
        store.project(99)
    with pytest.raises(ProjectNotFound):
        store.project("1")
    assert store.find_project(first.project_id) is first and store.find_project("1") is None


def test_explicit_tokens_must_be_unique(store):
    store.create_project("a", token="tok-aaaa1111")
    with pytest.raises(CredentialsTaken, match="token and api_secret must be unique across projects"):
        store.create_project("b", api_secret="tok-aaaa1111")


def test_cohort_ids_are_unique_across_projects(store):
    first, second = store.create_project("a"), store.create_project("b")
    ids = [p.create_cohort("c", {"event": "E"}, START).cohort_id for p in (first, second, first)]
    assert ids == [1, 2, 3]
    assert second.cohort(2).project_id == second.project_id
    with pytest.raises(CohortNotFound):
        first.cohort(2)


def test_projects_are_isolated(store):
    first, second = store.create_project("a"), store.create_project("b")
    first.ingest([event("Buy", NOW_S, "ann")], START)
    first.set_profiles([("ann", {"plan": "pro"})])
    cohort = second.create_cohort("c", {"or": [{"event": "Buy"}, {"property": "plan", "defined": True}]}, START)
    assert second.cohort_members(cohort.cohort_id, START) == set()
    assert second.stats(START)["events_stored"] == 0 and second.profile_properties("ann") == {}


def test_reset_dump_and_load_cover_attached_components(store, clock):
    counter = Counter()
    store.attach("counter", counter)
    project = store.create_project("a", retention_days=400)
    project.ingest([event("Buy", NOW_S - 60, None, "i-1", amount=3, **{"$device_id": "d1"}),
                    event("Login", NOW_S - 30, None, "i-2", **{"$device_id": "d1", "$user_id": "ann"}),
                    event("Old", 1000000000, "x", "i-3")], START)
    project.set_profiles([("ann", {"plan": "pro"})])
    cohort = project.create_cohort("buyers", {"event": "Buy"}, START, "who bought", is_visible=False)
    project.update_cohort(cohort.cohort_id, {"definition": {"event": "Buy", "at_least": 1}})
    counter.value = 5
    dump = store.to_dict()

    store.reset()
    assert store.projects == {} and counter.value == 0
    clock.advance("1h")
    store.load(dump)
    loaded = store.project(project.project_id)
    assert loaded.cohort_members(cohort.cohort_id, clock.now()) == {"ann"}
    assert loaded.profile_properties("$device:d1") == {"plan": "pro"}
    assert loaded.stats(clock.now()) == project.stats(clock.now())
    assert list(loaded.export(0, NOW_S * 1000, None, clock.now())) == list(project.export(0, NOW_S * 1000, None, clock.now()))
    assert (loaded.cohort(cohort.cohort_id).revision, loaded.cohort(cohort.cohort_id).is_visible) == (1, False)
    assert counter.value == 5 and store.to_dict() == dump
    assert store.create_project("next").project_id == project.project_id + 1
    assert loaded.create_cohort("n", {"event": "E"}, START).cohort_id == cohort.cohort_id + 1


def test_loading_a_dump_without_a_component_resets_it(store):
    counter = Counter()
    store.attach("counter", counter)
    counter.value = 3
    store.load({"projects": []})
    assert counter.value == 0


def test_stats_count_stored_removed_rejected_and_duplicates(project, clock):
    batch = [event("Buy", NOW_S, "ann", "same"), event("Buy", NOW_S, "ann", "same"),
             event("Buy", 1262303999, "ann"), event("Buy", NOW_S, "null")]
    report = project.ingest(batch, START)
    assert (report.imported, report.duplicates, report.removed, len(report.failures)) == (2, 1, 1, 1)
    assert project.stats(START) == {"events_stored": 1, "events_removed_by_retention": 1, "events_rejected": 1,
                                    "events_deduplicated": 1, "profiles": 0, "identities_merged": 0, "cohorts": 0}
    clock.advance(timedelta(days=1))
