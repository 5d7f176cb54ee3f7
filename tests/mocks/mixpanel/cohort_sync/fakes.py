"""Fakes shared by the sync unit tests (no tests here): a Mixpanel project whose membership is a
function of the instant, and a Braze partner API that keeps cohort membership by identifier and can
be told to fail on given calls."""
from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from typing import Any, Callable

from mocks.common.clock import DEFAULT_START
from mocks.mixpanel.cohort_sync.model import BrazeConnection
from mocks.mixpanel.cohort_sync.partner_client import BrazeCallError, CallReport

Membership = set[str] | Callable[[datetime], set[str]]


@dataclass
class FakeCohort:
    cohort_id: int
    name: str
    description: str = ""
    created_at: datetime = DEFAULT_START


@dataclass
class FakeProject:
    cohorts: dict[int, FakeCohort] = field(default_factory=dict)
    membership: dict[int, Membership] = field(default_factory=dict)
    profiles: dict[str, dict[str, Any]] = field(default_factory=dict)
    evaluated_at: list[datetime] = field(default_factory=list)

    def add_cohort(self, cohort_id: int, name: str, members: Membership) -> FakeCohort:
        self.cohorts[cohort_id] = FakeCohort(cohort_id, name)
        self.membership[cohort_id] = members
        return self.cohorts[cohort_id]

    def add_users(self, *external_ids: str) -> set[str]:
        """Profiles ``d-<x>`` carrying ``$braze_external_id = <x>``; returns their distinct ids."""
        for external_id in external_ids:
            self.profiles[f"d-{external_id}"] = {"$braze_external_id": external_id}
        return {f"d-{x}" for x in external_ids}

    def find_cohort(self, cohort_id: Any) -> FakeCohort | None:
        return self.cohorts.get(cohort_id)

    def cohort_members(self, cohort_id: Any, at: datetime) -> set[str]:
        self.evaluated_at.append(at)
        members = self.membership[cohort_id]
        return set(members(at) if callable(members) else members)

    def member_profiles(self, cohort_id: Any, at: datetime) -> list[tuple[str, dict[str, Any] | None]]:
        """Like the real project: a stable member order (here, by distinct_id)."""
        return [(distinct_id, self.profiles.get(distinct_id)) for distinct_id in sorted(self.cohort_members(cohort_id, at))]


@dataclass
class FakeDirectory:
    projects: dict[int, FakeProject] = field(default_factory=dict)

    def find_project(self, project_id: Any) -> FakeProject | None:
        return self.projects.get(project_id)


@dataclass
class FakeCall:
    """A users call of :class:`FakeBraze`: Braze handles it when the caller asks for the result;
    ``braze.events`` shows when each call was made ("encode"), started and finished."""

    braze: "FakeBraze"
    cohort_id: str
    cohort_changes: list[dict[str, Any]]

    def start(self) -> "FakeCall":
        self.braze.events.append("start")
        return self

    def result(self) -> CallReport:
        self.braze.events.append("result")
        return self.braze.change_users(self.cohort_id, self.cohort_changes)


def identifier_key(change_object: dict[str, Any]) -> list[tuple[str, str]]:
    keys = [("external_id", x) for x in change_object.get("user_ids", [])]
    keys += [("device_id", x) for x in change_object.get("device_ids", [])]
    keys += [("alias", f"{a['alias_label']}:{a['alias_name']}") for a in change_object.get("aliases", [])]
    return keys


@dataclass
class FakeBraze:
    """The partner API of one workspace, in memory. ``fail_next(exc, ...)`` makes the next calls
    raise (``None`` in the list lets one through)."""

    members: dict[str, set[tuple[str, str]]] = field(default_factory=dict)
    names: dict[str, str] = field(default_factory=dict)
    calls: list[tuple[str, Any]] = field(default_factory=list)
    failures: list[BrazeCallError | None] = field(default_factory=list)
    events: list[str] = field(default_factory=list)
    closed: bool = False

    def fail_next(self, *failures: BrazeCallError | None) -> None:
        self.failures.extend(failures)

    def _take_failure(self) -> None:
        if self.failures:
            failure = self.failures.pop(0)
            if failure is not None:
                raise failure

    def name_cohort(self, cohort_id: str, name: str, created_at: str) -> CallReport:
        self.calls.append(("name", (cohort_id, name)))
        self._take_failure()
        self.names[cohort_id] = name
        return CallReport(requests=1)

    def change_users(self, cohort_id: str, cohort_changes: list[dict[str, Any]]) -> CallReport:
        self.calls.append(("users", (cohort_id, cohort_changes)))
        self._take_failure()
        members = self.members.setdefault(cohort_id, set())
        for change in cohort_changes:
            keys = identifier_key(change)
            if change.get("should_remove"):
                members.difference_update(keys)
            else:
                members.update(keys)
        return CallReport(requests=1)

    def users_call(self, cohort_id: str, cohort_changes: list[dict[str, Any]]) -> "FakeCall":
        self.events.append("encode")
        return FakeCall(self, cohort_id, cohort_changes)

    def check_credentials(self) -> CallReport:
        return self.change_users("connection-check", [])

    def close(self) -> None:
        self.closed = True

    def user_calls(self, cohort_id: str | None = None) -> list[list[dict[str, Any]]]:
        return [changes for kind, (cid, changes) in
                ((k, v) for k, v in self.calls if k == "users") if cohort_id in (None, cid)]

    def identifiers_sent(self, cohort_id: str) -> list[int]:
        """Identifiers per users request (the 1,000 limit counts them all)."""
        return [sum(len(identifier_key(c)) for c in changes) for changes in self.user_calls(cohort_id)]

    def external_ids(self, cohort_id: str) -> set[str]:
        return {value for kind, value in self.members.get(cohort_id, set()) if kind == "external_id"}


T0 = DEFAULT_START
FULL_MAPPING = dict(alias_label="mp_id", alias_property="mp_alias", device_id_property="braze_device")


def connection(**mapping: Any) -> BrazeConnection:
    return BrazeConnection(connection_id=1, project_id=1, data_import_key="key-1234567890",
                           rest_endpoint="http://braze.test", created_at=T0, **mapping)


FULL_MAPPING = dict(alias_label="mp_id", alias_property="mp_alias", device_id_property="braze_device")
