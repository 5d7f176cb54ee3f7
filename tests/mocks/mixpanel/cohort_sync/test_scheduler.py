"""The export registry on a virtual clock: schedule, limits, stop/resume/run, connections, state."""
import gc
import threading
from datetime import timedelta

import pytest

from mocks.common.clock import DEFAULT_START, Clock
from mocks.mixpanel.cohort_sync.partner_client import BrazeRefused, BrazeUnavailable, CallReport
from mocks.mixpanel.cohort_sync.errors import (BrazeUnreachable, CohortSyncError, CredentialsRefused,
                                              DynamicExportLimit, UnknownItem)
from mocks.mixpanel.cohort_sync.scheduler import CohortExportRegistry
from mocks.mixpanel.cohort_sync.runner import COLLECTOR_PAUSE, SyncSettings

from .fakes import FakeBraze, FakeDirectory, FakeProject

T0 = DEFAULT_START
PID, COHORT = 1, 7
KEY = {"data_import_key": "key-abcdefgh", "rest_endpoint": "http://braze.test"}


class Rig:
    """A registry over one fake project, every connection talking to one fake Braze per key."""

    def __init__(self, **settings):
        self.clock = Clock()
        self.project = FakeProject()
        self.project.add_cohort(COHORT, "Buyers", set())
        self.braze: dict[str, FakeBraze] = {}
        self.registry = CohortExportRegistry(FakeDirectory({PID: self.project}), self.clock, SyncSettings(**settings),
                                       client_factory=self.client_for)
        self.clock.add_scheduler(self.registry)

    def client_for(self, connection):
        return self.braze.setdefault(connection.data_import_key, FakeBraze())

    def connect(self, key="key-abcdefgh"):
        return self.registry.add_connection(PID, {**KEY, "data_import_key": key}).connection_id

    def members(self, *external_ids):
        self.project.membership[COHORT] = self.project.add_users(*external_ids)

    def in_braze(self, key="key-abcdefgh"):
        return self.braze[key].external_ids(str(COHORT))


@pytest.fixture()
def rig():
    return Rig()


def test_a_dynamic_export_syncs_at_creation_then_every_interval_each_at_its_own_instant(rig):
    rig.members("a")
    export, first = rig.registry.create_export(PID, COHORT, rig.connect(), "dynamic")
    assert (first.scheduled_at, first.trigger, export.next_sync_at) == (T0, "create", T0 + timedelta(minutes=15))
    fired = rig.clock.advance("1h")
    assert [f["scheduled_at"] for f in fired] == ["2026-01-01T00:15:00Z", "2026-01-01T00:30:00Z",
                                                  "2026-01-01T00:45:00Z", "2026-01-01T01:00:00Z"]
    assert rig.project.evaluated_at == [T0 + timedelta(minutes=m) for m in (0, 15, 30, 45, 60)]
    assert fired[0]["job"] == "cohort_sync" and fired[0]["export_id"] == export.export_id
    assert export.next_sync_at == T0 + timedelta(minutes=75) and export.sync_count == 5


def test_the_interval_is_configurable_per_registry_and_per_export():
    rig = Rig(interval=timedelta(minutes=5))
    conn = rig.connect()
    rig.registry.create_export(PID, COHORT, conn, "dynamic")
    rig.project.add_cohort(8, "Other", set())
    rig.registry.create_export(PID, 8, conn, "dynamic", interval=timedelta(minutes=30))
    assert len(rig.clock.advance("30m")) == 6 + 1


def test_syncs_of_several_exports_run_in_order_of_their_instants(rig):
    conn = rig.connect()
    rig.registry.create_export(PID, COHORT, conn, "dynamic")
    rig.clock.advance("5m")
    rig.project.add_cohort(8, "Other", set())
    rig.registry.create_export(PID, 8, conn, "dynamic")
    fired = rig.clock.advance("30m")
    assert [(f["cohort_id"], f["scheduled_at"][11:16]) for f in fired] == [
        (7, "00:15"), (8, "00:20"), (7, "00:30"), (8, "00:35")]


