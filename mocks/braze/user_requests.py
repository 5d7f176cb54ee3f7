"""What the users REST endpoints do to the profiles of a workspace, without HTTP.

Bodies arrive here already checked against their schemas (``schemas/users_*.json``); what is left are
the per-object rules Braze reports as non-fatal ``errors`` while still processing the other objects.
A non-fatal error is ``{"type": <message>, "input_array": <array>, "index": <position>}``.
"""
from __future__ import annotations

import io
import json
import zipfile
from dataclasses import dataclass, field
from typing import Any

from mocks.common.clock import ClockError, parse_instant

from .errors import ConflictError, NotFoundError
from .identity import Activity, BrazeUser, UserDirectory, iso_of

USER_KEYS = ("external_id", "user_alias", "braze_id")
#: Contact attributes that name the user of a ``/users/track`` object when none of :data:`USER_KEYS` does
#: (then they are identifiers, not attributes set); ``email`` first when both are given.
CONTACT_KEYS = ("email", "phone")
META_KEYS = frozenset(USER_KEYS) | {"_update_existing_only", "push_token_import"}
#: Profile fields Braze exports at the top level; every other attribute is a custom attribute.
STANDARD_ATTRIBUTES = frozenset({"first_name", "last_name", "email", "phone", "gender", "dob", "country",
                                 "home_city", "language", "time_zone", "email_subscribe", "push_subscribe"})
MAX_DELETE_IDS = 50
TOO_MANY_DELETE_IDS = "The max number of ids per request was exceeded"


class RequestRejected(ValueError):
    """A fatal error of a users request (the whole request is refused, status 400)."""


@dataclass
class Outcome:
    """Counts per input array, the non-fatal errors, and the data points the request incurred."""

    processed: dict[str, int] = field(default_factory=dict)
    errors: list[dict[str, Any]] = field(default_factory=list)
    data_points: int = 0

    def fail(self, array: str, index: int, message: str) -> None:
        self.errors.append({"type": message, "input_array": array, "index": index})

    def done(self, array: str) -> None:
        self.processed[array] = self.processed.get(array, 0) + 1


def _alias_of(value: Any) -> tuple[str, str] | None:
    """``(label, name)`` of a user alias object, or None when it is not one."""
    if isinstance(value, dict) and isinstance(value.get("alias_name"), str) and isinstance(value.get("alias_label"), str):
        return value["alias_label"], value["alias_name"]
    return None


def _target(directory: UserDirectory, obj: dict[str, Any]) -> tuple[BrazeUser | None, str | None]:
    """The profile an object of ``/users/track`` names, created when Braze would create it;
    ``(None, error)`` otherwise."""
    given = [key for key in USER_KEYS if key in obj]
    if not given:
        contact = next((key for key in CONTACT_KEYS if key in obj), None)
        if contact is None:
            return None, "'external_id', 'braze_id', 'user_alias', 'email' or 'phone' is required"
        return _contact_target(directory, contact, obj[contact], obj.get("_update_existing_only"))
    if len(given) > 1:
        return None, "only one of 'external_id', 'braze_id' or 'user_alias' may name the user"
    update_only = obj.get("_update_existing_only")
    if "external_id" in obj:
        external_id = obj["external_id"]
        if not isinstance(external_id, str) or not external_id:
            return None, "'external_id' must be a non-empty string"
        user = directory.by_external(external_id)
        if user is None and update_only is True:
            return None, f"no user with external_id {external_id!r} and '_update_existing_only' is true"
        return user or directory.create(external_id=external_id), None
    if "user_alias" in obj:
        alias = _alias_of(obj["user_alias"])
        if alias is None:
            return None, "'user_alias' must be an object with string 'alias_name' and 'alias_label'"
        user = directory.by_alias_of(*alias)
        if user is None and update_only is not False:
            return None, "no user with this alias; set '_update_existing_only' to false to create an alias-only user"
        return user or directory.create(aliases=[alias]), None
    user = directory.get(obj["braze_id"]) if isinstance(obj["braze_id"], str) else None
    return (user, None) if user is not None else (None, f"no user with braze_id {obj['braze_id']!r}")


