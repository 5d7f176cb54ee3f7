"""The rules an incoming event must pass, as plain functions (no Flask, no storage).

Mixpanel documents these for ``/import`` (required fields, ``$insert_id`` shape, placeholder
distinct_ids, seconds or milliseconds, the 1971 floor and the "1 hour ahead" ceiling) and ``/track``
(token in the payload, last 5 days only). The retention rules of SEED-1.2 / HOUSE-5 are decided here
too, so ``/import``, ``/track`` and the bulk loader cannot disagree about them.
"""
from __future__ import annotations

import json
import re
from dataclasses import dataclass, field
from datetime import datetime, timezone
from typing import Any, NamedTuple

from mocks.common.numbers import epoch_ms

#: SEED-1.2 / HOUSE-5: events timed before this instant are removed during import; the instant is kept.
RETENTION_FLOOR_MS = int(datetime(2010, 1, 1, tzinfo=timezone.utc).timestamp() * 1000)
#: Mixpanel rejects times before 1971-01-01.
TIME_FLOOR_MS = int(datetime(1971, 1, 1, tzinfo=timezone.utc).timestamp() * 1000)
#: A time up to this far ahead of "now" is set to now; further ahead is rejected.
MAX_AHEAD_MS = 3600 * 1000
#: ``/track`` only accepts events from the last 5 days.
TRACK_WINDOW_MS = 5 * 86400 * 1000
#: Below this a time is read as seconds, above it as milliseconds (valid seconds end near 1.8e9,
#: valid milliseconds start at 3.2e10, so any threshold in between reads both correctly).
SECONDS_MS_THRESHOLD = 10_000_000_000
MAX_PROPERTIES = 255
MAX_EVENT_BYTES = 1024 * 1024
MAX_INSERT_ID_BYTES = 36
DEVICE_PREFIX = "$device:"

PLACEHOLDER_IDS = frozenset({
    "00000000-0000-0000-0000-000000000000", "anon", "anonymous", "nil", "none", "null", "n/a", "na",
    "undefined", "unknown", "<nil>", "0", "-1", "true", "false", "[]", "{}",
})
_INSERT_ID = re.compile(r"[A-Za-z0-9-]+")
#: Properties kept in their own columns, not in the stored extras.
COLUMN_PROPERTIES = frozenset({"time", "distinct_id", "$insert_id", "token"})
_ENCODER = json.JSONEncoder(separators=(",", ":"))


@dataclass(frozen=True)
class Failure:
    """Why one event was refused; ``field`` and ``message`` go into ``failed_records``."""

    field: str
    message: str


class CleanEvent(NamedTuple):
    """An event that passed validation: time in ms, the distinct_id it is stored under (after the
    Simplified ID Merge rules), its other properties as compact JSON (None when it has none), and
    the ``$device:<id>`` -> ``$user_id`` pair it links, if any. A tuple: one is made per stored event,
    and a frozen dataclass costs three times as much to build."""

    name: str
    time_ms: int
    distinct_id: str
    insert_id: str
    extras: bytes | None
    merge: tuple[str, str] | None = None


@dataclass(frozen=True)
class IdentityMerge:
    """A valid ``$merge`` event (``properties.$distinct_ids: [a, b]``, no time, no ``$insert_id``): the
    official Python client's ``merge()`` sends it to ``/import``. Mixpanel accepts it; under Simplified
    ID Merge (the only mode the mock models) it changes nothing, so it is counted and never stored."""

    distinct_ids: tuple[str, str]


MERGE_EVENT = "$merge"


def time_to_ms(value: Any) -> int | None:
    """Seconds or milliseconds since the epoch as integer ms; None when it is not a number."""
    if isinstance(value, bool) or not isinstance(value, (int, float)) or value != value:
        return None
    # through the one number path: clamped to the instants a datetime holds, so ``-1e306`` s is before
    # the floor and ``1e306`` after the ceiling, never an OverflowError
    return epoch_ms(value) if value >= SECONDS_MS_THRESHOLD else epoch_ms(value, 1000)


def is_placeholder(distinct_id: str) -> bool:
    return distinct_id.strip().lower() in PLACEHOLDER_IDS


