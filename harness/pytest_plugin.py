"""Fixtures for an application's own tests, registered through the ``pytest11`` entry point: a
project that only ran ``pip install cohort-harness`` gets them with no conftest code.

Every name starts with ``cohort_`` (or is a vendor tenant: ``braze_workspace``, ``mixpanel_project``),
so none clashes with the fixtures of the repository's own ``tests/`` conftests.
"""
from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING, Callable, Iterator

import pytest

if TYPE_CHECKING:  # every pytest run of an environment holding the harness loads this plugin: the
    # mocks (Flask and all) are imported only when a test asks for a fixture
    from harness.testing import BrazeWorkspace, CohortClock, CohortMocks, MixpanelProject, WorldResult

START_MARKER = "cohort_start"


def pytest_configure(config: pytest.Config) -> None:
    config.addinivalue_line("markers", f"{START_MARKER}(instant): the virtual clocks' start for this test "
                                       "(ISO-8601 or 'now'; default: the wall-clock now)")


@pytest.fixture(scope="session")
def cohort_mocks() -> Iterator[CohortMocks]:
    """Both mocks embedded on free ports for the whole session: ``.braze.url``, ``.mixpanel.url``."""
    from harness.testing import cohort_mocks as running_mocks

    with running_mocks() as mocks:
        yield mocks


@pytest.fixture()
def cohort_clock(cohort_mocks: CohortMocks, request: pytest.FixtureRequest) -> CohortClock:
    """Both clocks, put at the test's start (``@pytest.mark.cohort_start(...)`` or the wall-clock now,
    so events stamped ``time.time()`` are accepted) before the test runs."""
    marker = request.node.get_closest_marker(START_MARKER)
    cohort_mocks.clock.set(marker.args[0] if marker and marker.args else "now")
    return cohort_mocks.clock


@pytest.fixture()
def braze_workspace(cohort_mocks: CohortMocks, cohort_clock: CohortClock) -> BrazeWorkspace:
    """A fresh Braze workspace (a tenant, not a server) with a REST API key and a data import key."""
    return cohort_mocks.braze_workspace()


@pytest.fixture()
def mixpanel_project(cohort_mocks: CohortMocks, cohort_clock: CohortClock) -> MixpanelProject:
    """A fresh Mixpanel project with its token, API secret and service account."""
    return cohort_mocks.mixpanel_project()


@pytest.fixture()
def cohort_world(cohort_mocks: CohortMocks) -> Callable[[str | Path], WorldResult]:
    """``cohort_world("demo").passed``: runs a bundled world or a world file and judges it."""
    return cohort_mocks.run_world
