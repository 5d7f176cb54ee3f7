"""Braze users and the identity rules (reference braze.md "Users and identity", SEED-6).

A profile has an immutable ``braze_id``, at most one ``external_id`` (never unset once given), aliases
(one per label; a name is unique within its label across the workspace) and device ids. A profile
without an external_id is unidentified: anonymous (created by an SDK on a device) or alias-only.

Identification (SDK ``changeUser`` or ``/users/identify``) has two cases, and both matter for cohort
import: with a new external_id the profile becomes identified and keeps its devices; with an
external_id that already exists the unidentified profile is merged into the identified one (fields it
lacks are copied, the target wins alias conflicts, devices move over) and removed. Either way the
devices that were anonymous now belong to an identified profile, so they no longer match (SEED-6.3).
"""
from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime, timezone
from functools import lru_cache
from typing import Any, Callable, Iterable

from mocks.common.clock import to_iso

from .errors import ConflictError, NotFoundError

IDENTIFIED, ANONYMOUS, ALIAS_ONLY = "identified", "anonymous", "alias_only"
#: Outcomes of an identification (``changeUser`` or ``/users/identify``).
OUTCOME_IDENTIFIED, OUTCOME_MERGED, OUTCOME_UNCHANGED, OUTCOME_SWITCHED = "identified", "merged", "unchanged", "switched"


def alias_key(label: str, name: str) -> tuple[str, str]:
    return (label, name)


@lru_cache(maxsize=4096)
def iso_of(epoch: float) -> str:
    """Profiles keep instants as epoch seconds (cheap to compare and merge); replies show ISO-8601.
    Cached: on a virtual clock thousands of profiles share each instant, and listings show them all."""
    return to_iso(datetime.fromtimestamp(epoch, timezone.utc))


@dataclass(slots=True)
class Activity:
    """How often something happened to a user and when first and last (epoch seconds)."""

    count: int
    first: float
    last: float

    def record(self, at: float) -> None:
        self.count += 1
        self.first = min(self.first, at)
        self.last = max(self.last, at)

    def absorb(self, other: "Activity") -> None:
        self.count += other.count
        self.first = min(self.first, other.first)
        self.last = max(self.last, other.last)


@dataclass(slots=True)
class BrazeUser:
    """One profile. Rarely used parts (events, history, ...) stay None until needed: a million
    profiles must fit in memory for the benchmarks."""

    braze_id: str
    created_at: float
    external_id: str | None = None
    aliases: dict[str, str] = field(default_factory=dict)  # label -> name
    device_ids: list[str] = field(default_factory=list)
    attributes: dict[str, Any] = field(default_factory=dict)
    events: dict[str, Activity] | None = None  # custom event name -> activity
    purchases: dict[str, Activity] | None = None  # product_id -> activity
    was_anonymous: bool = False
    #: Devices this profile carried, or received, while they were anonymous; they match nobody now.
    former_anonymous_device_ids: list[str] | None = None
    history: list[dict[str, Any]] | None = None

    @property
    def kind(self) -> str:
        if self.external_id is not None:
            return IDENTIFIED
        return ALIAS_ONLY if self.aliases and not self.device_ids else ANONYMOUS

    @property
    def is_identified(self) -> bool:
        return self.external_id is not None

    def summary(self) -> dict[str, Any]:
        """The control plane's view of a profile (README "Braze control plane": braze_id, external_id, aliases, device_ids)."""
        return {"braze_id": self.braze_id, "external_id": self.external_id, "aliases": self.alias_list(),
                "device_ids": list(self.device_ids), "kind": self.kind, "was_anonymous": self.was_anonymous,
                "former_anonymous_device_ids": list(self.former_anonymous_device_ids or []),
                "attributes": dict(self.attributes), "created_at": iso_of(self.created_at)}

    def alias_list(self) -> list[dict[str, str]]:
        return [{"alias_name": name, "alias_label": label} for label, name in self.aliases.items()]

    def note(self, entry: dict[str, Any]) -> None:
        if self.history is None:
            self.history = []
        self.history.append(entry)

    def record_activity(self, bucket: str, name: str, at: float) -> None:
        table = getattr(self, bucket)
        if table is None:
            table = {}
            setattr(self, bucket, table)
        if name in table:
            table[name].record(at)
        else:
            table[name] = Activity(1, at, at)

    # -- state -----------------------------------------------------------------------------------
    def to_dict(self) -> dict[str, Any]:
        return {
            "braze_id": self.braze_id, "created_at": self.created_at, "external_id": self.external_id,
            "aliases": dict(self.aliases), "device_ids": list(self.device_ids), "attributes": self.attributes,
            "events": _activities_to_dict(self.events), "purchases": _activities_to_dict(self.purchases),
            "was_anonymous": self.was_anonymous, "former_anonymous_device_ids": self.former_anonymous_device_ids,
            "history": self.history,
        }

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> "BrazeUser":
        if not isinstance(data.get("braze_id"), str):
            raise TypeError("every user needs a string 'braze_id'")
        return cls(braze_id=data["braze_id"], created_at=float(data["created_at"]), external_id=data.get("external_id"),
                   aliases=dict(data.get("aliases") or {}), device_ids=list(data.get("device_ids") or []),
                   attributes=dict(data.get("attributes") or {}), events=_activities_from_dict(data.get("events")),
                   purchases=_activities_from_dict(data.get("purchases")),
                   was_anonymous=bool(data.get("was_anonymous")),
                   former_anonymous_device_ids=data.get("former_anonymous_device_ids"),
                   history=data.get("history"))


