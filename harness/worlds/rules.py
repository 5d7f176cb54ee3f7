"""The expected outcome of a world, computed from the rules and the world's own data.

This is deliberately an independent, small re-statement of the rules (SEED-1.2, SEED-6, HOUSE-4..9,
HOUSE-11): it never imports the mocks, so a replay compares two separate readings of the spec. Where
the spec is silent the choice is written in docs/worlds.md, and worlds avoid relying on it.
"""
from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime, timedelta, timezone
from typing import Any, Iterable

from mocks.common.clock import parse_duration, parse_instant, to_iso

from .files import DEFAULT_START, creation_phases

RETENTION_CUTOFF = datetime(2010, 1, 1, tzinfo=timezone.utc).timestamp()  # SEED-1.2 / HOUSE-5
EARLIEST_ACCEPTED = datetime(1971, 1, 1, tzinfo=timezone.utc).timestamp()
FUTURE_TOLERANCE = 3600.0
MILLISECONDS_ABOVE = 1e11  # a time above this is in milliseconds
SYNC_INTERVAL = timedelta(minutes=15)  # SEED-4.3 / HOUSE-8
DEFAULT_USER_ID_PROPERTY = "$braze_external_id"
ANONYMOUS_PREFIX = "$device:"  # a Mixpanel profile never identified

#: The identifier kinds of the harness, from Mixpanel's record to Braze's match log (HOUSE-6).
Identifier = tuple[str, ...]  # ("external_id", id) | ("alias", label, name) | ("device_id", id)


def event_seconds(value: Any) -> float:
    """An event time as /import reads it: seconds or milliseconds, or (in worlds) an ISO instant."""
    if isinstance(value, str):
        return parse_instant(value).timestamp()
    return value / 1000.0 if value > MILLISECONDS_ABOVE else float(value)


