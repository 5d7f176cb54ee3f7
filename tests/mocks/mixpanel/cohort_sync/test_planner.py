"""The one planner: resolving members, the set-based diff, the batches, and the changes the first
N acknowledged batches carried."""
import pytest

from mocks.mixpanel.cohort_sync.model import (ADD, NO_OP, REMOVE, Change, CohortSnapshot, ExportableMembers,
                                              Identifier, SyncRecord)
from mocks.mixpanel.cohort_sync.planner import MemberResolver, SyncPlan

from .fakes import FULL_MAPPING, T0, connection


def test_members_resolve_sorted_with_skips_and_shared_identifiers():
    profiles = {"b": {"$braze_external_id": "x"}, "a": {"$braze_external_id": "x"}, "c": {}}
    current = MemberResolver([(d, profiles[d]) for d in "cba"], connection()).finish()
    assert current.by_identifier == {Identifier("external_id", "x"): "a"}
    assert current.skipped == ["c"] and current.shared == [("b", Identifier("external_id", "x"))]
    assert current.member_count == 3


def resolved(**members: str) -> list[tuple[str, dict[str, str]]]:
    """Members with the external ids given (distinct_id=external id)."""
    return [(did, {"$braze_external_id": ext}) for did, ext in members.items()]


def plan_of(members, snapshot: CohortSnapshot, batch_size: int = 1000, **mapping) -> SyncPlan:
    """A plan finished without sending (as a sync whose first batch failed finishes it)."""
    return SyncPlan(members, connection(**mapping), snapshot, batch_size).finish()


def test_diff_is_set_based_against_the_acknowledged_snapshot():
    snapshot = CohortSnapshot(acknowledged={Identifier("external_id", "1"): "d1", Identifier("external_id", "2"): "d2"})
    plan = plan_of(resolved(d2="2", d3="3"), snapshot)
    assert plan.adds == [Change("d3", Identifier("external_id", "3"), ADD)]
    assert plan.removes == [Change("d1", Identifier("external_id", "1"), REMOVE)]
    assert plan.unchanged(10) == [Change("d2", Identifier("external_id", "2"), NO_OP)]
    assert plan.unchanged_count == 1


def test_no_ops_are_counted_and_listed_on_demand_in_distinct_id_order():
    snapshot = CohortSnapshot(acknowledged={Identifier("external_id", x): f"d{x}" for x in "123"})
    plan = plan_of(resolved(d1="1", d2="2", d3="3", d4="4", d5="1"), snapshot)
    assert plan.unchanged_count == 4
    assert [c.distinct_id for c in plan.unchanged(10)] == ["d1", "d2", "d3", "d5"]
    assert [c.distinct_id for c in plan.unchanged(2)] == ["d1", "d2"]
    assert plan.unchanged(0) == []


def test_a_member_whose_identifier_changed_is_removed_under_the_old_one_and_added_under_the_new():
    snapshot = CohortSnapshot(acknowledged={Identifier("device_id", "dev"): "$device:dev"})
    plan = plan_of(resolved(u1="ext-1"), snapshot)
    assert [c.operation for c in plan.changes] == [ADD, REMOVE]
    assert [c.identifier.kind for c in plan.changes] == ["external_id", "device_id"]


def test_empty_diff_has_no_batches():
    snapshot = CohortSnapshot(acknowledged={Identifier("external_id", "1"): "d1"})
    plan = SyncPlan(resolved(d1="1"), connection(), snapshot)
    assert list(plan.batches()) == [] and plan.finish().carried_by(1) == []


def test_batches_never_exceed_the_size():
    plan = SyncPlan(resolved(**{f"d{i:04}": str(i) for i in range(2500)}), connection(), CohortSnapshot(), 1000)
    assert [len(b) for b in plan.batches()] == [1000, 1000, 500]


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


def test_the_sent_batches_are_the_finished_plans_changes_in_order():
    members = mixed_members(2600)
    held = {Identifier("external_id", f"x{i}"): f"old{i}" for i in range(0, 1000, 5)}
    held[Identifier("external_id", "gone")] = "old-gone"
    snapshot = CohortSnapshot(acknowledged=held, pending_removal={Identifier("alias", "a-old", "mp_id"): "p"})
    plan = SyncPlan(members, connection(**FULL_MAPPING), snapshot, 500)
    sent = list(plan.batches())
    assert [len(b) for b in sent] == [500, 500, 362]
    keys = [(c.identifier, c.operation) for batch in sent for c in batch]
    assert keys == [(c.identifier, c.operation) for c in plan.finish().changes]
    assert plan.add_count + len(plan.removes) == 1362 and plan.removes[-1].identifier.value == "a-old"


@pytest.mark.parametrize("acknowledged, expected", [(0, 0), (1, 500), (2, 1000), (3, 1361), (4, 1361)],
                         ids=["none", "one", "two", "all (a partial last batch)", "more than sent"])