def _contact_target(directory: UserDirectory, attribute: str, value: Any,
                    update_only: Any) -> tuple[BrazeUser | None, str | None]:
    """The profile a track object names by ``email`` or ``phone``: the newest profile holding it (the mock
    keeps no update times, so "most recently updated" is the newest created); none holds it: a new
    unidentified profile carrying it, unless ``_update_existing_only`` is true (docs/braze.md)."""
    if not isinstance(value, str) or not value:
        return None, f"'{attribute}' must be a non-empty string"
    holders = users_with(directory, attribute, value)
    if holders:
        return holders[-1], None
    if update_only is True:
        return None, f"no user with {attribute} {value!r} and '_update_existing_only' is true"
    return directory.create(attributes={attribute: value}), None


def _instant(value: Any) -> float | None:
    try:
        return parse_instant(value).timestamp()
    except ClockError:
        return None


def _event_problem(obj: dict[str, Any]) -> str | None:
    if not isinstance(obj.get("name"), str) or not obj["name"]:
        return "event 'name' must be a non-empty string"
    if _instant(obj.get("time")) is None:
        return "event 'time' must be an ISO-8601 string"
    return None


def _purchase_problem(obj: dict[str, Any]) -> str | None:
    if not isinstance(obj.get("product_id"), str) or not obj["product_id"]:
        return "purchase 'product_id' must be a non-empty string"
    if not isinstance(obj.get("currency"), str) or len(obj["currency"]) != 3:
        return "purchase 'currency' must be a three-letter ISO-4217 code"
    if isinstance(obj.get("price"), bool) or not isinstance(obj.get("price"), (int, float)):
        return "purchase 'price' must be a number"
    if _instant(obj.get("time")) is None:
        return "purchase 'time' must be an ISO-8601 string"
    return None


def _identifying_contact(obj: dict[str, Any]) -> str | None:
    """The contact key that names the object's user (then it is not an attribute set), if any."""
    if any(key in obj for key in USER_KEYS):
        return None
    return next((key for key in CONTACT_KEYS if key in obj), None)


def track(directory: UserDirectory, body: dict[str, Any]) -> Outcome:
    """``/users/track``: attributes, then events, then purchases; one data point per attribute set,
    per event and per purchase, whether or not a value changed."""
    outcome = Outcome()
    for index, obj in enumerate(body.get("attributes") or []):
        user, problem = _target(directory, obj)
        if user is None:
            outcome.fail("attributes", index, problem or "unknown user")
            continue
        identifying = _identifying_contact(obj)
        for name, value in obj.items():
            if name in META_KEYS or name == identifying:
                continue
            if value is None:
                user.attributes.pop(name, None)
            else:
                user.attributes[name] = value
            outcome.data_points += 1
        outcome.done("attributes")
    for array, problem_of, key in (("events", _event_problem, "name"), ("purchases", _purchase_problem, "product_id")):
        for index, obj in enumerate(body.get(array) or []):
            problem = problem_of(obj)
            user = None
            if problem is None:
                user, problem = _target(directory, obj)
            if user is None:
                outcome.fail(array, index, problem or "unknown user")
                continue
            user.record_activity(array, obj[key], _instant(obj["time"]))  # type: ignore[arg-type]
            outcome.data_points += 1
            outcome.done(array)
    return outcome


#: ``/users/identify``'s arrays and the key naming the unidentified profile in each object.
IDENTIFY_ARRAYS = {"aliases_to_identify": "user_alias", "emails_to_identify": "email",
                   "phone_numbers_to_identify": "phone"}
MAX_IDENTIFY_OBJECTS = 50
TOO_MANY_TO_IDENTIFY = "The max number of external_ids and aliases per request was exceeded"
BOTH_PRIORITIES = "'prioritization' may hold only one of 'identified' and 'unidentified'"