# -- Mixpanel ---------------------------------------------------------------------------------------
@dataclass
class MixpanelModel:
    retention_days: int | None = None
    profiles: dict[str, dict[str, Any]] = field(default_factory=dict)
    events: list[tuple[str, float, str, dict[str, Any]]] = field(default_factory=list)
    merged: dict[str, str] = field(default_factory=dict)  # "$device:<id>" -> user id
    #: event key -> its position in ``events``: a later duplicate replaces the copy there (latest wins)
    _seen: dict[tuple[Any, ...], int] = field(default_factory=dict)

    def import_events(self, events: Iterable[dict[str, Any]], now: float) -> None:
        for event in events:
            props = event["properties"]
            seconds = event_seconds(props["time"])
            if seconds < EARLIEST_ACCEPTED or seconds > now + FUTURE_TOLERANCE:
                continue  # rejected by /import
            seconds = min(seconds, now)
            if seconds < RETENTION_CUTOFF:
                continue  # removed during import (SEED-1.2)
            key = (event["event"], seconds, props["distinct_id"], props.get("$insert_id"))
            stored = (event["event"], seconds, self._identify(props), props)
            if props.get("$insert_id") and key in self._seen:
                self.events[self._seen[key]] = stored  # queries read the latest copy of a duplicate
                continue
            self._seen[key] = len(self.events)
            self.events.append(stored)

    def _identify(self, props: dict[str, Any]) -> str:
        """Simplified ID merge: ``$user_id`` wins, ``$device_id`` alone is ``$device:<id>``."""
        user, device = props.get("$user_id"), props.get("$device_id")
        if user and device:
            self.merged.setdefault(f"$device:{device}", str(user))
        if user:
            return str(user)
        if device:
            return f"$device:{device}"
        return str(props["distinct_id"])

    def set_profiles(self, profiles: Iterable[dict[str, Any]]) -> None:
        for profile in profiles:
            self.profiles.setdefault(profile["distinct_id"], {}).update(profile["properties"])

    def canonical(self, distinct_id: str) -> str:
        return self.merged.get(distinct_id, distinct_id)

    def members(self, definition: dict[str, Any], at: float) -> set[str]:
        """The cohort evaluated at instant ``at`` (seconds): the events kept by retention are the ones
        between ``oldest`` and ``at``."""
        oldest = at - self.retention_days * 86400 if self.retention_days else float("-inf")
        canonical = self.merged.get
        universe = {canonical(d, d) for d in self.profiles}
        universe.update(canonical(who, who) for _, seconds, who, _ in self.events if oldest <= seconds <= at)
        return self._evaluate(definition, _Window(oldest, at), universe)

    def _evaluate(self, node: dict[str, Any], window: "_Window", universe: set[str]) -> set[str]:
        if "and" in node:
            return set.intersection(*(self._evaluate(n, window, universe) for n in node["and"]))
        if "or" in node:
            return set().union(*(self._evaluate(n, window, universe) for n in node["or"]))
        if "not" in node:
            return universe - self._evaluate(node["not"], window, universe)
        if "distinct_ids" in node:
            return {self.canonical(d) for d in node["distinct_ids"]}
        if "property" in node:
            return {d for d in universe if property_holds(node, self.profiles.get(d, {}))}
        counts = self._event_counts(node, window.narrowed(node))
        at_least = node.get("at_least", 0 if "at_most" in node else 1)
        at_most = node.get("at_most", float("inf"))
        return {d for d in universe if at_least <= counts.get(d, 0) <= at_most}

    def _event_counts(self, node: dict[str, Any], window: "_Window") -> dict[str, int]:
        """How many of the node's events each user did inside the window: one pass over the events per
        event condition, not one per user."""
        name, where, canonical = node["event"], node.get("where", {}).items(), self.merged.get
        counts: dict[str, int] = {}
        for event, seconds, who, props in self.events:
            if (event == name and window.low <= seconds <= window.high
                    and all(props.get(k) == v for k, v in where)):
                user = canonical(who, who)
                counts[user] = counts.get(user, 0) + 1
        return counts

    def identifier(self, distinct_id: str, connection: dict[str, Any]) -> Identifier | None:
        """HOUSE-6: user id property, then alias mapping, then (anonymous ``$device:`` profiles only)
        the device id property; None = skipped."""
        profile = self.profiles.get(distinct_id, {})
        value = profile.get(connection.get("user_id_property", DEFAULT_USER_ID_PROPERTY))
        if _present(value):
            return ("external_id", str(value))
        if connection.get("alias_label") and _present(profile.get(connection.get("alias_property", ""))):
            return ("alias", connection["alias_label"], str(profile[connection["alias_property"]]))
        if (connection.get("device_id_property") and distinct_id.startswith(ANONYMOUS_PREFIX)
                and _present(profile.get(connection["device_id_property"]))):
            return ("device_id", str(profile[connection["device_id_property"]]))
        return None


def _present(value: Any) -> bool:
    """Usable as an identifier: a non-blank string or an integer."""
    if isinstance(value, str):
        return bool(value.strip())
    return isinstance(value, int) and not isinstance(value, bool)


def property_holds(node: dict[str, Any], profile: dict[str, Any]) -> bool:
    name = node["property"]
    if "defined" in node and (name in profile) != node["defined"]:
        return False
    if name not in profile:
        return "defined" in node and not node["defined"] and len(node) == 2
    value = profile[name]
    checks = {"equals": lambda x: value == x, "not_equals": lambda x: value != x,
              "gt": lambda x: _number(value) and value > x, "gte": lambda x: _number(value) and value >= x,
              "lt": lambda x: _number(value) and value < x, "lte": lambda x: _number(value) and value <= x}
    return all(check(node[op]) for op, check in checks.items() if op in node)


def _number(value: Any) -> bool:
    return isinstance(value, (int, float)) and not isinstance(value, bool)


