"""The one way a request body becomes a valid value: decode at the door, then check a schema.

A view calls :func:`valid_body` (or, when something must be checked between the two steps, such as
the Braze partner credentials, :func:`request_object` then :func:`check_body`). Every refusal is one
domain error, :class:`InvalidBody`, carrying the location (``$.a[0].b``, None when the body is not
a JSON object at all) and the whole message; the Flask layer of each surface turns it into that
surface's error shape and status.

The door (:func:`parse_json`) refuses, as "not valid JSON", what Python's decoder would let in but
is not JSON or cannot be used safely later (docs/mixpanel.md "Validation path"):

* ``NaN``, ``Infinity`` and ``-Infinity``, and number literals that overflow a double (``1e309``):
  RFC 8259 has no non-finite numbers, and a stored NaN would make every later reply invalid JSON;
* integers with more digits than a double can hold the magnitude of (``|n| >= 2**1024``): every real
  client decodes numbers as doubles, and such a value overflows the moment a rule does arithmetic;
* nesting deeper than :data:`MAX_DEPTH` levels of arrays and objects: no vendor body needs more than
  a handful, and a deep value would exhaust the recursion of every later walk over it.
"""
from __future__ import annotations

import json
import math
from itertools import chain, compress, repeat
from operator import is_
from typing import Any

from flask import request

from .schema_compiler import body_schema

#: The deepest nesting of arrays and objects a body may have (the root object is level 1).
MAX_DEPTH = 64
NOT_JSON = "request body must be valid JSON"
NOT_OBJECT = "request body must be a JSON object"
_LARGEST_INT = 2 ** 1024


class InvalidBody(Exception):
    """A body refused at the door or by its schema; ``str(error)`` is the whole message."""

    def __init__(self, message: str, location: str | None = None):
        super().__init__(message)
        self.message = message
        self.location = location


class NotJson(ValueError):
    """Text that the door does not accept as JSON; ``str(error)`` says why."""


class TooDeep(NotJson):
    """JSON nested deeper than :data:`MAX_DEPTH` (a surface may word this refusal its own way)."""


def _refuse_constant(name: str) -> Any:
    raise NotJson(f"{name} is not a JSON number")


def _shown(text: str) -> str:
    return text if len(text) <= 40 else text[:40] + "..."


def _finite_float(text: str) -> float:
    value = float(text)
    if not math.isfinite(value):
        raise NotJson(f"the number {_shown(text)} is out of range")
    return value


def _bounded_int(text: str) -> int:
    value = int(text)
    if abs(value) >= _LARGEST_INT:
        raise NotJson(f"the number {_shown(text)} is out of range")
    return value


_IS_CONTAINER = frozenset((dict, list)).__contains__


def too_deep(value: Any, limit: int = MAX_DEPTH) -> bool:
    """True when the arrays and objects of a parsed value nest more than ``limit`` levels.

    Walked a level at a time, without recursion and without a Python loop per value: every step is
    a C-level iterator (``map``, ``compress``, ``chain``), so a body of 50,000 change objects costs a
    few C passes instead of 150,000 interpreted iterations."""
    level = [value] if _IS_CONTAINER(type(value)) else []
    for _ in range(limit):
        if not level:
            return False
        types = list(map(type, level))
        dicts = compress(level, map(is_, types, repeat(dict)))
        lists = compress(level, map(is_, types, repeat(list)))
        children = list(chain(chain.from_iterable(map(dict.values, dicts)), chain.from_iterable(lists)))
        level = list(compress(children, map(_IS_CONTAINER, map(type, children))))
    return bool(level)


def _openers(text: str | bytes) -> int:
    """How many arrays and objects the text opens at most (counted in C): a body that opens no more
    than the limit cannot nest deeper, and skips the walk."""
    if isinstance(text, str):
        return text.count("[") + text.count("{")
    return text.count(b"[") + text.count(b"{")


#: An integer literal can only reach 2**1024 with 309 digits or more (JSON integers have no exponent);
#: a body without such a run of digits is decoded without a Python call per integer. The run is looked
#: for in C (every digit mapped to "0", then one substring search: 0.2 ms for a 2,000-event body; a
#: regular expression took 2.5 ms). Floats keep their check (an exponent cannot be told from hex text
#: such as ``4e3`` this way).
_DIGITS_AS_ZERO = bytes.maketrans(b"123456789", b"000000000")
_LONG_RUN = b"0" * 309


def _may_hold_a_huge_int(text: str | bytes) -> bool:
    data = text if isinstance(text, bytes) else text.encode("utf-8", "surrogatepass")
    return _LONG_RUN in data.translate(_DIGITS_AS_ZERO)


def parse_json(text: str | bytes) -> Any:
    """Strict JSON: raises :class:`NotJson` for anything the module docstring lists. Integers are
    checked one by one only when :func:`_may_hold_a_huge_int` finds a run of digits that could be one
    (a 2,000-event body, one integer time each: about a third less time)."""
    try:
        if _may_hold_a_huge_int(text):
            value = json.loads(text, parse_constant=_refuse_constant, parse_float=_finite_float,
                               parse_int=_bounded_int)
        else:
            value = json.loads(text, parse_constant=_refuse_constant, parse_float=_finite_float)
    except NotJson:
        raise
    except RecursionError:
        raise TooDeep(f"nested more than {MAX_DEPTH} levels deep") from None
    except (ValueError, UnicodeDecodeError):
        raise NotJson("") from None
    if _openers(text) > MAX_DEPTH and too_deep(value):
        raise TooDeep(f"nested more than {MAX_DEPTH} levels deep")
    return value


def _not_an_object(package: str | None, name: str | None, generic: str, reason: str = "") -> InvalidBody:
    """A body that is not a JSON object gets the schema's own wording for a non-object, if it has one."""
    if package and name:
        failure = body_schema(package, name).first_failure(None)
        if failure is not None and failure.message:
            return InvalidBody(failure.message)
    return InvalidBody(f"{generic} ({reason})" if reason else generic)


def request_object(package: str | None = None, name: str | None = None, optional: bool = False) -> dict[str, Any]:
    """The request body as a JSON object (``{}`` for an empty body when ``optional``)."""
    raw = request.get_data(cache=True)
    if not raw and optional:
        return {}
    try:
        body = parse_json(raw) if raw else None
    except NotJson as exc:
        raise _not_an_object(package, name, NOT_JSON, str(exc)) from None
    if not isinstance(body, dict):
        raise _not_an_object(package, name, NOT_OBJECT)
    return body


def request_json() -> Any:
    """The request body as any JSON value (None for an empty body), or :class:`InvalidBody`."""
    raw = request.get_data(cache=True)
    try:
        return parse_json(raw) if raw else None
    except NotJson as exc:
        raise InvalidBody(f"{NOT_JSON} ({exc})" if str(exc) else NOT_JSON) from None


def check_body(package: str, name: str, body: Any) -> Any:
    """``body`` itself when ``<package>/schemas/<name>.json`` accepts it; else :class:`InvalidBody`."""
    failure = body_schema(package, name).first_failure(body)
    if failure is not None:
        raise InvalidBody(failure.text(), failure.location)
    return body


def valid_body(package: str, name: str, optional: bool = False) -> dict[str, Any]:
    """The request body, decoded at the door and accepted by its schema: what a view works with."""
    return check_body(package, name, request_object(package, name, optional))
