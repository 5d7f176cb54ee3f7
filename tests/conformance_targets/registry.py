"""The broken targets: one realistic bug each, as a patch of one function of a mock.

Each target runs in its own process (``python -m tests.conformance_targets NAME``), so a patch of
a module's function is that process's whole world and never leaks into another target.
``rules`` are the rules the full suite must report FAIL for it, and no other.
"""
from __future__ import annotations

import importlib
from dataclasses import dataclass
from typing import Any, Callable

from flask import Flask

BRAZE, MIXPANEL = "braze", "mixpanel"


@dataclass(frozen=True)
class BrokenTarget:
    """One mock with one bug: its service, what the bug is, and the rules it breaks."""

    name: str
    service: str
    bug: str
    rules: frozenset[str]
    patch: Callable[[], None]
    config: dict[str, Any] | None = None

    @property
    def url_option(self) -> str:
        return f"--{self.service}-url"

    def build(self) -> Flask:
        """Apply the bug and create the mock app (call once per process)."""
        self.patch()
        if self.service == BRAZE:
            from mocks.braze import create_app as create_braze

            return create_braze(self.config)
        from mocks.mixpanel import create_app as create_mixpanel

        return create_mixpanel(self.config)


TARGETS: dict[str, BrokenTarget] = {}


def target(name: str, service: str, rules: str, bug: str,
           config: dict[str, Any] | None = None) -> Callable[[Callable[[], None]], Callable[[], None]]:
    """Register the decorated patch as the broken target ``name`` (``rules`` space-separated)."""
    def register(patch: Callable[[], None]) -> Callable[[], None]:
        TARGETS[name] = BrokenTarget(name, service, bug, frozenset(rules.split()), patch, config)
        return patch
    return register


def no_patch() -> None:
    """The bug is in the target's settings alone."""


def _constant_target(name: str, service: str, rules: str, bug: str, module: str, attribute: str,
                     value: Any) -> None:
    """A target whose bug is one module-level constant or function of a mock set to ``value``."""
    def patch() -> None:
        setattr(importlib.import_module(module), attribute, value)
    target(name, service, rules, bug)(patch)


def _config_target(name: str, service: str, rules: str, bug: str, config: dict[str, Any]) -> None:
    target(name, service, rules, bug, config)(no_patch)


# == Braze receivers ==================================================================================
def _patch_matching(kind: str, match: Callable[[Any, list[Any]], Any]) -> None:
    """Replace how one identifier kind of a cohort change is matched."""
    from mocks.braze import cohorts

    original = cohorts.match_identifiers

    def match_identifiers(directory: Any, which: str, values: list[Any]) -> Any:
        return match(directory, values) if which == kind else original(directory, which, values)

    setattr(cohorts, "match_identifiers", match_identifiers)


@target("braze-matches-identified-devices", BRAZE,
        "SEED-6.3 BRAZE-cohort-matching",
        "matches the device id of a user that is now identified")
def braze_matches_identified_devices() -> None:
    from mocks.braze import cohorts

    original = cohorts.match_identifiers

    def match_identifiers(directory: Any, kind: str, values: list[Any]) -> Any:
        matches = original(directory, kind, values)
        matches.outcomes = [cohorts.MATCHED if o == cohorts.DEVICE_OF_IDENTIFIED_USER else o
                            for o in matches.outcomes]
        return matches

    setattr(cohorts, "match_identifiers", match_identifiers)


@target("braze-logs-identified-devices-as-unknown", BRAZE,
        "SEED-6.3 BRAZE-cohort-matching",
        "logs the device of an identified user as unknown_user instead of device_of_identified_user")
def braze_logs_identified_devices_as_unknown() -> None:
    from mocks.braze import cohorts

    original = cohorts.match_identifiers

    def match_identifiers(directory: Any, kind: str, values: list[Any]) -> Any:
        matches = original(directory, kind, values)
        matches.outcomes = [cohorts.UNKNOWN_USER if o == cohorts.DEVICE_OF_IDENTIFIED_USER else o
                            for o in matches.outcomes]
        return matches

    setattr(cohorts, "match_identifiers", match_identifiers)


