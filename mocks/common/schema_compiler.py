"""Request-body schemas compiled once into checks that report one :class:`SchemaFailure`.

Every schema under a mock's ``schemas/`` folder is checked against Draft 2020-12 when it is first
loaded (:func:`body_schema`), then compiled into one of two checks with the same interface:

* the *compiled* check (the Braze mock's schemas, and the world files' schema through
  :class:`CompiledSchema`): plain Python closures for the subset of JSON Schema those use, with short generated reasons (``must be of type string``). Why not
  call ``jsonschema`` on every request: validating a partner users body of 1,000 identifiers costs
  about 5 ms with ``jsonschema`` (15 ms with aliases), which alone would double the cost of a
  1,000,000-member import; the compiled check walks it in a fraction of a millisecond, and the tests
  check that it accepts exactly what ``jsonschema`` accepts. Any other keyword is refused at compile
  time, so a schema can never be silently half-checked.
* the *full* check (the Mixpanel control planes' schemas, which use ``if``/``then``/``else``,
  ``propertyNames`` and ``prefixItems``): ``jsonschema``'s validator, reporting its most relevant
  error with ``jsonschema``'s wording (the control-plane contract the README and tests pin).

Both read one message key, ``errorMessage`` (a string, or an object keyed by the failing keyword
with an optional ``default``): the whole text of a failure at that node (the compiled check also
applies it to failures below the node). Both report one location format, ``$.a[0].b``.
"""
from __future__ import annotations

import json
import re
from dataclasses import dataclass
from functools import lru_cache
from importlib import resources
from typing import Any, Callable, Iterable, Protocol

from jsonschema import Draft202012Validator

#: The packages whose schemas get the compiled check (hot paths, Braze's own wording).
COMPILED_PACKAGES = frozenset({"mocks.braze"})

ANNOTATIONS = frozenset({"$schema", "$id", "$comment", "title", "description", "default", "examples",
                         "errorMessage", "$defs"})
ASSERTIONS = frozenset({"type", "enum", "const", "minLength", "maxLength", "pattern", "minimum", "maximum",
                        "exclusiveMinimum", "exclusiveMaximum", "minItems", "maxItems", "items", "prefixItems",
                        "properties", "required", "additionalProperties", "minProperties", "maxProperties",
                        "dependentRequired", "anyOf", "oneOf", "not", "$ref"})

_TYPE_TESTS: dict[str, Callable[[Any], bool]] = {
    "object": lambda v: isinstance(v, dict),
    "array": lambda v: isinstance(v, list),
    "string": lambda v: isinstance(v, str),
    "boolean": lambda v: isinstance(v, bool),
    "null": lambda v: v is None,
    "number": lambda v: isinstance(v, (int, float)) and not isinstance(v, bool),
    "integer": lambda v: (isinstance(v, int) and not isinstance(v, bool)) or (isinstance(v, float) and v.is_integer()),
}

#: JSON types that one ``isinstance`` decides (a bool is not a number, so number and integer are not here).
_PLAIN_TYPES: dict[str, type | tuple[type, ...]] = {"object": dict, "array": list, "string": str, "boolean": bool}

#: Item types of an all-strings array (the 1,000 ids of a partner call are checked in C).
_STR_ONLY = {str}


def _json_equal(left: Any, right: Any) -> bool:
    """JSON equality as JSON Schema defines it: ``true`` is not ``1``, but ``1`` is ``1.0``."""
    if isinstance(left, bool) or isinstance(right, bool):
        return type(left) is type(right) and left == right
    return left == right


class SchemaNotSupported(ValueError):
    """A schema uses a keyword this checker does not implement."""


@dataclass
class SchemaFailure:
    """Where a body breaks its schema, and the vendor's message for it (None: no message given)."""

    path: tuple[Any, ...]
    keyword: str
    reason: str
    message: str | None = None

    @property
    def location(self) -> str:
        """A readable JSON path such as ``$.cohort_changes[0].user_ids``."""
        text = "$"
        for part in self.path:
            text += f"[{part}]" if isinstance(part, int) else f".{part}"
        return text

    def text(self) -> str:
        """The vendor's message, else a generated one that names the place and the reason."""
        return self.message or f"{self.location}: {self.reason}"


Check = Callable[[Any, tuple], "SchemaFailure | None"]


def _message_for(node: dict[str, Any], keyword: str) -> str | None:
    spec = node.get("errorMessage")
    if isinstance(spec, dict):
        return spec.get(keyword, spec.get("default"))
    return spec


