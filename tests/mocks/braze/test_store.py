"""The identity and cohort rules on the plain classes, without Flask or HTTP."""
import re

import pytest

from mocks.braze.config import BrazeConfig
from mocks.braze.store import (DEVICE_OF_IDENTIFIED_USER, EXCLUDES, INCLUDES, MATCHED, UNKNOWN_USER, BrazeStore,
                               CohortFilter, ConflictError, InvalidError, NotFoundError, match_identifier)
from mocks.braze import user_requests
from mocks.common import Clock


def new_workspace(**config):
    store = BrazeStore(BrazeConfig.from_mapping(config), Clock())
    workspace, _ = store.create_workspace("unit")
    return store, workspace


@pytest.fixture()
def ws():
    return new_workspace()[1]


# -- identity ----------------------------------------------------------------------------------------
def test_braze_ids_are_24_hex_and_unique(ws):
    ids = [ws.directory.create(external_id=f"u{i}").braze_id for i in range(50)]
    assert all(re.fullmatch(r"[0-9a-f]{24}", b) for b in ids)
    assert len(set(ids)) == 50


def test_sdk_user_is_anonymous_and_matched_by_its_device(ws):
    user = ws.directory.create_sdk_user("dev-1", {"plan": "pro"})
    assert user.kind == "anonymous" and user.external_id is None and user.device_ids == ["dev-1"]
    assert match_identifier(ws.directory, "device_id", "dev-1") == (MATCHED, user.braze_id)


def test_change_user_with_new_external_id_identifies_the_profile_and_keeps_its_devices(ws):
    anonymous = ws.directory.create_sdk_user("dev-1")
    user, outcome = ws.directory.change_user("dev-1", "erin")
    assert outcome == "identified" and user is anonymous
    assert user.external_id == "erin" and user.device_ids == ["dev-1"]
    assert user.was_anonymous and user.former_anonymous_device_ids == ["dev-1"]
    assert match_identifier(ws.directory, "device_id", "dev-1") == (DEVICE_OF_IDENTIFIED_USER, user.braze_id)
    assert match_identifier(ws.directory, "external_id", "erin") == (MATCHED, user.braze_id)


def test_change_user_with_existing_external_id_merges_the_anonymous_profile_and_removes_it(ws):
    target = ws.directory.create(external_id="frank", aliases=[("crm", "f-1")], attributes={"plan": "pro"})
    anonymous = ws.directory.create_sdk_user("dev-2", {"plan": "free", "city": "Oslo"})
    ws.directory.add_alias(anonymous, "crm", "anon-1")
    ws.directory.add_alias(anonymous, "web", "w-9")
    user, outcome = ws.directory.change_user("dev-2", "frank")
    assert outcome == "merged" and user is target
    assert ws.directory.get(anonymous.braze_id) is None and len(ws.directory) == 1
    assert target.attributes == {"plan": "pro", "city": "Oslo"}  # copied only what the target lacked
    assert target.aliases == {"crm": "f-1", "web": "w-9"}  # same label: the target's alias wins
    assert ws.directory.by_alias_of("crm", "anon-1") is None
    assert target.device_ids == ["dev-2"] and target.former_anonymous_device_ids == ["dev-2"]
    assert match_identifier(ws.directory, "device_id", "dev-2") == (DEVICE_OF_IDENTIFIED_USER, target.braze_id)


def test_change_user_to_the_same_or_another_identified_user(ws):
    ws.directory.create_sdk_user("dev-3")
    ws.directory.change_user("dev-3", "gina")
    assert ws.directory.change_user("dev-3", "gina")[1] == "unchanged"
    hal, outcome = ws.directory.change_user("dev-3", "hal")
    assert outcome == "switched" and hal.external_id == "hal" and hal.device_ids == ["dev-3"]
    assert ws.directory.by_external("gina").device_ids == []


def test_change_user_of_an_unknown_device_is_not_found(ws):
    with pytest.raises(NotFoundError):
        ws.directory.change_user("nope", "x")


def test_identifying_an_alias_only_user_both_cases(ws):
    alias_only = ws.directory.create(aliases=[("mixpanel_id", "mp-1")])
    assert alias_only.kind == "alias_only"
    user, outcome = ws.directory.identify(alias_only, "ivy")
    assert (user is alias_only, outcome, user.external_id) == (True, "identified", "ivy")
    existing = ws.directory.create(external_id="jack")
    second = ws.directory.create(aliases=[("mixpanel_id", "mp-2")], attributes={"age": 30})
    user, outcome = ws.directory.identify(second, "jack")
    assert (user is existing, outcome) == (True, "merged")
    assert ws.directory.by_alias_of("mixpanel_id", "mp-2") is existing and existing.attributes == {"age": 30}
    with pytest.raises(ConflictError):
        ws.directory.identify(existing, "someone-else")