@target("braze-alias-name-any-label", BRAZE,
        "SEED-6.1 BRAZE-cohort-matching",
        "matches an alias by its name whatever its label")
def braze_alias_name_any_label() -> None:
    from mocks.braze import cohorts

    def match(directory: Any, values: list[Any]) -> Any:
        by_name = {name: braze_id for (_, name), braze_id in directory.by_alias.items()}
        braze_ids = [by_name.get(v["alias_name"]) for v in values]
        return cohorts.Matches(cohorts.KIND_ALIAS, [f"{v['alias_label']}:{v['alias_name']}" for v in values],
                               [cohorts.UNKNOWN_USER if b is None else cohorts.MATCHED for b in braze_ids], braze_ids)

    _patch_matching(cohorts.KIND_ALIAS, match)


@target("braze-external-id-case-insensitive", BRAZE,
        "SEED-6.1 BRAZE-cohort-matching",
        "matches external ids case-insensitively")
def braze_external_id_case_insensitive() -> None:
    from mocks.braze import cohorts

    def match(directory: Any, values: list[Any]) -> Any:
        folded = {external_id.casefold(): b for external_id, b in directory.by_external_id.items()}
        braze_ids = [folded.get(v.casefold()) for v in values]
        return cohorts.Matches(cohorts.KIND_EXTERNAL_ID, values,
                               [cohorts.UNKNOWN_USER if b is None else cohorts.MATCHED for b in braze_ids], braze_ids)

    _patch_matching(cohorts.KIND_EXTERNAL_ID, match)


@target("braze-creates-unknown-users", BRAZE,
        "SEED-1.1 SEED-6.1 SEED-6.2 BRAZE-cohort-matching BRAZE-cohort-never-creates-users "
        "BRAZE-data-points HOUSE-4",
        "creates a user for an external id it does not know, instead of ignoring it")
def braze_creates_unknown_users() -> None:
    from mocks.braze import cohorts

    def match(directory: Any, values: list[Any]) -> Any:
        braze_ids = [(directory.by_external(v) or directory.create(external_id=v)).braze_id for v in values]
        return cohorts.Matches(cohorts.KIND_EXTERNAL_ID, values, [cohorts.MATCHED] * len(values), braze_ids)

    _patch_matching(cohorts.KIND_EXTERNAL_ID, match)


@target("braze-size-per-change-object", BRAZE,
        "BRAZE-partner-limits HOUSE-2",
        "counts the 1,000-identifier limit per change object rather than per request")
def braze_size_per_change_object() -> None:
    from mocks.braze import api

    def check_size(body: dict[str, Any]) -> None:
        for change in body["cohort_changes"]:
            if sum(len(change.get(f) or ()) for f in ("user_ids", "device_ids", "aliases")) > 1000:
                raise api.braze_error(400, api.TOO_MANY_IDENTIFIERS)

    setattr(api, "_check_size", check_size)


@target("braze-size-before-credentials", BRAZE,
        "BRAZE-partner-errors BRAZE-partner-limits HOUSE-2",
        "checks the size limit before the partner key and the client secret")
def braze_size_before_credentials() -> None:
    from mocks.braze import api

    original = api._accept_partner_call

    def accept(partner: str, schema: str, check: Callable[[dict[str, Any]], None]) -> Any:
        if schema == "partner_cohort_users":
            body = api._read_body(schema)
            changes = body.get("cohort_changes")
            if isinstance(changes, list) and all(isinstance(c, dict) for c in changes):
                check(body)
        return original(partner, schema, check)

    setattr(api, "_accept_partner_call", accept)


_constant_target("braze-limit-rejects-exactly-1000", BRAZE,
                 "BRAZE-partner-limits HOUSE-2 HOUSE-7",
                 "refuses a request of exactly 1,000 identifiers (off by one)",
                 "mocks.braze.api", "MAX_COHORT_IDENTIFIERS", 999)


