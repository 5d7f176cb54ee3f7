"""One sync at a time, driven with a fake project and a fake Braze (no HTTP)."""
import gc
import threading
from collections import Counter
from datetime import timedelta

import pytest

from mocks.common.clock import DEFAULT_START
from mocks.mixpanel.cohort_sync.partner_client import BrazeRefused, BrazeUnavailable, CallReport
from mocks.mixpanel.cohort_sync.model import BrazeConnection, CohortExport, CohortSnapshot
from mocks.mixpanel.cohort_sync.runner import CohortSync, CollectorPause, SyncSettings

from .fakes import FakeBraze, FakeProject

T0 = DEFAULT_START
COHORT = 7


class Rig:
    """A project, a connection, a fake Braze and one export, synced by hand."""

    def __init__(self, members, mode="dynamic", **settings):
        self.project = FakeProject()
        self.project.add_cohort(COHORT, "Buyers", members)
        self.braze = FakeBraze()
        self.connection = BrazeConnection(1, 1, "key", "http://braze.test", T0, device_id_property="dev",
                                          alias_label="mp", alias_property="alias")
        self.export = CohortExport(1, 1, COHORT, 1, mode, timedelta(minutes=15), T0)
        self.snapshot = CohortSnapshot()
        self.runner = CohortSync(SyncSettings(**settings))

    def sync(self, at=T0, trigger="schedule"):
        record = self.runner.run(self.export, self.connection, self.snapshot, self.project, self.braze, at, at, trigger)
        self.export.settle(record)
        return record

    def members_in_braze(self):
        return self.braze.external_ids(str(COHORT))


def users(rig, *external_ids):
    return rig.project.add_users(*external_ids)


def test_first_sync_names_the_cohort_then_adds_everyone_in_batches_of_1000():
    rig = Rig(set())
    rig.project.membership[COHORT] = users(rig, *(f"u{i}" for i in range(2500)))
    record = rig.sync()
    assert rig.braze.calls[0] == ("name", ("7", "Buyers"))
    assert rig.braze.identifiers_sent("7") == [1000, 1000, 500]
    assert rig.members_in_braze() == {f"u{i}" for i in range(2500)}
    assert (record.kind, record.result, record.added, record.requests, record.name_sent) == ("full", "success", 2500, 4, True)


def test_one_batch_in_flight_and_the_next_one_encoded_while_braze_answers():
    """Braze sees the batches one after another (so a fault rule hits the same batch on every run),
    while the exporter prepares batch k+1 before it waits for batch k."""
    rig = Rig(set())
    rig.project.membership[COHORT] = users(rig, *(f"u{i}" for i in range(2500)))
    rig.sync()
    assert rig.braze.events == ["encode", "start", "encode", "result", "start", "encode", "result", "start", "result"]


def test_an_unexpected_error_half_way_is_a_failed_sync_that_keeps_what_braze_accepted_in_the_snapshot():
    rig = Rig(set())
    rig.project.membership[COHORT] = users(rig, *(f"u{i:04}" for i in range(2500)))
    rig.braze.fail_next(None, None, RuntimeError("a bug in the client"))
    record = rig.sync()
    assert (record.result, record.error) == ("failed", "sync of cohort 7 failed: RuntimeError: a bug in the client")
    assert record.added == 1000 and record.not_sent == 1500
    assert len(rig.snapshot.acknowledged) == 1000 and rig.snapshot.completed_at is None


def test_later_syncs_send_only_the_diff_and_an_empty_diff_sends_nothing():
    rig = Rig(set())
    everyone = users(rig, "a", "b", "c")
    rig.project.membership[COHORT] = lambda at: everyone if at == T0 else {"d-b", "d-c", "d-d"}
    users(rig, "d")
    rig.sync()
    calls_before = len(rig.braze.calls)
    record = rig.sync(T0 + timedelta(minutes=15))
    assert rig.braze.calls[calls_before:] == [("users", ("7", [{"user_ids": ["d"]}, {"user_ids": ["a"], "should_remove": True}]))]
    assert (record.kind, record.added, record.removed, record.unchanged, record.requests) == ("diff", 1, 1, 2, 1)
    calls_before = len(rig.braze.calls)
    record = rig.sync(T0 + timedelta(minutes=30))
    assert rig.braze.calls[calls_before:] == [] and record.requests == 0 and record.result == "success"


