"""The state of one scenario and the target operations its steps share.

A scenario owns one Braze workspace and one Mixpanel project (fresh ids), so scenarios never see each
other's users, cohorts or exports. Everything goes through :mod:`harness.clients` over HTTP, so the
same scenario runs against the embedded mocks or a vendor's servers. Steps name users by the labels of
the scenario's tables ("alice"); the state maps them to Braze ids and back.
"""
from __future__ import annotations

import re
import uuid
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from mocks.common.clock import parse_instant

from harness.clients import BrazeClient, HarnessHTTPError, Targets
from harness.clients.created import DataImportKey, Export, Project, Workspace

PARTNER = "mixpanel"
USERS_PATH = f"/partners/{PARTNER}/cohorts/users"
NAME_PATH = f"/partners/{PARTNER}/cohorts"
IDENTIFIER_FIELDS = ("user_ids", "device_ids", "aliases")
_SPAN_PART = re.compile(r"(\d+)\s*(second|minute|hour|day|s|m|h|d)s?\b")
_UNIT_SECONDS = {"second": 1, "s": 1, "minute": 60, "m": 60, "hour": 3600, "h": 3600, "day": 86400, "d": 86400}


def parse_span(text: str) -> timedelta:
    """``"15 minutes"``, ``"1 hour"``, ``"3 days and 15 minutes"``, ``"29 days 23 hours 20 minutes"``, ``"45m"``."""
    parts = _SPAN_PART.findall(text)
    if not parts:
        raise ValueError(f"not a duration: {text!r}")
    return timedelta(seconds=sum(int(n) * _UNIT_SECONDS[unit] for n, unit in parts))


def clock_duration(span: timedelta) -> str:
    """A span in the control plane's clock syntax (one number, one unit of s, m, h, d)."""
    seconds = int(span.total_seconds())
    for unit, size in (("d", 86400), ("h", 3600), ("m", 60)):
        if seconds % size == 0:
            return f"{seconds // size}{unit}"
    return f"{seconds}s"


def split_names(text: str) -> list[str]:
    """``"alice, bob"`` -> ``["alice", "bob"]``."""
    return [name.strip() for name in text.split(",") if name.strip()]


def table_rows(datatable: list[list[str]]) -> list[dict[str, str]]:
    """A Gherkin data table as dicts keyed by its header row; cells are stripped."""
    header = [cell.strip() for cell in datatable[0]]
    return [dict(zip(header, (cell.strip() for cell in row))) for row in datatable[1:]]


def identifiers_in(changes: Any) -> list[tuple[str, str, bool]]:
    """``(field, identifier, should_remove)`` of every identifier in a ``cohort_changes`` value."""
    found: list[tuple[str, str, bool]] = []
    if not isinstance(changes, list):
        return found
    for change in changes:
        if not isinstance(change, dict):
            continue
        remove = bool(change.get("should_remove", False))
        for field in IDENTIFIER_FIELDS:
            for value in change.get(field) or []:
                name = value.get("alias_name", "") if isinstance(value, dict) else str(value)
                found.append((field, name, remove))
    return found


@dataclass(frozen=True)
class GivenCredentials:
    """A Braze receiver's credentials given on the command line (``conform --data-import-key ...``)
    instead of created through its control plane: the minimal observation surface (docs/conformance.md).
    The workspace id and REST API key are needed only by the steps that create users or observe cohorts."""

    data_import_key: str
    partner_api_key: str
    workspace_id: str | None = None
    rest_api_key: str | None = None


