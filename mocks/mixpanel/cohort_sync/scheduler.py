"""The Braze connections and cohort exports of every project, and the sync scheduler.

:class:`CohortExportRegistry` is a store component (``reset`` / ``to_dict`` / ``load``, attached to the
Mixpanel store so reset and state dump cover it) and a clock scheduler (``next_due`` / ``run_due``):
advancing the clock by an hour runs each dynamic export's four syncs, in order, each evaluated at its
own instant. Syncs under one connection run one after another (a lock per connection), whether the
clock, "run now", resume or a new export started them.

Locks: a connection's lock may be taken before the registry lock, never after it.
"""
from __future__ import annotations

import threading
import time
from contextlib import ExitStack, contextmanager
from datetime import datetime
from typing import Any, Callable, Iterator, Protocol, Sequence
from urllib.parse import urlsplit

from mocks.common.clock import Clock
from mocks.common.numbers import parse_decimal

from .errors import (BrazeUnreachable, CredentialsRefused, DynamicExportLimit, ExportStateConflict,
                     InvalidConnection, UnknownItem)
from .model import (ACTIVE, DYNAMIC, FINISHED, ONE_TIME, PAUSED, STOPPED, BrazeConnection, CohortExport, CohortInfo, Member,
                   CohortProject, CohortSnapshot, SyncRecord)
from .partner_client import BrazePartnerClient, BrazeRefused, BrazeUnavailable
from .runner import COLLECTOR_PAUSE, CohortSync, PartnerClient, SyncSettings

ClientFactory = Callable[[BrazeConnection], PartnerClient]


class ProjectDirectory(Protocol):
    """The Mixpanel store as the sync sees it (the sync never imports the mock, nor its errors)."""

    def find_project(self, project_id: Any) -> CohortProject | None:
        """The project, or None for an unknown id."""


