"""Cohorts: the definition language (validated by ``schemas/cohort_definition.json``), compiled
into conditions that are evaluated at an instant over a project's indexes.

Conditions work on sets of canonical user ints. A behavioural condition reads one name's time
index: the window is two bisects, the slice of user ids is counted (``Counter`` in C), and only
``where`` filters look at event properties. Property conditions scan the profiles once.
"""
from __future__ import annotations

from collections import Counter
from dataclasses import dataclass, field
from datetime import datetime, timedelta, timezone
from typing import Any, Callable, Protocol

from mocks.common.clock import ClockError, parse_instant
from mocks.common.validation import InvalidBody, check_body

from .errors import DefinitionError
from .events import EventLog
from .expressions import ordered, same_value
from .identity import IdRegistry
from .profiles import ProfileStore

DAY_MS = 86400 * 1000
MAX_DEPTH = 32
_OPERATORS = ("equals", "not_equals", "gt", "gte", "lt", "lte", "defined")


@dataclass
class Cohort:
    cohort_id: int
    project_id: int
    name: str
    description: str
    definition: dict[str, Any]
    created_at: datetime
    is_visible: bool = True
    revision: int = 0
    condition: "Condition" = field(default=None, repr=False)  # type: ignore[assignment]


class ProjectView(Protocol):
    """What a condition reads: the project's data as seen at one instant."""

    at_ms: int
    start_ms: int
    events: EventLog
    registry: IdRegistry
    profiles: ProfileStore

    def universe(self) -> set[int]: ...


class Condition(Protocol):
    def members(self, view: ProjectView) -> set[int]: ...


# -- values --------------------------------------------------------------------------------------
ValueTest = Callable[[dict[str, Any], str], bool]


def value_test(operators: dict[str, Any]) -> ValueTest:
    """A test of one property of a properties dict; every operator given must hold."""
    checks = [(op, operators[op]) for op in _OPERATORS if op in operators]
    if len(checks) == 1 and checks[0][0] == "equals" and isinstance(checks[0][1], (bool, str, int, float)):
        return _equals_scalar(checks[0][1])

    def test(props: dict[str, Any], name: str) -> bool:
        present = name in props and props[name] is not None
        value = props.get(name)
        for op, expected in checks:
            if op == "defined":
                ok = present == expected
            elif op == "equals":
                ok = present and same_value(value, expected)
            elif op == "not_equals":
                ok = not (present and same_value(value, expected))
            else:
                ok = present and ordered(value, op, expected)
            if not ok:
                return False
        return True
    return test


def _equals_scalar(expected: bool | str | int | float) -> ValueTest:
    """``equals`` a scalar, the most common profile filter, without the generic loop: it runs once
    per profile per evaluation. Same meaning as :func:`same_value` (no ``True == 1``; a list
    property equals a value it contains)."""
    if isinstance(expected, bool):
        def test_bool(props: dict[str, Any], name: str) -> bool:
            value = props.get(name)
            return value is expected or (value.__class__ is list and any(item is expected for item in value))
        return test_bool

    def test(props: dict[str, Any], name: str) -> bool:
        value = props.get(name)
        if value.__class__ is list:
            return any(same_value(item, expected) for item in value)
        return value == expected and value.__class__ is not bool
    return test


# -- conditions ----------------------------------------------------------------------------------
@dataclass
class PropertyCondition:
    """Profile property test; only users with a profile can match."""

    name: str
    test: ValueTest

    def members(self, view: ProjectView) -> set[int]:
        name, test = self.name, self.test
        return {user for user, props in view.profiles.by_user.items() if test(props, name)}


@dataclass
class EventCondition:
    """Did ``event`` between ``at_least`` and ``at_most`` times in a window (optionally filtered)."""

    event: str
    at_least: int
    at_most: int | None
    within_days: float | None
    between: tuple[int, int] | None
    where: list[tuple[str, ValueTest]]

    def window(self, view: ProjectView) -> tuple[int, int]:
        start, end = view.start_ms, view.at_ms
        if self.within_days is not None:
            start = max(start, view.at_ms - int(self.within_days * DAY_MS))
        if self.between is not None:
            start, end = max(start, self.between[0]), min(end, self.between[1])
        return start, end

    def members(self, view: ProjectView) -> set[int]:
        users = self._matching_users(view)
        anonymous = view.registry.find("")
        if self.at_least <= 1 and self.at_most is None:
            found = set(view.registry.to_canonical(users)) if self.at_least == 1 else view.universe()
        else:
            counts = Counter(view.registry.to_canonical(users))
            top = self.at_most
            found = {u for u, n in counts.items() if n >= self.at_least and (top is None or n <= top)}
            if self.at_least == 0:
                found |= view.universe() - counts.keys()
        found.discard(anonymous)
        return found

    def _matching_users(self, view: ProjectView) -> Any:
        index = view.events.index(self.event)
        if index is None:
            return ()
        start, end = self.window(view)
        if start > end:
            return ()
        lo, hi = index.window(start, end)
        events = view.events
        if not self.where:
            return events.users_between(index, lo, hi)
        # live copies only: the latest copy of a duplicate, with its properties, is the one tested
        return [user for user, row in events.live_between(index, lo, hi)
                if _all_hold(self.where, events.properties(row))]