def test_aliases_are_unique_per_label_and_one_per_label_per_user(ws):
    kim = ws.directory.create(external_id="kim", aliases=[("crm", "k")])
    lee = ws.directory.create(external_id="lee")
    with pytest.raises(ConflictError):
        ws.directory.add_alias(lee, "crm", "k")
    with pytest.raises(ConflictError):
        ws.directory.add_alias(kim, "crm", "k2")
    ws.directory.add_alias(lee, "other", "k")  # same name under another label is fine
    with pytest.raises(ConflictError):
        ws.directory.create(external_id="kim")
    assert len(ws.directory) == 2


# -- cohorts (SEED-6, HOUSE-3, HOUSE-4) --------------------------------------------------------------
def test_cohort_changes_match_each_rule_and_never_create_users(ws):
    alice = ws.directory.create(external_id="alice")
    bob = ws.directory.create(aliases=[("mixpanel_id", "mp-bob")])
    carol = ws.directory.create_sdk_user("dev-carol")
    ws.directory.create_sdk_user("dev-erin")
    erin, _ = ws.directory.change_user("dev-erin", "erin")
    summary = ws.apply_cohort_changes("mixpanel", "c1", [
        {"user_ids": ["alice", "ghost"], "device_ids": ["dev-carol", "dev-erin", "dev-ghost"],
         "aliases": [{"alias_name": "mp-bob", "alias_label": "mixpanel_id"},
                     {"alias_name": "mp-x", "alias_label": "mixpanel_id"}]}])
    cohort = ws.cohorts.get("mixpanel", "c1")
    assert cohort.members == {alice.braze_id, bob.braze_id, carol.braze_id}
    assert len(ws.directory) == 4
    assert summary.outcomes == {MATCHED: 3, UNKNOWN_USER: 3, DEVICE_OF_IDENTIFIED_USER: 1}
    log = [(e["identifier"], e["kind"], e["outcome"], e["braze_id"]) for e in cohort.log.entries()]
    assert log == [("alice", "external_id", MATCHED, alice.braze_id), ("ghost", "external_id", UNKNOWN_USER, None),
                   ("dev-carol", "device_id", MATCHED, carol.braze_id),
                   ("dev-erin", "device_id", DEVICE_OF_IDENTIFIED_USER, erin.braze_id),
                   ("dev-ghost", "device_id", UNKNOWN_USER, None),
                   ("mixpanel_id:mp-bob", "alias", MATCHED, bob.braze_id),
                   ("mixpanel_id:mp-x", "alias", UNKNOWN_USER, None)]


def test_a_users_call_names_an_unknown_cohort_after_its_id_and_a_rename_keeps_members(ws):
    ws.directory.create(external_id="alice")
    ws.apply_cohort_changes("mixpanel", "77", [{"user_ids": ["alice"]}])
    cohort = ws.cohorts.get("mixpanel", "77")
    assert (cohort.name, cohort.named, len(cohort.members)) == ("77", False, 1)
    ws.name_cohort("mixpanel", "77", "Buyers", "2025-12-01T00:00:00Z")
    ws.name_cohort("mixpanel", "77", "Big buyers", "2025-12-01T00:00:00Z")
    assert (cohort.name, cohort.named, len(cohort.members)) == ("Big buyers", True, 1)
    assert len(ws.cohorts.all()) == 1


def test_removes_and_repeats(ws):
    ws.directory.create(external_id="alice")
    ws.directory.create(external_id="bob")
    ws.apply_cohort_changes("mixpanel", "c", [{"user_ids": ["alice", "bob"]}])
    again = ws.apply_cohort_changes("mixpanel", "c", [{"user_ids": ["alice"]}])
    removed = ws.apply_cohort_changes("mixpanel", "c", [{"user_ids": ["bob"], "should_remove": True}])
    twice = ws.apply_cohort_changes("mixpanel", "c", [{"user_ids": ["bob"], "should_remove": True}])
    assert (again.added, removed.removed, twice.removed) == (0, 1, 0)
    assert {ws.directory.get(b).external_id for b in ws.cohorts.get("mixpanel", "c").members} == {"alice"}


def test_data_points_per_matched_identifier_whether_or_not_membership_changed():
    _, ws = new_workspace(data_points_per_cohort_change=2)
    ws.directory.create(external_id="alice")
    ws.apply_cohort_changes("mixpanel", "c", [{"user_ids": ["alice", "ghost"]}])
    ws.apply_cohort_changes("mixpanel", "c", [{"user_ids": ["alice"]}])  # no change in membership
    ws.apply_cohort_changes("mixpanel", "c", [{"user_ids": ["alice", "ghost"], "should_remove": True}])
    assert ws.data_point_totals() == {"total": 6, "by_source": {"cohort_import:mixpanel": 6}}