def _activities_to_dict(table: dict[str, Activity] | None) -> dict[str, list[float]] | None:
    return None if table is None else {name: [a.count, a.first, a.last] for name, a in table.items()}


def _activities_from_dict(data: dict[str, list[float]] | None) -> dict[str, Activity] | None:
    return None if data is None else {name: Activity(int(c), float(f), float(l)) for name, (c, f, l) in data.items()}


class UserDirectory:
    """The profiles of one workspace and their indexes (external_id, alias, device id -> braze_id).

    ``on_remove`` is told about every profile that disappears (deleted or merged away) so cohort
    memberships can drop it.
    """

    def __init__(self, new_braze_id: Callable[[], str], now: Callable[[], float],
                 on_remove: Callable[[BrazeUser], None] = lambda user: None):
        self._new_braze_id = new_braze_id
        self._now = now
        self._on_remove = on_remove
        self.users: dict[str, BrazeUser] = {}
        self.by_external_id: dict[str, str] = {}
        self.by_alias: dict[tuple[str, str], str] = {}
        self.by_device: dict[str, str] = {}

    def __len__(self) -> int:
        return len(self.users)

    # -- lookups ---------------------------------------------------------------------------------
    def get(self, braze_id: str) -> BrazeUser | None:
        return self.users.get(braze_id)

    def by_external(self, external_id: str) -> BrazeUser | None:
        braze_id = self.by_external_id.get(external_id)
        return None if braze_id is None else self.users[braze_id]

    def by_alias_of(self, label: str, name: str) -> BrazeUser | None:
        braze_id = self.by_alias.get(alias_key(label, name))
        return None if braze_id is None else self.users[braze_id]

    def by_device_id(self, device_id: str) -> BrazeUser | None:
        braze_id = self.by_device.get(device_id)
        return None if braze_id is None else self.users[braze_id]

    def require_device(self, device_id: str) -> BrazeUser:
        user = self.by_device_id(device_id)
        if user is None:
            raise NotFoundError(f"no user has device_id {device_id!r} (create it with sdk/users first)")
        return user

    # -- creation --------------------------------------------------------------------------------
    def create(self, external_id: str | None = None, aliases: Iterable[tuple[str, str]] = (),
               device_ids: Iterable[str] = (), attributes: dict[str, Any] | None = None) -> BrazeUser:
        """A new profile; refuses any identifier already taken (nothing is created then)."""
        aliases, device_ids = list(aliases), list(dict.fromkeys(device_ids))
        self._check_free(external_id, aliases, device_ids)
        user = BrazeUser(braze_id=self._new_braze_id(), created_at=self._now(), external_id=external_id,
                         attributes=dict(attributes or {}))
        self.users[user.braze_id] = user
        if external_id is not None:
            self.by_external_id[external_id] = user.braze_id
        for label, name in aliases:
            self._attach_alias(user, label, name)
        for device_id in device_ids:
            self._attach_device(user, device_id)
        return user

    def _check_free(self, external_id: str | None, aliases: list[tuple[str, str]], device_ids: list[str]) -> None:
        if external_id is not None and external_id in self.by_external_id:
            raise ConflictError(f"external_id {external_id!r} already belongs to user {self.by_external_id[external_id]}")
        labels = [label for label, _ in aliases]
        if len(labels) != len(set(labels)):
            raise ConflictError("a user holds at most one alias per label")
        for label, name in aliases:
            if alias_key(label, name) in self.by_alias:
                raise ConflictError(f"alias {name!r} with label {label!r} already belongs to user "
                                    f"{self.by_alias[alias_key(label, name)]}")
        for device_id in device_ids:
            if device_id in self.by_device:
                raise ConflictError(f"device_id {device_id!r} already belongs to user {self.by_device[device_id]}")

    def create_sdk_user(self, device_id: str, attributes: dict[str, Any] | None = None) -> BrazeUser:
        """An anonymous profile on a device, as an SDK creates it at the first session."""
        user = self.create(device_ids=[device_id], attributes=attributes)
        user.note({"at": self._now(), "event": "created_by_sdk", "device_id": device_id})
        return user

    def add_alias(self, user: BrazeUser, label: str, name: str) -> None:
        """Give ``user`` one more alias (one per label, unique name within the label)."""
        holder = self.by_alias.get(alias_key(label, name))
        if holder == user.braze_id:
            return
        if holder is not None:
            raise ConflictError(f"alias {name!r} with label {label!r} already belongs to user {holder}")
        if label in user.aliases:
            raise ConflictError(f"user {user.braze_id} already has an alias with label {label!r}")
        self._attach_alias(user, label, name)

    def rename_alias(self, label: str, old_name: str, new_name: str) -> BrazeUser:
        """``/users/alias/update``: the holder of ``(label, old_name)`` now holds ``(label, new_name)``."""
        user = self.by_alias_of(label, old_name)
        if user is None:
            raise NotFoundError("no user with this alias")
        holder = self.by_alias.get(alias_key(label, new_name))
        if holder is not None and holder != user.braze_id:
            raise ConflictError(f"alias {new_name!r} with label {label!r} already belongs to another user")
        del self.by_alias[alias_key(label, old_name)]
        self._attach_alias(user, label, new_name)
        return user

    def _attach_alias(self, user: BrazeUser, label: str, name: str) -> None:
        user.aliases[label] = name
        self.by_alias[alias_key(label, name)] = user.braze_id

    def _attach_device(self, user: BrazeUser, device_id: str) -> None:
        if device_id not in user.device_ids:
            user.device_ids.append(device_id)
        self.by_device[device_id] = user.braze_id

    # -- identification --------------------------------------------------------------------------
    def change_user(self, device_id: str, external_id: str) -> tuple[BrazeUser, str]:
        """SDK ``changeUser(external_id)`` on the device's current profile.

        On an unidentified profile this is :meth:`identify`. On an identified profile with another
        external_id the device switches to that user (existing, or created), as the SDK does.
        """
        current = self.require_device(device_id)
        if not current.is_identified:
            return self.identify(current, external_id)
        if current.external_id == external_id:
            return current, OUTCOME_UNCHANGED
        target = self.by_external(external_id) or self.create(external_id=external_id)
        current.device_ids.remove(device_id)
        self._attach_device(target, device_id)
        target.note({"at": self._now(), "event": "device_switched_in", "device_id": device_id,
                     "from_braze_id": current.braze_id})
        return target, OUTCOME_SWITCHED

    def identify(self, user: BrazeUser, external_id: str) -> tuple[BrazeUser, str]:
        """Give an unidentified profile an external_id: it becomes that user ("identified"), or,
        when the external_id exists, it is merged into that user and removed ("merged")."""
        if user.external_id == external_id:
            return user, OUTCOME_UNCHANGED
        if user.is_identified:
            raise ConflictError(f"user {user.braze_id} is already identified as {user.external_id!r}; "
                                "an external_id cannot be changed")
        target = self.by_external(external_id)
        if target is None:
            user.external_id = external_id
            self.by_external_id[external_id] = user.braze_id
            user.was_anonymous = True
            if user.device_ids:
                user.former_anonymous_device_ids = (user.former_anonymous_device_ids or []) + list(user.device_ids)
            user.note({"at": self._now(), "event": "identified", "external_id": external_id})
            return user, OUTCOME_IDENTIFIED
        self.merge(user, target)
        return target, OUTCOME_MERGED

    def merge(self, source: BrazeUser, target: BrazeUser) -> BrazeUser:
        """Fold ``source`` into ``target`` and remove it: attributes the target lacks are copied,
        aliases move unless the target has that label (the target wins), devices move, activity
        counts add up. Cohort memberships of ``source`` go with it (see docs/braze.md)."""
        if source.braze_id == target.braze_id:
            return target
        for name, value in source.attributes.items():
            target.attributes.setdefault(name, value)
        for label, name in source.aliases.items():
            del self.by_alias[alias_key(label, name)]
            if label not in target.aliases:
                self._attach_alias(target, label, name)
        for device_id in source.device_ids:
            self._attach_device(target, device_id)
        if not source.is_identified and source.device_ids:
            target.former_anonymous_device_ids = (target.former_anonymous_device_ids or []) + list(source.device_ids)
        for bucket in ("events", "purchases"):
            for name, activity in (getattr(source, bucket) or {}).items():
                table = getattr(target, bucket)
                if table is None:
                    setattr(target, bucket, {name: Activity(activity.count, activity.first, activity.last)})
                elif name in table:
                    table[name].absorb(activity)
                else:
                    table[name] = Activity(activity.count, activity.first, activity.last)
        target.note({"at": self._now(), "event": "merged_from", "braze_id": source.braze_id,
                     "external_id": source.external_id, "device_ids": list(source.device_ids)})
        source.device_ids = []
        source.aliases = {}
        self._remove(source)
        return target

    # -- removal ---------------------------------------------------------------------------------
    def delete(self, user: BrazeUser) -> None:
        for label, name in user.aliases.items():
            self.by_alias.pop(alias_key(label, name), None)
        for device_id in user.device_ids:
            if self.by_device.get(device_id) == user.braze_id:
                del self.by_device[device_id]
        self._remove(user)

    def _remove(self, user: BrazeUser) -> None:
        if user.external_id is not None:
            self.by_external_id.pop(user.external_id, None)
        self.users.pop(user.braze_id, None)
        self._on_remove(user)

    # -- state -----------------------------------------------------------------------------------
    def to_list(self) -> list[dict[str, Any]]:
        return [user.to_dict() for user in self.users.values()]

    def load(self, users: list[dict[str, Any]]) -> None:
        """Replace every profile and rebuild the indexes from the profiles themselves."""
        self.users.clear()
        self.by_external_id.clear()
        self.by_alias.clear()
        self.by_device.clear()
        for data in users:
            user = BrazeUser.from_dict(data)
            self.users[user.braze_id] = user
            if user.external_id is not None:
                self.by_external_id[user.external_id] = user.braze_id
            for label, name in user.aliases.items():
                self.by_alias[alias_key(label, name)] = user.braze_id
            for device_id in user.device_ids:
                self.by_device[device_id] = user.braze_id