def prioritized(candidates: list[BrazeUser], prioritization: list[str]) -> list[BrazeUser]:
    """Braze's ``prioritization``, applied in order: ``identified`` / ``unidentified`` keep those profiles,
    ``most_recently_updated`` / ``least_recently_updated`` keep the newest / oldest one (the mock keeps no
    update times: creation order stands in). One profile left: that one; none or several: no match."""
    for rule in prioritization:
        if rule == "identified":
            candidates = [u for u in candidates if u.is_identified]
        elif rule == "unidentified":
            candidates = [u for u in candidates if not u.is_identified]
        elif candidates:
            ordered = sorted(candidates, key=lambda u: u.created_at)  # stable: creation order on equal instants
            candidates = [ordered[-1] if rule == "most_recently_updated" else ordered[0]]
    return candidates


def _profile_to_identify(directory: UserDirectory, key: str, item: dict[str, Any]) -> tuple[BrazeUser | None, str]:
    if key == "user_alias":
        alias = _alias_of(item["user_alias"])
        user = directory.by_alias_of(*alias) if alias else None
        return user, "no user with this alias"
    holders = users_with(directory, key, item[key])
    if not holders:
        return None, f"no user with {key} {item[key]!r}"
    chosen = prioritized(holders, item["prioritization"])
    if len(chosen) != 1:
        return None, f"{'more than one user' if chosen else 'no user'} with {key} {item[key]!r} matches the " \
                     "prioritization; not merged"
    return chosen[0], ""


def identify(directory: UserDirectory, body: dict[str, Any]) -> Outcome:
    """``/users/identify``: each unidentified profile (named by alias, or by email / phone and
    ``prioritization``) gets the external_id, or is merged into the existing user with that external_id,
    except when that user already holds an alias with a label of the profile's: then the two are not
    combined (Braze's identify page; SDK changeUser and /users/merge do combine, the target's alias wins).
    Fatal problems (too many objects, both identified and unidentified asked) refuse the whole request."""
    arrays = {array: body.get(array) or [] for array in IDENTIFY_ARRAYS}
    if sum(map(len, arrays.values())) > MAX_IDENTIFY_OBJECTS:
        raise RequestRejected(TOO_MANY_TO_IDENTIFY)
    if any({"identified", "unidentified"} <= set(item.get("prioritization") or ())
           for items in arrays.values() for item in items):
        raise RequestRejected(BOTH_PRIORITIES)
    outcome = Outcome()
    for array, key in IDENTIFY_ARRAYS.items():
        for index, item in enumerate(arrays[array]):
            user, problem = _profile_to_identify(directory, key, item)
            if user is None:
                outcome.fail(array, index, problem)
                continue
            target = directory.by_external(item["external_id"])
            shared = sorted(set(user.aliases) & set(target.aliases)) if target and target is not user else []
            if shared:
                outcome.fail(array, index, f"the user with external_id {item['external_id']!r} already holds an "
                                           f"alias with label {shared[0]!r}; the profiles are not combined")
                continue
            try:
                directory.identify(user, item["external_id"])
            except ConflictError as exc:
                outcome.fail(array, index, str(exc))
                continue
            outcome.done(array)
    return outcome


def new_aliases(directory: UserDirectory, items: list[dict[str, Any]]) -> Outcome:
    """``/users/alias/new``: an alias for an identified user, or a new alias-only user."""
    outcome = Outcome()
    for index, item in enumerate(items):
        alias = (item["alias_label"], item["alias_name"])
        try:
            if "external_id" in item:
                user = directory.by_external(item["external_id"])
                if user is None:
                    outcome.fail("user_aliases", index, f"no user with external_id {item['external_id']!r}")
                    continue
                directory.add_alias(user, *alias)
            else:
                directory.create(aliases=[alias])
        except ConflictError as exc:
            outcome.fail("user_aliases", index, str(exc))
            continue
        outcome.done("user_aliases")
    return outcome


