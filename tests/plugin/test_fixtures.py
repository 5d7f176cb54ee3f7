"""The pytest plugin's fixtures, as this suite gets them through the installed ``pytest11`` entry point."""
from __future__ import annotations

import time
from datetime import datetime, timedelta, timezone

import pytest
from mixpanel import Consumer, Mixpanel

from harness.testing import BrazeWorkspace, CohortClock, CohortMocks, MixpanelProject, cohort_mocks as mocks_cm


def test_the_session_mocks_answer_on_their_urls(cohort_mocks: CohortMocks) -> None:
    assert cohort_mocks.targets.braze.health()["service"] == "braze"
    assert cohort_mocks.targets.mixpanel.health()["service"] == "mixpanel"
    assert cohort_mocks.braze.url.startswith("http://127.0.0.1:")
    assert cohort_mocks.mixpanel.url != cohort_mocks.braze.url


def test_each_test_gets_fresh_typed_tenants(braze_workspace: BrazeWorkspace, mixpanel_project: MixpanelProject,
                                            cohort_mocks: CohortMocks) -> None:
    other = cohort_mocks.braze_workspace()
    assert isinstance(braze_workspace, BrazeWorkspace) and braze_workspace.workspace_id != other.workspace_id
    assert braze_workspace.data_import_key and braze_workspace.rest_api_key
    assert isinstance(mixpanel_project.project_id, int) and mixpanel_project.token
    assert set(mixpanel_project.service_account) == {"username", "secret"}


def test_the_clock_starts_at_the_wall_clock_now_and_moves_both_mocks(cohort_clock: CohortClock,
                                                                    cohort_mocks: CohortMocks) -> None:
    assert abs((cohort_clock.now - datetime.now(timezone.utc)).total_seconds()) < 5
    before = cohort_clock.now
    cohort_clock.advance("15m")
    braze_now = cohort_mocks.targets.braze.get_clock()["now"]
    assert cohort_clock.now == before + timedelta(minutes=15)
    assert braze_now == cohort_mocks.targets.mixpanel.get_clock()["now"]


@pytest.mark.cohort_start("2026-03-01T12:00:00Z")
def test_the_marker_sets_the_start(cohort_clock: CohortClock) -> None:
    assert cohort_clock.now == datetime(2026, 3, 1, 12, tzinfo=timezone.utc)
    cohort_clock.set("2026-03-02T00:00:00Z")
    assert cohort_clock.now == datetime(2026, 3, 2, tzinfo=timezone.utc)


def test_events_stamped_time_time_are_accepted(mixpanel_project: MixpanelProject, cohort_mocks: CohortMocks) -> None:
    consumer = Consumer(events_url=mixpanel_project.url + "/track")
    Mixpanel(mixpanel_project.token, consumer=consumer).track("alice", "Signup", {"time": int(time.time())})
    stats = cohort_mocks.targets.mixpanel.stats(mixpanel_project.project_id)
    assert stats["events_stored"] == 1 and stats["events_rejected"] == 0


def test_cohort_world_runs_a_bundled_world_with_a_verdict(cohort_world) -> None:  # type: ignore[no-untyped-def]
    result = cohort_world("demo")
    assert result.verdict == "PASS" and result.run.segment_members == result.expected_members


def test_the_context_manager_works_outside_pytest() -> None:
    with mocks_cm(start="2026-05-01T00:00:00Z") as mocks:
        assert mocks.clock.now == datetime(2026, 5, 1, tzinfo=timezone.utc)
        url = mocks.braze.url
        assert mocks.braze_workspace().url == url
    with pytest.raises(Exception):
        mocks.targets.braze.health()


def test_start_now_is_an_instant_for_the_cli() -> None:
    from harness.params import Instant

    value = Instant().convert("now", None, None)
    assert abs((datetime.fromisoformat(value.replace("Z", "+00:00")) - datetime.now(timezone.utc)).total_seconds()) < 5


def test_no_conftest_of_the_suite_defines_a_fixture_of_the_plugin() -> None:
    import ast
    from pathlib import Path

    import harness.pytest_plugin as plugin

    ours = {name for name, value in vars(plugin).items() if hasattr(value, "_fixture_function_marker")
            or type(value).__name__ == "FixtureFunctionDefinition"}
    assert ours == {"cohort_mocks", "cohort_clock", "braze_workspace", "mixpanel_project", "cohort_world"}
    tests = Path(__file__).resolve().parents[1]
    defined = {node.name for conftest in tests.rglob("conftest.py")
               for node in ast.walk(ast.parse(conftest.read_text(encoding="utf-8")))
               if isinstance(node, ast.FunctionDef)}
    assert not ours & defined
