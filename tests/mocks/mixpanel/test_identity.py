"""Simplified ID Merge on the plain registry and through a project (events and profiles)."""
from mocks.mixpanel.identity import IdRegistry

from .conftest import NOW_S, START, event


def test_a_device_merges_once_into_the_first_user():
    ids = IdRegistry()
    assert ids.merge("$device:d1", "alice")
    assert not ids.merge("$device:d1", "bob")
    assert ids.canonical_id("$device:d1") == "alice" and ids.canonical_id("bob") == "bob"
    assert ids.canonical(ids.find("$device:d1")) == ids.find("alice")


def test_merging_into_a_merged_id_points_at_its_canonical_id():
    ids = IdRegistry()
    ids.merge("$device:d1", "alice")
    ids.merge("$device:d2", "$device:d1")
    assert ids.canonical_id("$device:d2") == "alice"


def test_anonymous_history_counts_for_the_user_after_the_first_event_with_both_ids(project):
    buyers = project.create_cohort("buyers", {"event": "Buy", "at_least": 2}, START).cohort_id
    project.ingest([event("Buy", NOW_S - 100, None, **{"$device_id": "d1"}),
                    event("Buy", NOW_S - 90, None, **{"$device_id": "d1"})], START)
    assert project.cohort_members(buyers, START) == {"$device:d1"}
    project.ingest([event("Login", NOW_S - 50, None, **{"$device_id": "d1", "$user_id": "alice"})], START)
    assert project.cohort_members(buyers, START) == {"alice"}
    project.ingest([event("Buy", NOW_S - 10, None, **{"$device_id": "d1"})], START)
    assert project.stats(START)["identities_merged"] == 1


def test_exports_show_only_canonical_ids(project):
    project.ingest([event("Buy", NOW_S - 100, None, **{"$device_id": "d1"}),
                    event("Login", NOW_S - 50, None, **{"$device_id": "d1", "$user_id": "alice"})], START)
    exported = list(project.export(0, NOW_S * 1000, None, START))
    assert [e["properties"]["distinct_id"] for e in exported] == ["alice", "alice"]
    assert exported[0]["properties"]["$device_id"] == "d1"


def test_profiles_merge_with_the_users_values_winning(project):
    from mocks.mixpanel.profiles import ProfileUpdate

    project.update_profile(ProfileUpdate("$device:d1", "$set", {"plan": "free", "color": "red"}))
    project.update_profile(ProfileUpdate("alice", "$set", {"plan": "pro"}))
    project.ingest([event("Login", NOW_S, None, **{"$device_id": "d1", "$user_id": "alice"})], START)
    assert project.profile_properties("alice") == {"plan": "pro", "color": "red"}
    assert project.profile_properties("$device:d1") == {"plan": "pro", "color": "red"}
    assert project.profile_ids() == ["alice"]
    project.update_profile(ProfileUpdate("$device:d1", "$set", {"seen": True}))
    assert project.profile_properties("alice")["seen"] is True
