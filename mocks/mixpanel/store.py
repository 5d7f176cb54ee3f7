"""The Mixpanel mock's state and rules: projects with their events, identities, profiles and cohorts.

Plain Python, no Flask. Every time rule reads the injected clock. Other parts of the system use:

* ``MixpanelStore.project(pid)`` (raises :class:`ProjectNotFound`) and ``MixpanelStore.attach(name, component)``;
* ``Project.cohort(cid)`` (raises :class:`CohortNotFound`), ``Project.cohort_members(cid, at)`` and
  ``Project.profile_properties(distinct_id)``.

Locking (the policy of :mod:`mocks.common.state`): the store's and each project's methods take the
re-entrant ``lock`` themselves, since the cohort sync's scheduler calls them too.
"""
from __future__ import annotations

import itertools
from array import array
import secrets
import threading
from collections import OrderedDict
from functools import partial
from dataclasses import dataclass, field
from datetime import datetime, timezone
from typing import Any, Callable, Iterable, Iterator

from mocks.common.clock import Clock, parse_instant, to_iso
from mocks.common.state import Store

from .cohorts import Cohort, compile_definition
from .errors import CohortNotFound, CredentialsTaken, DefinitionError, ProjectNotFound
from .events import EventLog
from .identity import IdRegistry
from .ingest import (CleanEvent, Failure, IdentityMerge, PlainRun, full_import_event, clean_track_event,
                     encode_extras, plain_run, retention_cutoff_ms)
from .reports import Annotation, Funnel
from .retention import VENDOR_DEFAULT, RetentionSetting, effective_days
from .profiles import GroupUpdate, ProfileStore, ProfileUpdate, apply_operation, last_seen_text

_CACHE_SIZE = 32
#: Events of a state dump stored per :meth:`EventLog.add_batch` call on load.
_LOAD_CHUNK = 100_000


#: Something attached to the store whose state is reset, dumped and loaded with it.
Component = Store


@dataclass
class IngestReport:
    """What one batch did: ``imported`` counts accepted events (duplicates included, as Mixpanel
    counts them), ``removed`` those dropped by retention, ``failures`` the refused ones."""

    imported: int = 0
    removed: int = 0
    #: Events that repeat a stored one's key: stored too, and the earlier copy is superseded.
    duplicates: int = 0
    failures: list[tuple[int, str, Failure]] = field(default_factory=list)


def to_ms(instant: datetime) -> int:
    return int(instant.astimezone(timezone.utc).timestamp() * 1000)


class ProjectAt:
    """A project's data as seen at one instant (what cohort conditions read)."""

    def __init__(self, project: "Project", at_ms: int):
        self.at_ms = at_ms
        self.start_ms = project.cutoff_ms(at_ms)
        self.events = project.events
        self.registry = project.registry
        self.profiles = project.profiles
        self._universe: set[int] | None = None

    def universe(self) -> set[int]:
        """Everyone the project knows at this instant: profiles and users with retained events."""
        if self._universe is None:
            users = self.events.users_active(self.start_ms, self.at_ms)
            found = set(self.registry.to_canonical(users))
            found.update(self.profiles.by_user)
            anonymous = self.registry.find("")
            found.discard(anonymous)
            self._universe = found
        return self._universe