_constant_target("braze-limit-accepts-1001", BRAZE,
                 "BRAZE-partner-limits HOUSE-2",
                 "accepts 1,001 identifiers in one request",
                 "mocks.braze.api", "MAX_COHORT_IDENTIFIERS", 1001)


@target("braze-answers-200", BRAZE,
        "SEED-2.1 SEED-2.2 SEED-2.3 SEED-3.1 SEED-3.2 BRAZE-cohort-matching BRAZE-cohort-name "
        "BRAZE-data-points BRAZE-partner-errors BRAZE-partner-limits BRAZE-rate-limit HOUSE-1 "
        "HOUSE-2 HOUSE-3 HOUSE-4 HOUSE-9",
        "answers 200 instead of 201 on partner success")
def braze_answers_200() -> None:
    from mocks.braze import api

    original = api.json_reply

    def json_reply(body: Any, status: int = 200, headers: dict[str, str] | None = None) -> Any:
        return original(body, 200 if status == 201 else status, headers)

    setattr(api, "json_reply", json_reply)


_constant_target("braze-partner-key-message", BRAZE,
                 "BRAZE-partner-errors BRAZE-partner-limits HOUSE-2",
                 "words the wrong-partner-key error differently from Braze",
                 "mocks.braze.api", "INVALID_PARTNER_KEY", "Invalid partner key")


@target("braze-secret-before-partner-key", BRAZE,
        "BRAZE-partner-errors HOUSE-2",
        "checks the client secret before the partner key")
def braze_secret_before_partner_key() -> None:
    from mocks.braze import api

    original = api._authorize_partner

    def authorize(partner: str, body: dict[str, Any]) -> Any:
        secret = body.get("client_secret")
        if not (isinstance(secret, str) and api._store().resolve_import_key(secret)):
            raise api.braze_error(401, api.INVALID_CLIENT_SECRET)
        return original(partner, body)

    setattr(api, "_authorize_partner", authorize)


_constant_target("braze-created-at-unchecked", BRAZE,
                 "BRAZE-partner-errors HOUSE-2",
                 "accepts any created_at on the name endpoint",
                 "mocks.braze.api", "_check_created_at", lambda body: None)


@target("braze-invalidated-key-accepted", BRAZE,
        "SEED-2.2 SEED-3.2 BRAZE-partner-errors MIXPANEL-sync-status HOUSE-9",
        "still accepts a data import key after it was invalidated")
def braze_invalidated_key_accepted() -> None:
    from mocks.braze.store import BrazeStore

    def resolve_import_key(self: Any, key: str) -> Any:
        workspace_id = self._import_keys.get(key)
        if workspace_id is None:
            return None
        workspace = self.workspaces[workspace_id]
        return workspace, workspace.data_import_keys[key]

    setattr(BrazeStore, "resolve_import_key", resolve_import_key)


@target("braze-unnamed-cohort-dropped", BRAZE,
        "BRAZE-cohort-matching BRAZE-cohort-name BRAZE-data-points HOUSE-2 HOUSE-3 HOUSE-4",
        "ignores a users call for a cohort that was never named")
def braze_unnamed_cohort_dropped() -> None:
    from mocks.braze.cohorts import ChangeSummary, CohortBook

    original = CohortBook.apply_changes

    def apply_changes(self: Any, partner: str, cohort_id: str, changes: Any, now: str) -> Any:
        if self.get(partner, cohort_id) is None:
            return ChangeSummary()
        return original(self, partner, cohort_id, changes, now)

    setattr(CohortBook, "apply_changes", apply_changes)


@target("braze-rename-clears-members", BRAZE,
        "SEED-5.2 BRAZE-cohort-name BRAZE-segment-filter HOUSE-3 HOUSE-7",
        "empties the cohort when the name endpoint renames it")
