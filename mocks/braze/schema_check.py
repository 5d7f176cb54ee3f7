"""Request-body schemas compiled once into plain Python checks, fast enough for the hot path.

Why not call ``jsonschema`` on every request: validating a partner users body of 1,000 identifiers
costs about 5 ms with ``jsonschema`` (15 ms with aliases), which alone would double the cost of a
1,000,000-member import. The schemas in ``schemas/`` stay the single description of every body:
``load_validator`` checks each one against Draft 2020-12 when it is compiled here, the tests check that
these compiled checks accept exactly what ``jsonschema`` accepts, and at run time the compiled check
walks a valid 1,000-identifier body in a fraction of a millisecond.

Only the subset of JSON Schema the Braze bodies use is supported; any other keyword is refused at
compile time, so a schema can never be silently half-checked. Each schema node may carry an
``errorMessage`` (a string, or an object keyed by the failing keyword with an optional ``default``):
the vendor's exact text for a failure at or below that node.
"""
from __future__ import annotations

import json
import re
from dataclasses import dataclass
from functools import lru_cache
from importlib import resources
from typing import Any, Callable

from mocks.common.validation import load_validator

ANNOTATIONS = frozenset({"$schema", "$id", "$comment", "title", "description", "default", "examples",
                         "errorMessage", "$defs"})
ASSERTIONS = frozenset({"type", "enum", "const", "minLength", "maxLength", "pattern", "minimum", "maximum", "minItems",
                        "maxItems", "items", "properties", "required", "additionalProperties", "anyOf", "$ref"})

_TYPE_TESTS: dict[str, Callable[[Any], bool]] = {
    "object": lambda v: isinstance(v, dict),
    "array": lambda v: isinstance(v, list),
    "string": lambda v: isinstance(v, str),
    "boolean": lambda v: isinstance(v, bool),
    "null": lambda v: v is None,
    "number": lambda v: isinstance(v, (int, float)) and not isinstance(v, bool),
    "integer": lambda v: (isinstance(v, int) and not isinstance(v, bool)) or (isinstance(v, float) and v.is_integer()),
}

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
                              self._number(node), self._array(node), self._object(node), self._any_of(node)) if c]

        def check_all(value: Any, path: tuple) -> SchemaFailure | None:
            for check in checks:
                failure = check(value, path)
                if failure is not None:
                    return failure
            return None

        return _with_message(check_all, node)

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
            if low is not None and len(value) < low:
                return SchemaFailure(path, "minLength", f"must have at least {low} characters")
            if high is not None and len(value) > high:
                return SchemaFailure(path, "maxLength", f"must have at most {high} characters")
            if pattern is not None and not pattern.search(value):
                return SchemaFailure(path, "pattern", f"must match {pattern.pattern}")
            return None

        return check

    @staticmethod
    def _number(node: dict[str, Any]) -> Check | None:
        low, high = node.get("minimum"), node.get("maximum")
        if low is None and high is None:
            return None

        def check(value: Any, path: tuple) -> SchemaFailure | None:
            if not _TYPE_TESTS["number"](value):
                return None
            if low is not None and value < low:
                return SchemaFailure(path, "minimum", f"must be at least {low}")
            if high is not None and value > high:
                return SchemaFailure(path, "maximum", f"must be at most {high}")
            return None

        return check

    def _array(self, node: dict[str, Any]) -> Check | None:
        low, high, items = node.get("minItems"), node.get("maxItems"), node.get("items")
        if low is None and high is None and items is None:
            return None
        item_check = self.compile(items) if items is not None else None
        only_strings = items == {"type": "string"}

        def check(value: Any, path: tuple) -> SchemaFailure | None:
            if not isinstance(value, list):
                return None
            if low is not None and len(value) < low:
                return SchemaFailure(path, "minItems", f"must have at least {low} items")
            if high is not None and len(value) > high:
                return SchemaFailure(path, "maxItems", f"must have at most {high} items")
            if item_check is None or (only_strings and set(map(type, value)) <= _STR_ONLY):
                return None
            for index, item in enumerate(value):
                failure = item_check(item, path + (index,))
                if failure is not None:
                    return failure
            return None

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
            for name, item in value.items():
                if name in properties:
                    continue
                if extra is False:
                    return SchemaFailure(path + (name,), "additionalProperties", f"'{name}' is not allowed")
                failure = extra_check(item, path + (name,))
                if failure is not None:
                    return failure
            return None

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


class BodyCheck:
    """One request-body schema, compiled: ``first_failure(body)`` is None for a valid body."""

    def __init__(self, package: str, name: str):
        load_validator(package, name)  # validates the schema itself against Draft 2020-12
        text = resources.files(package).joinpath("schemas", f"{name}.json").read_text(encoding="utf-8")
        self.name = name
        self.schema: dict[str, Any] = json.loads(text)
        self._check = _Compiler(self.schema).compile(self.schema)

    def first_failure(self, body: Any) -> SchemaFailure | None:
        return self._check(body, ())


@lru_cache(maxsize=None)
def body_check(name: str, package: str = "mocks.braze") -> BodyCheck:
    """The compiled check of ``<package>/schemas/<name>.json`` (compiled once per process)."""
    return BodyCheck(package, name)
