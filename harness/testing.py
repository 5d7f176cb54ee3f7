"""The harness from an application's own tests: both mocks on free ports, fresh tenants, one clock.

``harness.pytest_plugin`` turns these into fixtures; outside pytest::

    with cohort_mocks() as mocks:
        ws = mocks.braze_workspace()
        project = mocks.mixpanel_project()
        mocks.clock.advance("15m")

Tenants (a Braze workspace, a Mixpanel project), not servers, are made per test, so a test costs
milliseconds. Every create call returns a typed dataclass, never an int here and a dict there.
"""
from __future__ import annotations

import contextlib
import itertools
from dataclasses import dataclass, field
from datetime import datetime, timezone
from pathlib import Path
from typing import Any, Iterator

from harness.clients import Targets
from harness.clients.mixpanel import ServiceAccount
from harness.embedded import EmbeddedMocks
from harness.worlds import FlowRun, RunResult, expected_outcome
from harness.worlds.files import resolve_world
from mocks.common.clock import parse_instant, to_iso

_names = itertools.count(1)


@dataclass(frozen=True)
class Service:
    """One running mock: ``.url`` is what an app's SDK or client is pointed at."""

    url: str


@dataclass(frozen=True)
class BrazeWorkspace:
    """A fresh Braze workspace: REST calls go to ``url`` with ``rest_api_key``; Mixpanel's connection
    uses ``data_import_key`` and ``rest_endpoint`` (the key's own endpoint, as Braze's dashboard shows it)."""

    url: str
    workspace_id: str
    rest_api_key: str
    data_import_key: str
    rest_endpoint: str


@dataclass(frozen=True)
class MixpanelProject:
    """A fresh Mixpanel project: ``token`` for ingestion (the official client), ``api_secret`` and
    ``service_account`` for the query and import APIs."""

    url: str
    project_id: int
    token: str
    api_secret: str
    service_account: ServiceAccount  # {"username", "secret"}


class CohortClock:
    """Both mocks' virtual clocks, moved together (one moved alone would silently disagree)."""

    def __init__(self, targets: Targets):
        self._targets = targets

    @property
    def now(self) -> datetime:
        return parse_instant(self._targets.mixpanel.get_clock()["now"])

    def advance(self, duration: str) -> list[dict[str, Any]]:
        """Move both clocks by ``duration`` (``15m``, ``2h``, ``1d``); the syncs that ran, in order."""
        return self._targets.advance(duration)

    def set(self, instant: datetime | str) -> list[dict[str, Any]]:
        """Put both clocks at ``instant`` (a datetime, an ISO-8601 string or ``"now"``)."""
        return self._targets.set_clock(start_instant(instant))


@dataclass
class WorldResult:
    """A world run: ``passed`` when the Braze segment holds exactly the expected final members."""

    source: str
    expected_members: list[str]
    run: RunResult
    missing: list[str] = field(default_factory=list)
    unexpected: list[str] = field(default_factory=list)

    @property
    def passed(self) -> bool:
        return not self.missing and not self.unexpected and self.run.campaign_count == len(self.expected_members)

    @property
    def verdict(self) -> str:
        return "PASS" if self.passed else "FAIL"


class CohortMocks:
    """Both mocks running embedded; ``.braze.url``, ``.mixpanel.url``, ``.clock`` and tenant makers."""

    def __init__(self, embedded: EmbeddedMocks):
        self._embedded = embedded
        self.targets = embedded.targets()
        self.braze = Service(embedded.braze_url)
        self.mixpanel = Service(embedded.mixpanel_url)
        self.clock = CohortClock(self.targets)

    def braze_workspace(self, name: str | None = None) -> BrazeWorkspace:
        braze = self.targets.braze
        created = braze.create_workspace(name or f"test-workspace-{next(_names)}")
        key = braze.create_data_import_key(created.workspace_id)
        return BrazeWorkspace(self.braze.url, created.workspace_id, created.rest_api_key, key.key, key.rest_endpoint)

    def mixpanel_project(self, name: str | None = None) -> MixpanelProject:
        created = self.targets.mixpanel.create_project(name or f"test-project-{next(_names)}")
        return MixpanelProject(self.mixpanel.url, created.project_id, created.token, created.api_secret,
                               dict(created.service_account))

    def run_world(self, name_or_path: str | Path) -> WorldResult:
        """Run a world (bundled name or path) and judge it as ``cohort-harness run`` does. The world's
        own timeline needs its own clocks, so it runs on a second embedded pair, not this one."""
        source, world = resolve_world(str(name_or_path))
        want = sorted((world.get("expected") or expected_outcome(world))["syncs"][-1]["members"])
        with EmbeddedMocks() as own:
            targets = own.targets()
            try:
                result = FlowRun(targets, world).run()
            finally:
                targets.close()
        got = set(result.segment_members)
        return WorldResult(source, want, result, sorted(set(want) - got), sorted(got - set(want)))


def start_instant(value: datetime | str | None) -> str:
    """The clocks' form of a start: ``None`` or ``"now"`` is the wall clock (whole seconds)."""
    if value is None or (isinstance(value, str) and value.strip().lower() == "now"):
        return to_iso(datetime.now(timezone.utc).replace(microsecond=0))
    return to_iso(value if isinstance(value, datetime) else parse_instant(value))


@contextlib.contextmanager
def cohort_mocks(start: datetime | str | None = None) -> Iterator[CohortMocks]:
    """Both mocks on free ports of 127.0.0.1 with virtual clocks at ``start`` (default: now)."""
    with EmbeddedMocks(start=parse_instant(start_instant(start))) as embedded:
        mocks = CohortMocks(embedded)
        try:
            yield mocks
        finally:
            mocks.targets.close()
