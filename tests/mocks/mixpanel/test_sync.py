"""The plain sync classes: identifiers (HOUSE-6), the set-based diff, batches and the snapshot."""
from datetime import timedelta

import pytest

from mocks.common.clock import DEFAULT_START
from mocks.mixpanel.sync import (ADD, NO_OP, REMOVE, BrazeConnection, Change, CohortExport, CohortSnapshot,
                                 ExportableMembers, Identifier, StreamingPlan, SyncPlan, SyncRecord,
                                 cohort_changes)

T0 = DEFAULT_START


def connection(**mapping) -> BrazeConnection:
    return BrazeConnection(connection_id=1, project_id=1, data_import_key="key-1234567890",
                           rest_endpoint="http://braze.test", created_at=T0, **mapping)


FULL_MAPPING = dict(alias_label="mp_id", alias_property="mp_alias", device_id_property="braze_device")


@pytest.mark.parametrize("distinct_id, properties, expected", [
    ("u1", {"$braze_external_id": "ext-1", "mp_alias": "a1", "braze_device": "dev"}, Identifier("user_id", "ext-1")),
    ("u1", {"mp_alias": "a1", "braze_device": "dev"}, Identifier("alias", "a1", "mp_id")),
    ("$device:dev", {"braze_device": "dev"}, Identifier("device_id", "dev")),
    ("u1", {"braze_device": "dev"}, None),  # identified in Mixpanel: never sent by device id (SEED-6.3)
    ("u1", {"$braze_external_id": 42}, Identifier("user_id", "42")),
    ("u1", {"$braze_external_id": ""}, None),
    ("u1", {"$braze_external_id": True}, None),
    ("u1", {"$braze_external_id": ["x"]}, None),
    ("u1", {}, None),
])
def test_first_present_identifier_wins(distinct_id, properties, expected):
    assert connection(**FULL_MAPPING).identifier_for(distinct_id, properties) == expected


def test_custom_user_id_property_and_no_alias_without_mapping():
    conn = connection(user_id_property="crm_id")
    assert conn.identifier_for("u1", {"crm_id": "c-9", "$braze_external_id": "x"}) == Identifier("user_id", "c-9")
    assert conn.identifier_for("u1", {"$braze_external_id": "x", "mp_alias": "a"}) is None


def test_connection_listing_masks_keys_but_state_keeps_them():
    conn = connection()
    assert conn.to_dict()["data_import_key"] == "****7890"
    assert BrazeConnection.from_dict(conn.to_dict(reveal_secrets=True)) == conn


def test_members_resolve_sorted_with_skips_and_shared_identifiers():
    profiles = {"b": {"$braze_external_id": "x"}, "a": {"$braze_external_id": "x"}, "c": {}}
    current = ExportableMembers.resolve([(d, profiles[d]) for d in "cba"], connection())
    assert current.by_identifier == {Identifier("user_id", "x"): "a"}
    assert current.skipped == ["c"] and current.shared == [("b", Identifier("user_id", "x"))]
    assert current.member_count == 3


def resolved(**members: str) -> ExportableMembers:
    return ExportableMembers({Identifier("user_id", ext): did for did, ext in members.items()}, len(members), [], [])


def test_diff_is_set_based_against_the_acknowledged_snapshot():
    snapshot = CohortSnapshot(acknowledged={Identifier("user_id", "1"): "d1", Identifier("user_id", "2"): "d2"})
    plan = SyncPlan.diff(resolved(d2="2", d3="3"), snapshot)
    assert plan.adds == [Change("d3", Identifier("user_id", "3"), ADD)]
    assert plan.removes == [Change("d1", Identifier("user_id", "1"), REMOVE)]
    assert plan.unchanged(10) == [Change("d2", Identifier("user_id", "2"), NO_OP)]
    assert plan.unchanged_count == 1


def test_no_ops_are_counted_and_listed_on_demand_in_distinct_id_order():
    snapshot = CohortSnapshot(acknowledged={Identifier("user_id", x): f"d{x}" for x in "123"})
    current = ExportableMembers({Identifier("user_id", x): f"d{x}" for x in "1234"}, 5, [],
                                [("d5", Identifier("user_id", "1"))])
    plan = SyncPlan.diff(current, snapshot)
    assert plan.unchanged_count == 4
    assert [c.distinct_id for c in plan.unchanged(10)] == ["d1", "d2", "d3", "d5"]
    assert [c.distinct_id for c in plan.unchanged(2)] == ["d1", "d2"]
    assert plan.unchanged(0) == []


def test_a_member_whose_identifier_changed_is_removed_under_the_old_one_and_added_under_the_new():
    snapshot = CohortSnapshot(acknowledged={Identifier("device_id", "dev"): "$device:dev"})
    plan = SyncPlan.diff(resolved(u1="ext-1"), snapshot)
    assert [c.operation for c in plan.changes] == [ADD, REMOVE]
    assert [c.identifier.kind for c in plan.changes] == ["user_id", "device_id"]


