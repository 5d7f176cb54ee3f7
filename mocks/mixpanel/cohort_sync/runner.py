"""Running one sync of an export: evaluate, resolve, diff, send in batches, record.

The runner is plain Python: it is handed the project (membership and profiles), the connection,
the snapshot and a partner client, so unit tests drive it with fakes and no HTTP.
"""
from __future__ import annotations

import gc
import threading
from contextlib import contextmanager
from dataclasses import dataclass, field, fields
from datetime import datetime, timedelta
from typing import Any, Iterator, Protocol

from mocks.common.clock import parse_duration, to_iso

from .model import (FAILED, MAX_IDENTIFIERS_PER_REQUEST, PAUSED, BrazeConnection, CohortExport, CohortInfo,
                    CohortProject, CohortSnapshot, SyncRecord, mask_secret)
from .partner_client import BrazeCallError, BrazeRefused, CallReport, RetryPolicy
from .planner import SyncPlan
from .wire import cohort_changes


class PendingCall(Protocol):
    """A partner call that is encoded; ``start`` sends it, ``result`` waits for Braze's answer."""

    def start(self) -> "PendingCall": ...

    def result(self) -> CallReport: ...


class PartnerClient(Protocol):
    """What the runner needs from :class:`~mocks.mixpanel.cohort_sync.partner_client.BrazePartnerClient`."""

    def name_cohort(self, cohort_id: str, name: str, created_at: str) -> CallReport: ...

    def users_call(self, cohort_id: str, cohort_changes: list[dict[str, Any]]) -> PendingCall: ...

    def check_credentials(self) -> CallReport: ...

    def close(self) -> None: ...


@dataclass(frozen=True)
class SyncSettings:
    """Every knob of the sync, with the documented defaults (HOUSE-7 to HOUSE-10).

    ``from_config`` reads the Mixpanel app's ``EXPORTS`` config, e.g.
    ``{"interval": "1m", "max_cohort_members": 5000, "timeout_s": [1, 5], "retry_base_delay_s": 0.5}``."""

    interval: timedelta = timedelta(minutes=15)
    snapshot_max_age: timedelta = timedelta(days=3)
    max_dynamic_exports: int = 60
    max_cohort_members: int = 10_000_000
    batch_size: int = MAX_IDENTIFIERS_PER_REQUEST
    operations_cap: int = 1000
    history_cap: int = 2000
    timeout_s: tuple[float, float] = (3.05, 30.0)
    retry: RetryPolicy = field(default_factory=RetryPolicy)

    DURATIONS = ("interval", "snapshot_max_age")
    RETRY_KEYS = {"max_retries": "max_retries", "retry_base_delay_s": "base_delay_s", "retry_budget_s": "budget_s"}

    @classmethod
    def from_config(cls, config: dict[str, Any] | None) -> "SyncSettings":
        config = dict(config or {})
        retry = RetryPolicy(**{name: config.pop(key) for key, name in cls.RETRY_KEYS.items() if key in config})
        known = {f.name for f in fields(cls)} - {"retry"}
        unknown = set(config) - known
        if unknown:
            raise ValueError(f"unknown EXPORTS settings: {', '.join(sorted(unknown))}")
        for name in cls.DURATIONS:
            if isinstance(config.get(name), str):
                config[name] = parse_duration(config[name])
        if "timeout_s" in config:
            value = config["timeout_s"]
            config["timeout_s"] = (float(value), float(value)) if isinstance(value, (int, float)) else tuple(value)
        return cls(retry=retry, **config)


