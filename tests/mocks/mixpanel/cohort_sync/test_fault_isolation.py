"""Issue 12, class 1: an export whose evaluation raises fails alone. Its sync is recorded as failed with
the error, its next sync moves on, and the clock and other projects' exports keep their schedule."""
from datetime import timedelta

import pytest
import requests

from mocks.common import Clock, ServerThread
from mocks.common.clock import DEFAULT_START
from mocks.mixpanel import create_app as create_mixpanel_app
from mocks.mixpanel.cohort_sync.runner import SyncSettings
from mocks.mixpanel.cohort_sync.scheduler import CohortExportRegistry

from .fakes import FakeBraze, FakeDirectory, FakeProject

T0 = DEFAULT_START
KEY = {"data_import_key": "key-abcdefgh", "rest_endpoint": "http://braze.test"}


class ExplodingProject(FakeProject):
    """A project whose cohort cannot be evaluated (as a profile nested 600 lists deep once could not)."""

    def __init__(self, error: BaseException):
        super().__init__()
        self.error = error
        self.explode = True

    def member_profiles(self, cohort_id, at):
        if self.explode:
            raise self.error
        return super().member_profiles(cohort_id, at)


class TwoTenants:
    def __init__(self, error: BaseException, **settings):
        self.clock = Clock()
        self.good, self.bad = FakeProject(), ExplodingProject(error)
        for project in (self.good, self.bad):
            project.add_cohort(7, "Buyers", set())
        self.good.membership[7] = self.good.add_users("ann")
        self.braze = FakeBraze()
        self.registry = CohortExportRegistry(FakeDirectory({1: self.good, 2: self.bad}), self.clock,
                                             SyncSettings(**settings), client_factory=lambda c: self.braze)
        self.clock.add_scheduler(self.registry)

    def export(self, pid):
        conn = self.registry.add_connection(pid, dict(KEY)).connection_id
        return self.registry.create_export(pid, 7, conn, "dynamic")


@pytest.mark.parametrize("error", [RecursionError("maximum recursion depth exceeded"),
                                   OverflowError("cannot convert float infinity to integer")])
def test_a_failing_export_is_recorded_and_the_clock_and_the_other_project_keep_syncing(error):
    world = TwoTenants(error)
    good, _ = world.export(1)
    bad, first = world.export(2)
    assert (first.result, bad.status, bad.next_sync_at) == ("failed", "active", T0 + timedelta(minutes=15))
    assert first.error == f"sync of cohort 7 failed: {type(error).__name__}: {error}"
    fired = world.clock.advance("1h")
    assert world.clock.now() == T0 + timedelta(hours=1)
    assert [(f["project_id"], f["result"]) for f in fired] == [(1, "success"), (2, "failed")] * 4
    assert good.sync_count == 5 and good.next_sync_at == T0 + timedelta(minutes=75)
    assert bad.sync_count == 5 and bad.next_sync_at == T0 + timedelta(minutes=75) and bad.error == first.error
    assert world.braze.external_ids("7") == {"ann"}
    world.bad.explode = False
    world.clock.advance("15m")
    assert (bad.syncs[-1].result, bad.error) == ("success", None)


def test_a_failing_first_sync_leaves_no_zombie_counting_toward_the_limit():
    world = TwoTenants(RecursionError("deep"), max_dynamic_exports=1)
    bad, first = world.export(2)
    assert first.result == "failed" and bad.next_sync_at is not None  # on the grid, it retries
    world.registry.stop(2, bad.export_id)
    world.bad.add_cohort(8, "Other", set())
    world.bad.explode = False
    conn = world.registry.connections(2)[0].connection_id
    export, record = world.registry.create_export(2, 8, conn, "dynamic")
    assert record.result == "success" and export.status == "active"


def test_a_sync_that_escapes_anyway_does_not_keep_a_half_made_export():
    world = TwoTenants(RecursionError("deep"), max_dynamic_exports=1)
    conn = world.registry.add_connection(2, dict(KEY)).connection_id
    world.bad.explode = False
    world.braze.name_cohort = _raise_keyboard_interrupt
    with pytest.raises(KeyboardInterrupt):
        world.registry.create_export(2, 7, conn, "dynamic")
    assert world.registry.exports(2) == []


def _raise_keyboard_interrupt(*args):
    raise KeyboardInterrupt


def test_a_cohort_whose_window_cannot_be_computed_is_refused_at_creation():
    with ServerThread(create_mixpanel_app(clock=Clock())) as mixpanel:
        pid = requests.post(f"{mixpanel.url}/_harness/projects", json={"name": "p"}, timeout=30).json()["project_id"]
        reply = requests.post(f"{mixpanel.url}/_harness/projects/{pid}/cohorts", timeout=30,
                              json={"name": "C", "definition": {"event": "buy", "within_days": 1e305}})
        assert reply.status_code == 400
        assert reply.json() == {"error": "invalid cohort definition at $.within_days: 1e+305 is greater than "
                                         "the maximum of 36500"}