def braze_rename_clears_members() -> None:
    from mocks.braze.cohorts import CohortBook

    original = CohortBook.name

    def name(self: Any, partner: str, cohort_id: str, new_name: str, created_at: str) -> Any:
        cohort = original(self, partner, cohort_id, new_name, created_at)
        cohort.members.clear()
        return cohort

    setattr(CohortBook, "name", name)


@target("braze-rename-ignored", BRAZE,
        "SEED-5.2 BRAZE-cohort-name BRAZE-segment-filter HOUSE-7",
        "keeps a cohort's first name when the name endpoint is called again")
def braze_rename_ignored() -> None:
    from mocks.braze.cohorts import CohortBook

    original = CohortBook.name

    def name(self: Any, partner: str, cohort_id: str, new_name: str, created_at: str) -> Any:
        cohort = self.get(partner, cohort_id)
        old = cohort.name if cohort is not None and cohort.named else None
        cohort = original(self, partner, cohort_id, new_name, created_at)
        cohort.name = old or cohort.name
        return cohort

    setattr(CohortBook, "name", name)


@target("braze-removes-ignored", BRAZE,
        "SEED-4.3 SEED-5.2 BRAZE-cohort-matching MIXPANEL-cohort-time-window "
        "MIXPANEL-one-time-export HOUSE-2 HOUSE-5 HOUSE-7 HOUSE-8 HOUSE-9 HOUSE-11",
        "ignores should_remove: a remove leaves the user in the cohort")
def braze_removes_ignored() -> None:
    from mocks.braze.cohorts import REMOVE, PartnerCohort

    original = PartnerCohort.apply

    def apply(self: Any, operation: str, matches: Any, at: str, summary: Any) -> None:
        if operation == REMOVE:
            matches = type(matches)(matches.kind, matches.identifiers, matches.outcomes, [None] * len(matches))
        original(self, operation, matches, at, summary)

    setattr(PartnerCohort, "apply", apply)


@target("braze-charges-unmatched", BRAZE,
        "SEED-1.1 BRAZE-data-points HOUSE-4",
        "charges a data point for every identifier, matched or not")
def braze_charges_unmatched() -> None:
    from mocks.braze.store import Workspace, cohort_import_source

    def apply_cohort_changes(self: Any, partner: str, cohort_id: str, changes: Any) -> Any:
        summary = self.cohorts.apply_changes(partner, cohort_id, changes, self.now())
        self.charge(cohort_import_source(partner), summary.identifiers)
        return summary

    setattr(Workspace, "apply_cohort_changes", apply_cohort_changes)


@target("braze-charges-membership-changes", BRAZE,
        "BRAZE-data-points HOUSE-4",
        "charges only identifiers that changed membership, not every matched one")
def braze_charges_membership_changes() -> None:
    from mocks.braze.store import Workspace, cohort_import_source

    def apply_cohort_changes(self: Any, partner: str, cohort_id: str, changes: Any) -> Any:
        summary = self.cohorts.apply_changes(partner, cohort_id, changes, self.now())
        self.charge(cohort_import_source(partner), summary.added + summary.removed)
        return summary

    setattr(Workspace, "apply_cohort_changes", apply_cohort_changes)


@target("braze-exclude-filter-includes", BRAZE,
        "SEED-5.1 BRAZE-segment-filter",
        "treats the Mixpanel_Cohorts excludes filter as includes")
def braze_exclude_filter_includes() -> None:
    from dataclasses import replace

    from mocks.braze import audiences, store

    original = audiences.segment_members

    def segment_members(directory: Any, cohorts: Any, segment: Any) -> Any:
        filters = [replace(f, operator=audiences.INCLUDES) for f in segment.filters]
        return original(directory, cohorts, replace(segment, filters=filters))

    setattr(store, "segment_members", segment_members)


# == Mixpanel exporters ===============================================================================
@target("mixpanel-keeps-pre-2010-events", MIXPANEL,
        "SEED-1.2 MIXPANEL-import HOUSE-5",
        "keeps events timed before 2010 (the rolling retention still works)")