class Project:
    def __init__(self, project_id: int, name: str, token: str, api_secret: str, service_account: dict[str, str],
                 retention: RetentionSetting, created_at: datetime, new_cohort_id: Callable[[], int]):
        self.project_id = project_id
        self.name = name
        self.token = token
        self.api_secret = api_secret
        self.service_account = service_account
        #: Days, None (no rolling window) or VENDOR_DEFAULT (by ``created_at``: see retention.py).
        self.retention: RetentionSetting = retention
        self.created_at = created_at
        self.registry = IdRegistry()
        self.events = EventLog()
        self.profiles = ProfileStore()
        #: Group profiles (``/groups``) by (group_key, group_id); dumped as ``{"<key>": {"<id>": {...}}}``.
        self.groups: dict[tuple[str, str], dict[str, Any]] = {}
        self.cohorts: dict[int, Cohort] = {}
        self.funnels: dict[int, Funnel] = {}
        self.annotations: list[Annotation] = []
        self.removed_at_ingest = 0
        self.rejected = 0
        self.duplicates = 0
        self.version = 0
        self.lock = threading.RLock()
        self._new_cohort_id = new_cohort_id
        self._members_cache: OrderedDict[tuple[int, int, int, int], array] = OrderedDict()

    # -- description ---------------------------------------------------------------------------
    def describe(self) -> dict[str, Any]:
        """``retention_days`` is the window in force (the vendor default's days too), and
        ``retention_default`` says whether it follows the creation date (nobody set it)."""
        return {"project_id": self.project_id, "name": self.name, "token": self.token,
                "api_secret": self.api_secret, "service_account": dict(self.service_account),
                "retention_days": self.retention_days, "retention_default": self.retention_default,
                "created_at": to_iso(self.created_at)}

    @property
    def retention_days(self) -> int | None:
        """The rolling retention in days (None: none, only the 2010 floor)."""
        return effective_days(self.retention, self.created_at)

    @property
    def retention_default(self) -> bool:
        """Whether the retention follows the creation date (nobody set one)."""
        return self.retention is VENDOR_DEFAULT

    def cutoff_ms(self, at_ms: int) -> int:
        return retention_cutoff_ms(at_ms, self.retention_days)

    def set_retention(self, days: int | None) -> None:
        """An explicit setting, which wins over the vendor default from then on."""
        with self.lock:
            self.retention = days
            self.version += 1

    # -- events --------------------------------------------------------------------------------
    def ingest(self, events: list[Any], now: datetime, source: str = "import",
               require_insert_id: bool = True) -> IngestReport:
        """Validate and store a batch (``source`` is ``import`` or ``track``); valid rows are kept
        even when others fail. Events timed before the retention cutoff are removed, not failed.
        ``require_insert_id`` is false for an ``/import`` that did not say ``strict=1``.

        An import batch goes by runs: :func:`plain_run` checks the plain events up to the first
        other one and :meth:`EventLog.add_batch` stores the run at once; that other event goes
        through the full rules alone (its refusal text, its identity merge), then the next run
        starts. Events are stored, numbered and deduplicated in batch order either way."""
        now_ms = to_ms(now)
        cutoff = self.cutoff_ms(now_ms)
        report = IngestReport()
        clean = (clean_track_event if source == "track"
                 else partial(full_import_event, require_insert_id=require_insert_id))
        with self.lock:
            index, count = 0, len(events)
            while index < count:
                if source != "track":
                    run, index = plain_run(events, index, now_ms, cutoff, require_insert_id)
                    self._store_run(run, report)
                    if index == count:
                        break
                self._ingest_one(index, events[index], clean(events[index], now_ms), cutoff, report)
                index += 1
            self.rejected += len(report.failures)
            self.removed_at_ingest += report.removed
            self.duplicates += report.duplicates
            self.version += 1
        return report

    def _store_run(self, run: PlainRun, report: IngestReport) -> None:
        report.removed += run.removed
        if run.times:
            users = self.registry.numbers(run.distinct_ids)
            report.imported += len(users)
            report.duplicates += self.events.add_batch(run.names, run.times, users, run.insert_ids, run.extras)

    def _ingest_one(self, index: int, raw: Any, result: CleanEvent | IdentityMerge | Failure, cutoff: int,
                    report: IngestReport) -> None:
        if isinstance(result, Failure):
            report.failures.append((index, _insert_id_of(raw), result))
        elif isinstance(result, IdentityMerge):
            report.imported += 1
        elif result.time_ms < cutoff:
            report.removed += 1
        else:
            report.imported += 1
            report.duplicates += not self._store_event(result)

    def _store_event(self, event: CleanEvent) -> bool:
        if event.merge:
            self._merge(*event.merge)
        user = self.registry.number(event.distinct_id)
        return self.events.add(event.name, event.time_ms, user, event.insert_id, event.extras)

    def _merge(self, device_id: str, user_id: str) -> None:
        if self.registry.merge(device_id, user_id):
            device = self.registry.number(device_id)
            self.profiles.merge(device, self.registry.canonical(device))

    def export(self, start_ms: int, end_ms: int, names: list[str] | None, now: datetime,
               time_in_ms: bool = False, every_copy: bool = False) -> Iterator[dict[str, Any]]:
        """Stored events of the window in time order, under canonical ids; expired ones left out.
        Queries see the latest copy of a duplicate only; ``every_copy`` (the raw ``/api/2.0/export``,
        which Mixpanel does not deduplicate) gives every copy in ingestion order among equal times.
        Rows are read under the lock one at a time, so a long export does not block ingestion."""
        with self.lock:
            start_ms = max(start_ms, self.cutoff_ms(to_ms(now)))
            rows = list(self.events.rows_in_order(names, start_ms, end_ms, every_copy))
        for row in rows:
            with self.lock:
                yield self._export_event(row, time_in_ms)

    def _export_event(self, row: int, time_in_ms: bool) -> dict[str, Any]:
        events = self.events
        time_ms = events.time_col[row]
        user = self.registry.canonical(events.user_col[row])
        properties: dict[str, Any] = {"time": time_ms if time_in_ms else time_ms // 1000,
                                      "distinct_id": self.registry.ids[user]}
        insert_id = events.insert_id(row)
        if insert_id:
            properties["$insert_id"] = insert_id
        properties.update(events.properties(row))
        return {"event": events.names[events.name_col[row]], "properties": properties}

    # -- profiles ------------------------------------------------------------------------------
    def _profile_user(self, distinct_id: str) -> int:
        return self.registry.canonical(self.registry.number(distinct_id))

    def update_profile(self, update: ProfileUpdate, at: datetime | None = None) -> None:
        """Apply one ``/engage`` operation; a profile that still exists gets ``$last_seen`` (the update's
        ``$time``, else ``at``, the arrival) unless the update asked ``$ignore_time``."""
        with self.lock:
            user = self._profile_user(update.distinct_id)
            self.profiles.apply(user, update.operation, update.value)
            seen_ms = update.time_ms if update.time_ms is not None else (to_ms(at) if at else None)
            profile = self.profiles.get(user)
            if profile is not None and seen_ms is not None and not update.ignore_time:
                profile["$last_seen"] = last_seen_text(seen_ms)
            self.version += 1

    def update_group(self, update: GroupUpdate) -> None:
        with self.lock:
            apply_operation(self.groups, (update.group_key, update.group_id), update.operation, update.value)
            self.version += 1

    def group_ids(self, group_key: str) -> list[str]:
        with self.lock:
            return [group_id for key, group_id in self.groups if key == group_key]

    def group_properties(self, group_key: str, group_id: str) -> dict[str, Any]:
        """A copy of one group's profile; ``{}`` if none."""
        with self.lock:
            return dict(self.groups.get((group_key, group_id)) or {})

    def set_profiles(self, profiles: Iterable[tuple[str, dict[str, Any]]]) -> int:
        """``$set`` many profiles at once (the bulk loader); returns how many were written."""
        count = 0
        with self.lock:
            for distinct_id, properties in profiles:
                self.profiles.set_properties(self._profile_user(distinct_id), properties)
                count += 1
            self.version += 1
        return count

    def profile_properties(self, distinct_id: str) -> dict[str, Any]:
        """A copy of the profile of a distinct_id (resolved to its canonical id); ``{}`` if none."""
        with self.lock:
            number = self.registry.find(distinct_id)
            profile = None if number is None else self.profiles.get(self.registry.canonical(number))
            return dict(profile) if profile else {}

    def has_profile(self, distinct_id: str) -> bool:
        with self.lock:
            number = self.registry.find(distinct_id)
            return number is not None and self.profiles.get(self.registry.canonical(number)) is not None

    def profile_ids(self) -> list[str]:
        with self.lock:
            return [self.registry.ids[user] for user in self.profiles.by_user]

    def canonical_id(self, distinct_id: str) -> str:
        with self.lock:
            return self.registry.canonical_id(distinct_id)

    def merged_ids(self, distinct_id: str) -> list[str]:
        """The device ids Simplified ID Merge pointed at this distinct_id's canonical id."""
        with self.lock:
            canonical = self.registry.canonical_id(distinct_id)
            return sorted(device for device, user in self.registry.merges.items() if user == canonical)

    def user_events(self, distinct_id: str, now: datetime) -> list[dict[str, Any]]:
        """Every live event of a user and of the devices merged into it (the latest copy of a
        duplicate), newest first; ``expired``
        marks those retention has removed by ``now`` (they no longer count anywhere)."""
        with self.lock:
            canonical = self.registry.canonical_id(distinct_id)
            numbers = [self.registry.find(d) for d in [canonical, *self.merged_ids(canonical)]]
            rows = sorted((row for n in numbers if n is not None for row in self.events.rows_of(n)),
                          key=lambda row: (self.events.time_col[row], row), reverse=True)
            cutoff = self.cutoff_ms(to_ms(now))
            events, ids = self.events, self.registry.ids
            return [{"event": events.names[events.name_col[row]], "time_ms": events.time_col[row],
                     "distinct_id": ids[events.user_col[row]], "insert_id": events.insert_id(row),
                     "properties": events.properties(row), "expired": events.time_col[row] < cutoff}
                    for row in rows]

    # -- cohorts -------------------------------------------------------------------------------
    def create_cohort(self, name: str, definition: Any, created_at: datetime, description: str = "",
                      is_visible: bool = True) -> Cohort:
        with self.lock:
            condition = compile_definition(definition, self.registry)
            cohort = Cohort(self._new_cohort_id(), self.project_id, name, description, definition, created_at,
                            is_visible, condition=condition)
            self.cohorts[cohort.cohort_id] = cohort
            return cohort

    def cohort(self, cohort_id: int) -> Cohort:
        cohort = self.find_cohort(cohort_id)
        if cohort is None:
            raise CohortNotFound(cohort_id, self.project_id)
        return cohort

    def find_cohort(self, cohort_id: Any) -> Cohort | None:
        """The cohort, or None (the cohort sync's question: a deleted cohort pauses its export)."""
        return self.cohorts.get(cohort_id) if isinstance(cohort_id, int) and not isinstance(cohort_id, bool) else None

    def update_cohort(self, cohort_id: int, changes: dict[str, Any]) -> Cohort:
        """Rename, re-describe, hide or redefine; a new definition is validated before anything changes."""
        with self.lock:
            cohort = self.cohort(cohort_id)
            condition = compile_definition(changes["definition"], self.registry) if "definition" in changes else None
            for key in ("name", "description", "is_visible"):
                if key in changes:
                    setattr(cohort, key, changes[key])
            if condition is not None:
                cohort.definition, cohort.condition = changes["definition"], condition
                cohort.revision += 1
            return cohort

    def cohort_members(self, cohort_id: int, at: datetime) -> set[str]:
        """Canonical distinct_ids of the members, evaluated at instant ``at``."""
        with self.lock:
            return self.registry.names(self._members(cohort_id, to_ms(at)))

    def member_profiles(self, cohort_id: int, at: datetime) -> list[tuple[str, dict[str, Any] | None]]:
        """The members at ``at`` with their profiles, under one lock and WITHOUT copies (None where
        there is none); callers must not modify them. The sync reads every member's profile on
        every sync, so this is the hot path of a large dynamic export: members come in the order
        the project first saw them, which is also the order of the profiles in memory."""
        with self.lock:
            ids, profile_of = self.registry.ids, self.profiles.by_user.get
            return [(ids[number], profile_of(number)) for number in self._members(cohort_id, to_ms(at))]

    def cohort_count(self, cohort_id: int, at: datetime) -> int:
        return len(self._members(cohort_id, to_ms(at)))

    def _members(self, cohort_id: int, at_ms: int) -> array:
        """The canonical numbers of the members, ascending (cached per definition, data and instant)."""
        with self.lock:
            cohort = self.cohort(cohort_id)
            key = (cohort_id, cohort.revision, self.version, at_ms)
            found = self._members_cache.get(key)
            if found is None:
                found = array("i", sorted(cohort.condition.members(ProjectAt(self, at_ms))))
                self._members_cache[key] = found
                while len(self._members_cache) > _CACHE_SIZE:
                    self._members_cache.popitem(last=False)
            return found

    # -- statistics ----------------------------------------------------------------------------
    def stats(self, now: datetime) -> dict[str, Any]:
        with self.lock:
            now_ms = to_ms(now)
            expired = self.events.count_between(0, self.cutoff_ms(now_ms) - 1)
            return {"events_stored": self.events.live_count() - expired,
                    "events_removed_by_retention": self.removed_at_ingest + expired,
                    "events_rejected": self.rejected,
                    "events_deduplicated": self.duplicates,
                    "profiles": len(self.profiles),
                    "identities_merged": len(self.registry.merges),
                    "cohorts": len(self.cohorts)}

    # -- saved reports (funnels, annotations) ----------------------------------------------------
    def create_funnel(self, name: str, steps: list[str], window_days: int = 30) -> Funnel:
        with self.lock:
            funnel = Funnel(max(self.funnels, default=0) + 1, name, tuple(steps), window_days)
            self.funnels[funnel.funnel_id] = funnel
            return funnel

    def add_annotation(self, when: str, description: str) -> Annotation:
        with self.lock:
            annotation = Annotation(max((a.annotation_id for a in self.annotations), default=0) + 1,
                                    self.project_id, when, description)
            self.annotations.append(annotation)
            return annotation

    def step_events(self, names: list[str], start_ms: int, end_ms: int, now: datetime,
                    where: Callable[[dict[str, Any]], bool] | None = None) -> list[tuple[str, str, float]]:
        """(distinct_id, event, seconds) of the named events in the window, as queries see them;
        ``where`` (a compiled segmentation expression) keeps only the events whose properties pass."""
        return [(e["properties"]["distinct_id"], e["event"], e["properties"]["time"] / 1000)
                for e in self.export(start_ms, end_ms, names, now, time_in_ms=True)
                if where is None or where(e["properties"])]

    # -- state ---------------------------------------------------------------------------------
    def to_dict(self) -> dict[str, Any]:
        with self.lock:
            events = self.events
            ids = self.registry.ids
            return {
                **self.describe(),
                "counters": {"removed_at_ingest": self.removed_at_ingest, "rejected": self.rejected,
                             "duplicates": self.duplicates},
                "events": [[events.names[events.name_col[row]], events.time_col[row], ids[events.user_col[row]],
                            events.insert_id(row), events.properties(row)] for row in events.all_rows()],
                "merges": dict(self.registry.merges),
                "profiles": {ids[user]: props for user, props in self.profiles.by_user.items()},
                "groups": self._groups_dump(),
                "cohorts": [{"cohort_id": c.cohort_id, "name": c.name, "description": c.description,
                             "definition": c.definition, "created_at": to_iso(c.created_at),
                             "is_visible": c.is_visible, "revision": c.revision} for c in self.cohorts.values()],
                "funnels": [f.to_dict() for f in self.funnels.values()],
                "annotations": [a.to_dict() for a in self.annotations],
            }

    def _groups_dump(self) -> dict[str, dict[str, dict[str, Any]]]:
        """Group profiles nested by group key then group id (JSON has no tuple keys)."""
        nested: dict[str, dict[str, dict[str, Any]]] = {}
        for (group_key, group_id), props in self.groups.items():
            nested.setdefault(group_key, {})[group_id] = props
        return nested

    @staticmethod
    def _groups_from_dump(data: Any) -> dict[tuple[str, str], dict[str, Any]]:
        """The ``groups`` of a dump, checked whole before anything is kept: every level a JSON object,
        keys and ids non-empty as ``/groups`` requires (a wrong type is a ValueError: a 400)."""
        if not isinstance(data, dict):
            raise ValueError("'groups' must be a JSON object of group keys")
        found: dict[tuple[str, str], dict[str, Any]] = {}
        for group_key, by_id in data.items():
            if not group_key or not isinstance(by_id, dict):
                raise ValueError(f"groups[{group_key!r}] must be a non-empty group key holding a JSON object of group ids")
            for group_id, props in by_id.items():
                if not group_id or not isinstance(props, dict):
                    raise ValueError(f"groups[{group_key!r}][{group_id!r}] must be a non-empty group id holding "
                                     "a JSON object of properties")
                found[(group_key, group_id)] = dict(props)
        return found

    def load_data(self, data: dict[str, Any]) -> None:
        """Restore events, identities, profiles, group profiles, cohorts and counters from :meth:`to_dict`
        (a dump without ``groups``, from before they were dumped, has none). Every copy of a duplicate
        is in the dump in ingestion order, so adding them again supersedes the same rows."""
        self.groups = self._groups_from_dump(data.get("groups", {}))
        rows = data.get("events", [])
        for start in range(0, len(rows), _LOAD_CHUNK):  # in chunks: five columns of a chunk at a time in memory
            chunk = rows[start:start + _LOAD_CHUNK]
            self.events.add_batch([row[0] for row in chunk], [int(row[1]) for row in chunk],
                                  self.registry.numbers([row[2] for row in chunk]), [row[3] for row in chunk],
                                  [encode_extras(row[4]) for row in chunk])
        for device_id, user_id in data.get("merges", {}).items():
            self.registry.merge(device_id, user_id)
        for distinct_id, props in data.get("profiles", {}).items():
            self.profiles.by_user[self.registry.number(distinct_id)] = dict(props)
        for item in data.get("cohorts", []):
            cohort = Cohort(int(item["cohort_id"]), self.project_id, item["name"], item.get("description", ""),
                            item["definition"], parse_instant(item["created_at"]), bool(item.get("is_visible", True)),
                            int(item.get("revision", 0)), compile_definition(item["definition"], self.registry))
            self.cohorts[cohort.cohort_id] = cohort
        self.funnels = {f.funnel_id: f for f in (Funnel.from_dict(item) for item in data.get("funnels", []))}
        self.annotations = [Annotation.from_dict(item) for item in data.get("annotations", [])]
        counters = data.get("counters", {})
        self.removed_at_ingest = int(counters.get("removed_at_ingest", 0))
        self.rejected = int(counters.get("rejected", 0))
        self.duplicates = int(counters.get("duplicates", 0))