def _with_message(check: Check, node: dict[str, Any]) -> Check:
    """Fill in this node's errorMessage on failures that have none from deeper nodes."""
    if "errorMessage" not in node:
        return check

    def checked(value: Any, path: tuple) -> SchemaFailure | None:
        failure = check(value, path)
        if failure is not None and failure.message is None:
            failure.message = _message_for(node, failure.keyword)
        return failure

    return checked


def _bounds(size: Any, low: Any, high: Any, path: tuple, keywords: tuple[str, str],
            noun: str = "") -> SchemaFailure | None:
    """A failure when ``size`` is below ``low`` or above ``high``: "must have at least 3 characters"
    for a counted ``noun``, "must be at least 1" for a number."""
    verb = f"have at %s {{}} {noun}" if noun else "be at %s {}"
    if low is not None and size < low:
        return SchemaFailure(path, keywords[0], "must " + (verb % "least").format(low))
    if high is not None and size > high:
        return SchemaFailure(path, keywords[1], "must " + (verb % "most").format(high))
    return None


def _all_of(checks: list[Check]) -> Check:
    """The first failure of ``checks`` in order (one or two checks, the common cases, without a loop)."""
    if not checks:
        return lambda value, path: None
    if len(checks) == 1:
        return checks[0]
    if len(checks) == 2:
        first, second = checks

        def both(value: Any, path: tuple) -> SchemaFailure | None:
            failure = first(value, path)
            return failure if failure is not None else second(value, path)

        return both

    def check_all(value: Any, path: tuple) -> SchemaFailure | None:
        for check in checks:
            failure = check(value, path)
            if failure is not None:
                return failure
        return None

    return check_all


def _first_of(check: Check, items: Iterable[tuple[Any, Any]], path: tuple) -> SchemaFailure | None:
    """The first failure of ``check`` over ``(key, value)`` pairs, each at ``path + (key,)``."""
    for key, item in items:
        failure = check(item, path + (key,))
        if failure is not None:
            return failure
    return None