class CohortSync:
    """Runs syncs with one set of settings; ``run`` never raises for Braze's failures, it records them."""

    def __init__(self, settings: SyncSettings):
        self.settings = settings

    def run(self, export: CohortExport, connection: BrazeConnection, snapshot: CohortSnapshot,
            project: CohortProject, client: PartnerClient, at: datetime, ran_at: datetime,
            trigger: str) -> SyncRecord:
        """One sync of ``export`` with membership evaluated at ``at`` (its scheduled instant)."""
        record = SyncRecord(scheduled_at=at, ran_at=ran_at, trigger=trigger)
        with COLLECTOR_PAUSE:
            planned = self._plan(export, connection, snapshot, project, at, record)
            if planned is None:
                return record
            cohort, plan = planned
            try:
                self._send(str(export.cohort_id), cohort, plan, snapshot, client, record)
            except BrazeCallError as exc:
                record.result = PAUSED if isinstance(exc, BrazeRefused) else FAILED
                record.error = _keys_masked(exc.message, connection)
                _count(record, exc.report)
                return record
            except Exception as exc:  # resolving members evaluates profiles too
                return _failed(record, export, exc)
        snapshot.complete(at)
        return record

    def _plan(self, export: CohortExport, connection: BrazeConnection, snapshot: CohortSnapshot,
              project: CohortProject, at: datetime, record: SyncRecord) -> tuple[CohortInfo, SyncPlan] | None:
        """Membership at ``at``, to be resolved and diffed against the snapshot as it is sent; None
        when the export must pause (``record`` says why)."""
        cohort = project.find_cohort(export.cohort_id)
        if cohort is None:
            _refused(record, f"cohort {export.cohort_id} no longer exists in project {export.project_id}")
            return None
        try:
            members = project.member_profiles(export.cohort_id, at)
        except Exception as exc:
            _failed(record, export, exc)
            return None
        if len(members) > self.settings.max_cohort_members:
            _refused(record, f"cohort {export.cohort_id} has {len(members):,} members; at most "
                             f"{self.settings.max_cohort_members:,} can be exported to Braze")
            return None
        if export.needs_full_sync or snapshot.is_stale(at, self.settings.snapshot_max_age):
            snapshot.restart(at)
            export.needs_full_sync = False
            record.kind = "full"
        return cohort, SyncPlan(members, connection, snapshot, self.settings.batch_size)

    def _send(self, braze_cohort_id: str, cohort: Any, plan: SyncPlan, snapshot: CohortSnapshot,
              client: PartnerClient, record: SyncRecord) -> None:
        """The name first when Braze does not have the current one, then the batches, one request
        in flight at a time: Braze sees them in plan order and a fault rule hits the same batch on
        every run. While Braze works on batch k, the exporter resolves, diffs and encodes batch
        k+1, so its own work hides in Braze's time.

        The snapshot and the record are written once, at the end: all of the plan after a success,
        exactly the batches Braze accepted after a failure. Only their number is kept on the way,
        so a million changes never pile up in memory."""
        accepted = 0
        try:
            if snapshot.name_sent != cohort.name:
                _count(record, client.name_cohort(braze_cohort_id, cohort.name, to_iso(cohort.created_at)))
                snapshot.name_sent = cohort.name
                record.name_sent = True
            in_flight: PendingCall | None = None
            for batch in plan.batches():
                call = client.users_call(braze_cohort_id, cohort_changes(batch))
                if in_flight:
                    _count(record, in_flight.result())
                    accepted += 1
                in_flight = call.start()
            if in_flight:
                _count(record, in_flight.result())
                accepted += 1
        except BaseException:
            self._describe(plan, record)
            carried = plan.carried_by(accepted)
            snapshot.acknowledge(carried)
            record.count_sent(carried)
            raise
        self._describe(plan, record)
        snapshot.acknowledge_plan(plan)
        record.count_all_sent(plan)

    def _describe(self, plan: SyncPlan, record: SyncRecord) -> None:
        plan.finish()
        record.describe_plan(plan.current, plan, self.settings.operations_cap)


def _count(record: SyncRecord, report: CallReport) -> None:
    record.requests += report.requests
    record.retries.extend(attempt.to_dict() for attempt in report.attempts)


def _failed(record: SyncRecord, export: CohortExport, exc: Exception) -> SyncRecord:
    """A sync that broke on this export's own data (a profile nested too deep, a window that overflows):
    recorded as failed with the error, so the export moves to its next slot and the clock and every
    other export go on (issue 12, class 1). The snapshot keeps only what Braze accepted."""
    record.result = FAILED
    record.error = f"sync of cohort {export.cohort_id} failed: {type(exc).__name__}: {exc}"
    return record


def _refused(record: SyncRecord, message: str) -> None:
    """A sync that cannot run until someone acts: the export pauses with ``message``."""
    record.result = PAUSED
    record.error = message


class CollectorPause:
    """Suspends CPython's cyclic garbage collector while a sync runs.

    A sync makes a few million small objects without cycles (identifiers, changes), and the plan is
    made while it is sent. Allocating them triggers full collections that rescan the whole heap,
    and next to a loaded Mixpanel store the heap holds millions of profile dicts: at 1,000,000
    members the collector once took 5 s of the 8 s spent planning, and 0.5 s of a 2.5 s send.
    Reference counting still frees everything a sync drops; only cycles made meanwhile wait, and a
    sync waiting out a retry on a real clock lifts its pause meanwhile (:meth:`lifted`).
    The collector is process-wide, so pauses are counted (concurrent syncs on other connections
    nest) and it resumes when the last pause ends, if it was running to begin with."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._depth = 0
        self._was_enabled = False
        self._this_thread = threading.local()

    def __enter__(self) -> None:
        with self._lock:
            if self._depth == 0:
                self._was_enabled = gc.isenabled()
                gc.disable()
            self._depth += 1
        self._this_thread.depth = getattr(self._this_thread, "depth", 0) + 1

    def __exit__(self, *exc: Any) -> None:
        self._this_thread.depth -= 1
        with self._lock:
            self._depth -= 1
            if self._depth == 0 and self._was_enabled:
                gc.enable()

    @contextmanager
    def lifted(self) -> Iterator[None]:
        """The pauses of this thread are lifted inside (a wait allocates nothing, so the collector
        may run then); other threads' pauses stay, and outside any pause this does nothing."""
        depth = getattr(self._this_thread, "depth", 0)
        for _ in range(depth):
            self.__exit__()
        try:
            yield
        finally:
            for _ in range(depth):
                self.__enter__()


#: The one pause counter of this process (the collector it guards is process-wide too).
COLLECTOR_PAUSE = CollectorPause()


def _keys_masked(message: str, connection: BrazeConnection) -> str:
    """Braze's words with the connection's keys masked as its listing shows them: Braze may quote the
    client secret back (``Partner not enabled for client with client secret: <key>``), and the sync
    history is a log kept in the state and shown by the control plane and the dashboard."""
    for key in (connection.data_import_key, connection.partner_api_key):
        if key:
            message = message.replace(key, mask_secret(key))
    return message