def test_match_log_keeps_the_newest_entries_and_running_totals():
    _, ws = new_workspace(match_log_limit=3)
    ws.apply_cohort_changes("mixpanel", "c", [{"user_ids": [f"u{i}" for i in range(10)]}])
    cohort = ws.cohorts.get("mixpanel", "c")
    assert [e["identifier"] for e in cohort.log.entries()] == ["u7", "u8", "u9"]
    assert (cohort.log.logged, cohort.log.totals[UNKNOWN_USER]) == (10, 10)
    ws.apply_cohort_changes("mixpanel", "c", [{"user_ids": ["v1"]}, {"device_ids": ["d1", "d2"]}])
    assert [(e["sequence"], e["identifier"]) for e in cohort.log.entries()] == [(11, "v1"), (12, "d1"), (13, "d2")]
    assert [e["identifier"] for e in cohort.log.entries(limit=2)] == ["d1", "d2"]


def test_deleted_and_merged_away_users_leave_their_cohorts(ws):
    alice = ws.directory.create(external_id="alice")
    ws.directory.create(external_id="bob")
    anon = ws.directory.create_sdk_user("dev-1")
    ws.apply_cohort_changes("mixpanel", "c", [{"user_ids": ["alice"], "device_ids": ["dev-1"]}])
    ws.directory.delete(alice)
    ws.directory.change_user("dev-1", "bob")
    assert ws.cohorts.get("mixpanel", "c").members == set()
    assert ws.directory.get(anon.braze_id) is None


# -- segments ----------------------------------------------------------------------------------------
def test_segment_filters_include_exclude_and_are_anded(ws):
    users = {name: ws.directory.create(external_id=name) for name in ("a", "b", "c", "d")}
    ws.apply_cohort_changes("mixpanel", "pro", [{"user_ids": ["a", "b", "c"]}])
    ws.apply_cohort_changes("mixpanel", "churn", [{"user_ids": ["c"]}])

    def names(*filters):
        segment = ws.add_segment("s", [CohortFilter("mixpanel", op, cid) for op, cid in filters])
        return [u.external_id for u in ws.segment_users(segment.segment_id)]

    assert names((INCLUDES, "pro")) == ["a", "b", "c"]
    assert names((EXCLUDES, "pro")) == ["d"]
    assert names((INCLUDES, "pro"), (EXCLUDES, "churn")) == ["a", "b"]
    assert names((EXCLUDES, "pro"), (EXCLUDES, "churn")) == ["d"]
    assert names((INCLUDES, "never-sent")) == []
    assert names() == sorted(users)


def test_campaign_audience_follows_the_cohort(ws):
    ws.directory.create(external_id="a")
    segment = ws.add_segment("s", [CohortFilter("mixpanel", INCLUDES, "pro")])
    campaign = ws.add_target("campaign", "Spring", segment.segment_id)
    assert ws.audience("campaign", campaign.target_id) == []
    ws.apply_cohort_changes("mixpanel", "pro", [{"user_ids": ["a"]}])
    assert [u.external_id for u in ws.audience("campaign", campaign.target_id)] == ["a"]
    with pytest.raises(NotFoundError):
        ws.add_target("canvas", "x", "no-such-segment")


# -- /users/track semantics --------------------------------------------------------------------------
def test_track_creates_identified_users_charges_data_points_and_reports_problems(ws):
    outcome = ws.track({
        "attributes": [{"external_id": "u1", "plan": "pro", "age": 30},
                       {"user_alias": {"alias_name": "a", "alias_label": "l"}, "plan": "x"},
                       {"user_alias": {"alias_name": "b", "alias_label": "l"}, "_update_existing_only": False},
                       {"plan": "nobody"}],
        "events": [{"external_id": "u1", "name": "Purchase", "time": "2026-01-01T00:00:00Z"},
                   {"external_id": "u1", "name": "Purchase"}],
        "purchases": [{"external_id": "u1", "product_id": "p", "currency": "USD", "price": 1.5,
                       "time": "2026-01-01T00:00:00Z"}]})
    assert outcome.processed == {"attributes": 2, "events": 1, "purchases": 1}
    assert [(e["input_array"], e["index"]) for e in outcome.errors] == [("attributes", 1), ("attributes", 3),
                                                                        ("events", 1)]
    assert ws.data_point_totals()["by_source"] == {"users.track": 4}  # 2 attributes + 1 event + 1 purchase
    u1 = ws.directory.by_external("u1")
    assert u1.attributes == {"plan": "pro", "age": 30} and u1.events["Purchase"].count == 1
    assert ws.directory.by_alias_of("l", "b").kind == "alias_only"
    assert ws.directory.by_alias_of("l", "a") is None