class _Compiler:
    def __init__(self, root: dict[str, Any]):
        self.root = root
        self.refs: dict[str, Check] = {}

    def compile(self, node: Any) -> Check:
        if node is True or node == {}:
            return lambda value, path: None
        if not isinstance(node, dict):
            raise SchemaNotSupported(f"schema node must be an object, got {node!r}")
        unknown = set(node) - ANNOTATIONS - ASSERTIONS
        if unknown:
            raise SchemaNotSupported(f"unsupported schema keywords: {sorted(unknown)}")
        spec = node.get("errorMessage", "")
        if not (isinstance(spec, str) or (isinstance(spec, dict) and all(isinstance(v, str) for v in spec.values()))):
            raise SchemaNotSupported(f"errorMessage must be a string or an object of strings, got {spec!r}")
        checks = [c for c in (self._ref(node), self._type(node), self._enum(node), self._string(node),
                              self._number(node), self._array(node), self._object(node), self._object_size(node),
                              self._dependent_required(node), self._any_of(node), self._one_of(node),
                              self._not(node)) if c]

        return _with_message(_all_of(checks), node)

    def _ref(self, node: dict[str, Any]) -> Check | None:
        ref = node.get("$ref")
        if ref is None:
            return None
        if not ref.startswith("#/$defs/"):
            raise SchemaNotSupported(f"only local '#/$defs/...' references are supported, got {ref!r}")
        name = ref.removeprefix("#/$defs/")
        if name not in self.refs:
            self.refs[name] = lambda value, path: None  # placeholder while compiling (recursion)
            self.refs[name] = self.compile(self.root["$defs"][name])
        return lambda value, path: self.refs[name](value, path)

    @staticmethod
    def _type(node: dict[str, Any]) -> Check | None:
        if "type" not in node:
            return None
        names = node["type"] if isinstance(node["type"], list) else [node["type"]]
        tests = [_TYPE_TESTS[name] for name in names]
        reason = f"must be of type {' or '.join(names)}"
        plain = _PLAIN_TYPES.get(names[0]) if len(names) == 1 else None
        if plain is not None:  # one type that isinstance alone decides (the hot case: checked in C)
            def check_plain(value: Any, path: tuple) -> SchemaFailure | None:
                return None if isinstance(value, plain) else SchemaFailure(path, "type", reason)

            return check_plain

        def check(value: Any, path: tuple) -> SchemaFailure | None:
            return None if any(test(value) for test in tests) else SchemaFailure(path, "type", reason)

        return check

    @staticmethod
    def _enum(node: dict[str, Any]) -> Check | None:
        if "enum" not in node and "const" not in node:
            return None
        allowed = node["enum"] if "enum" in node else [node["const"]]
        keyword = "enum" if "enum" in node else "const"
        reason = f"must be one of {json.dumps(allowed)}"

        def check(value: Any, path: tuple) -> SchemaFailure | None:
            ok = any(_json_equal(value, item) for item in allowed)
            return None if ok else SchemaFailure(path, keyword, reason)

        return check

    @staticmethod
    def _string(node: dict[str, Any]) -> Check | None:
        low, high = node.get("minLength"), node.get("maxLength")
        pattern = re.compile(node["pattern"]) if "pattern" in node else None
        if low is None and high is None and pattern is None:
            return None

        def check(value: Any, path: tuple) -> SchemaFailure | None:
            if not isinstance(value, str):
                return None
            size = len(value)
            if (low is not None and size < low) or (high is not None and size > high):
                return _bounds(size, low, high, path, ("minLength", "maxLength"), "characters")
            if pattern is not None and not pattern.search(value):
                return SchemaFailure(path, "pattern", f"must match {pattern.pattern}")
            return None

        return check

    @staticmethod
    def _number(node: dict[str, Any]) -> Check | None:
        low, high = node.get("minimum"), node.get("maximum")
        above, below = node.get("exclusiveMinimum"), node.get("exclusiveMaximum")
        if low is None and high is None and above is None and below is None:
            return None

        def check(value: Any, path: tuple) -> SchemaFailure | None:
            if not _TYPE_TESTS["number"](value):
                return None
            if above is not None and not value > above:
                return SchemaFailure(path, "exclusiveMinimum", f"must be more than {above}")
            if below is not None and not value < below:
                return SchemaFailure(path, "exclusiveMaximum", f"must be less than {below}")
            return _bounds(value, low, high, path, ("minimum", "maximum"))

        return check

    def _array(self, node: dict[str, Any]) -> Check | None:
        low, high, items = node.get("minItems"), node.get("maxItems"), node.get("items")
        prefix = [self.compile(sub) for sub in node.get("prefixItems", [])]
        if low is None and high is None and items is None and not prefix:
            return None
        item_check = self.compile(items) if items is not None else None
        # An all-strings array passes in C when every string is valid: items that are strings, or an anyOf
        # with a plain string branch (the partner users call's user_ids: strings or alias objects).
        only_strings = items == {"type": "string"} or (isinstance(items, dict) and set(items) == {"anyOf"}
                                                       and {"type": "string"} in items["anyOf"])
        first = len(prefix)  # `items` applies after the `prefixItems` (Draft 2020-12)

        def check(value: Any, path: tuple) -> SchemaFailure | None:
            if not isinstance(value, list):
                return None
            failure = _bounds(len(value), low, high, path, ("minItems", "maxItems"), "items")
            if failure is not None:
                return failure
            if prefix:
                failure = _first_of(lambda item, where: prefix[where[-1]](item, where),
                                    enumerate(value[:first]), path)
                if failure is not None:
                    return failure
            if item_check is None or (only_strings and set(map(type, value[first:])) <= _STR_ONLY):
                return None
            return _first_of(item_check, enumerate(value[first:], start=first), path)

        return check

    def _object(self, node: dict[str, Any]) -> Check | None:
        properties = {name: self.compile(sub) for name, sub in node.get("properties", {}).items()}
        required = list(node.get("required", []))
        extra = node.get("additionalProperties", True)
        if not properties and not required and extra is True:
            return None
        extra_check = None if isinstance(extra, bool) else self.compile(extra)
        missing_messages = {name: _message_for(sub, "required") if isinstance(sub, dict) else None
                            for name, sub in node.get("properties", {}).items()}
        # Properties are checked in the order the schema declares them: that order is the vendor's
        # order of checks (e.g. `cohort_id` before `cohort_changes`).
        order = list(properties) + [name for name in required if name not in properties]

        def check(value: Any, path: tuple) -> SchemaFailure | None:
            if not isinstance(value, dict):
                return None
            for name in order:
                if name not in value:
                    if name in required:
                        return SchemaFailure(path + (name,), "required", f"'{name}' is required",
                                             missing_messages.get(name))
                    continue
                if name in properties:
                    failure = properties[name](value[name], path + (name,))
                    if failure is not None:
                        return failure
            if extra is True:
                return None
            extras = [(name, item) for name, item in value.items() if name not in properties]
            if extra_check is None:
                first = extras[0][0] if extras else None
                return None if first is None else SchemaFailure(path + (first,), "additionalProperties",
                                                                f"'{first}' is not allowed")
            return _first_of(extra_check, extras, path)

        return check

    @staticmethod
    def _object_size(node: dict[str, Any]) -> Check | None:
        low, high = node.get("minProperties"), node.get("maxProperties")
        if low is None and high is None:
            return None

        def check(value: Any, path: tuple) -> SchemaFailure | None:
            if not isinstance(value, dict):
                return None
            return _bounds(len(value), low, high, path, ("minProperties", "maxProperties"), "properties")

        return check

    @staticmethod
    def _dependent_required(node: dict[str, Any]) -> Check | None:
        dependencies: dict[str, list[str]] = node.get("dependentRequired", {})
        if not dependencies:
            return None

        def check(value: Any, path: tuple) -> SchemaFailure | None:
            if not isinstance(value, dict):
                return None
            for name, needed in dependencies.items():
                if name in value:
                    for other in needed:
                        if other not in value:
                            return SchemaFailure(path, "dependentRequired", f"'{other}' is required with '{name}'")
            return None

        return check

    def _one_of(self, node: dict[str, Any]) -> Check | None:
        if "oneOf" not in node:
            return None
        options = [self.compile(sub) for sub in node["oneOf"]]

        def check(value: Any, path: tuple) -> SchemaFailure | None:
            fitting = 0
            for option in options:
                if option(value, path) is None:
                    fitting += 1
                    if fitting > 1:
                        return SchemaFailure(path, "oneOf", "matches more than one of the allowed forms")
            return None if fitting == 1 else SchemaFailure(path, "oneOf", "does not match any of the allowed forms")

        return check

    def _not(self, node: dict[str, Any]) -> Check | None:
        if "not" not in node:
            return None
        negated = self.compile(node["not"])

        def check(value: Any, path: tuple) -> SchemaFailure | None:
            return SchemaFailure(path, "not", "must not match the excluded form") if negated(value, path) is None else None

        return check

    def _any_of(self, node: dict[str, Any]) -> Check | None:
        if "anyOf" not in node:
            return None
        options = [self.compile(sub) for sub in node["anyOf"]]
        reason = "does not match any of the allowed forms"

        def check(value: Any, path: tuple) -> SchemaFailure | None:
            if any(option(value, path) is None for option in options):
                return None
            return SchemaFailure(path, "anyOf", reason)

        return check