@dataclass(frozen=True)
class _Window:
    """The instants an event condition counts: retention's [oldest, at], narrowed by the condition's
    ``within_days`` and ``between``."""
    low: float
    high: float

    def narrowed(self, node: dict[str, Any]) -> "_Window":
        low, high = self.low, self.high
        if "within_days" in node:
            low = max(low, self.high - node["within_days"] * 86400)
        if "between" in node:
            low = max(low, parse_instant(node["between"][0]).timestamp())
            high = min(high, parse_instant(node["between"][1]).timestamp())
        return _Window(low, high)


# -- Braze ------------------------------------------------------------------------------------------
@dataclass(eq=False)  # a user is itself: two profiles with the same fields are still two users
class BrazeUser:
    external_id: str | None = None
    aliases: dict[str, str] = field(default_factory=dict)  # label -> name
    devices: list[str] = field(default_factory=list)

    def handle(self) -> str:
        """How a member is named in expectations: external_id, alias:<label>:<name> or device:<id>."""
        if self.external_id:
            return self.external_id
        if self.aliases:
            label = sorted(self.aliases)[0]
            return f"alias:{label}:{self.aliases[label]}"
        return f"device:{self.devices[0]}" if self.devices else "?"


class _Holders:
    """Which users hold a key (an alias or a device id), the oldest first, as a scan of the users in
    creation order would find them; a dict per key keeps every lookup O(1) on worlds of 20,000 users."""

    def __init__(self) -> None:
        self._by_key: dict[Any, dict[int, BrazeUser]] = {}

    def add(self, key: Any, seq: int, user: BrazeUser) -> None:
        self._by_key.setdefault(key, {})[seq] = user

    def discard(self, key: Any, seq: int) -> None:
        holders = self._by_key.get(key, {})
        holders.pop(seq, None)
        if not holders:
            self._by_key.pop(key, None)

    def in_order(self, key: Any) -> list[BrazeUser]:
        holders = self._by_key.get(key, {})
        return [holders[seq] for seq in sorted(holders)]

    def first(self, key: Any) -> BrazeUser | None:
        holders = self._by_key.get(key)
        return holders[min(holders)] if holders else None