def test_membership_is_evaluated_at_the_scheduled_instant():
    rig = Rig(set())
    rig.sync(T0 + timedelta(minutes=45))
    assert rig.project.evaluated_at == [T0 + timedelta(minutes=45)]


def test_a_rename_is_sent_before_the_next_change():
    rig = Rig(users(Rig(set()), "a"))
    rig.project.membership[COHORT] = users(rig, "a")
    rig.sync()
    rig.project.cohorts[COHORT].name = "Big buyers"
    rig.project.membership[COHORT] = users(rig, "a", "b")
    calls_before = len(rig.braze.calls)
    rig.sync(T0 + timedelta(minutes=15))
    assert [kind for kind, _ in rig.braze.calls[calls_before:]] == ["name", "users"]
    assert rig.braze.names["7"] == "Big buyers"


def test_members_without_an_identifier_are_skipped_and_counted_never_sent():
    rig = Rig({"d-a", "nobody", "$device:dev1", "u-identified"})
    users(rig, "a")
    rig.project.profiles["$device:dev1"] = {"dev": "dev1"}
    rig.project.profiles["u-identified"] = {"dev": "dev2"}
    record = rig.sync()
    assert record.skipped == 2 and record.skipped_distinct_ids == ["nobody", "u-identified"]
    sent = rig.braze.user_calls("7")[0]
    assert sent == [{"user_ids": ["a"], "device_ids": ["dev1"]}]


def test_alias_members_are_sent_as_aliases():
    rig = Rig({"m1"})
    rig.project.profiles["m1"] = {"alias": "al-1"}
    rig.sync()
    assert rig.braze.user_calls("7") == [[{"aliases": [{"alias_name": "al-1", "alias_label": "mp"}]}]]


def test_a_sync_failing_half_way_keeps_what_braze_acknowledged_and_the_next_sends_the_rest():
    rig = Rig(set())
    rig.project.membership[COHORT] = users(rig, *(f"u{i:04}" for i in range(2500)))
    rig.braze.fail_next(None, None, BrazeUnavailable("Braze did not accept the call after 6 attempts: HTTP 503",
                                                     CallReport(requests=6)))
    record = rig.sync()
    assert (record.result, record.added, record.not_sent, record.requests) == ("failed", 1000, 1500, 8)
    assert rig.export.status == "active" and rig.export.error.startswith("Braze did not accept")
    assert len(rig.snapshot.acknowledged) == 1000 and rig.snapshot.completed_at is None
    record = rig.sync(T0 + timedelta(minutes=15))
    assert (record.kind, record.added, record.unchanged, record.requests) == ("diff", 1500, 1000, 2)
    sent = [x for changes in rig.braze.user_calls("7") for c in changes for x in c["user_ids"]]
    times_sent = Counter(sent)  # the failed batch went out twice (refused, then accepted), the rest once
    assert len(times_sent) == 2500 and max(times_sent.values()) == 2
    assert {x for x, n in times_sent.items() if n == 2} == {f"u{i:04}" for i in range(1000, 2000)}
    assert rig.members_in_braze() == {f"u{i:04}" for i in range(2500)}


def test_a_refusal_pauses_with_brazes_message_and_resuming_catches_up():
    rig = Rig(set())
    rig.project.membership[COHORT] = users(rig, "a", "b")
    rig.braze.fail_next(None, BrazeRefused(401, "Invalid client secret", CallReport(requests=1)))
    record = rig.sync()
    assert (record.result, record.error, rig.export.status) == ("paused", "Invalid client secret", "paused")
    rig.export.status = "active"
    record = rig.sync(T0 + timedelta(minutes=5), trigger="resume")
    assert record.result == "success" and record.added == 2 and not record.name_sent
    assert rig.members_in_braze() == {"a", "b"}


def test_a_refusal_quoting_the_connections_key_keeps_it_masked_in_the_sync_history():
    """Issue 12 class 6: the export's history (and its state dump) is a log; keys stay masked there."""
    rig = Rig(set())
    rig.connection.data_import_key = "import-key-0123456789"
    rig.project.membership[COHORT] = users(rig, "a")
    message = "Partner not enabled for client with client secret: import-key-0123456789"
    rig.braze.fail_next(None, BrazeRefused(401, message, CallReport(requests=1)))
    record = rig.sync()
    assert record.error == "Partner not enabled for client with client secret: ****6789"
    assert "import-key-0123456789" not in str(record.summary()) + str(rig.export.summary())