def update_aliases(directory: UserDirectory, items: list[dict[str, Any]]) -> Outcome:
    """``/users/alias/update``: rename each alias within its label; an alias nobody holds, or a new name
    another user holds in that label, is a non-fatal error (Braze: "no alias will be updated")."""
    outcome = Outcome()
    for index, item in enumerate(items):
        try:
            directory.rename_alias(item["alias_label"], item["old_alias_name"], item["new_alias_name"])
        except (ConflictError, NotFoundError) as exc:
            outcome.fail("alias_updates", index, str(exc))
            continue
        outcome.done("alias_updates")
    return outcome


def _activity_list(table: dict[str, Activity] | None) -> list[dict[str, Any]]:
    return [{"name": name, "first": iso_of(a.first), "last": iso_of(a.last), "count": a.count}
            for name, a in (table or {}).items()]


def export_object(user: BrazeUser, fields: list[str] | None = None,
                  custom_attributes: list[str] | None = None) -> dict[str, Any]:
    """A user as ``/users/export/ids`` shows it (absent fields are left out, as Braze does); with
    ``fields``, only those, plus the ``custom_attributes`` named (``/users/export/segment``)."""
    data: dict[str, Any] = {"created_at": iso_of(user.created_at), "braze_id": user.braze_id}
    if user.external_id is not None:
        data["external_id"] = user.external_id
    if user.aliases:
        data["user_aliases"] = user.alias_list()
    if user.device_ids:
        data["devices"] = [{"device_id": device_id} for device_id in user.device_ids]
    data.update({k: v for k, v in user.attributes.items() if k in STANDARD_ATTRIBUTES})
    custom = {k: v for k, v in user.attributes.items() if k not in STANDARD_ATTRIBUTES}
    if custom:
        data["custom_attributes"] = custom
    if user.events:
        data["custom_events"] = _activity_list(user.events)
    if user.purchases:
        data["purchases"] = _activity_list(user.purchases)
    if fields is not None:
        data = {k: v for k, v in data.items() if k in fields}
        if custom_attributes and "custom_attributes" not in fields:
            chosen = {k: v for k, v in custom.items() if k in custom_attributes}
            if chosen:
                data["custom_attributes"] = chosen
    return data


def export_segment_file(users: list[BrazeUser], prefix: str, fields: list[str],
                        custom_attributes: list[str] | None = None) -> bytes:
    """The file behind ``/users/export/segment``'s ``url``: a ZIP holding ``<prefix>/0.json``, one user
    object a line (Braze's files are JSON lines of users; Braze splits them per 5,000 users, here one file)."""
    lines = "".join(json.dumps(export_object(u, fields, custom_attributes)) + "\n" for u in users)
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", zipfile.ZIP_DEFLATED) as archive:
        archive.writestr(f"{prefix}/0.json", lines)
    return buffer.getvalue()


#: ``/users/export/ids`` fields that name users by a contact attribute (every profile holding it, in creation order).
CONTACT_IDENTIFIERS = {"email_address": "email", "phone": "phone"}


def users_with(directory: UserDirectory, attribute: str, value: str) -> list[BrazeUser]:
    """Profiles whose ``email`` / ``phone`` equals ``value`` exactly (Braze documents no normalisation;
    see the reference's identifier rule). A scan: contact lookups name one value per request."""
    return [user for user in directory.users.values() if user.attributes.get(attribute) == value]