def check_insert_id(value: Any) -> Failure | None:
    field = "properties.$insert_id"
    if not isinstance(value, str) or not value:
        return Failure(field, "'properties.$insert_id' is invalid: must be a non-empty string")
    if len(value) > MAX_INSERT_ID_BYTES or not _INSERT_ID.fullmatch(value):  # ASCII only, so chars == bytes
        return Failure(field, "'properties.$insert_id' is invalid: must be at most 36 bytes and contain "
                              "only alphanumeric characters or '-'")
    if is_placeholder(value):
        return Failure(field, "'properties.$insert_id' is invalid: value is a disallowed placeholder id")
    return None


def resolve_distinct_id(props: dict[str, Any]) -> tuple[str | None, Failure | None, tuple[str, str] | None]:
    """Simplified ID Merge: ``$user_id`` wins, else ``$device:<$device_id>``, else ``distinct_id``.

    Returns (distinct_id, failure, merge) where merge is the ``($device:<id>, user_id)`` pair an event
    carrying both ids links.
    """
    user_id, device_id = props.get("$user_id"), props.get("$device_id")
    if user_id is None and device_id is None:
        return _plain_distinct_id(props)
    for field, value in (("$user_id", user_id), ("$device_id", device_id)):
        if value is not None and (not _is_id(value) or is_placeholder(str(value)) or str(value) == ""):
            return None, Failure(f"properties.{field}", f"'properties.{field}' is invalid: must be a "
                                                        f"non-empty string that is not a placeholder id"), None
    device = DEVICE_PREFIX + str(device_id) if device_id is not None else None
    if user_id is not None:
        return str(user_id), None, (device, str(user_id)) if device else None
    return device, None, None


def _plain_distinct_id(props: dict[str, Any]) -> tuple[str | None, Failure | None, None]:
    if "distinct_id" not in props:
        return None, Failure("properties.distinct_id", "'properties.distinct_id' is required"), None
    value = props["distinct_id"]
    if not _is_id(value):
        return None, Failure("properties.distinct_id", "'properties.distinct_id' is invalid: must be a string"), None
    text = str(value)
    if text and is_placeholder(text):
        return None, Failure("properties.distinct_id",
                             f"'properties.distinct_id' is invalid: {text!r} is a disallowed placeholder id"), None
    return text, None, None


def _is_id(value: Any) -> bool:
    return isinstance(value, str) or (isinstance(value, int) and not isinstance(value, bool))


def check_time(value: Any, now_ms: int, floor_ms: int, floor_message: str) -> tuple[int | None, Failure | None]:
    """The event time in ms (clamped to now when up to 1 hour ahead), or why it is refused."""
    if value is None:
        return None, Failure("properties.time", "'properties.time' is required")
    time_ms = time_to_ms(value)
    if time_ms is None:
        return None, Failure("properties.time", "'properties.time' is invalid: must be specified as seconds since epoch")
    if time_ms < floor_ms:
        return None, Failure("properties.time", floor_message)
    if time_ms > now_ms + MAX_AHEAD_MS:
        return None, Failure("properties.time", "'properties.time' is invalid: must not be more than 1 hour in the future")
    return min(time_ms, now_ms), None


class UnparsableRecord:
    """One NDJSON line that is not JSON: reported as a failed record, the other lines still count."""

    def __init__(self, line: str):
        self.line = line


def _check_shape(raw: Any) -> tuple[dict[str, Any] | None, Failure | None]:
    if isinstance(raw, UnparsableRecord):
        return None, Failure("", "record is not valid JSON")
    if not isinstance(raw, dict):
        return None, Failure("", "event must be a JSON object")
    name = raw.get("event")
    if not isinstance(name, str) or not name.strip():
        return None, Failure("event", "'event' is required and must be a non-empty string")
    props = raw.get("properties")
    if not isinstance(props, dict):
        return None, Failure("properties", "'properties' is required and must be a JSON object")
    if len(props) >= MAX_PROPERTIES:
        return None, Failure("properties", f"'properties' is invalid: an event must have fewer than {MAX_PROPERTIES} properties")
    return props, None