def test_merge_and_delete_requests(ws):
    ws.directory.create(external_id="old", attributes={"x": 1})
    keep = ws.directory.create(external_id="new")
    # identifiers of different kinds mix (reference, corrections): an unknown alias is skipped silently
    assert user_requests.merge(ws.directory, [{"identifier_to_merge": {"external_id": "old"},
                                               "identifier_to_keep": {"user_alias": {"alias_name": "a",
                                                                                     "alias_label": "b"}}}]) == 0
    with pytest.raises(user_requests.RequestRejected):
        user_requests.merge(ws.directory, [{"identifier_to_merge": {"external_id": "old"},
                                            "identifier_to_keep": {"email": "e", "prioritization": ["identified",
                                                                                                   "unidentified"]}}])
    assert user_requests.merge(ws.directory, [{"identifier_to_merge": {"external_id": "old"},
                                               "identifier_to_keep": {"external_id": "new"}}]) == 1
    assert ws.directory.by_external("old") is None and keep.attributes == {"x": 1}
    # "deleted" counts the identifiers queued for deletion (reference, corrections): each one sent, known or
    # not, a repeat too (Braze queues what it is given and deletes asynchronously); the profile goes once.
    assert user_requests.delete(ws.directory, {"external_ids": ["new", "new", "ghost"]}) == 3
    assert ws.directory.by_external("new") is None and len(ws.directory) == 0
    with pytest.raises(user_requests.RequestRejected):
        user_requests.delete(ws.directory, {"external_ids": ["a"] * 30, "braze_ids": ["b"] * 21})


# -- the store: keys, isolation, state ---------------------------------------------------------------
def test_data_import_keys_per_partner_and_invalidation():
    store, ws = new_workspace(partners={"amplitude": "amp-key"})
    first = store.add_data_import_key(ws, "mixpanel")
    second = store.add_data_import_key(ws, "mixpanel")
    assert store.resolve_import_key(first.key)[0] is ws and store.resolve_import_key(second.key)[0] is ws
    store.invalidate_data_import_key(ws, first.key)
    assert store.resolve_import_key(first.key) is None and first.status == "invalidated"
    assert store.resolve_import_key(second.key) is not None
    assert store.add_data_import_key(ws, "amplitude").partner == "amplitude"
    with pytest.raises(InvalidError):
        store.add_data_import_key(ws, "nobody")
    with pytest.raises(NotFoundError):
        store.invalidate_data_import_key(ws, "not-a-key")


def test_workspaces_do_not_share_users_or_cohorts():
    store, one = new_workspace()
    two, _ = store.create_workspace("two")
    one.directory.create(external_id="alice")
    two.apply_cohort_changes("mixpanel", "c", [{"user_ids": ["alice"]}])
    assert two.cohorts.get("mixpanel", "c").members == set() and len(two.directory) == 0
    assert one.cohorts.get("mixpanel", "c") is None


def test_state_round_trip_keeps_rules_working():
    store, ws = new_workspace()
    ws.directory.create_sdk_user("dev-1")
    ws.directory.change_user("dev-1", "erin")
    ws.directory.create(external_id="alice", aliases=[("crm", "a")])
    ws.apply_cohort_changes("mixpanel", "c", [{"user_ids": ["alice"], "device_ids": ["dev-1"]}])
    key = store.add_data_import_key(ws, "mixpanel")
    dump = store.to_dict()
    restored = BrazeStore(store.config, Clock())
    restored.load(dump)
    assert restored.to_dict() == dump
    again = restored.workspace(ws.workspace_id)
    assert restored.resolve_import_key(key.key)[0] is again
    assert match_identifier(again.directory, "device_id", "dev-1")[0] == DEVICE_OF_IDENTIFIED_USER
    assert again.directory.create(external_id="new").braze_id not in {u.braze_id for u in ws.directory.users.values()}


@pytest.mark.parametrize("dump", [
    {"workspaces": [{"workspace_id": 1}]},
    {"workspaces": ["ws"]},
    {"workspaces": [{"workspace_id": "w", "name": "n", "created_at": "t", "users": [{"braze_id": 5}]}]},
    {"workspaces": [{"workspace_id": "w", "name": "n", "created_at": "t", "segments": [
        {"segment_id": "s", "name": "s", "created_at": "t", "filters": [{"type": 3, "operator": "x", "cohort_id": "c"}]}]}]},
    {"workspaces": [{"workspace_id": "w", "name": "n", "created_at": "t", "data_points": {"x": "many"}}]},
    {"workspaces": [{"workspace_id": "w", "name": "n", "created_at": "t", "cohorts": [{"partner": "p"}]}]},
    {"partners": ["mixpanel"]},
])
def test_a_malformed_dump_is_refused_and_the_state_stays(dump):
    store, ws = new_workspace()
    ws.directory.create(external_id="kept")
    with pytest.raises((KeyError, TypeError, ValueError)):
        store.load(dump)
    assert store.workspace(ws.workspace_id).directory.by_external("kept") is not None