def test_a_one_time_export_finishes_and_never_syncs_again(rig):
    rig.members("a", "b")
    export, _ = rig.registry.create_export(PID, COHORT, rig.connect(), "one_time")
    rig.members("a", "b", "c")
    assert rig.clock.advance("2h") == []
    assert (export.status, export.next_sync_at, export.sync_count) == ("finished", None, 1)
    assert rig.in_braze() == {"a", "b"}


def test_a_second_one_time_export_brings_braze_to_that_moment(rig):
    """HOUSE-11: adds and removes against what the first export left in Braze."""
    conn = rig.connect()
    rig.members("a", "b")
    rig.registry.create_export(PID, COHORT, conn, "one_time")
    rig.clock.advance("1h")
    rig.members("b", "c")
    _, record = rig.registry.create_export(PID, COHORT, conn, "one_time")
    assert (record.added, record.removed) == (2, 1)
    assert rig.in_braze() == {"b", "c"}


def test_a_failed_one_time_export_retries_at_the_next_slot(rig):
    rig.members("a")
    conn = rig.connect()
    rig.braze["key-abcdefgh"].fail_next(BrazeUnavailable("busy", CallReport(requests=6)))
    export, record = rig.registry.create_export(PID, COHORT, conn, "one_time")
    assert (record.result, export.status) == ("failed", "active")
    fired = rig.clock.advance("1h")
    assert [f["result"] for f in fired] == ["success"] and export.status == "finished"
    assert rig.in_braze() == {"a"}


def test_at_most_60_live_dynamic_exports_per_project():
    rig = Rig(max_dynamic_exports=3)
    conn = rig.connect()
    for cohort in range(3):
        rig.project.add_cohort(100 + cohort, f"c{cohort}", set())
        rig.registry.create_export(PID, 100 + cohort, conn, "dynamic")
    with pytest.raises(CohortSyncError) as refused:
        rig.registry.create_export(PID, COHORT, conn, "dynamic")
    assert (type(refused.value), refused.value.message) == (
        DynamicExportLimit, "project 1 already has 3 dynamic exports, the most allowed; stop one before adding another")
    rig.registry.create_export(PID, COHORT, conn, "one_time")  # one-time exports are not limited
    rig.registry.stop(PID, 1)
    rig.registry.create_export(PID, COHORT, conn, "dynamic")
    with pytest.raises(CohortSyncError, match="already has 3 dynamic exports"):
        rig.registry.resume(PID, 1)


def test_one_dynamic_export_per_cohort_and_connection(rig):
    conn = rig.connect()
    rig.registry.create_export(PID, COHORT, conn, "dynamic")
    with pytest.raises(CohortSyncError) as refused:
        rig.registry.create_export(PID, COHORT, conn, "dynamic")
    assert refused.value.message == "cohort 7 already has a dynamic export to connection 1 (export 1); stop it first"


@pytest.mark.parametrize("call, args, message", [
    ("create_export", (PID, 99, 1, "dynamic"), "no cohort 99 in project 1"),
    ("create_export", (PID, COHORT, 5, "dynamic"), "no connection 5 in project 1"),
    ("export", (PID, 42), "no export 42 in project 1"),
    ("export", (PID, "x"), "no export x in project 1"),
    ("update_connection", (PID, 9, {}), "no connection 9 in project 1"),
])
def test_unknown_references_are_unknown_items(rig, call, args, message):
    rig.connect()
    with pytest.raises(UnknownItem) as refused:
        getattr(rig.registry, call)(*args)
    assert refused.value.message == message


def test_an_unknown_project_is_the_registrys_own_refusal(rig):
    with pytest.raises(UnknownItem) as refused:
        rig.registry.exports(2)
    assert refused.value.message == "no project 2"