class BodySchema(Protocol):
    """One request-body schema, compiled: ``first_failure(body)`` is None for a valid body."""

    name: str
    schema: dict[str, Any]

    def first_failure(self, body: Any) -> SchemaFailure | None: ...


def _read_schema(package: str, name: str) -> dict[str, Any]:
    """``<package>/schemas/<name>.json``, checked against Draft 2020-12."""
    text = resources.files(package).joinpath("schemas", f"{name}.json").read_text(encoding="utf-8")
    schema: dict[str, Any] = json.loads(text)
    Draft202012Validator.check_schema(schema)
    return schema


class CompiledSchema:
    """The fast check: the schema compiled into closures (the subset above)."""

    def __init__(self, name: str, schema: dict[str, Any]):
        self.name = name
        self.schema = schema
        self._check = _Compiler(schema).compile(schema)

    def first_failure(self, body: Any) -> SchemaFailure | None:
        return self._check(body, ())


class FullSchema:
    """The full Draft 2020-12 check, reporting the error that sorts first by place, then keyword."""

    def __init__(self, name: str, schema: dict[str, Any]):
        self.name = name
        self.schema = schema
        self.validator = Draft202012Validator(schema)

    def first_failure(self, body: Any) -> SchemaFailure | None:
        errors = sorted(self.validator.iter_errors(body), key=lambda e: (list(e.absolute_path), str(e.validator)))
        if not errors:
            return None
        error = errors[0]
        keyword = str(error.validator)
        message = _message_for(error.schema, keyword) if isinstance(error.schema, dict) else None
        return SchemaFailure(tuple(error.absolute_path), keyword, error.message, message)


@lru_cache(maxsize=None)
def body_schema(package: str, name: str) -> BodySchema:
    """The check of ``<package>/schemas/<name>.json``, compiled once per process."""
    schema = _read_schema(package, name)
    if package in COMPILED_PACKAGES:
        return CompiledSchema(name, schema)
    return FullSchema(name, schema)