def test_empty_diff_has_no_batches():
    snapshot = CohortSnapshot(acknowledged={Identifier("user_id", "1"): "d1"})
    assert list(SyncPlan.diff(resolved(d1="1"), snapshot).batches()) == []


def test_batches_never_exceed_the_size():
    plan = SyncPlan.diff(resolved(**{f"d{i:04}": str(i) for i in range(2500)}), CohortSnapshot())
    assert [len(b) for b in plan.batches(1000)] == [1000, 1000, 500]


def mixed_members(count):
    """Members with external ids, aliases, devices, no identifier, and shared external ids (the later,
    smaller distinct_id takes the identifier over)."""
    members = []
    for i in range(count):
        kind = i % 5
        profile = ({"$braze_external_id": f"x{i}"} if kind == 0 else {"mp_alias": f"a{i}"} if kind == 1
                   else {"braze_device": f"dev{i}"} if kind == 2 else {} if kind == 3
                   else {"$braze_external_id": f"x{i - 4}"})
        members.append((f"$device:{i}" if kind == 2 else f"m{count - i:05}", profile))
    return members


def test_a_streamed_plan_sends_exactly_the_batches_of_the_finished_plan():
    members = mixed_members(2600)
    held = {Identifier("user_id", f"x{i}"): f"old{i}" for i in range(0, 1000, 5)}
    held[Identifier("user_id", "gone")] = "old-gone"
    snapshot = CohortSnapshot(acknowledged=held, pending_removal={Identifier("alias", "a-old", "mp_id"): "p"})
    finished = SyncPlan.diff(ExportableMembers.resolve(members, connection(**FULL_MAPPING)), snapshot)
    streamed = StreamingPlan(members, connection(**FULL_MAPPING), snapshot)

    def identifiers(batches):
        return [[(c.identifier, c.operation) for c in batch] for batch in batches]

    expected = identifiers(finished.batches(500))
    assert identifiers(streamed.batches(500)) == expected and [len(b) for b in expected] == [500, 500, 362]
    plan = streamed.finish()
    assert plan == finished and plan.known_adds is not None and plan.adds == finished.adds


class CountingProfile(dict):
    reads = 0

    def get(self, key, default=None):
        CountingProfile.reads += 1
        return super().get(key, default)


def test_a_streamed_plan_resolves_members_only_as_far_as_the_next_batch_needs():
    CountingProfile.reads = 0
    members = [(f"d{i:05}", CountingProfile({"$braze_external_id": f"x{i}"})) for i in range(10_000)]
    batches = StreamingPlan(members, connection(), CohortSnapshot()).batches(1000)
    first = next(batches)
    assert [c.identifier.value for c in first] == [f"x{i}" for i in range(1000)]
    assert CountingProfile.reads == StreamingPlan.RESOLVE_SLICE
    assert sum(1 for _ in batches) == 9 and CountingProfile.reads == 10_000


def test_a_plan_finished_half_way_through_a_slice_still_has_every_add():
    """The resolver is done after one slice while only the first batch of its adds was sent (a
    failure on that batch): the finished plan must not mistake those for all the adds."""
    members = [(f"d{i}", {"$braze_external_id": f"x{i}"}) for i in range(10)]
    plan = StreamingPlan(members, connection(), CohortSnapshot())
    assert len(next(plan.batches(3))) == 3
    assert [c.identifier.value for c in plan.finish().adds] == [f"x{i}" for i in range(10)]


def test_cohort_changes_group_adds_and_removes_by_kind():
    batch = [Change("a", Identifier("user_id", "1"), ADD), Change("b", Identifier("alias", "n", "lbl"), ADD),
             Change("c", Identifier("device_id", "dev"), REMOVE), Change("d", Identifier("user_id", "4"), REMOVE)]
    assert cohort_changes(batch) == [
        {"user_ids": ["1"], "aliases": [{"alias_name": "n", "alias_label": "lbl"}]},
        {"device_ids": ["dev"], "user_ids": ["4"], "should_remove": True},
    ]


def test_restart_keeps_old_members_for_removal_until_each_is_resent_or_removed():
    kept, gone = Identifier("user_id", "1"), Identifier("user_id", "2")
    snapshot = CohortSnapshot(acknowledged={kept: "d1", gone: "d2"}, name_sent="Old")
    snapshot.restart(T0)
    assert snapshot.acknowledged == {} and snapshot.name_sent is None
    plan = SyncPlan.diff(resolved(d1="1"), snapshot)
    assert plan.adds == [Change("d1", kept, ADD)] and plan.removes == [Change("d2", gone, REMOVE)]
    snapshot.acknowledge(plan.adds)
    assert snapshot.acknowledged == {kept: "d1"} and snapshot.pending_removal == {gone: "d2"}
    snapshot.acknowledge(plan.removes)
    assert snapshot.pending_removal == {}