def test_the_changes_carried_by_the_first_acknowledged_batches(acknowledged, expected):
    members = mixed_members(2600)
    held = {Identifier("external_id", f"x{i}"): f"old{i}" for i in range(0, 1000, 5)}
    held[Identifier("external_id", "gone")] = "old-gone"
    plan = SyncPlan(members, connection(**FULL_MAPPING), CohortSnapshot(acknowledged=held), 500)
    sent = [[(c.identifier, c.operation) for c in batch] for batch in plan.batches()]
    carried = plan.finish().carried_by(acknowledged)
    assert len(carried) == expected
    assert [(c.identifier, c.operation) for c in carried] == [key for batch in sent[:acknowledged] for key in batch]


def test_the_changes_carried_by_batches_sent_before_a_failure_are_known_without_the_rest_sent():
    members = [(f"d{i}", {"$braze_external_id": f"x{i}"}) for i in range(25)]
    plan = SyncPlan(members, connection(), CohortSnapshot(acknowledged={Identifier("external_id", "old"): "o"}), 10)
    batches = plan.batches()
    first = next(batches)  # the second batch "fails": never read
    assert plan.finish().carried_by(1) == first and len(plan.carried_by(2)) == 20
    assert plan.carried_by(3)[-1] == Change("o", Identifier("external_id", "old"), REMOVE)


def test_a_plans_batches_are_read_once():
    plan = SyncPlan(resolved(d1="1"), connection(), CohortSnapshot())
    assert len(list(plan.batches())) == 1
    with pytest.raises(RuntimeError, match="read once"):
        next(plan.batches())


class CountingProfile(dict):
    reads = 0

    def get(self, key, default=None):
        CountingProfile.reads += 1
        return super().get(key, default)


def test_a_streamed_plan_resolves_members_only_as_far_as_the_next_batch_needs():
    CountingProfile.reads = 0
    members = [(f"d{i:05}", CountingProfile({"$braze_external_id": f"x{i}"})) for i in range(10_000)]
    batches = SyncPlan(members, connection(), CohortSnapshot(), 1000).batches()
    first = next(batches)
    assert [c.identifier.value for c in first] == [f"x{i}" for i in range(1000)]
    assert CountingProfile.reads == SyncPlan.RESOLVE_SLICE
    assert sum(1 for _ in batches) == 9 and CountingProfile.reads == 10_000


def test_a_plan_finished_half_way_through_a_slice_still_has_every_add():
    """The resolver is done after one slice while only the first batch of its adds was sent (a
    failure on that batch): the finished plan must not mistake those for all the adds."""
    members = [(f"d{i}", {"$braze_external_id": f"x{i}"}) for i in range(10)]
    plan = SyncPlan(members, connection(), CohortSnapshot(), 3)
    assert len(next(plan.batches())) == 3
    assert [c.identifier.value for c in plan.finish().adds] == [f"x{i}" for i in range(10)]


def test_restart_keeps_old_members_for_removal_until_each_is_resent_or_removed():
    kept, gone = Identifier("external_id", "1"), Identifier("external_id", "2")
    snapshot = CohortSnapshot(acknowledged={kept: "d1", gone: "d2"}, name_sent="Old")
    snapshot.restart(T0)
    assert snapshot.acknowledged == {} and snapshot.name_sent is None
    plan = plan_of(resolved(d1="1"), snapshot)
    assert plan.adds == [Change("d1", kept, ADD)] and plan.removes == [Change("d2", gone, REMOVE)]
    snapshot.acknowledge(plan.adds)
    assert snapshot.acknowledged == {kept: "d1"} and snapshot.pending_removal == {gone: "d2"}
    snapshot.acknowledge(plan.removes)
    assert snapshot.pending_removal == {}


@pytest.mark.parametrize("held", [{}, {"1": "d1", "2": "d2", "9": "d9"}], ids=["first sync", "diff"])
def test_acknowledging_a_whole_plan_is_acknowledging_each_of_its_changes(held):
    def snapshot():
        restarted = CohortSnapshot(acknowledged={Identifier("external_id", x): did for x, did in held.items()})
        restarted.pending_removal = {Identifier("device_id", "old"): "$device:old"}
        return restarted

    one_by_one, whole = snapshot(), snapshot()
    members = [("e1", {"$braze_external_id": "1"}), ("d2", {"$braze_external_id": "2"}),
               ("d3", {"$braze_external_id": "3"})]
    for change in plan_of(members, one_by_one).changes:
        one_by_one.acknowledge([change])
    whole.acknowledge_plan(plan_of(members, whole))
    assert whole == one_by_one and whole.pending_removal == {}
    assert len(whole.acknowledged) == 3


def test_record_keeps_changes_first_and_caps_the_operations_but_not_the_counts():
    snapshot = CohortSnapshot(acknowledged={Identifier("external_id", str(i)): f"d{i}" for i in range(5)})
    plan = plan_of(resolved(**{f"d{i}": str(i) for i in range(3, 9)}), snapshot)
    record = SyncRecord(T0, T0, "schedule")
    record.describe_plan(ExportableMembers({}, 6, [], []), plan, cap=4)
    assert [op.operation for op in record.operations] == [ADD, ADD, ADD, ADD]
    assert record.operation_counts == {ADD: 4, REMOVE: 3, NO_OP: 2}
    data = record.to_dict()
    assert data["operations_truncated"] is True
    assert data["operations"][0] == {"distinct_id": "d5", "identifier": "5", "identifier_type": "external_id",
                                     "operation": "add"}
    assert SyncRecord.from_dict(data).to_dict() == data
