"""End to end over HTTP: the Braze mock and the Mixpanel mock, each on its own ServerThread, the
Mixpanel side syncing cohorts into the Braze side.

Both apps share ONE :class:`Clock` instance. That is safe and closer to reality than two clocks:
syncs run inside Mixpanel's clock advance (which holds the clock's advance lock), and the Braze
handlers they call only read ``clock.now()``, which takes no lock, so there is no deadlock; Braze then
stamps each partner call with the sync's own scheduled instant. The one rule: move time through ONE
app only (here Mixpanel's ``POST /_harness/clock``), or it would move twice.
"""
from __future__ import annotations

import contextlib
import itertools
from dataclasses import dataclass, field
from typing import Any, Iterator

import pytest

from harness.clients import BrazeClient, MixpanelClient
from mocks.braze import create_app as create_braze_app
from mocks.common import Clock, ServerThread
from mocks.mixpanel import create_app as create_mixpanel_app

USERS_PATH = "/partners/mixpanel/cohorts/users"
NAME_PATH = "/partners/mixpanel/cohorts"
_names = itertools.count(1)


@dataclass
class Mocks:
    """Both running mocks, their HTTP clients and the shared clock."""

    braze: BrazeClient
    mixpanel: MixpanelClient
    clock: Clock
    braze_app: Any
    mixpanel_app: Any

    def advance(self, duration: str) -> list[dict[str, Any]]:
        """Move the shared clock (through Mixpanel only); the syncs that ran, in order."""
        return self.mixpanel.advance_clock(duration)["fired"]

    def reset(self) -> None:
        self.braze.reset()
        self.mixpanel.reset()


@contextlib.contextmanager
def running_mocks(braze_config: dict[str, Any] | None = None,
                  mixpanel_config: dict[str, Any] | None = None) -> Iterator[Mocks]:
    clock = Clock()
    braze_app = create_braze_app(braze_config, clock=clock)
    mixpanel_app = create_mixpanel_app(mixpanel_config, clock=clock)
    with ServerThread(braze_app) as braze, ServerThread(mixpanel_app) as mixpanel:
        mocks = Mocks(BrazeClient(braze.url), MixpanelClient(mixpanel.url), clock, braze_app, mixpanel_app)
        try:
            yield mocks
        finally:
            mocks.braze.close()
            mocks.mixpanel.close()


@pytest.fixture(scope="session")
def shared_mocks() -> Iterator[Mocks]:
    with running_mocks() as mocks:
        yield mocks


@pytest.fixture()
def mocks(shared_mocks: Mocks) -> Mocks:
    """The session's two mocks, wiped (state, journals, faults) before each test."""
    shared_mocks.reset()
    return shared_mocks


@dataclass
class Tenants:
    """One Braze workspace with a data import key, one Mixpanel project connected to it, and the
    profiles the test loaded (so it can say who Braze should hold)."""

    mocks: Mocks
    workspace: str
    key: str
    rest_endpoint: str
    project_id: int
    connection_id: int
    profiles: dict[str, dict[str, Any]] = field(default_factory=dict)

    @property
    def braze(self) -> BrazeClient:
        return self.mocks.braze

    @property
    def mixpanel(self) -> MixpanelClient:
        return self.mocks.mixpanel

    # -- setting up ----------------------------------------------------------------------------
    def braze_users(self, *external_ids: str) -> None:
        self.braze.control("POST", f"/workspaces/{self.workspace}/users",
                           json={"users": [{"external_id": x} for x in external_ids]})

    def set_profiles(self, profiles: dict[str, dict[str, Any]]) -> None:
        """``$set`` profiles in Mixpanel (bulk, chunked) and remember them."""
        items = [{"distinct_id": did, "properties": props} for did, props in profiles.items()]
        for start in range(0, len(items), 50_000):
            self.mixpanel.control("POST", f"/projects/{self.project_id}/profiles", json={"profiles": items[start:start + 50_000]})
        for did, props in profiles.items():
            self.profiles.setdefault(did, {}).update(props)

    def users(self, *names: str, **extra: Any) -> None:
        """Braze users and Mixpanel profiles for ``names``: each profile carries its name as
        ``$braze_external_id`` plus ``extra`` properties."""
        self.braze_users(*names)
        self.set_profiles({name: {"$braze_external_id": name, **extra} for name in names})

    def cohort(self, definition: dict[str, Any], name: str = "Cohort") -> int:
        return self.mixpanel.create_cohort(self.project_id, name, definition).cohort_id

    def export(self, cohort_id: int, mode: str = "dynamic", **extra: Any) -> dict[str, Any]:
        body = {"cohort_id": cohort_id, "connection_id": self.connection_id, "mode": mode, **extra}
        return self.mixpanel.control("POST", f"/projects/{self.project_id}/exports", json=body)

    # -- observing -------------------------------------------------------------------------------
    def braze_members(self, cohort_id: int) -> set[str]:
        """External ids of the Braze cohort's members."""
        return {m["external_id"] for m in self.braze.cohort_members(self.workspace, str(cohort_id))}

    def expected_members(self, cohort_id: int) -> set[str]:
        """What Braze must hold now: the Mixpanel members (evaluated at the clock's instant) that
        carry an external id Braze knows."""
        known = {u["external_id"] for u in self.braze.users(self.workspace) if u.get("external_id")}
        members = self.mixpanel.cohort_members(self.project_id, cohort_id)
        return {ext for did in members if (ext := self.profiles.get(did, {}).get("$braze_external_id")) in known}

    def export_state(self, export_id: int) -> dict[str, Any]:
        return self.mixpanel.get_export(self.project_id, export_id)

    def last_sync(self, export_id: int) -> dict[str, Any]:
        return self.export_state(export_id)["syncs"][-1]

    def partner_calls(self, path: str = USERS_PATH) -> list[dict[str, Any]]:
        return self.braze.journal(path=path, method="POST")

    def data_points(self) -> int:
        return self.braze.data_points(self.workspace)["by_source"].get("cohort_import:mixpanel", 0)

    def adds_accepted(self, cohort_id: int, identifier: str) -> int:
        """How many times Braze applied ``identifier`` as an add to the cohort (the match log)."""
        return sum(1 for e in self.braze.match_log(self.workspace, str(cohort_id))
                   if e["identifier"] == identifier and e["operation"] == "add")


def new_tenants(mocks: Mocks, **connection_options: Any) -> Tenants:
    """A workspace with a Mixpanel data import key and a project connected to it."""
    number = next(_names)
    workspace = mocks.braze.create_workspace(f"ws-{number}").workspace_id
    key = mocks.braze.create_data_import_key(workspace)
    project_id = mocks.mixpanel.create_project(f"project-{number}").project_id
    connection_id = mocks.mixpanel.create_connection(project_id, key.key, key.rest_endpoint,
                                                     **connection_options).connection_id
    return Tenants(mocks, workspace, key.key, key.rest_endpoint, project_id, connection_id)


@pytest.fixture()
def tenants(mocks: Mocks) -> Tenants:
    return new_tenants(mocks)