def test_stop_resume_and_run_now_state_machine(rig):
    rig.members("a")
    export, _ = rig.registry.create_export(PID, COHORT, rig.connect(), "dynamic")
    rig.registry.stop(PID, export.export_id)
    assert (export.status, export.next_sync_at) == ("stopped", None)
    assert rig.clock.advance("1h") == []
    for call, message in (("stop", "export 1 is already stopped"), ("run_now", "export 1 is stopped; resume it first")):
        with pytest.raises(CohortSyncError, match=message):
            getattr(rig.registry, call)(PID, 1)
    rig.members("a", "b")
    _, record = rig.registry.resume(PID, 1)
    assert (record.trigger, record.added, export.status) == ("resume", 1, "active")
    assert export.next_sync_at == T0 + timedelta(minutes=75)  # the grid of T0 + k x 15m continues
    with pytest.raises(CohortSyncError, match="export 1 is already active"):
        rig.registry.resume(PID, 1)
    rig.clock.advance("10m")
    rig.members("a", "b", "c")
    _, record = rig.registry.run_now(PID, 1)
    assert (record.trigger, record.scheduled_at, record.added) == ("run", T0 + timedelta(minutes=70), 1)
    assert export.next_sync_at == T0 + timedelta(minutes=75)
    assert rig.in_braze() == {"a", "b", "c"}


def test_finished_exports_cannot_run_or_resume(rig):
    rig.registry.create_export(PID, COHORT, rig.connect(), "one_time")
    expected = "export 1 is a finished one-time export; create a new export to sync the cohort again"
    for call in ("run_now", "resume"):
        with pytest.raises(CohortSyncError) as refused:
            getattr(rig.registry, call)(PID, 1)
        assert refused.value.message == expected
    with pytest.raises(CohortSyncError, match="export 1 is already finished"):
        rig.registry.stop(PID, 1)


def test_a_refused_key_pauses_then_a_new_key_and_resume_catch_up(rig):
    rig.members("a")
    conn = rig.connect()
    export, _ = rig.registry.create_export(PID, COHORT, conn, "dynamic")
    rig.braze["key-abcdefgh"].fail_next(BrazeRefused(401, "Invalid client secret", CallReport(requests=1)))
    rig.members("a", "b")
    fired = rig.clock.advance("1h")
    assert [f["result"] for f in fired] == ["paused"]
    assert (export.status, export.error, export.next_sync_at) == ("paused", "Invalid client secret", None)
    rig.braze["key-new-12345"] = rig.braze["key-abcdefgh"]  # a new key for the same workspace
    rig.registry.update_connection(PID, conn, {"data_import_key": "key-new-12345"})
    _, record = rig.registry.resume(PID, 1)
    assert (record.result, record.added, export.status, export.error) == ("success", 1, "active", None)
    assert rig.in_braze() == {"a", "b"}


def test_a_connection_is_saved_only_when_braze_accepts_its_key(rig):
    rig.braze["bad-key-0000"] = FakeBraze(failures=[BrazeRefused(401, "Invalid client secret", CallReport(1))])
    with pytest.raises(CohortSyncError) as refused:
        rig.connect("bad-key-0000")
    assert (type(refused.value), refused.value.message, refused.value.details) == (
        CredentialsRefused, "Invalid client secret", {"braze_status": 401})
    assert rig.registry.connections(PID) == [] and rig.braze["bad-key-0000"].closed
    rig.braze["down-key-000"] = FakeBraze(failures=[BrazeUnavailable("connection failed", CallReport(6))])
    with pytest.raises(CohortSyncError) as unreachable:
        rig.connect("down-key-000")
    assert (type(unreachable.value), unreachable.value.message) == (
        BrazeUnreachable, "could not reach Braze at http://braze.test: connection failed")