class BrazeModel:
    """Users and their identity history, one partner cohort, and its data points (HOUSE-4)."""

    def __init__(self) -> None:
        self._users: dict[int, BrazeUser] = {}  # by creation number, in creation order
        self._seq: dict[int, int] = {}  # id(user) -> creation number
        self._external_ids: dict[str, BrazeUser] = {}
        self._aliases = _Holders()  # (label, name)
        self._devices = _Holders()
        self._cohort: dict[int, BrazeUser] = {}  # members, by creation number
        self.cohort_name: str | None = None
        self.data_points = 0

    @property
    def users(self) -> list[BrazeUser]:
        return list(self._users.values())

    def load_users(self, entries: list[dict[str, Any]]) -> None:
        """Create users in the loader's phases (see :func:`creation_phases`), then identify them."""
        identified, alias_only, anonymous = creation_phases(entries)
        for entry in identified:
            user = self._by_external_id(entry["external_id"]) or self._new(BrazeUser(entry["external_id"]))
            for alias in entry.get("aliases", []):
                if self._by_alias(alias["alias_label"], alias["alias_name"]) is None:
                    self._give_alias(user, alias["alias_label"], alias["alias_name"])
        for entry in alias_only:
            alias = entry["alias"]
            if self._by_alias(alias["alias_label"], alias["alias_name"]) is None:
                self._new(BrazeUser(aliases={alias["alias_label"]: alias["alias_name"]}))
        for entry in anonymous:
            if self._devices.first(entry["device_id"]) is None:
                self._new(BrazeUser(devices=[entry["device_id"]]))
        for entry in entries:
            if "identified_as" not in entry:
                continue
            if "device_id" in entry:
                self.change_user(entry["device_id"], entry["identified_as"])
            else:
                alias = entry["alias"]
                self.identify(self._by_alias(alias["alias_label"], alias["alias_name"]), entry["identified_as"])

    def change_user(self, device_id: str, external_id: str) -> None:
        anonymous = next((u for u in self._devices.in_order(device_id) if not u.external_id), None)
        if anonymous is not None:
            self.identify(anonymous, external_id)

    def identify(self, user: BrazeUser | None, external_id: str) -> None:
        """Both cases of identification: a new external_id keeps the profile; an existing one absorbs it."""
        if user is None or user.external_id:
            return
        target = self._by_external_id(external_id)
        if target is None:
            user.external_id = external_id
            self._external_ids[external_id] = user
            return
        self._remove(user)
        for label, name in user.aliases.items():
            self._give_alias(target, label, name)
        for device in user.devices:
            if device not in target.devices:
                target.devices.append(device)
                self._devices.add(device, self._seq[id(target)], target)

    def match(self, identifier: Identifier) -> tuple[BrazeUser | None, str]:
        """SEED-6: the user an identifier names, or None and why."""
        kind = identifier[0]
        if kind == "external_id":
            user = self._by_external_id(identifier[1])
        elif kind == "alias":
            user = self._by_alias(identifier[1], identifier[2])
        else:
            user = self._devices.first(identifier[1])
            if user is not None and user.external_id:
                return None, "identified_device"  # SEED-6.3
        return (user, "matched") if user else (None, "unknown")

    def apply(self, identifier: Identifier, remove: bool) -> str:
        user, outcome = self.match(identifier)
        if user is None:
            return outcome
        self.data_points += 1
        seq = self._seq[id(user)]
        if remove:
            self._cohort.pop(seq, None)
        else:
            self._cohort.setdefault(seq, user)
        return outcome

    def members(self) -> list[str]:
        return sorted(u.handle() for u in self._cohort.values())

    def _new(self, user: BrazeUser) -> BrazeUser:
        seq = len(self._seq)
        self._users[seq] = user
        self._seq[id(user)] = seq
        if user.external_id:
            self._external_ids.setdefault(user.external_id, user)
        for label, name in user.aliases.items():
            self._aliases.add((label, name), seq, user)
        for device in user.devices:
            self._devices.add(device, seq, user)
        return user

    def _give_alias(self, user: BrazeUser, label: str, name: str) -> None:
        """A user takes an alias only under a label it does not hold yet."""
        if label not in user.aliases:
            user.aliases[label] = name
            self._aliases.add((label, name), self._seq[id(user)], user)

    def _remove(self, user: BrazeUser) -> None:
        """A profile absorbed by another: gone from the users, the indexes and the cohort."""
        seq = self._seq[id(user)]
        del self._users[seq]
        self._cohort.pop(seq, None)
        for label, name in user.aliases.items():
            self._aliases.discard((label, name), seq)
        for device in user.devices:
            self._devices.discard(device, seq)

    def _by_external_id(self, external_id: str) -> BrazeUser | None:
        return self._external_ids.get(external_id)

    def _by_alias(self, label: str, name: str) -> BrazeUser | None:
        return self._aliases.first((label, name))


# -- the flow ---------------------------------------------------------------------------------------
@dataclass
class SyncCounts:
    added: int = 0
    removed: int = 0
    skipped: int = 0
    syncs: int = 0
    unmatched: dict[str, int] = field(default_factory=dict)