class CohortExportRegistry:
    """Connections, exports and snapshots of all projects; runs the syncs."""

    def __init__(self, projects: ProjectDirectory, clock: Clock, settings: SyncSettings | None = None,
                 client_factory: ClientFactory | None = None, sleep: Callable[[float], None] | None = None):
        self._projects = projects
        self._clock = clock
        self.settings = settings or SyncSettings()
        self._sleep = sleep or _sleep_on(clock)
        self._client_factory = client_factory or self._http_client
        self._runner = CohortSync(self.settings)
        self._lock = threading.RLock()
        self._connection_locks: dict[int, threading.RLock] = {}
        self._clients: dict[int, PartnerClient] = {}
        self.reset()

    # -- store component ---------------------------------------------------------------------------
    def reset(self) -> None:
        with self._lock:
            for client in self._clients.values():
                client.close()
            self._clients = {}
            self._connections: dict[int, BrazeConnection] = {}
            self._exports: dict[int, CohortExport] = {}
            self._snapshots: dict[tuple[int, str], CohortSnapshot] = {}
            self._next_connection_id = 1
            self._next_export_id = 1

    def to_dict(self) -> dict[str, Any]:
        with self._lock:
            return {"next_connection_id": self._next_connection_id, "next_export_id": self._next_export_id,
                    "connections": [c.to_dict(reveal_secrets=True) for c in self._connections.values()],
                    "exports": [e.to_dict() for e in self._exports.values()],
                    "snapshots": [{"connection_id": conn, "cohort_id": cohort, **snap.to_dict()}
                                  for (conn, cohort), snap in self._snapshots.items()]}

    def load(self, data: dict[str, Any]) -> None:
        connections = [BrazeConnection.from_dict(c) for c in data.get("connections", [])]
        exports = [CohortExport.from_dict(e) for e in data.get("exports", [])]
        snapshots = {(s["connection_id"], str(s["cohort_id"])): CohortSnapshot.from_dict(s)
                     for s in data.get("snapshots", [])}
        with self._lock:
            self.reset()
            self._connections = {c.connection_id: c for c in connections}
            self._exports = {e.export_id: e for e in exports}
            self._snapshots = snapshots
            self._next_connection_id = data.get("next_connection_id", max(self._connections, default=0) + 1)
            self._next_export_id = data.get("next_export_id", max(self._exports, default=0) + 1)

    # -- connections (SEED-3) ----------------------------------------------------------------------
    def add_connection(self, project_id: Any, fields: dict[str, Any]) -> BrazeConnection:
        """Save a connection once Braze accepts its credentials; nothing is saved otherwise."""
        self._project(project_id)
        candidate = BrazeConnection(connection_id=0, project_id=project_id, created_at=self._clock.now(), **fields)
        _check_connection(candidate)
        client = self._checked_client(candidate)
        with self._lock:
            candidate.connection_id = self._next_connection_id
            self._next_connection_id += 1
            self._connections[candidate.connection_id] = candidate
            self._clients[candidate.connection_id] = client
        return candidate

    def secret_values(self) -> list[str]:
        """The Braze keys of every connection (the journal redacts them)."""
        with self._lock:
            return [k for c in self._connections.values() for k in (c.data_import_key, c.partner_api_key)]

    def connections(self, project_id: Any) -> list[BrazeConnection]:
        self._project(project_id)
        with self._lock:
            return [c for c in self._connections.values() if c.project_id == project_id]

    def connection(self, project_id: Any, connection_id: Any) -> BrazeConnection:
        return self._owned(self._connections, "connection", project_id, connection_id)

    def update_connection(self, project_id: Any, connection_id: Any, changes: dict[str, Any]) -> BrazeConnection:
        """Change a connection; new credentials are checked first and refused ones change nothing.
        Paused exports stay paused until resumed (so the user decides when to catch up)."""
        connection = self.connection(project_id, connection_id)
        with self._connection_lock(connection.connection_id):
            candidate = BrazeConnection.from_dict({**connection.to_dict(reveal_secrets=True), **changes})
            _check_connection(candidate)
            if any(getattr(candidate, name) != getattr(connection, name) for name in BrazeConnection.CREDENTIALS):
                new_client = self._checked_client(candidate)
                with self._lock:
                    self._client(connection).close()
                    self._clients[connection.connection_id] = new_client
            for name in BrazeConnection.EDITABLE:
                setattr(connection, name, getattr(candidate, name))
        return connection

    # -- exports (SEED-4) --------------------------------------------------------------------------
    def create_export(self, project_id: Any, cohort_id: Any, connection_id: Any, mode: str,
                      interval: Any = None) -> tuple[CohortExport, SyncRecord]:
        """Create an export and run its first sync at once (HOUSE-8: T0)."""
        project = self._project(project_id)
        connection = self.connection(project_id, connection_id)
        cohort = project.find_cohort(cohort_id)
        if cohort is None:
            raise UnknownItem(f"no cohort {cohort_id} in project {project_id}")
        cohort_id = cohort.cohort_id
        with self._lock:
            if mode == DYNAMIC:
                self._check_dynamic_limits(project_id, cohort_id, connection.connection_id)
            export = CohortExport(self._next_export_id, project_id, cohort_id, connection.connection_id, mode,
                                  interval or self.settings.interval, self._clock.now())
            self._next_export_id += 1
            self._exports[export.export_id] = export
        try:
            return export, self._sync(export, export.created_at, "create")
        except BaseException:  # an interrupted first sync leaves no half-made export behind
            with self._lock:
                self._exports.pop(export.export_id, None)
            raise

    def exports(self, project_id: Any) -> list[CohortExport]:
        self._project(project_id)
        with self._lock:
            return [e for e in self._exports.values() if e.project_id == project_id]

    def export(self, project_id: Any, export_id: Any) -> CohortExport:
        return self._owned(self._exports, "export", project_id, export_id)

    def snapshot_of(self, export: CohortExport) -> CohortSnapshot | None:
        return self._snapshots.get((export.connection_id, str(export.cohort_id)))

    def stop(self, project_id: Any, export_id: Any) -> CohortExport:
        export = self.export(project_id, export_id)
        with self._connection_lock(export.connection_id):
            if export.status not in (ACTIVE, PAUSED):
                raise ExportStateConflict(f"export {export.export_id} is already {export.status}")
            export.status, export.next_sync_at = STOPPED, None
        return export

    def resume(self, project_id: Any, export_id: Any) -> tuple[CohortExport, SyncRecord]:
        """Reactivate a paused or stopped export and sync it at once; the schedule grid continues."""
        export = self.export(project_id, export_id)
        with self._connection_lock(export.connection_id):
            if export.status == ACTIVE:
                raise ExportStateConflict(f"export {export.export_id} is already active")
            if export.status == FINISHED:
                raise _finished_error(export)
            if export.mode == DYNAMIC and export.status == STOPPED:
                with self._lock:
                    self._check_dynamic_limits(project_id, export.cohort_id, export.connection_id)
            export.status, export.error = ACTIVE, None
            return export, self._sync(export, self._clock.now(), "resume")

    def run_now(self, project_id: Any, export_id: Any) -> tuple[CohortExport, SyncRecord]:
        """"Run now": one sync at the current instant; the schedule is unchanged."""
        export = self.export(project_id, export_id)
        with self._connection_lock(export.connection_id):
            if export.status == FINISHED:
                raise _finished_error(export)
            if export.status != ACTIVE:
                raise ExportStateConflict(f"export {export.export_id} is {export.status}; resume it first")
            return export, self._sync(export, self._clock.now(), "run")

    # -- clock scheduler -------------------------------------------------------------------------------
    def next_due(self) -> datetime | None:
        with self._lock:
            return min((e.next_sync_at for e in self._exports.values()
                        if e.status == ACTIVE and e.next_sync_at is not None), default=None)

    def runs_until(self, until: datetime) -> int:
        """How many syncs the schedule holds up to ``until`` (a one-time export syncs once)."""
        with self._lock:
            slots = [(e.mode, e.next_sync_at, e.interval) for e in self._exports.values() if e.status == ACTIVE]
        runs = 0
        for mode, first, interval in slots:
            if first is not None and first <= until:
                runs += 1 if mode == ONE_TIME else (until - first) // interval + 1
        return runs

    def run_due(self, at: datetime) -> list[dict[str, Any]]:
        """Run every export due at or before ``at``, each at its own scheduled instant."""
        with self._lock:
            due = sorted((e for e in self._exports.values()
                          if e.status == ACTIVE and e.next_sync_at is not None and e.next_sync_at <= at),
                         key=lambda e: (e.next_sync_at, e.export_id))
        fired = []
        for export in due:
            with self._connection_lock(export.connection_id):
                scheduled = export.next_sync_at
                if export.status != ACTIVE or scheduled is None or scheduled > at:
                    continue  # stopped or run while we waited for the lock
                record = self._sync(export, scheduled, "schedule")
            fired.append({"service": "mixpanel", "job": "cohort_sync", "project_id": export.project_id,
                          "export_id": export.export_id, "cohort_id": export.cohort_id,
                          "connection_id": export.connection_id, **record.summary()})
        return fired

    @contextmanager
    def held(self, timeout: float) -> Iterator[bool]:
        """Wait (``timeout`` s in all) for the syncs in flight on every connection and keep new ones
        from starting inside; yields whether every connection settled in time. A save at shutdown
        taken here has each snapshot match what Braze was sent, so a restart sends nothing twice."""
        deadline = time.monotonic() + timeout
        with self._lock:
            locks = [self._connection_lock(cid) for cid in self._connections]
        with ExitStack() as stack:
            settled = True
            for lock in locks:
                if lock.acquire(timeout=max(deadline - time.monotonic(), 0)):
                    stack.callback(lock.release)
                else:
                    settled = False
            yield settled

    # -- internals ---------------------------------------------------------------------------------------
    def _sync(self, export: CohortExport, at: datetime, trigger: str) -> SyncRecord:
        with self._connection_lock(export.connection_id):
            connection = self._connections[export.connection_id]
            key = (export.connection_id, str(export.cohort_id))
            with self._lock:
                snapshot = self._snapshots.setdefault(key, CohortSnapshot())
            project: CohortProject = self._projects.find_project(export.project_id) or _MissingProject()
            record = self._runner.run(export, connection, snapshot, project, self._client(connection), at,
                                      self._clock.now(), trigger)
            export.settle(record)
            export.remember(record, self.settings.history_cap)
            return record

    def _project(self, project_id: Any) -> CohortProject:
        project = self._projects.find_project(project_id)
        if project is None:
            raise UnknownItem(f"no project {project_id!r}")
        return project

    def _owned(self, items: dict[int, Any], kind: str, project_id: Any, item_id: Any) -> Any:
        """A connection or export of ``project_id`` (another project's ids are not found either)."""
        self._project(project_id)
        item = _as_id(item_id)
        found = None if item is None else items.get(item)
        if found is None or found.project_id != project_id:
            raise UnknownItem(f"no {kind} {item_id} in project {project_id}")
        return found

    def _check_dynamic_limits(self, project_id: Any, cohort_id: Any, connection_id: int) -> None:
        """HOUSE-10: at most 60 live dynamic exports per project; one per cohort and connection."""
        live = [e for e in self._exports.values()
                if e.project_id == project_id and e.mode == DYNAMIC and e.status in (ACTIVE, PAUSED)]
        for other in live:
            if other.cohort_id == cohort_id and other.connection_id == connection_id:
                raise DynamicExportLimit(f"cohort {cohort_id} already has a dynamic export to connection "
                                       f"{connection_id} (export {other.export_id}); stop it first")
        if len(live) >= self.settings.max_dynamic_exports:
            raise DynamicExportLimit(f"project {project_id} already has {len(live)} dynamic exports, the most "
                                   f"allowed; stop one before adding another")

    def _checked_client(self, connection: BrazeConnection) -> PartnerClient:
        """A client for ``connection`` once Braze has accepted an empty users call with its keys."""
        client = self._client_factory(connection)
        try:
            client.check_credentials()
        except BrazeRefused as exc:
            client.close()
            raise CredentialsRefused(exc.message, braze_status=exc.status) from None
        except BrazeUnavailable as exc:
            client.close()
            raise BrazeUnreachable(f"could not reach Braze at {connection.rest_endpoint}: {exc.message}") from None
        return client

    def _client(self, connection: BrazeConnection) -> PartnerClient:
        with self._lock:
            client = self._clients.get(connection.connection_id)
            if client is None:  # after a state load
                client = self._clients[connection.connection_id] = self._client_factory(connection)
            return client

    def _http_client(self, connection: BrazeConnection) -> PartnerClient:
        return BrazePartnerClient(connection.rest_endpoint, connection.partner_api_key,
                                  connection.data_import_key, timeout=self.settings.timeout_s,
                                  retry=self.settings.retry, sleep=self._sleep, now=self._clock.now)

    def _connection_lock(self, connection_id: int) -> threading.RLock:
        with self._lock:
            return self._connection_locks.setdefault(connection_id, threading.RLock())