def mixpanel_keeps_pre_2010_events() -> None:
    from mocks.mixpanel import ingest, store

    original = store.retention_cutoff_ms

    def retention_cutoff_ms(now_ms: int, retention_days: int | None) -> int:
        return ingest.TIME_FLOOR_MS if retention_days is None else original(now_ms, retention_days)

    setattr(store, "retention_cutoff_ms", retention_cutoff_ms)


_constant_target("mixpanel-accepts-1970", MIXPANEL,
                 "MIXPANEL-import HOUSE-5",
                 "accepts event times before 1971",
                 "mocks.mixpanel.ingest", "TIME_FLOOR_MS", 0)


@target("mixpanel-retention-on-arrival", MIXPANEL,
        "HOUSE-5",
        "applies the rolling retention only when events arrive: aged-out events still make members")
def mixpanel_retention_on_arrival() -> None:
    from mocks.mixpanel import store

    original = store.ProjectAt.__init__

    def init(self: Any, project: Any, at_ms: int) -> None:
        original(self, project, at_ms)
        self.start_ms = store.retention_cutoff_ms(at_ms, None)

    setattr(store.ProjectAt, "__init__", init)


@target("mixpanel-fixed-alias-label", MIXPANEL,
        "SEED-6.1 BRAZE-cohort-matching HOUSE-6",
        "sends every alias with the label mixpanel_id, whatever the connection says")
def mixpanel_fixed_alias_label() -> None:
    from mocks.mixpanel.cohort_sync import model

    original = model.BrazeConnection.identifier_for

    def identifier_for(self: Any, distinct_id: str, properties: Any) -> Any:
        found = original(self, distinct_id, properties)
        if found is not None and found.kind == model.ALIAS:
            return model.Identifier(model.ALIAS, found.value, "mixpanel_id")
        return found

    setattr(model.BrazeConnection, "identifier_for", identifier_for)


@target("mixpanel-device-for-identified", MIXPANEL,
        "MIXPANEL-cohort-sync-matching HOUSE-6",
        "sends the device id of a profile that has been identified")
def mixpanel_device_for_identified() -> None:
    from mocks.mixpanel.cohort_sync import model

    original = model.BrazeConnection.identifier_for

    def identifier_for(self: Any, distinct_id: str, properties: Any) -> Any:
        return original(self, distinct_id if distinct_id.startswith(model.ANONYMOUS_PREFIX)
                        else model.ANONYMOUS_PREFIX + distinct_id, properties)

    setattr(model.BrazeConnection, "identifier_for", identifier_for)


@target("mixpanel-sends-distinct-id-fallback", MIXPANEL,
        "MIXPANEL-cohort-sync-matching HOUSE-6",
        "sends a member without any partner id by its distinct_id instead of skipping it")
def mixpanel_sends_distinct_id_fallback() -> None:
    from mocks.mixpanel.cohort_sync import model

    original = model.BrazeConnection.identifier_for

    def identifier_for(self: Any, distinct_id: str, properties: Any) -> Any:
        return original(self, distinct_id, properties) or model.external_id_identifier(distinct_id)

    setattr(model.BrazeConnection, "identifier_for", identifier_for)


@target("mixpanel-resume-waits-for-slot", MIXPANEL,
        "SEED-4.3 MIXPANEL-sync-status",
        "resume reactivates the export but waits for the next slot instead of syncing at once")
def mixpanel_resume_waits_for_slot() -> None:
    from mocks.mixpanel.cohort_sync import model, scheduler

    def resume(self: Any, project_id: Any, export_id: Any) -> Any:
        export = self.export(project_id, export_id)
        with self._connection_lock(export.connection_id):
            if export.status == model.ACTIVE:
                raise scheduler.ExportStateConflict(f"export {export.export_id} is already active")
            export.status, export.error = model.ACTIVE, None
            export.next_sync_at = export.next_slot_after(self._clock.now())
            return export, model.SyncRecord(self._clock.now(), self._clock.now(), "resume")

    setattr(scheduler.CohortExportRegistry, "resume", resume)