class ScenarioState:
    """One scenario: its tenant ids, the labels it gave users, cohorts and exports, and cleanup."""

    def __init__(self, targets: Targets, credentials: GivenCredentials | None = None):
        self.targets = targets
        self.credentials = credentials
        self.braze = targets.braze
        self.mixpanel = targets.mixpanel
        self.run_id = uuid.uuid4().hex[:10]
        self.workspace: Workspace | None = None
        self.import_keys: list[DataImportKey] = []
        self.project: Project | None = None
        self.connections: list[Any] = []
        self.cohorts: dict[str, Any] = {}  # Mixpanel cohort name -> cohort_id
        self.braze_cohorts: dict[Any, str] = {}  # Mixpanel cohort_id -> Braze cohort_id
        self.labels: dict[str, str] = {}  # label -> braze_id
        self.exports: list[dict[str, Any]] = []  # {"export_id", "cohort_id", "created_at", "mode"}
        self.fault_ids: list[str] = []
        self.segments: dict[str, str] = {}  # name -> segment_id
        self.audiences: dict[tuple[str, str], str] = {}  # ("campaign" or "Canvas", name) -> id
        self.reply: tuple[int, Any] | None = None  # the last raw reply a step kept for a Then
        self.error: HarnessHTTPError | None = None
        self.import_reply: dict[str, Any] | None = None
        self.journal_mark = 0
        self.syncs_before_resume = 0

    # -- tenants ---------------------------------------------------------------------------------
    def _workspace(self) -> Workspace:
        """The scenario's Braze workspace, created on first use."""
        if self.workspace is None:
            if self.credentials is not None:
                return self._given_workspace(self.credentials)
            self.workspace = self.braze.create_workspace(f"conformance-{self.run_id}")
        return self.workspace

    @staticmethod
    def _given_workspace(credentials: GivenCredentials) -> Workspace:
        if not (credentials.workspace_id and credentials.rest_api_key):
            raise LookupError("this step needs the receiver's workspace: give --workspace-id and --rest-api-key "
                              "with --data-import-key")
        return Workspace(reply={}, workspace_id=credentials.workspace_id, rest_api_key=credentials.rest_api_key)

    def partner_cohort(self, cohort: str) -> str:
        """The cohort id a partner step sends for the feature's ``cohort``: itself in a fresh workspace;
        with given credentials (one workspace shared by every scenario and run) made the scenario's own."""
        return cohort if self.credentials is None else f"{cohort}-{self.run_id}"
    def _project(self) -> Project:
        """The scenario's Mixpanel project, created on first use."""
        return self.project if self.project is not None else self.new_project()

    @property
    def ws(self) -> str:
        return self._workspace().workspace_id

    @property
    def rest_api_key(self) -> str:
        return self._workspace().rest_api_key

    @property
    def pid(self) -> Any:
        return self._project().project_id

    def new_project(self, retention_days: int | None = None) -> Project:
        self.project = self.mixpanel.create_project(f"conformance-{self.run_id}", retention_days)
        return self.project

    def generate_import_key(self) -> DataImportKey:
        if self.credentials is not None:  # given, not generated: the REST endpoint is the receiver's URL
            key = DataImportKey(reply={}, key=self.credentials.data_import_key, rest_endpoint=self.braze.base_url)
            self.import_keys.append(key)
            return key
        key = self.braze.create_data_import_key(self.ws, PARTNER)
        self.import_keys.append(key)
        return key

    def import_key(self, number: int = 0) -> DataImportKey:
        """Key ``number`` (1-based) of this scenario, or the newest one when ``number`` is 0."""
        if not self.import_keys:
            self.generate_import_key()
        return self.import_keys[number - 1] if number else self.import_keys[-1]

    def partner_api_key(self) -> str:
        if self.credentials is not None:
            return self.credentials.partner_api_key
        return self.braze.partner_api_key(PARTNER)

    def connect(self, key: DataImportKey | None = None, **options: Any) -> Any:
        key = key or self.import_key()
        connection_id = self.mixpanel.create_connection(self.pid, key.key, key.rest_endpoint,
                                                        partner_api_key=self.partner_api_key(), **options).connection_id
        self.connections.append(connection_id)
        return connection_id

    @property
    def connection_id(self) -> Any:
        if not self.connections:
            self.connect()
        return self.connections[0]

    # -- Braze users -----------------------------------------------------------------------------
    def create_braze_users(self, rows: list[dict[str, str]]) -> None:
        """Identified users by external_id (/users/track), alias-only users (/users/alias/new),
        anonymous users by device (the SDK control call); an alias on an identified user is added to it.
        With given credentials, only users by external_id (``/users/track``), labelled by it."""
        if self.credentials is not None:
            for row in rows:
                if row.get("device_id") or row.get("alias_name") or not row.get("external_id"):
                    raise LookupError(f"with --data-import-key, Braze users are created by external_id only: {row}")
                self.braze.users_track(self.rest_api_key, attributes=[{"external_id": row["external_id"]}])
            return
        for row in rows:
            external_id, device_id = row.get("external_id", ""), row.get("device_id", "")
            alias = {"alias_label": row.get("alias_label", ""), "alias_name": row.get("alias_name", "")}
            if device_id:
                self.labels[row["user"]] = self.braze.sdk_create_user(self.ws, device_id)
                if external_id:
                    self.labels[row["user"]] = self.braze.sdk_change_user(self.ws, device_id, external_id)["braze_id"]
            elif external_id:
                self.braze.users_track(self.rest_api_key, attributes=[{"external_id": external_id}])
            if alias["alias_name"]:
                entry = {**alias, **({"external_id": external_id} if external_id else {})}
                self.braze.users_alias_new(self.rest_api_key, [entry])
        self._label_users_by_identity(rows)

    def _label_users_by_identity(self, rows: list[dict[str, str]]) -> None:
        users = self.braze.users(self.ws)
        for row in rows:
            if row["user"] in self.labels:
                continue
            for user in users:
                if _holds(user, row):
                    self.labels[row["user"]] = user["braze_id"]
                    break
            else:
                raise LookupError(f"Braze lists no user for row {row} after creating it")

    def identify(self, device_id: str, external_id: str) -> str:
        """SDK changeUser; the label ``external_id`` now names the resulting user. Returns the outcome."""
        reply = self.braze.sdk_change_user(self.ws, device_id, external_id)
        for label, braze_id in list(self.labels.items()):
            if braze_id == reply["braze_id"]:
                del self.labels[label]
        self.labels[external_id] = reply["braze_id"]
        return reply["outcome"]

    def label_of(self, user: dict[str, Any]) -> str:
        for label, braze_id in self.labels.items():
            if braze_id == user.get("braze_id"):
                return label
        return user.get("external_id") or f"braze_id:{user.get('braze_id')}"

    def labels_of(self, users: list[dict[str, Any]]) -> list[str]:
        return sorted(self.label_of(u) for u in users)

    # -- Mixpanel --------------------------------------------------------------------------------
    @property
    def token(self) -> str:
        return self._project().token

    @property
    def service_account(self) -> dict[str, str]:
        return self._project().service_account

    def set_profiles(self, profiles: list[tuple[str, dict[str, Any]]]) -> None:
        """``$set`` each profile's properties, 2,000 profiles per /engage call."""
        updates = [{"$token": self.token, "$distinct_id": did, "$set": props} for did, props in profiles]
        for start in range(0, len(updates), 2000):
            self.mixpanel.engage(updates[start:start + 2000])

    def mixpanel_now(self) -> datetime:
        return parse_instant(self.mixpanel.get_clock()["now"])

    def event_time(self, text: str) -> int:
        """An ISO instant, or "<span> ago" on the Mixpanel clock, as epoch seconds."""
        text = text.strip()
        if text.endswith(" ago"):
            return int((self.mixpanel_now() - parse_span(text[:-4])).timestamp())
        return int(parse_instant(text).timestamp())

    def import_events(self, events: list[dict[str, Any]]) -> dict[str, Any]:
        """POST /import; keeps the reply (also a 400 reply) for the Then steps."""
        self.error = None
        try:
            self.import_reply = self.mixpanel.import_events(self.pid, self.service_account, events)
        except HarnessHTTPError as exc:
            if exc.status != 400:
                raise
            self.error, self.import_reply = exc, exc.body
        return self.import_reply

    def new_event(self, event: str, distinct_id: str, time: int) -> dict[str, Any]:
        return {"event": event, "properties": {"time": time, "distinct_id": distinct_id,
                                               "$insert_id": uuid.uuid4().hex[:32]}}

    def create_cohort(self, name: str, definition: dict[str, Any]) -> Any:
        self.cohorts[name] = self.mixpanel.create_cohort(self.pid, name, definition).cohort_id
        return self.cohorts[name]

    def cohort_id(self, name: str) -> Any:
        if name not in self.cohorts:
            raise LookupError(f"the scenario has no Mixpanel cohort named {name!r}")
        return self.cohorts[name]

    def rename_cohort(self, old: str, new: str) -> None:
        self.mixpanel.update_cohort(self.pid, self.cohort_id(old), name=new)
        self.cohorts[new] = self.cohorts.pop(old)
        self.journal_mark = len(self.braze.journal())

    # -- exports ---------------------------------------------------------------------------------
    def export(self, cohort: str, mode: str) -> Export:
        created_at = self.mixpanel_now()
        export = self.mixpanel.create_export(self.pid, self.cohort_id(cohort), self.connection_id, mode)
        self.exports.append({"export_id": export.export_id, "cohort_id": self.cohort_id(cohort),
                             "created_at": created_at, "mode": mode})
        self.remember_braze_cohort(cohort)
        return export

    @property
    def last_export(self) -> dict[str, Any]:
        if not self.exports:
            raise LookupError("the scenario has not exported a cohort yet")
        return self.exports[-1]

    def export_state(self) -> dict[str, Any]:
        return self.mixpanel.get_export(self.pid, self.last_export["export_id"])

    def syncs(self) -> list[dict[str, Any]]:
        return self.export_state()["syncs"]

    def sync_count(self) -> int:
        state = self.export_state()
        return state.get("sync_count", len(state["syncs"]))

    def sync_offsets(self) -> list[timedelta]:
        """When each sync was scheduled, relative to the export's creation."""
        created = self.last_export["created_at"]
        return [parse_instant(s["scheduled_at"]) - created for s in self.syncs()]

    def sync_at(self, offset: timedelta) -> dict[str, Any]:
        created = self.last_export["created_at"]
        for sync in self.syncs():
            if parse_instant(sync["scheduled_at"]) - created == offset:
                return sync
        raise LookupError(f"no sync was scheduled {clock_duration(offset)} after the export was created; "
                          f"syncs at {[clock_duration(o) for o in self.sync_offsets()]}")

    def advance(self, span: timedelta) -> list[dict[str, Any]]:
        return self.targets.advance(clock_duration(span))

    # -- Braze cohorts ---------------------------------------------------------------------------
    def remember_braze_cohort(self, cohort: str) -> str | None:
        """Find the Braze cohort an export of a Mixpanel cohort created (by its name) and keep its id:
        after a rename the scenario still follows the same Braze cohort_id."""
        mixpanel_id = self.cohort_id(cohort)
        if mixpanel_id in self.braze_cohorts:
            return self.braze_cohorts[mixpanel_id]
        for entry in self.braze.cohorts(self.ws):
            if entry["name"] == cohort:
                self.braze_cohorts[mixpanel_id] = entry["cohort_id"]
                return entry["cohort_id"]
        return None

    def exported_braze_cohort_id(self) -> str | None:
        """The Braze cohort_id of the last export's cohort, if Braze has it."""
        return self.braze_cohorts.get(self.last_export["cohort_id"])

    def braze_cohort_id(self, cohort: str) -> str:
        cohort_id = self.remember_braze_cohort(cohort)
        if cohort_id is None:
            known = [c["name"] for c in self.braze.cohorts(self.ws)]
            raise LookupError(f"Braze has no cohort named {cohort!r}; it has {known}")
        return cohort_id

    def braze_cohort(self, cohort_id: str) -> dict[str, Any] | None:
        return next((c for c in self.braze.cohorts(self.ws) if str(c["cohort_id"]) == str(cohort_id)), None)

    # -- what Braze received ---------------------------------------------------------------------
    def partner_requests(self, braze_cohort_id: str | None = None, since: int = 0) -> list[dict[str, Any]]:
        """Journal entries of the two partner endpoints (optionally for one cohort), oldest first."""
        entries = self.braze.journal()[since:]
        found = [e for e in entries if e["path"] in (USERS_PATH, NAME_PATH) and e["method"] == "POST"]
        if braze_cohort_id is not None:
            found = [e for e in found if isinstance(e.get("request"), dict)
                     and str(e["request"].get("cohort_id")) == str(braze_cohort_id)]
        return found

    def users_requests(self, braze_cohort_id: str | None = None) -> list[dict[str, Any]]:
        return [e for e in self.partner_requests(braze_cohort_id) if e["path"] == USERS_PATH]

    # -- faults and cleanup ----------------------------------------------------------------------
    def add_users_fault(self, **rule: Any) -> None:
        self.fault_ids.append(self.braze.add_fault(USERS_PATH, method="POST", **rule))

    def rest_endpoint_client(self, key: DataImportKey) -> BrazeClient:
        """A client of the REST endpoint a key came with (what Mixpanel is given, SEED-2.3)."""
        return BrazeClient(key.rest_endpoint, self.braze.timeout)

    def cleanup(self) -> None:
        """Stop this scenario's dynamic exports (they would keep syncing while later scenarios move
        the shared clock) and remove its fault rules (they apply to every workspace)."""
        for fault_id in self.fault_ids:
            try:
                self.braze.control("DELETE", f"/faults/{fault_id}")
            except HarnessHTTPError:
                pass  # already used up and removed, or the target keeps no such rule
        for export in self.exports:
            if export["mode"] == "dynamic":
                try:
                    self.mixpanel.stop_export(self.pid, export["export_id"])
                except HarnessHTTPError:
                    pass  # already stopped, or refused at creation


def _holds(user: dict[str, Any], row: dict[str, str]) -> bool:
    """Whether a Braze user (control-plane listing) is the one a table row described."""
    if row.get("external_id"):
        return user.get("external_id") == row["external_id"]
    if row.get("alias_name"):
        return any(a.get("alias_name") == row["alias_name"] and a.get("alias_label") == row.get("alias_label")
                   for a in user.get("aliases") or [])
    return False
