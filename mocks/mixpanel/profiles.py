"""User profiles and the ``/engage`` update operations, as plain Python.

Profiles are keyed by the canonical int of :class:`~.identity.IdRegistry`. Operations that only take
something away (``$unset``, ``$remove``, ``$delete``) never create a profile; the others do.
"""
from __future__ import annotations

import math
import sys
from dataclasses import dataclass
from datetime import datetime, timezone
from typing import Any, Callable

OPERATIONS = ("$set", "$set_once", "$add", "$append", "$union", "$remove", "$unset", "$delete")
#: ``/groups`` takes fewer operations than ``/engage`` (no ``$add``, no ``$append``).
GROUP_OPERATIONS = ("$set", "$set_once", "$union", "$remove", "$unset", "$delete")
_CREATING = frozenset({"$set", "$set_once", "$add", "$append", "$union"})


@dataclass(frozen=True)
class ProfileUpdate:
    """One ``/engage`` operation. ``time_ms`` is the message's ``$time`` in ms (None: the update's arrival);
    ``ignore_time`` is ``$ignore_time: true`` (the update leaves ``$last_seen`` alone)."""

    distinct_id: str
    operation: str
    value: Any
    time_ms: int | None = None
    ignore_time: bool = False


@dataclass(frozen=True)
class GroupUpdate:
    group_key: str
    group_id: str
    operation: str
    value: Any


def parse_update(message: Any) -> ProfileUpdate | str:
    """One ``/engage`` message as an update, or the reason it is refused (the token is checked by the caller)."""
    if not isinstance(message, dict):
        return "each profile update must be a JSON object"
    distinct_id = message.get("$distinct_id")
    if not _is_identifier(distinct_id):
        return "$distinct_id, missing or empty"
    operation = _operation_of(message, OPERATIONS)
    if operation is None:
        return f"each profile update needs exactly one operation of {', '.join(OPERATIONS)}"
    problem = _check_value(operation, message[operation])
    time_ms = message.get("$time")
    if time_ms is not None and not _is_epoch_time(time_ms):
        problem = problem or "$time must be a number of seconds or milliseconds since the epoch"
    return problem or ProfileUpdate(str(distinct_id), operation, message[operation],
                                    None if time_ms is None else _in_ms(time_ms), message.get("$ignore_time") is True)


#: The latest ``$time`` an update may carry: 9999-12-31T23:59:59.999Z.
MAX_EPOCH_MS = 253402300799999
#: Below this a ``$time`` is in seconds (the official Python client sends ``time.time()``), at or
#: above it in milliseconds: the rule event times follow too (1e11 s is the year 5138).
SECONDS_BELOW = 100_000_000_000


def _is_epoch_time(value: Any) -> bool:
    return (isinstance(value, (int, float)) and not isinstance(value, bool) and math.isfinite(value)
            and 0 <= value <= MAX_EPOCH_MS)


def _in_ms(value: float) -> int:
    return int(value * 1000) if value < SECONDS_BELOW else int(value)


def parse_group_update(message: Any) -> GroupUpdate | str:
    """One ``/groups`` message (``$group_key``, ``$group_id`` and one operation), or why it is refused."""
    if not isinstance(message, dict):
        return "each group update must be a JSON object"
    for field in ("$group_key", "$group_id"):
        if not _is_identifier(message.get(field)):
            return f"{field}, missing or empty"
    operation = _operation_of(message, GROUP_OPERATIONS)
    if operation is None:
        return f"each group update needs exactly one operation of {', '.join(GROUP_OPERATIONS)}"
    problem = _check_value(operation, message[operation])
    return problem or GroupUpdate(str(message["$group_key"]), str(message["$group_id"]), operation, message[operation])


def _is_identifier(value: Any) -> bool:
    return not isinstance(value, bool) and isinstance(value, (str, int)) and str(value) != ""


def _operation_of(message: dict[str, Any], allowed: tuple[str, ...]) -> str | None:
    """The message's one operation; None when it has none, several, or one outside ``allowed``."""
    operations = [key for key in OPERATIONS if key in message]
    return operations[0] if len(operations) == 1 and operations[0] in allowed else None