@target("mixpanel-run-now-moves-grid", MIXPANEL,
        "SEED-4.3 MIXPANEL-sync-status",
        "\"run now\" restarts the 15-minute grid from the moment it ran")
def mixpanel_run_now_moves_grid() -> None:
    from mocks.mixpanel.cohort_sync import scheduler

    original = scheduler.CohortExportRegistry.run_now

    def run_now(self: Any, project_id: Any, export_id: Any) -> Any:
        export, record = original(self, project_id, export_id)
        if export.next_sync_at is not None:
            export.next_sync_at = record.scheduled_at + export.interval
        return export, record

    setattr(scheduler.CohortExportRegistry, "run_now", run_now)


@target("mixpanel-first-sync-at-first-slot", MIXPANEL,
        "SEED-1.1 SEED-2.2 SEED-4.2 SEED-4.3 SEED-5.1 SEED-5.2 SEED-5.3 BRAZE-cohort-name "
        "BRAZE-rate-limit BRAZE-segment-filter MIXPANEL-cohort-time-window MIXPANEL-sync-status "
        "HOUSE-4 HOUSE-7 HOUSE-8 HOUSE-9",
        "a dynamic export's first sync waits for the first 15-minute slot instead of running at creation")
def mixpanel_first_sync_at_first_slot() -> None:
    from mocks.mixpanel.cohort_sync import model, scheduler

    original = scheduler.CohortExportRegistry._sync

    def sync(self: Any, export: Any, at: Any, trigger: str) -> Any:
        if trigger == "create" and export.mode == model.DYNAMIC:
            export.next_sync_at = export.next_slot_after(at)
            return model.SyncRecord(at, at, trigger)
        return original(self, export, at, trigger)

    setattr(scheduler.CohortExportRegistry, "_sync", sync)


@target("mixpanel-one-time-keeps-syncing", MIXPANEL,
        "SEED-4.1 SEED-4.2 MIXPANEL-one-time-export",
        "a one-time export stays active and keeps syncing every 15 minutes")
def mixpanel_one_time_keeps_syncing() -> None:
    from mocks.mixpanel.cohort_sync import model

    original = model.CohortExport.settle

    def settle(self: Any, record: Any) -> None:
        original(self, record)
        if self.status == model.FINISHED:
            self.status, self.next_sync_at = model.ACTIVE, self.next_slot_after(record.scheduled_at)

    setattr(model.CohortExport, "settle", settle)


@target("mixpanel-full-sync-forgets-removals", MIXPANEL,
        "MIXPANEL-one-time-export HOUSE-9 HOUSE-11",
        "a full sync forgets what Braze held, so members who left are never removed")
def mixpanel_full_sync_forgets_removals() -> None:
    from mocks.mixpanel.cohort_sync import model

    def restart(self: Any, at: Any) -> None:
        self.acknowledged, self.pending_removal = {}, {}
        self.baseline_at, self.name_sent = at, None

    setattr(model.CohortSnapshot, "restart", restart)


@target("mixpanel-always-full-sync", MIXPANEL,
        "SEED-4.3 MIXPANEL-cohort-time-window HOUSE-4 HOUSE-7 HOUSE-8 HOUSE-9",
        "every sync sends every member again instead of the changes since the last one")
def mixpanel_always_full_sync() -> None:
    from mocks.mixpanel.cohort_sync import runner

    original = runner.CohortSync._plan

    def plan(self: Any, export: Any, *args: Any) -> Any:
        export.needs_full_sync = True
        return original(self, export, *args)

    setattr(runner.CohortSync, "_plan", plan)


@target("mixpanel-name-once", MIXPANEL,
        "SEED-5.2 BRAZE-cohort-name BRAZE-segment-filter HOUSE-7",
        "names each cohort once per connection: a rename never reaches Braze")