def _all_hold(tests: list[tuple[str, ValueTest]], props: dict[str, Any]) -> bool:
    return all(test(props, name) for name, test in tests)


@dataclass
class AllOf:
    """Intersection; ``not`` parts are subtracted from the others, so ``A and not B`` never needs
    the whole universe."""

    parts: list[Condition]

    def members(self, view: ProjectView) -> set[int]:
        positive = [p for p in self.parts if not isinstance(p, NoneOf)]
        negative = [p.inner for p in self.parts if isinstance(p, NoneOf)]
        found = positive[0].members(view) if positive else view.universe()
        for part in positive[1:]:
            if not found:
                return found
            found &= part.members(view)
        for part in negative:
            if not found:
                return found
            found -= part.members(view)
        return found


@dataclass
class AnyOf:
    parts: list[Condition]

    def members(self, view: ProjectView) -> set[int]:
        found: set[int] = set()
        for part in self.parts:
            found |= part.members(view)
        return found


@dataclass
class NoneOf:
    """Everyone the project knows (profiles and users with retained events) minus the inner set."""

    inner: Condition

    def members(self, view: ProjectView) -> set[int]:
        return view.universe() - self.inner.members(view)


@dataclass
class StaticList:
    """A fixed list of distinct ids, shown under their canonical ids."""

    numbers: list[int]

    def members(self, view: ProjectView) -> set[int]:
        return set(map(view.registry.canonical, self.numbers))


# -- compiling -----------------------------------------------------------------------------------
def compile_definition(definition: Any, registry: IdRegistry) -> Condition:
    """Validate a definition (schema first, then the rules a schema cannot say) and compile it."""
    if _depth(definition) > MAX_DEPTH:
        raise DefinitionError(f"invalid cohort definition: nested more than {MAX_DEPTH} levels deep")
    try:
        check_body("mocks.mixpanel", "cohort_definition", definition)
    except InvalidBody as exc:
        raise DefinitionError(f"invalid cohort definition at {exc.message}") from None
    return _compile(definition, "$", registry)


def _depth(value: Any) -> int:
    deepest, stack = 0, [(value, 1)]
    while stack:
        item, level = stack.pop()
        deepest = max(deepest, level)
        if level > MAX_DEPTH:
            break
        children = item.values() if isinstance(item, dict) else item if isinstance(item, list) else ()
        stack.extend((child, level + 1) for child in children if isinstance(child, (dict, list)))
    return deepest


def _compile(node: dict[str, Any], where: str, registry: IdRegistry) -> Condition:
    if "property" in node:
        if not any(op in node for op in _OPERATORS):
            raise DefinitionError(f"invalid cohort definition at {where}: a property condition needs one of "
                                  f"{', '.join(_OPERATORS)}")
        return PropertyCondition(node["property"], value_test(node))
    if "event" in node:
        return _compile_event(node, where)
    if "and" in node:
        return AllOf([_compile(n, f"{where}.and[{i}]", registry) for i, n in enumerate(node["and"])])
    if "or" in node:
        return AnyOf([_compile(n, f"{where}.or[{i}]", registry) for i, n in enumerate(node["or"])])
    if "not" in node:
        return NoneOf(_compile(node["not"], f"{where}.not", registry))
    return StaticList([registry.number(d) for d in node["distinct_ids"]])


def _compile_event(node: dict[str, Any], where: str) -> EventCondition:
    if "within_days" in node and "between" in node:
        raise DefinitionError(f"invalid cohort definition at {where}: give 'within_days' or 'between', not both")
    at_least = node.get("at_least", 0 if "at_most" in node else 1)
    at_most = node.get("at_most")
    if at_most is not None and at_most < at_least:
        raise DefinitionError(f"invalid cohort definition at {where}: 'at_most' ({at_most}) is below "
                              f"'at_least' ({at_least})")
    between = _between(node["between"], f"{where}.between") if "between" in node else None
    tests = [(name, value_test(spec if isinstance(spec, dict) else {"equals": spec}))
             for name, spec in (node.get("where") or {}).items()]
    return EventCondition(node["event"], at_least, at_most, node.get("within_days"), between, tests)


def _between(pair: list[str], where: str) -> tuple[int, int]:
    """``[from, to]`` as inclusive ms; a date-only ``to`` means the end of that day."""
    try:
        start, end = parse_instant(pair[0]), parse_instant(pair[1])
    except ClockError as exc:
        raise DefinitionError(f"invalid cohort definition at {where}: {exc}") from None
    if len(pair[1].strip()) == 10:
        end += timedelta(days=1) - timedelta(milliseconds=1)
    if end < start:
        raise DefinitionError(f"invalid cohort definition at {where}: the end is before the start")
    return _ms(start), _ms(end)


def _ms(instant: datetime) -> int:
    return int(instant.astimezone(timezone.utc).timestamp() * 1000)