class _MissingProject:
    """Stands in for a project that was deleted: every cohort is gone, so the export pauses."""

    def find_cohort(self, cohort_id: Any) -> CohortInfo | None:
        return None

    def member_profiles(self, cohort_id: Any, at: datetime) -> Sequence[Member]:
        return []


def _check_connection(connection: BrazeConnection) -> None:
    """Refuse what the schema cannot see: an alias label without its property, and a REST endpoint
    that matches the URL pattern but that no HTTP client can call (a port out of range, a broken
    IPv6 literal), which would otherwise fail deep in the partner client."""
    if bool(connection.alias_label) != bool(connection.alias_property):
        raise InvalidConnection("'alias_label' and 'alias_property' go together: give both or neither")
    url = connection.rest_endpoint
    try:
        port = urlsplit(url).port
    except ValueError as exc:
        reason = str(exc) if "IPv6" in str(exc) else "its port must be a number from 1 to 65535"
        raise InvalidConnection(f"'rest_endpoint' {url} is not a callable URL: {reason}") from None
    if port == 0:
        raise InvalidConnection(f"'rest_endpoint' {url} is not a callable URL: "
                                "its port must be a number from 1 to 65535")


def _finished_error(export: CohortExport) -> ExportStateConflict:
    return ExportStateConflict(f"export {export.export_id} is a finished one-time export; "
                            f"create a new export to sync the cohort again")


def _as_id(value: Any) -> int | None:
    """Ids arrive as path strings or JSON numbers."""
    if isinstance(value, int) and not isinstance(value, bool):
        return value
    return parse_decimal(value, strip=False) if isinstance(value, str) else None


def _sleep_on(clock: Clock) -> Callable[[float], None]:
    """How a retry waits: not at all on a virtual clock (the wait is only recorded in the sync),
    for real on a real clock, and shortened by the scale on a scaled one; the garbage collector may
    run while a sync waits (see :class:`~mocks.mixpanel.cohort_sync.runner.CollectorPause`)."""
    if clock.mode == "virtual":
        return lambda seconds: None
    scale = clock.scale if clock.mode == "scaled" else 1.0

    def sleep(seconds: float) -> None:
        with COLLECTOR_PAUSE.lifted():
            time.sleep(seconds / scale)

    return sleep