def _retention_of_dump(item: dict[str, Any]) -> RetentionSetting:
    """A dumped project's retention: the vendor default when ``retention_default`` is true, else its
    ``retention_days`` (a dump from before the default existed has no flag: its days, or None, stand)."""
    flag = item.get("retention_default", False)
    if not isinstance(flag, bool):
        raise ValueError(f"project {item.get('project_id')}: retention_default must be true or false")
    if flag:
        return VENDOR_DEFAULT
    days = item.get("retention_days")
    if days is not None and (not isinstance(days, int) or isinstance(days, bool) or days < 1):
        raise ValueError(f"project {item.get('project_id')}: retention_days must be a positive integer or null")
    return days


def _insert_id_of(raw: Any) -> str:
    props = raw.get("properties") if isinstance(raw, dict) else None
    value = props.get("$insert_id") if isinstance(props, dict) else None
    return value if isinstance(value, str) else ""


class MixpanelStore:
    """All projects of one mock app, plus attached components (the exports registry)."""

    def __init__(self, clock: Clock):
        self.clock = clock
        self.lock = threading.RLock()
        self._components: dict[str, Component] = {}
        self._init_state()

    def _init_state(self) -> None:
        self.projects: dict[int, Project] = {}
        self._project_ids = itertools.count(1)
        self._next_cohort_id = 1

    def _new_cohort_id(self) -> int:
        """One counter for every project: Braze needs cohort ids unique per customer."""
        with self.lock:
            value = self._next_cohort_id
            self._next_cohort_id += 1
            return value

    # -- components ----------------------------------------------------------------------------
    def attach(self, name: str, component: Component) -> None:
        """Register a component whose state follows the store's reset / dump / load."""
        self._components[name] = component

    # -- projects ------------------------------------------------------------------------------
    def create_project(self, name: str, retention_days: RetentionSetting = VENDOR_DEFAULT, token: str | None = None,
                       api_secret: str | None = None, created_at: datetime | None = None) -> Project:
        """A new project; ``created_at`` (default: the clock's now) decides the vendor's retention default."""
        with self.lock:
            taken = {p.token for p in self.projects.values()} | {p.api_secret for p in self.projects.values()}
            if token in taken or api_secret in taken or (token is not None and token == api_secret):
                raise CredentialsTaken("token and api_secret must be unique across projects")
            project_id = next(self._project_ids)
            account = {"username": f"mock-sa-{project_id}.{secrets.token_hex(3)}.mp-service-account",
                       "secret": secrets.token_hex(16)}
            project = Project(project_id, name, token or secrets.token_hex(16), api_secret or secrets.token_hex(16),
                              account, retention_days, created_at or self.clock.now(), self._new_cohort_id)
            self.projects[project_id] = project
            return project

    def project(self, project_id: int) -> Project:
        found = self.find_project(project_id)
        if found is None:
            raise ProjectNotFound(project_id)
        return found

    def find_project(self, project_id: Any) -> Project | None:
        """The project, or None (what the cohort sync asks)."""
        return self.projects.get(project_id) if isinstance(project_id, int) and not isinstance(project_id, bool) else None

    def secret_values(self) -> list[str]:
        """Every project token, API secret and service-account secret, and those of the components
        (the Braze keys of the connections): the journal redacts them."""
        with self.lock:
            found = [s for p in self.projects.values() for s in (p.token, p.api_secret, p.service_account.get("secret"))]
            for component in self._components.values():
                found.extend(getattr(component, "secret_values", list)())
            return [s for s in found if isinstance(s, str)]

    def project_by_token(self, token: Any) -> Project | None:
        return next((p for p in self.projects.values() if p.token == token), None) if token else None

    def project_by_secret(self, secret: str) -> Project | None:
        """Legacy secret auth; ``/import`` also accepts the project token in its place."""
        return next((p for p in self.projects.values() if secret and secret in (p.api_secret, p.token)), None)

    def project_for_service_account(self, project_id: int, username: str, secret: str) -> Project | None:
        project = self.projects.get(project_id)
        if project is None:
            return None
        account = project.service_account
        if _same_text(account["username"], username) and _same_text(account["secret"], secret):
            return project
        return None

    # -- state ---------------------------------------------------------------------------------
    def reset(self) -> None:
        with self.lock:
            self._init_state()
            for component in self._components.values():
                component.reset()

    def to_dict(self) -> dict[str, Any]:
        with self.lock:
            return {"projects": [p.to_dict() for p in self.projects.values()],
                    "next_project_id": self._peek_project_id(),
                    "next_cohort_id": self._next_cohort_id,
                    "components": {name: c.to_dict() for name, c in self._components.items()}}

    def _peek_project_id(self) -> int:
        return max(self.projects, default=0) + 1

    def load(self, data: dict[str, Any]) -> None:
        """Replace all state with a dump of :meth:`to_dict` (components included). All or nothing: a
        dump refused anywhere (a project, a component) puts the previous state back before the
        error goes on, so a refused load never wipes the projects (issue 12, class 2)."""
        with self.lock:
            previous = self.to_dict()
            try:
                self._replace(data)
            except BaseException:
                self._replace(previous)
                raise

    def _replace(self, data: dict[str, Any]) -> None:
        for name, kind in (("projects", list), ("components", dict)):
            if not isinstance(data.get(name, kind()), kind):
                raise TypeError(f"'{name}' must be a JSON {'array' if kind is list else 'object'}")
        self._init_state()
        for item in data.get("projects", []):
            project = Project(int(item["project_id"]), item["name"], item["token"], item["api_secret"],
                              dict(item["service_account"]), _retention_of_dump(item),
                              parse_instant(item["created_at"]), self._new_cohort_id)
            try:
                project.load_data(item)
            except DefinitionError as exc:  # a dump is refused as invalid data, like any other ValueError
                raise ValueError(f"project {project.project_id}: {exc.message}") from None
            self.projects[project.project_id] = project
        self._project_ids = itertools.count(max(int(data.get("next_project_id", 1)), self._peek_project_id()))
        cohort_ids = [c for p in self.projects.values() for c in p.cohorts]
        self._next_cohort_id = max(int(data.get("next_cohort_id", 1)), max(cohort_ids, default=0) + 1)
        components = data.get("components", {})
        for name, component in self._components.items():
            if name in components:
                component.load(components[name])
            else:
                component.reset()


__all__ = ["CohortNotFound", "DefinitionError", "IngestReport", "MixpanelStore", "Project", "ProjectNotFound"]


def _same_text(expected: str, given: str) -> bool:
    """Constant-time compare on UTF-8 bytes: ``compare_digest`` raises on non-ASCII str (issue 12, a 500)."""
    return secrets.compare_digest(expected.encode("utf-8", "surrogatepass"), given.encode("utf-8", "surrogatepass"))