@pytest.mark.parametrize("held", [{}, {"1": "d1", "2": "d2", "9": "d9"}], ids=["first sync", "diff"])
def test_acknowledging_a_whole_plan_is_acknowledging_each_of_its_changes(held):
    def snapshot():
        restarted = CohortSnapshot(acknowledged={Identifier("user_id", x): did for x, did in held.items()})
        restarted.pending_removal = {Identifier("device_id", "old"): "$device:old"}
        return restarted

    one_by_one, whole = snapshot(), snapshot()
    current = ExportableMembers.resolve([("e1", {"$braze_external_id": "1"}), ("d2", {"$braze_external_id": "2"}),
                                         ("d3", {"$braze_external_id": "3"})], connection())
    for change in SyncPlan.diff(current, one_by_one).changes:
        one_by_one.acknowledge([change])
    whole.acknowledge_plan(SyncPlan.diff(current, whole))
    assert whole == one_by_one and whole.pending_removal == {}
    assert len(whole.acknowledged) == 3


def test_snapshot_age_counts_from_the_last_completed_sync():
    snapshot = CohortSnapshot()
    assert not snapshot.is_stale(T0 + timedelta(days=30), timedelta(days=3))
    snapshot.complete(T0)
    assert not snapshot.is_stale(T0 + timedelta(days=3), timedelta(days=3))
    assert snapshot.is_stale(T0 + timedelta(days=3, seconds=1), timedelta(days=3))


def test_snapshot_round_trips_through_json_shapes():
    snapshot = CohortSnapshot({Identifier("alias", "n", "lbl"): "d"}, {Identifier("user_id", "x"): "e"}, T0, T0, "N")
    assert CohortSnapshot.from_dict(snapshot.to_dict()) == snapshot


def test_record_keeps_changes_first_and_caps_the_operations_but_not_the_counts():
    snapshot = CohortSnapshot(acknowledged={Identifier("user_id", str(i)): f"d{i}" for i in range(5)})
    plan = SyncPlan.diff(resolved(**{f"d{i}": str(i) for i in range(3, 9)}), snapshot)
    record = SyncRecord(T0, T0, "schedule")
    record.describe_plan(ExportableMembers({}, 6, [], []), plan, cap=4)
    assert [op.operation for op in record.operations] == [ADD, ADD, ADD, ADD]
    assert record.operation_counts == {ADD: 4, REMOVE: 3, NO_OP: 2}
    data = record.to_dict()
    assert data["operations_truncated"] is True
    assert data["operations"][0] == {"distinct_id": "d5", "identifier": "5", "identifier_type": "user_id",
                                     "operation": "add"}
    assert SyncRecord.from_dict(data).to_dict() == data


def test_export_schedule_grid_and_settle():
    export = CohortExport(1, 1, 7, 1, "dynamic", timedelta(minutes=15), T0)
    assert export.next_slot_after(T0) == T0 + timedelta(minutes=15)
    assert export.next_slot_after(T0 + timedelta(minutes=31)) == T0 + timedelta(minutes=45)
    failed = SyncRecord(T0 + timedelta(minutes=15), T0, "schedule", result="failed", error="busy")
    export.settle(failed)
    assert (export.status, export.error, export.next_sync_at) == ("active", "busy", T0 + timedelta(minutes=30))
    export.settle(SyncRecord(T0, T0, "run", result="paused", error="Invalid client secret"))
    assert (export.status, export.next_sync_at) == ("paused", None)


def test_one_time_export_finishes_only_when_delivered():
    export = CohortExport(1, 1, 7, 1, "one_time", timedelta(minutes=15), T0)
    export.settle(SyncRecord(T0, T0, "create", result="failed", error="busy"))
    assert (export.status, export.next_sync_at) == ("active", T0 + timedelta(minutes=15))
    export.settle(SyncRecord(T0 + timedelta(minutes=15), T0, "schedule"))
    assert (export.status, export.next_sync_at, export.error) == ("finished", None, None)


def test_history_is_bounded_but_counted():
    export = CohortExport(1, 1, 7, 1, "dynamic", timedelta(minutes=15), T0)
    for minute in range(5):
        export.remember(SyncRecord(T0 + timedelta(minutes=minute), T0, "schedule"), keep=3)
    assert export.sync_count == 5 and [r.scheduled_at.minute for r in export.syncs] == [2, 3, 4]
    assert CohortExport.from_dict(export.to_dict()).to_dict() == export.to_dict()