def _finish(raw: dict[str, Any], props: dict[str, Any], time_ms: int, distinct_id: str, insert_id: str,
            merge: tuple[str, str] | None) -> CleanEvent | Failure:
    """Encode the extras once: the 1 MB check measures them and the store keeps the bytes."""
    extras = None if props.keys() <= COLUMN_PROPERTIES else encode_extras(
        {k: v for k, v in props.items() if k not in COLUMN_PROPERTIES})
    if extras is not None and len(extras) + len(raw["event"]) + len(distinct_id) + 100 >= MAX_EVENT_BYTES:
        return Failure("", "event is invalid: must be smaller than 1MB of uncompressed JSON")
    return CleanEvent(raw["event"], time_ms, distinct_id, insert_id, extras, merge)


def encode_extras(extras: dict[str, Any]) -> bytes | None:
    return _ENCODER.encode(extras).encode() if extras else None


def clean_merge_event(props: dict[str, Any]) -> IdentityMerge | Failure:
    """``$merge`` names exactly two different, non-placeholder distinct_ids."""
    ids = props.get("$distinct_ids")
    if (not isinstance(ids, list) or len(ids) != 2 or not all(isinstance(i, str) and i and not is_placeholder(i)
                                                              for i in ids) or ids[0] == ids[1]):
        return Failure("properties.$distinct_ids", "'properties.$distinct_ids' is invalid: must be a list of "
                                                   "two different distinct_ids")
    return IdentityMerge((ids[0], ids[1]))


@dataclass
class PlainRun:
    """The columns of a run of plain events that passed the one-pass check, in batch order, ready for
    :meth:`~.events.EventLog.add_batch`; ``removed`` counts the plain events of the run that the
    retention cutoff removed (not stored, as the full rules would have it)."""

    names: list[str] = field(default_factory=list)
    times: list[int] = field(default_factory=list)
    distinct_ids: list[str] = field(default_factory=list)
    insert_ids: list[str] = field(default_factory=list)
    extras: list[bytes | None] = field(default_factory=list)
    removed: int = 0


def plain_run(events: list[Any], start: int, now_ms: int, cutoff_ms: int,
              require_insert_id: bool) -> tuple[PlainRun, int]:
    """Check ``events[start:]`` one after another while each is a plain event (an object with a name,
    an integer time, a plain string distinct_id and a valid ``$insert_id``, no ID Merge keys, under
    1 MB) and return their columns with the index of the first event that is not plain (or
    ``len(events)``). That event goes to the full rules, which give every refusal its exact wording;
    the run after it starts again here. One loop for the whole run, no call and no tuple per event:
    the checks were a third of a 200,000-event load when they ran per event.

    Same outcome as the full rules for every event it accepts (the agreement test); it may decline
    a valid event (``"---"`` as ``$insert_id``), which the full rules then accept."""
    run = PlainRun()
    accepted: list[tuple[str, int, str, str, bytes | None]] = []
    keep = accepted.append
    ceiling, placeholders, columns, encode = now_ms + MAX_AHEAD_MS, PLACEHOLDER_IDS, COLUMN_PROPERTIES, _ENCODER.encode
    good_names: set[str] = set()
    for index in range(start, len(events)):
        raw = events[index]
        if type(raw) is not dict:
            break
        name, props = raw.get("event"), raw.get("properties")
        if type(name) is not str or type(props) is not dict:
            break
        if name not in good_names:
            if not name.strip() or name == MERGE_EVENT:
                break
            good_names.add(name)
        time, distinct_id, insert_id = props.get("time"), props.get("distinct_id"), props.get("$insert_id")
        if type(time) is not int or type(distinct_id) is not str:
            break
        time_ms = time if time >= SECONDS_MS_THRESHOLD else time * 1000
        if time_ms < TIME_FLOOR_MS or time_ms > ceiling or (distinct_id and distinct_id.strip().lower() in placeholders):
            break
        if insert_id is None and "$insert_id" not in props and not require_insert_id:
            insert_id, size = "", 2
        # ASCII letters, digits and '-' only, so no whitespace: lower() alone finds a placeholder
        elif (type(insert_id) is not str or not 0 < len(insert_id) <= MAX_INSERT_ID_BYTES or not insert_id.isascii()
              or not insert_id.replace("-", "").isalnum() or insert_id.lower() in placeholders):
            break
        else:
            size = 3
        # time, distinct_id and $insert_id (when given) are there: more keys than those and a token
        # means other properties, which may be ID Merge keys or too many
        if len(props) == size or (len(props) == size + 1 and "token" in props):
            blob = None
        elif len(props) >= MAX_PROPERTIES or "$user_id" in props or "$device_id" in props:
            break
        else:
            blob = encode({k: v for k, v in props.items() if k not in columns}).encode()
            if len(blob) + len(name) + len(distinct_id) + 100 >= MAX_EVENT_BYTES:
                break
        if time_ms < cutoff_ms:
            run.removed += 1
            continue
        keep((name, time_ms if time_ms < now_ms else now_ms, distinct_id, insert_id, blob))
    else:
        index = len(events)
    if accepted:
        names, times, distinct_ids, insert_ids, extras = zip(*accepted)
        run.names, run.times, run.distinct_ids = list(names), list(times), list(distinct_ids)
        run.insert_ids, run.extras = list(insert_ids), list(extras)
    return run, index