def export_ids(directory: UserDirectory, body: dict[str, Any]) -> dict[str, Any]:
    """``/users/export/ids``: the named users, in the order asked, each once."""
    found: dict[str, BrazeUser] = {}
    invalid: list[str] = []
    for external_id in body.get("external_ids") or []:
        user = directory.by_external(external_id)
        if user is None:
            invalid.append(external_id)
        else:
            found.setdefault(user.braze_id, user)
    lookups = [directory.by_alias_of(*_alias_of(a)) for a in body.get("user_aliases") or []]  # type: ignore[misc]
    if "device_id" in body:
        lookups.append(directory.by_device_id(body["device_id"]))
    if "braze_id" in body:
        lookups.append(directory.get(body["braze_id"]))
    for field, attribute in CONTACT_IDENTIFIERS.items():
        if field in body:
            lookups += users_with(directory, attribute, body[field])
    for user in lookups:
        if user is not None:
            found.setdefault(user.braze_id, user)
    reply: dict[str, Any] = {"users": [export_object(u, body.get("fields_to_export")) for u in found.values()]}
    if invalid:
        reply["invalid_user_ids"] = invalid
    reply["message"] = "success"
    return reply


#: ``/users/delete``'s identifier arrays; a request names its users by exactly one of them.
DELETE_ARRAYS = ("external_ids", "user_aliases", "braze_ids", "email_addresses", "phone_numbers")
ONE_DELETE_ARRAY = ("Only one of 'external_ids', 'user_aliases', 'braze_ids', 'email_addresses' or "
                    "'phone_numbers' may be provided per request")


def _users_to_delete(directory: UserDirectory, array: str, identifiers: list[Any]) -> list[BrazeUser | None]:
    if array == "external_ids":
        return [directory.by_external(e) for e in identifiers]
    if array == "user_aliases":
        return [directory.by_alias_of(*_alias_of(a)) for a in identifiers]  # type: ignore[misc]
    if array == "braze_ids":
        return [directory.get(b) for b in identifiers]
    attribute = "email" if array == "email_addresses" else "phone"
    return [user for value in identifiers for user in users_with(directory, attribute, value)]


def delete(directory: UserDirectory, body: dict[str, Any]) -> int:
    """``/users/delete``: deletes the named profiles (every profile holding an email / phone) and answers
    how many identifiers were queued for deletion, known or not (Braze deletes asynchronously)."""
    given = [array for array in DELETE_ARRAYS if array in body]
    if len(given) != 1:
        raise RequestRejected(ONE_DELETE_ARRAY)
    identifiers = body[given[0]]
    if len(identifiers) > MAX_DELETE_IDS:
        raise RequestRejected(TOO_MANY_DELETE_IDS)
    unique = {u.braze_id: u for u in _users_to_delete(directory, given[0], identifiers) if u is not None}
    for user in unique.values():
        directory.delete(user)
    return len(identifiers)


def _user_named_by(directory: UserDirectory, identifier: dict[str, Any]) -> BrazeUser | None:
    """The one profile a merge identifier names (email / phone through its ``prioritization``), else None."""
    if "external_id" in identifier:
        return directory.by_external(identifier["external_id"])
    if "user_alias" in identifier:
        return directory.by_alias_of(*_alias_of(identifier["user_alias"]))  # type: ignore[misc]
    key = "email" if "email" in identifier else "phone"
    chosen = prioritized(users_with(directory, key, identifier[key]), identifier["prioritization"])
    return chosen[0] if len(chosen) == 1 else None


def merge(directory: UserDirectory, updates: list[dict[str, Any]]) -> int:
    """``/users/merge``: every update is checked first (fatal errors refuse the whole request), then
    each ``identifier_to_merge`` user is folded into its ``identifier_to_keep`` user. Identifiers may be of
    different kinds. Unknown users, and an email / phone whose prioritization leaves none or several
    profiles, are skipped silently: the real endpoint is asynchronous and answers 202 before looking."""
    if any({"identified", "unidentified"} <= set(identifier.get("prioritization") or ())
           for update in updates for identifier in (update["identifier_to_merge"], update["identifier_to_keep"])):
        raise RequestRejected(BOTH_PRIORITIES)
    merged = 0
    for update in updates:
        source = _user_named_by(directory, update["identifier_to_merge"])
        target = _user_named_by(directory, update["identifier_to_keep"])
        if source is not None and target is not None and source is not target:
            directory.merge(source, target)
            merged += 1
    return merged
