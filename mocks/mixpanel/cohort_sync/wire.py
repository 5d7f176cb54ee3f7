"""Braze's wire encoding of a batch of changes: the ``cohort_changes`` of one users request
(``user_ids``, ``aliases`` as ``{alias_name, alias_label}``, ``device_ids``, ``should_remove``)."""
from __future__ import annotations

from operator import itemgetter
from typing import Any

from .model import ADD, ALIAS, DEVICE_ID, EXTERNAL_ID, REMOVE, Change, Identifier


def cohort_changes(batch: list[Change]) -> list[dict[str, Any]]:
    """One request's ``cohort_changes``: at most one add object and one remove object, each with
    the ``user_ids``, ``aliases`` and ``device_ids`` it needs.

    The usual batch (only adds, or only removes, of external ids) is taken apart by C-level
    ``map``s: this runs for every request of a million-member export."""
    identifiers = list(map(_IDENTIFIER_OF, batch))
    operations = list(map(_OPERATION_OF, batch))
    if operations.count(operations[0] if operations else ADD) == len(batch):
        groups = [(operations[0], identifiers)] if batch else []
    else:
        groups = [(operation, [i for i, op in zip(identifiers, operations) if op == operation])
                  for operation in (ADD, REMOVE)]
    return [_change_object(operation, group) for operation, group in groups if group]


def _change_object(operation: str, identifiers: list[Identifier]) -> dict[str, Any]:
    kinds = list(map(_KIND_OF, identifiers))
    if kinds.count(EXTERNAL_ID) == len(kinds):
        change: dict[str, Any] = {"user_ids": list(map(_VALUE_OF, identifiers))}
    else:
        change = {}
        external_ids = [i.value for i in identifiers if i.kind == EXTERNAL_ID]
        aliases = [{"alias_name": i.value, "alias_label": i.label} for i in identifiers if i.kind == ALIAS]
        device_ids = [i.value for i in identifiers if i.kind == DEVICE_ID]
        for key, values in (("user_ids", external_ids), ("aliases", aliases), ("device_ids", device_ids)):
            if values:
                change[key] = values
    if operation == REMOVE:
        change["should_remove"] = True
    return change


_IDENTIFIER_OF, _OPERATION_OF = itemgetter(1), itemgetter(2)  # Change fields
_KIND_OF, _VALUE_OF = itemgetter(0), itemgetter(1)  # Identifier fields