def _check_value(operation: str, value: Any) -> str | None:
    if operation == "$delete":
        return None
    if operation == "$unset":
        if not isinstance(value, list) or not all(isinstance(v, str) for v in value):
            return "$unset must be a JSON array of property names"
        return None
    if not isinstance(value, dict):
        return f"{operation} must be a JSON object of property names to values"
    if operation == "$add" and not all(_is_number(v) for v in value.values()):
        return "$add values must be numbers"
    if operation == "$union" and not all(isinstance(v, list) for v in value.values()):
        return "$union values must be JSON arrays"
    return None


def _is_number(value: Any) -> bool:
    return isinstance(value, (int, float)) and not isinstance(value, bool)


class ProfileStore:
    def __init__(self) -> None:
        self.by_user: dict[int, dict[str, Any]] = {}

    def __len__(self) -> int:
        return len(self.by_user)

    def get(self, user: int) -> dict[str, Any] | None:
        return self.by_user.get(user)

    def set_properties(self, user: int, properties: dict[str, Any]) -> None:
        """``$set`` many properties at once (the bulk loader's path)."""
        profile = self.by_user.get(user)
        if profile is None:
            profile = self.by_user[user] = {}
        for key, value in properties.items():
            profile[sys.intern(key)] = value

    def apply(self, user: int, operation: str, value: Any) -> None:
        apply_operation(self.by_user, user, operation, value)

    def merge(self, source: int, target: int) -> None:
        """Fold a merged device's profile into its user: the user's own values win."""
        moved = self.by_user.pop(source, None)
        if moved is None:
            return
        profile = self.by_user.setdefault(target, {})
        for key, value in moved.items():
            profile.setdefault(key, value)


def last_seen_text(time_ms: int) -> str:
    """``$last_seen`` as Mixpanel writes profile dates: ISO-8601 without a zone, in UTC, to the second."""
    return datetime.fromtimestamp(time_ms / 1000, timezone.utc).strftime("%Y-%m-%dT%H:%M:%S")


def apply_operation(profiles: dict[Any, dict[str, Any]], key: Any, operation: str, value: Any) -> None:
    """One operation on the profile under ``key`` (a user's number, or a group's (key, id))."""
    if operation == "$delete":
        profiles.pop(key, None)
        return
    profile = profiles.get(key)
    if profile is None:
        if operation not in _CREATING:
            return
        profile = profiles[key] = {}
    _OPERATIONS[operation](profile, value)


def _set(profile: dict[str, Any], value: dict[str, Any]) -> None:
    for key, item in value.items():
        profile[sys.intern(key)] = item


def _set_once(profile: dict[str, Any], value: dict[str, Any]) -> None:
    for key, item in value.items():
        profile.setdefault(sys.intern(key), item)


def _add(profile: dict[str, Any], value: dict[str, Any]) -> None:
    """A missing property counts as 0; a property that is not a number is left alone, and so is one
    whose sum would overflow a double (``Infinity`` is not JSON: it broke every later state dump
    and reply that held the profile)."""
    for key, amount in value.items():
        current = profile.get(key, 0)
        if _is_number(current):
            total = current + amount
            if not isinstance(total, float) or math.isfinite(total):
                profile[sys.intern(key)] = total


def _append(profile: dict[str, Any], value: dict[str, Any]) -> None:
    """A missing property becomes a one-element list; a property that is not a list is left alone."""
    for key, item in value.items():
        current = profile.setdefault(sys.intern(key), [])
        if isinstance(current, list):
            current.append(item)


def _union(profile: dict[str, Any], value: dict[str, list[Any]]) -> None:
    for key, items in value.items():
        current = profile.setdefault(sys.intern(key), [])
        if not isinstance(current, list):
            continue
        for item in items:
            if item not in current:
                current.append(item)


def _remove(profile: dict[str, Any], value: dict[str, Any]) -> None:
    """Every occurrence of the value leaves the list."""
    for key, item in value.items():
        current = profile.get(key)
        if isinstance(current, list):
            profile[key] = [v for v in current if v != item]


def _unset(profile: dict[str, Any], value: list[str]) -> None:
    for key in value:
        profile.pop(key, None)


_OPERATIONS: dict[str, Callable[[dict[str, Any], Any], None]] = {"$set": _set, "$set_once": _set_once, "$add": _add, "$append": _append, "$union": _union,
               "$remove": _remove, "$unset": _unset}