def mixpanel_name_once() -> None:
    from mocks.mixpanel.cohort_sync import partner_client

    original = partner_client.BrazePartnerClient.name_cohort

    def name_cohort(self: Any, cohort_id: str, name: str, created_at: str) -> Any:
        named = self.__dict__.setdefault("named_cohorts", set())
        if cohort_id in named:
            return partner_client.CallReport()
        named.add(cohort_id)
        return original(self, cohort_id, name, created_at)

    setattr(partner_client.BrazePartnerClient, "name_cohort", name_cohort)


@target("mixpanel-failed-sync-acknowledged", MIXPANEL,
        "SEED-2.2 MIXPANEL-sync-status HOUSE-9",
        "a sync that failed after its retries is remembered as delivered: its changes are lost")
def mixpanel_failed_sync_acknowledged() -> None:
    from mocks.mixpanel.cohort_sync import planner

    setattr(planner.SyncPlan, "carried_by", lambda self, acknowledged: self.changes)


_constant_target("mixpanel-ignores-retry-after", MIXPANEL,
                 "BRAZE-rate-limit HOUSE-9",
                 "ignores Retry-After: waits its own backoff only",
                 "mocks.mixpanel.cohort_sync.partner_client", "retry_after_seconds", lambda value, now: None)


@target("mixpanel-retry-after-replaces-backoff", MIXPANEL,
        "BRAZE-rate-limit HOUSE-9",
        "waits exactly the Retry-After when there is one, even when the backoff is longer")
def mixpanel_retry_after_replaces_backoff() -> None:
    from mocks.mixpanel.cohort_sync import partner_client

    original = partner_client.BrazePartnerClient.next_wait

    def next_wait(self: Any, retries_done: int, retry_after: float | None, waited: float) -> float | None:
        wait = original(self, retries_done, retry_after, waited)
        return retry_after if wait is not None and retry_after is not None else wait

    setattr(partner_client.BrazePartnerClient, "next_wait", next_wait)


@target("mixpanel-retries-without-backoff", MIXPANEL,
        "BRAZE-rate-limit HOUSE-9",
        "retries after 1 s every time, no doubling")
def mixpanel_retries_without_backoff() -> None:
    from mocks.mixpanel.cohort_sync import partner_client

    setattr(partner_client.RetryPolicy, "backoff", lambda self, retry_number: self.base_delay_s)


@target("mixpanel-dropped-connection-fatal", MIXPANEL,
        "HOUSE-9",
        "gives up on a dropped connection instead of retrying it")
def mixpanel_dropped_connection_fatal() -> None:
    from mocks.mixpanel.cohort_sync import partner_client

    original = partner_client.PartnerCall._outcome

    def outcome(self: Any) -> Any:
        reason, retry_after = original(self)
        if reason is not None and not reason.startswith("HTTP "):
            raise partner_client.BrazeUnavailable(f"connection lost: {reason}", self.report)
        return reason, retry_after

    setattr(partner_client.PartnerCall, "_outcome", outcome)


_constant_target("mixpanel-429-pauses", MIXPANEL,
                 "BRAZE-rate-limit HOUSE-9",
                 "pauses the export on 429 instead of retrying",
                 "mocks.mixpanel.cohort_sync.partner_client", "REFUSING_STATUSES",
                 frozenset({400, 401, 403, 404, 429}))


@target("mixpanel-retries-4xx", MIXPANEL,
        "MIXPANEL-sync-status HOUSE-9",
        "retries 400, 403 and 404 instead of pausing")
def mixpanel_retries_4xx() -> None:
    from mocks.mixpanel.cohort_sync import partner_client

    setattr(partner_client, "REFUSING_STATUSES", frozenset({401}))
    setattr(partner_client, "RETRYABLE_STATUSES", frozenset({400, 403, 404, 408, 423, 425, 429}))


@target("mixpanel-connection-unchecked", MIXPANEL,
        "SEED-2.3 SEED-3.1 SEED-3.2 BRAZE-partner-errors",
        "saves a connection without checking its credentials with Braze")
def mixpanel_connection_unchecked() -> None:
    from mocks.mixpanel.cohort_sync import scheduler

    setattr(scheduler.CohortExportRegistry, "_checked_client",
            lambda self, connection: self._client_factory(connection))