class FlowModel:
    """One export of the world's cohort to Braze, moved through the world's steps."""

    def __init__(self, world: dict[str, Any]):
        self.world = world
        self.now = parse_instant(world.get("start", DEFAULT_START))
        mixpanel = world["mixpanel"]
        self.mixpanel = MixpanelModel(mixpanel.get("project", {}).get("retention_days"))
        self.braze = BrazeModel()
        self.connection = world.get("connection", {})
        self.definition = mixpanel["cohort"]["definition"]
        self.name = mixpanel["cohort"]["name"]
        self.mode = world["flow"]["mode"]
        self.status = "active"
        self.snapshot: set[Identifier] | None = None
        self.key_valid = True
        self.next_sync: datetime | None = None
        self.counts = SyncCounts()
        self.braze.load_users(world.get("braze", {}).get("users", []))
        self.mixpanel.import_events(mixpanel.get("events", []), self.now.timestamp())
        self.mixpanel.set_profiles(mixpanel.get("profiles", []))

    def checkpoints(self) -> list[dict[str, Any]]:
        result = [self._export()]
        for step in self.world["flow"].get("steps", []):
            for change in step.get("changes", []):
                self._apply(change)
            result.append(self._advance(parse_duration(step["advance"])))
        return result

    def _export(self) -> dict[str, Any]:
        self._sync(self.now)
        if self.mode == "dynamic":
            self.next_sync = self.now + SYNC_INTERVAL
        elif self.status == "active":
            self.status = "finished"
        return self._checkpoint()

    def _advance(self, delta: timedelta) -> dict[str, Any]:
        target = self.now + delta
        while self.mode == "dynamic" and self.next_sync is not None and self.next_sync <= target:
            at, self.next_sync = self.next_sync, self.next_sync + SYNC_INTERVAL
            if self.status == "active":
                self._sync(at)
        self.now = target
        return self._checkpoint()

    def _sync(self, at: datetime) -> None:
        self.counts.syncs += 1
        members = self.mixpanel.members(self.definition, at.timestamp())
        current: set[Identifier] = set()
        for distinct_id in members:
            identifier = self.mixpanel.identifier(distinct_id, self.connection)
            if identifier is None:
                self.counts.skipped += 1
            else:
                current.add(identifier)
        adds = current if self.snapshot is None else current - self.snapshot
        removes = set() if self.snapshot is None else self.snapshot - current
        if self.braze.cohort_name == self.name and not adds and not removes:
            return  # HOUSE-7: nothing to send, so nothing can be refused either
        if not self.key_valid:
            self.status = "paused"  # 401 Invalid client secret pauses the export (HOUSE-9)
            return
        self.braze.cohort_name = self.name
        for identifier, remove in [(i, False) for i in sorted(adds)] + [(i, True) for i in sorted(removes)]:
            outcome = self.braze.apply(identifier, remove)
            if outcome != "matched":
                self.counts.unmatched[outcome] = self.counts.unmatched.get(outcome, 0) + 1
        self.counts.added += len(adds)
        self.counts.removed += len(removes)
        self.snapshot = current

    def _apply(self, change: dict[str, Any]) -> None:
        (kind, value), = change.items()
        if kind == "import_events":
            self.mixpanel.import_events(value, self.now.timestamp())
        elif kind == "set_profiles":
            self.mixpanel.set_profiles(value)
        elif kind == "add_braze_users":
            self.braze.load_users(value)
        elif kind == "change_user":
            self.braze.change_user(value["device_id"], value["external_id"])
        elif kind == "rename_cohort":
            self.name = value
        elif kind == "redefine_cohort":
            self.definition = value
        elif kind == "invalidate_key":
            self.key_valid = False
        elif kind == "reconnect":
            self.key_valid = True
            if self.status == "paused":
                self.status = "active"

    def _checkpoint(self) -> dict[str, Any]:
        counts, self.counts = self.counts, SyncCounts()
        return {"at": to_iso(self.now), "members": self.braze.members(), "status": self.status,
                "added": counts.added, "removed": counts.removed, "data_points": self.braze.data_points,
                "cohort_name": self.braze.cohort_name or self.name}


def expected_outcome(world: dict[str, Any]) -> dict[str, Any]:
    """``{"syncs": [checkpoint, ...]}`` as the world's ``expected`` section."""
    return {"syncs": FlowModel(world).checkpoints()}
