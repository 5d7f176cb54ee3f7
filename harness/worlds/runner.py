"""Drive a world through two targets over HTTP: load it, run the four steps of the seed, observe.

Loading uses the vendors' own endpoints wherever they exist (``/users/track``, ``/users/alias/new``,
``/users/identify``, ``/import``, ``/engage``) and the control plane otherwise (workspaces, SDK
devices, projects, cohorts, connections, exports). What each step did is told to a
:class:`Reporter`, so the CLI can print it live and tests can stay quiet.
"""
from __future__ import annotations

import hashlib
from contextlib import contextmanager
from dataclasses import dataclass, field
from typing import Any, Callable, Iterator

from harness.clients import HarnessHTTPError, Targets
from harness.clients.created import Project

from .files import DEFAULT_START, creation_phases
from .rules import event_seconds

TRACK_BATCH = 75       # /users/track objects per request
ALIAS_BATCH = 50       # /users/alias/new and /users/identify per request
IMPORT_BATCH = 2000    # /import events per request
ENGAGE_BATCH = 2000    # /engage updates per request
SDK_BATCH = 1000       # sdk/users and sdk/change_user entries per control call (batch routes)
COHORT_IMPORT_SOURCE = "cohort_import:mixpanel"


class Reporter:
    """Receives what a run does; the base class stays silent."""

    def step(self, title: str, detail: str = "") -> None:
        """One action of the flow (a seed step, a change between syncs)."""

    def checkpoint(self, index: int, observed: dict[str, Any]) -> None:
        """What the targets show after the first sync (index 0) or after step ``index``."""

    @contextmanager
    def progress(self, label: str, total: int) -> Iterator[Callable[[int], None]]:
        """Long work: yields a function to call with the number of items just done."""
        yield lambda done: None


@dataclass
class RunResult:
    workspace_id: str = ""
    project_id: Any = None
    cohort_id: Any = None
    braze_cohort_id: str | None = None
    export_id: Any = None
    checkpoints: list[dict[str, Any]] = field(default_factory=list)
    segment_id: str | None = None
    campaign_id: str | None = None
    segment_members: list[str] = field(default_factory=list)
    campaign_count: int = 0

    def to_dict(self) -> dict[str, Any]:
        return dict(self.__dict__)


def handle(user: dict[str, Any]) -> str:
    """A Braze user as expectations name it: external_id, ``alias:<label>:<name>`` or ``device:<id>``."""
    if user.get("external_id"):
        return user["external_id"]
    aliases = user.get("aliases") or {}
    if isinstance(aliases, list):
        aliases = {a["alias_label"]: a["alias_name"] for a in aliases}
    if aliases:
        label = sorted(aliases)[0]
        return f"alias:{label}:{aliases[label]}"
    devices = user.get("device_ids") or []
    return f"device:{devices[0]}" if devices else f"braze:{user.get('braze_id')}"


def import_ready(events: list[dict[str, Any]], salt: str) -> list[dict[str, Any]]:
    """Events as /import takes them: ISO times become seconds, a missing ``$insert_id`` is derived
    from the event itself (stable across runs). An event that needs neither is passed as it is; one
    that does gets new properties (the world itself is never changed: ``--update`` writes it back)."""
    ready = []
    for index, event in enumerate(events):
        props = event["properties"]
        if "$insert_id" in props and not isinstance(props["time"], str):
            ready.append(event)  # a world event has only "event" and "properties" (the schema)
            continue
        props = dict(props)
        if isinstance(props["time"], str):
            props["time"] = int(event_seconds(props["time"]))
        if "$insert_id" not in props:
            digest = hashlib.sha1(f"{salt}|{index}|{event['event']}|{props['time']}|{props['distinct_id']}".encode())
            props["$insert_id"] = digest.hexdigest()[:32]
        ready.append({"event": event["event"], "properties": props})
    return ready