_config_target("mixpanel-batches-of-2000", MIXPANEL,
               "BRAZE-partner-limits HOUSE-7",
               "sends up to 2,000 identifiers per request",
               {"EXPORTS": {"batch_size": 2000}})
_config_target("mixpanel-three-retries", MIXPANEL,
               "HOUSE-9",
               "gives up after 3 retries instead of 5",
               {"EXPORTS": {"max_retries": 3}})
_config_target("mixpanel-stale-snapshot-kept", MIXPANEL,
               "HOUSE-9",
               "never forces a full sync, however old the snapshot",
               {"EXPORTS": {"snapshot_max_age": "365d"}})
_config_target("mixpanel-every-30-minutes", MIXPANEL,
               "SEED-2.2 SEED-4.2 SEED-4.3 SEED-5.2 BRAZE-cohort-name BRAZE-rate-limit "
               "BRAZE-segment-filter MIXPANEL-cohort-time-window MIXPANEL-sync-status HOUSE-4 HOUSE-7 "
               "HOUSE-8 HOUSE-9",
               "syncs every 30 minutes instead of 15",
               {"EXPORTS": {"interval": "30m"}})
_config_target("mixpanel-no-dynamic-export-limit", MIXPANEL,
               "HOUSE-10",
               "accepts more than 60 dynamic exports in a project",
               {"EXPORTS": {"max_dynamic_exports": 1000}})



# == Incomplete targets (for the preflight): a mock whose framework does not know some paths ===========
class _WithoutPaths:
    """WSGI middleware: paths matching ``pattern`` answer a framework's HTML 404, as unbuilt routes do."""

    def __init__(self, app: Flask, pattern: str):
        import re

        self.app, self.pattern = app, re.compile(pattern)

    def __call__(self, environ: dict[str, Any], start_response: Callable[..., Any]) -> Any:
        if self.pattern.search(environ.get("PATH_INFO", "")):
            start_response("404 NOT FOUND", [("Content-Type", "text/html")])
            return [b"<!doctype html><title>404 Not Found</title><h1>Not Found</h1>"]
        return self.app(environ, start_response)


#: name -> (service, regex of the paths the target lacks)
INCOMPLETE: dict[str, tuple[str, str]] = {
    "braze-without-match-log": (BRAZE, r"/match_log$"),
    "braze-without-faults-and-sdk": (BRAZE, r"^/_harness/(faults|workspaces/[^/]+/sdk/)"),
}


def incomplete_app(name: str) -> Any:
    service, pattern = INCOMPLETE[name]
    return _WithoutPaths(BrokenTarget(name, service, "", frozenset(), no_patch).build(), pattern)


#: A Braze receiver that offers only its vendor API and the minimal observation surface of the
#: partner-API scenarios (docs/conformance.md): no workspace, key, partner, journal or clock call.
MINIMAL_RECEIVER = "braze-minimal-receiver"
MINIMAL_SURFACE = (r"^(?!/partners/mixpanel/cohorts(/users)?$|/users/track$|/_harness/health$"
                   r"|/_harness/workspaces/[^/]+/cohorts(/mixpanel/[^/]+/(members|match_log))?$)")


def minimal_receiver() -> tuple[Any, dict[str, str]]:
    """The app and the credentials it was set up with (through its control plane, before it is hidden)."""
    from mocks.braze import create_app

    app = create_app()
    client = app.test_client()
    workspace = client.post("/_harness/workspaces", json={"name": "vendor"}).get_json()
    key = client.post(f"/_harness/workspaces/{workspace['workspace_id']}/data_import_keys", json={}).get_json()
    partners = {p["name"]: p["partner_api_key"] for p in client.get("/_harness/partners").get_json()["partners"]}
    credentials = {"workspace_id": workspace["workspace_id"], "rest_api_key": workspace["rest_api_key"],
                   "data_import_key": key["key"], "partner_api_key": partners["mixpanel"]}
    return _WithoutPaths(app, MINIMAL_SURFACE), credentials