def plain_import_event(raw: Any, now_ms: int, require_insert_id: bool) -> CleanEvent | None:
    """One event through :func:`plain_run`: the clean event when it is plain, else None."""
    run, stop = plain_run([raw], 0, now_ms, TIME_FLOOR_MS, require_insert_id)
    if not stop:
        return None
    return CleanEvent(run.names[0], run.times[0], run.distinct_ids[0], run.insert_ids[0], run.extras[0])


def clean_import_event(raw: Any, now_ms: int, require_insert_id: bool = True) -> CleanEvent | IdentityMerge | Failure:
    """Validate one ``/import`` event (any time after 1971). ``$insert_id`` is required when the request
    says ``strict=1``; without it an event lacking one is kept and never deduplicated (the official Node
    client's ``import_batch`` sends neither ``strict`` nor ``$insert_id``)."""
    plain = plain_import_event(raw, now_ms, require_insert_id)
    if plain is not None:
        return plain
    return full_import_event(raw, now_ms, require_insert_id)


def full_import_event(raw: Any, now_ms: int, require_insert_id: bool = True) -> CleanEvent | IdentityMerge | Failure:
    """Every rule of :func:`clean_import_event`, one function each."""
    props, failure = _check_shape(raw)
    if failure:
        return failure
    assert props is not None  # no failure: the shape is an object
    if raw["event"] == MERGE_EVENT:
        return clean_merge_event(props)
    time_ms, failure = check_time(props.get("time"), now_ms, TIME_FLOOR_MS,
                                  "'properties.time' is invalid: must not be before 1971-01-01")
    if failure:
        return failure
    assert time_ms is not None
    distinct_id, failure, merge = resolve_distinct_id(props)
    if failure:
        return failure
    assert distinct_id is not None
    if require_insert_id or "$insert_id" in props:
        failure = check_insert_id(props.get("$insert_id"))
        if failure:
            return failure
    return _finish(raw, props, time_ms, distinct_id, props.get("$insert_id", ""), merge)


def clean_track_event(raw: Any, now_ms: int) -> CleanEvent | Failure:
    """Validate one ``/track`` event: time optional (defaults to now), last 5 days only,
    ``$insert_id`` optional, an anonymous event (no distinct_id) is stored under ``""``."""
    props, failure = _check_shape(raw)
    if failure:
        return failure
    assert props is not None  # no failure: the shape is an object
    time_ms, failure = check_time(props.get("time", now_ms), now_ms, now_ms - TRACK_WINDOW_MS,
                                  "'properties.time' is invalid: /track only accepts events from the last "
                                  "5 days; send older events to /import")
    if failure:
        return failure
    assert time_ms is not None
    if not any(key in props for key in ("distinct_id", "$user_id", "$device_id")):
        props = {**props, "distinct_id": ""}
    distinct_id, failure, merge = resolve_distinct_id(props)
    if failure:
        return failure
    assert distinct_id is not None
    insert_id = props.get("$insert_id")
    if insert_id is not None:
        failure = check_insert_id(insert_id)
        if failure:
            return failure
    return _finish(raw, props, time_ms, distinct_id, insert_id or "", merge)


def retention_cutoff_ms(now_ms: int, retention_days: int | None) -> int:
    """Events timed before this are gone: the 2010 floor, or the rolling window when it is later."""
    if retention_days is None:
        return RETENTION_FLOOR_MS
    return max(RETENTION_FLOOR_MS, now_ms - retention_days * 86400 * 1000)