class FlowRun:
    """The seed's import flow of one world on one pair of targets (a run, not the world file), in its
    own Braze workspace and Mixpanel project."""

    def __init__(self, targets: Targets, world: dict[str, Any], reporter: Reporter | None = None):
        self.targets = targets
        self.braze = targets.braze
        self.mixpanel = targets.mixpanel
        self.world = world
        self.reporter = reporter or Reporter()
        self.result = RunResult()
        self._project: Project | None = None
        self._rest_api_key = ""
        self._data_import_key = ""
        self._connection_id: Any = None
        self._imported_batches = 0
        self._syncs_seen = 0
        self._match_totals: dict[str, int] = {}

    # -- the whole flow --------------------------------------------------------------------------
    def run(self) -> RunResult:
        self.load()
        self.connect()
        self.export()
        self.segment()
        return self.result

    def load(self) -> None:
        """Both clocks to the world's start, then the Braze users and the Mixpanel project."""
        world = self.world
        start = world.get("start", DEFAULT_START)
        self.targets.set_clock(start)
        self.reporter.step("Clocks set", start)
        workspace = self.braze.create_workspace(world["name"])
        self.result.workspace_id, self._rest_api_key = workspace.workspace_id, workspace.rest_api_key
        self._load_braze_users(world.get("braze", {}).get("users", []))
        mixpanel = world["mixpanel"]
        project = mixpanel.get("project", {})
        self._project = self.mixpanel.create_project(project.get("name", world["name"]), project.get("retention_days"))
        self.result.project_id = self._project.project_id
        self._import_events(mixpanel.get("events", []))
        self._set_profiles(mixpanel.get("profiles", []))
        cohort = mixpanel["cohort"]
        self.result.cohort_id = self.mixpanel.create_cohort(self.result.project_id, cohort["name"],
                                                            cohort["definition"], cohort.get("description")).cohort_id
        stats = self.mixpanel.stats(self.result.project_id)
        self.reporter.step("World loaded",
                           f"Braze workspace {self.result.workspace_id}: {len(self.braze.users(self.result.workspace_id))} users; "
                           f"Mixpanel project {self.result.project_id}: {stats.get('profiles')} profiles, "
                           f"{stats.get('events_stored')} events stored, "
                           f"{stats.get('events_removed_by_retention')} removed by retention; "
                           f"cohort {self.result.cohort_id} {cohort['name']!r}")

    def _loaded_project(self) -> Project:
        if self._project is None:
            raise RuntimeError("the world is not loaded yet")
        return self._project

    def connect(self) -> None:
        """Seed steps 1 and 2: a data import key and the REST endpoint from Braze, saved in Mixpanel."""
        key = self.braze.create_data_import_key(self.result.workspace_id)
        self._data_import_key = key.key
        self.reporter.step("1. Braze data import key", f"key ...{key.key[-4:]}, REST endpoint {key.rest_endpoint}")
        options = dict(self.world.get("connection", {}))
        options.setdefault("partner_api_key", self.braze.partner_api_key())
        self._connection_id = self.mixpanel.create_connection(self.result.project_id, key.key,
                                                              key.rest_endpoint, **options).connection_id
        self.reporter.step("2. Mixpanel connected to Braze", f"connection {self._connection_id}")

    def export(self) -> None:
        """Seed step 3: the export, then each of the world's steps (changes, then the clock)."""
        mode = self.world["flow"]["mode"]
        export = self.mixpanel.create_export(self.result.project_id, self.result.cohort_id, self._connection_id, mode)
        self.result.export_id = export.export_id
        self.reporter.step("3. Cohort exported", f"{mode.replace('_', '-')} export {export.export_id}, "
                                                 f"next sync {export.next_sync_at or '-'}")
        self._observe()
        for index, step in enumerate(self.world["flow"].get("steps", []), start=1):
            for change in step.get("changes", []):
                self._apply(change)
            self.targets.advance(step["advance"])
            self._observe(f"+{step['advance']}" + (f" ({step['note']})" if step.get("note") else ""))

    def segment(self) -> None:
        """Seed step 4: a ``Mixpanel_Cohorts includes`` segment and a campaign targeting it."""
        ws = self.result.workspace_id
        cohort_id = self.result.braze_cohort_id or str(self.result.cohort_id)
        segment_id = self.braze.create_segment(ws, f"{self.world['name']} segment", cohort_id).segment_id
        campaign_id = self.braze.create_campaign(ws, f"{self.world['name']} campaign", segment_id).campaign_id
        self.result.segment_id, self.result.campaign_id = segment_id, campaign_id
        self.result.segment_members = sorted(handle(u) for u in self.braze.segment_users(ws, segment_id))
        self.result.campaign_count = self.braze.campaign_audience(ws, campaign_id)["count"]
        self.reporter.step("4. Segment and campaign",
                           f"segment {self.result.segment_id} (Mixpanel_Cohorts includes {cohort_id}): "
                           f"{len(self.result.segment_members)} users; campaign {self.result.campaign_id}: "
                           f"audience {self.result.campaign_count}")

    # -- loading ---------------------------------------------------------------------------------
    def _load_braze_users(self, users: list[dict[str, Any]]) -> None:
        ws, key = self.result.workspace_id, self._rest_api_key
        identified, alias_only, anonymous = creation_phases(users)
        with self.reporter.progress("Braze users", len(users)) as done:
            for batch in _chunks(identified, TRACK_BATCH):
                self.braze.users_track(key, attributes=[{**u.get("attributes", {}), "external_id": u["external_id"]}
                                                        for u in batch])
                done(len(batch))
            aliases = [{**a, "external_id": u["external_id"]} for u in identified for a in u.get("aliases", [])]
            aliases += [dict(u["alias"]) for u in alias_only]
            for batch in _chunks(aliases, ALIAS_BATCH):
                self.braze.users_alias_new(key, batch)
            done(len(alias_only))
            for batch in _chunks(anonymous, SDK_BATCH):
                self.braze.sdk_create_users(ws, [{"device_id": u["device_id"], **_present(u, "attributes")}
                                                 for u in batch])
                done(len(batch))
        # each identified_as in list order: runs of device users go as one batch, alias users one call each
        changes: list[dict[str, str]] = []
        for user in [u for u in users if "identified_as" in u]:
            if "device_id" in user:
                changes.append({"device_id": user["device_id"], "external_id": user["identified_as"]})
                continue
            self._change_users(ws, changes)
            self.braze.users_identify(key, [{"external_id": user["identified_as"], "user_alias": user["alias"]}])
        self._change_users(ws, changes)

    def _change_users(self, ws: str, changes: list[dict[str, str]]) -> None:
        """SDK changeUser for the pending ``changes`` (in order), then forget them."""
        for batch in _chunks(changes, SDK_BATCH):
            self.braze.sdk_change_users(ws, batch)
        changes.clear()

    def _import_events(self, events: list[dict[str, Any]]) -> None:
        self._imported_batches += 1
        ready = import_ready(events, f"{self.world['name']}-{self._imported_batches}")
        rejected = 0
        with self.reporter.progress("Mixpanel events", len(ready)) as done:
            for batch in _chunks(ready, IMPORT_BATCH):
                try:
                    self.mixpanel.import_events(self.result.project_id, self._loaded_project().service_account, batch)
                except HarnessHTTPError as error:
                    if error.status != 400 or not isinstance(error.body, dict) or "failed_records" not in error.body:
                        raise
                    rejected += len(error.body["failed_records"])  # valid rows were still imported
                done(len(batch))
        if rejected:
            self.reporter.step("Events rejected by /import", f"{rejected} (times before 1971 or too far ahead)")

    def _set_profiles(self, profiles: list[dict[str, Any]]) -> None:
        token = self._loaded_project().token
        updates = [{"$token": token, "$distinct_id": p["distinct_id"], "$set": p["properties"]} for p in profiles]
        with self.reporter.progress("Mixpanel profiles", len(updates)) as done:
            for batch in _chunks(updates, ENGAGE_BATCH):
                self.mixpanel.engage(batch)
                done(len(batch))

    # -- changes between syncs -------------------------------------------------------------------
    def _apply(self, change: dict[str, Any]) -> None:
        (kind, value), = change.items()
        pid, ws = self.result.project_id, self.result.workspace_id
        if kind == "import_events":
            self._import_events(value)
            detail = f"{len(value)} events"
        elif kind == "set_profiles":
            self._set_profiles(value)
            detail = f"{len(value)} profiles"
        elif kind == "add_braze_users":
            self._load_braze_users(value)
            detail = f"{len(value)} users"
        elif kind == "change_user":
            reply = self.braze.sdk_change_user(ws, value["device_id"], value["external_id"])
            detail = f"device {value['device_id']} -> {value['external_id']} ({reply.get('outcome')})"
        elif kind == "rename_cohort":
            self.mixpanel.update_cohort(pid, self.result.cohort_id, name=value)
            detail = repr(value)
        elif kind == "redefine_cohort":
            self.mixpanel.update_cohort(pid, self.result.cohort_id, definition=value)
            detail = "new definition"
        elif kind == "invalidate_key":
            self.braze.invalidate_data_import_key(ws, self._data_import_key)
            detail = f"key ...{self._data_import_key[-4:]}"
        else:  # reconnect
            self._data_import_key = self.braze.create_data_import_key(ws).key
            self.mixpanel.update_connection(pid, self._connection_id, data_import_key=self._data_import_key)
            self.mixpanel.resume_export(pid, self.result.export_id)
            detail = f"new key ...{self._data_import_key[-4:]}, export resumed"
        self.reporter.step(f"Change: {kind.replace('_', ' ')}", detail)

    # -- observing -------------------------------------------------------------------------------
    def _observe(self, label: str = "first sync") -> None:
        """What both targets show now: the syncs since the last look, Braze's cohort and costs."""
        pid, ws = self.result.project_id, self.result.workspace_id
        export = self.mixpanel.get_export(pid, self.result.export_id)
        total = export.get("sync_count", len(export["syncs"]))
        new = export["syncs"][len(export["syncs"]) - min(total - self._syncs_seen, len(export["syncs"])):]
        self._syncs_seen = total
        cohort = self._braze_cohort()
        members = self.braze.cohort_members(ws, cohort["cohort_id"]) if cohort else []
        totals = self.braze.match_totals(ws, cohort["cohort_id"]) if cohort else {}
        unmatched = {outcome: n - self._match_totals.get(outcome, 0) for outcome, n in totals.items()
                     if outcome != "matched" and n != self._match_totals.get(outcome, 0)}
        self._match_totals = totals
        points = self.braze.data_points(ws).get("by_source", {}).get(COHORT_IMPORT_SOURCE, 0)
        observed = {
            "at": self.targets.now(), "members": sorted(handle(u) for u in members), "status": export["status"],
            "added": sum(s.get("added", 0) for s in new), "removed": sum(s.get("removed", 0) for s in new),
            "data_points": points, "cohort_name": cohort["name"] if cohort else None,
            "syncs": len(new), "skipped": sum(s.get("skipped", 0) for s in new),
            "results": [s.get("result") for s in new], "error": export.get("error"), "unmatched": unmatched,
            "label": label,
        }
        self.result.checkpoints.append(observed)
        self.reporter.checkpoint(len(self.result.checkpoints) - 1, observed)

    def _braze_cohort(self) -> dict[str, Any] | None:
        """The workspace's Mixpanel cohort (a world's workspace holds exactly one)."""
        cohorts = [c for c in self.braze.cohorts(self.result.workspace_id) if c.get("partner", "mixpanel") == "mixpanel"]
        wanted = [c for c in cohorts if str(c["cohort_id"]) == str(self.result.cohort_id)] or cohorts
        if wanted:
            self.result.braze_cohort_id = str(wanted[0]["cohort_id"])
            return wanted[0]
        return None


def _present(record: dict[str, Any], *names: str) -> dict[str, Any]:
    """The fields of ``record`` among ``names`` that it has (an absent field stays absent)."""
    return {name: record[name] for name in names if name in record}


def _chunks(items: list[Any], size: int) -> Iterator[list[Any]]:
    for start in range(0, len(items), size):
        yield items[start:start + size]