def test_a_snapshot_older_than_three_days_forces_a_full_sync_that_still_removes_leavers():
    rig = Rig(set())
    rig.project.membership[COHORT] = users(rig, "a", "b")
    rig.sync()
    rig.project.membership[COHORT] = users(rig, "b", "c")
    record = rig.sync(T0 + timedelta(days=3))
    assert record.kind == "diff"
    rig.project.membership[COHORT] = users(rig, "c", "d")
    record = rig.sync(T0 + timedelta(days=6, seconds=1))
    assert (record.kind, record.added, record.removed, record.name_sent) == ("full", 2, 1, True)
    assert rig.members_in_braze() == {"c", "d"}


def test_a_cohort_over_the_member_cap_pauses_without_sending():
    rig = Rig(set(), max_cohort_members=2)
    rig.project.membership[COHORT] = users(rig, "a", "b", "c")
    record = rig.sync()
    assert (record.result, rig.export.status) == ("paused", "paused")
    assert record.error == "cohort 7 has 3 members; at most 2 can be exported to Braze"
    assert rig.braze.calls == []


def test_a_deleted_cohort_pauses_the_export():
    rig = Rig(set())
    del rig.project.cohorts[COHORT]
    assert rig.sync().error == "cohort 7 no longer exists in project 1"


def test_one_time_second_export_brings_braze_to_the_membership_of_that_moment():
    """HOUSE-11 at the runner level: the new export restarts the shared snapshot."""
    rig = Rig(set(), mode="one_time")
    rig.project.membership[COHORT] = users(rig, "a", "b")
    rig.sync()
    assert rig.export.status == "finished"
    second = CohortExport(2, 1, COHORT, 1, "one_time", timedelta(minutes=15), T0 + timedelta(hours=1))
    rig.export = second
    rig.project.membership[COHORT] = users(rig, "b", "c")
    record = rig.sync(T0 + timedelta(hours=1), trigger="create")
    assert (record.kind, record.added, record.removed) == ("full", 2, 1)
    assert rig.members_in_braze() == {"b", "c"}


@pytest.mark.parametrize("config, expected", [
    ({"interval": "1m"}, timedelta(minutes=1)),
    ({"snapshot_max_age": "2d", "max_retries": 2}, timedelta(minutes=15)),
])
def test_settings_from_config(config, expected):
    settings = SyncSettings.from_config(config)
    assert settings.interval == expected
    if "max_retries" in config:
        assert settings.retry.max_retries == 2 and settings.snapshot_max_age == timedelta(days=2)


def test_unknown_settings_are_refused():
    with pytest.raises(ValueError, match="unknown EXPORTS settings: intervall"):
        SyncSettings.from_config({"intervall": "1m"})


def test_the_collector_pause_nests_and_restores_the_collector_as_it_found_it():
    pause = CollectorPause()
    assert gc.isenabled()
    with pause:
        with pause:
            assert not gc.isenabled()
        assert not gc.isenabled()
    assert gc.isenabled()
    gc.disable()
    try:
        with pause:
            pass
        assert not gc.isenabled()
    finally:
        gc.enable()


def test_a_pause_lifted_for_a_wait_lets_the_collector_run_then_pauses_again():
    pause = CollectorPause()
    with pause:
        with pause:
            with pause.lifted():
                assert gc.isenabled()
            assert not gc.isenabled()
    assert gc.isenabled()
    with pause.lifted():  # outside a pause: nothing to lift
        assert gc.isenabled()


def test_lifting_a_pause_leaves_other_threads_pauses_alone():
    pause, inside, done = CollectorPause(), threading.Event(), threading.Event()

    def other_sync():
        with pause:
            inside.set()
            done.wait(5)

    thread = threading.Thread(target=other_sync)
    thread.start()
    assert inside.wait(5)
    try:
        with pause:
            with pause.lifted():
                assert not gc.isenabled()
    finally:
        done.set()
        thread.join(5)
    assert gc.isenabled()