def test_a_refused_new_key_leaves_the_connection_unchanged(rig):
    conn = rig.connect()
    rig.braze["bad-key-0000"] = FakeBraze(failures=[BrazeRefused(401, "Invalid client secret", CallReport(1))])
    with pytest.raises(CohortSyncError, match="Invalid client secret"):
        rig.registry.update_connection(PID, conn, {"data_import_key": "bad-key-0000", "name": "renamed"})
    saved = rig.registry.connection(PID, conn)
    assert (saved.data_import_key, saved.name) == ("key-abcdefgh", "")
    rig.registry.update_connection(PID, conn, {"name": "Production"})  # no credential change: no check
    assert saved.name == "Production" and len(rig.braze["key-abcdefgh"].calls) == 1


def test_alias_mapping_needs_label_and_property(rig):
    with pytest.raises(CohortSyncError, match="'alias_label' and 'alias_property' go together: give both or neither"):
        rig.registry.add_connection(PID, {**KEY, "alias_label": "mp"})


def test_state_round_trips_and_the_loaded_registry_keeps_syncing(rig):
    rig.members("a", "b")
    rig.registry.create_export(PID, COHORT, rig.connect(), "dynamic")
    rig.clock.advance("15m")
    state = rig.registry.to_dict()
    clone = Rig()
    clone.braze = rig.braze
    clone.clock.set(rig.clock.now())
    clone.registry.load(state)
    assert clone.registry.to_dict() == state
    clone.members("b", "c")
    fired = clone.clock.advance("15m")
    assert [(f["added"], f["removed"], f["kind"]) for f in fired] == [(1, 1, "diff")]
    assert clone.in_braze() == {"b", "c"}


def test_reset_forgets_everything_and_closes_clients(rig):
    rig.registry.create_export(PID, COHORT, rig.connect(), "dynamic")
    rig.registry.reset()
    assert rig.registry.next_due() is None and rig.braze["key-abcdefgh"].closed
    assert rig.registry.to_dict()["connections"] == []


class BlockingBraze(FakeBraze):
    """Holds the first users call until released, to show a second sync waits for it."""

    def __init__(self):
        super().__init__()
        self.inside = threading.Event()
        self.release = threading.Event()
        self.concurrent = 0
        self.max_concurrent = 0

    def change_users(self, cohort_id, cohort_changes):
        self.concurrent += 1
        self.max_concurrent = max(self.max_concurrent, self.concurrent)
        self.inside.set()
        self.release.wait(5)
        self.concurrent -= 1
        return super().change_users(cohort_id, cohort_changes)


def test_syncs_under_one_connection_run_one_after_another(rig):
    conn = rig.connect()
    rig.project.add_cohort(8, "Other", set())
    rig.members("a")
    rig.project.membership[8] = {"d-a"}
    rig.registry.create_export(PID, COHORT, conn, "dynamic")
    rig.registry.create_export(PID, 8, conn, "dynamic")
    braze = rig.braze["key-abcdefgh"] = BlockingBraze()
    rig.registry._clients[conn] = braze
    runs = [threading.Thread(target=rig.registry.run_now, args=(PID, eid)) for eid in (1, 2)]
    rig.members("a", "b")
    rig.project.membership[8] = {"d-a", "d-b"}
    runs[0].start()
    assert braze.inside.wait(5)
    runs[1].start()
    runs[1].join(0.2)
    assert runs[1].is_alive() and braze.max_concurrent == 1
    braze.release.set()
    for run in runs:
        run.join(5)
    assert braze.max_concurrent == 1 and len(braze.user_calls()) == 2


@pytest.mark.parametrize("mode, slept", [("virtual", []), ("scaled", [(0.5, True)]), ("real", [(1.0, True)])])
def test_retries_wait_by_the_clock_mode_with_the_collector_free_to_run(monkeypatch, mode, slept):
    waits = []
    monkeypatch.setattr("mocks.mixpanel.cohort_sync.scheduler.time.sleep", lambda s: waits.append((s, gc.isenabled())))
    registry = CohortExportRegistry(FakeDirectory(), Clock(mode, scale=2.0) if mode == "scaled" else Clock(mode))
    with COLLECTOR_PAUSE:  # a sync waiting out a retry
        registry._sleep(1.0)
        assert not gc.isenabled()
    assert waits == slept
