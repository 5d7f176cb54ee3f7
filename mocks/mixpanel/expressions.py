"""Value comparisons and the ``where`` expressions of the Query and Export APIs.

Mixpanel's segmentation expressions look like
``properties["plan"] == "pro" and (defined(user["email"]) or not properties["age"] < 30)``.
The mock understands the part clients use for profiles and events: ``properties[...]`` and
``user[...]`` references, string / number / boolean / null literals, ``== != > >= < <=``,
``"x" in properties["list"]``, ``defined(...)``, ``not``, ``and``, ``or`` and parentheses, the typecasts
of ``_FUNCTIONS`` and ``properties["$time"]`` / ``event["$time"]`` compared with ``datetime(...)``.
"""
from __future__ import annotations

import re
from datetime import datetime, timezone
from typing import Any, Callable

from mocks.common.numbers import parse_number_literal

Predicate = Callable[[dict[str, Any]], bool]


class ExpressionError(ValueError):
    """A ``where`` expression the mock cannot parse."""


# -- comparisons shared with cohort definitions -------------------------------------------------
def is_number(value: Any) -> bool:
    return isinstance(value, (int, float)) and not isinstance(value, bool)


def same_value(actual: Any, expected: Any) -> bool:
    """Equality without Python's ``True == 1``; a list property equals a value it contains."""
    if isinstance(actual, list) and not isinstance(expected, list):
        return any(same_value(item, expected) for item in actual)
    if isinstance(actual, bool) or isinstance(expected, bool):
        return isinstance(actual, bool) and isinstance(expected, bool) and actual == expected
    return actual == expected


def ordered(actual: Any, operator: str, expected: Any) -> bool:
    """``> >= < <=`` between two numbers or two strings; anything else is False."""
    if not ((is_number(actual) and is_number(expected)) or (isinstance(actual, str) and isinstance(expected, str))):
        return False
    if operator in (">", "gt"):
        return actual > expected
    if operator in (">=", "gte"):
        return actual >= expected
    if operator in ("<", "lt"):
        return actual < expected
    return actual <= expected


# -- where expressions --------------------------------------------------------------------------
_TOKEN = re.compile(r"""\s*(?:
    (?P<string>"(?:[^"\\]|\\.)*"|'(?:[^'\\]|\\.)*')
  | (?P<number>-?[0-9]+(?:\.[0-9]+)?(?:[eE][-+]?[0-9]+)?)
  | (?P<op>==|!=|>=|<=|>|<|\(|\)|\[|\])
  | (?P<word>[A-Za-z_][A-Za-z_0-9]*)
)""", re.VERBOSE)
_MISSING = object()
_MAX_DEPTH = 64


def _tokenize(text: str) -> list[tuple[str, Any]]:
    tokens: list[tuple[str, Any]] = []
    position = 0
    text = text.rstrip()
    while position < len(text):
        while text[position].isspace():
            position += 1
        match = _TOKEN.match(text, position)
        if not match or match.end() == position:
            raise ExpressionError(f"unexpected character at position {position}: {text[position:position + 10]!r}")
        position = match.end()
        kind = match.lastgroup or ""
        value: Any = match.group(kind)
        if kind == "string":
            value = re.sub(r"\\(.)", r"\1", value[1:-1])
        elif kind == "number":
            value = _literal(value)
        tokens.append((kind, value))
    return tokens


def _literal(text: str) -> int | float:
    """A number literal through the one number path: ASCII, and finite as a double."""
    value = parse_number_literal(text)
    if value is None:
        shown = text if len(text) <= 40 else text[:40] + "..."
        raise ExpressionError(f"the number {shown} is out of range")
    return value


class _Parser:
    def __init__(self, text: str):
        self.tokens = _tokenize(text)
        self.position = 0
        self.depth = 0

    def parse(self) -> Predicate:
        if not self.tokens:
            raise ExpressionError("expression is empty")
        predicate = self._or()
        if self.position != len(self.tokens):
            raise ExpressionError(f"unexpected {self.tokens[self.position][1]!r} after a complete expression")
        return predicate

    def _peek(self) -> tuple[str, Any] | None:
        return self.tokens[self.position] if self.position < len(self.tokens) else None

    def _take(self, kind: str, value: Any = None) -> Any:
        token = self._peek()
        if token is None or token[0] != kind or (value is not None and token[1] != value):
            found = "the end of the expression" if token is None else repr(token[1])
            raise ExpressionError(f"expected {value or kind} but found {found}")
        self.position += 1
        return token[1]

    def _at_word(self, word: str) -> bool:
        token = self._peek()
        return token is not None and token[0] == "word" and token[1] == word

    def _or(self) -> Predicate:
        parts = [self._and()]
        while self._at_word("or"):
            self.position += 1
            parts.append(self._and())
        return parts[0] if len(parts) == 1 else lambda p: any(part(p) for part in parts)

    def _and(self) -> Predicate:
        parts = [self._not()]
        while self._at_word("and"):
            self.position += 1
            parts.append(self._not())
        return parts[0] if len(parts) == 1 else lambda p: all(part(p) for part in parts)

    def _not(self) -> Predicate:
        self.depth += 1
        if self.depth > _MAX_DEPTH:
            raise ExpressionError(f"expression is nested more than {_MAX_DEPTH} levels deep")
        try:
            if self._at_word("not"):
                self.position += 1
                inner = self._not()
                return lambda p: not inner(p)
            return self._comparison()
        finally:
            self.depth -= 1

    def _comparison(self) -> Predicate:
        if self._peek() == ("op", "("):
            self.position += 1
            inner = self._or()
            self._take("op", ")")
            return inner
        left = self._operand()
        token = self._peek()
        if token and token[0] == "op" and token[1] in ("==", "!=", ">", ">=", "<", "<="):
            self.position += 1
            return _compare(left, token[1], self._operand())
        if self._at_word("in"):
            self.position += 1
            return _contains(self._operand(), left)
        return lambda p: _truthy(left(p))

    def _operand(self) -> Callable[[dict[str, Any]], Any]:
        token = self._peek()
        if token is None:
            raise ExpressionError("expression ends where a value was expected")
        kind, value = token
        if kind in ("string", "number"):
            self.position += 1
            return lambda p: value
        if kind == "word" and value in ("true", "false", "null"):
            self.position += 1
            literal = {"true": True, "false": False, "null": None}[value]
            return lambda p: literal
        if kind == "word" and value in _FUNCTIONS:
            self.position += 1
            self._take("op", "(")
            inner = self._operand()
            self._take("op", ")")
            function = _FUNCTIONS[value]
            return lambda p: function(inner(p))
        if kind == "word" and value in _REFERENCES:
            return self._reference()
        raise ExpressionError(f"unexpected {value!r}: expected a value, properties[\"name\"] or defined(...)")

    def _reference(self) -> Callable[[dict[str, Any]], Any]:
        word = self._take("word")
        if word not in _REFERENCES:
            raise ExpressionError(f"expected properties[\"name\"] but found {word!r}")
        self._take("op", "[")
        name = self._take("string")
        self._take("op", "]")
        if name == "$time":  # an exported event's time is its "time" property (seconds, or ms)
            return lambda p: _instant(p.get("$time", p.get("time", _MISSING)))
        return lambda p: p.get(name, _MISSING)


class Instant(float):
    """Seconds since the epoch: what ``datetime(...)`` and ``properties["$time"]`` give, so the two compare."""


def _instant(value: Any) -> Any:
    """A number (seconds, or ms above 1e10) or an ISO-8601 string (UTC unless it says) as an Instant;
    anything else is missing, so it matches no ordering."""
    if isinstance(value, Instant) or value is _MISSING:
        return value
    if is_number(value):
        return Instant(value / 1000 if value >= 10_000_000_000 else value)
    if isinstance(value, str):
        try:
            parsed = datetime.fromisoformat(value.strip().replace("Z", "+00:00"))
        except ValueError:
            return _MISSING
        return Instant((parsed if parsed.tzinfo else parsed.replace(tzinfo=timezone.utc)).timestamp())
    return _MISSING


def _number(value: Any) -> Any:
    if is_number(value) or value is _MISSING:
        return value
    try:
        return float(value) if isinstance(value, str) else _MISSING
    except ValueError:
        return _MISSING


def _string(value: Any) -> Any:
    if value is _MISSING or isinstance(value, str):
        return value
    return "true" if value is True else "false" if value is False else str(value)


#: Segmentation typecasts and tests: ``datetime(1796074377)`` (Airbyte's incremental export),
#: ``datetime("2026-01-01T00:00:00")``, ``number()``, ``string()``, ``boolean()``, ``defined()``, ``undefined()``.
_FUNCTIONS: dict[str, Callable[[Any], Any]] = {
    "datetime": _instant, "number": _number, "string": _string,
    "boolean": lambda v: v if v is _MISSING else bool(v),
    "defined": lambda v: v is not _MISSING, "undefined": lambda v: v is _MISSING,
}
_REFERENCES = ("properties", "user", "event")


def _truthy(value: Any) -> bool:
    return value is not _MISSING and bool(value)


def _compare(left: Callable, operator: str, right: Callable) -> Predicate:
    def test(props: dict[str, Any]) -> bool:
        a, b = left(props), right(props)
        if isinstance(a, Instant) or isinstance(b, Instant):  # a datetime on one side: compare instants
            a, b = _instant(a), _instant(b)
        if a is _MISSING or b is _MISSING:
            return operator == "!="
        if operator == "==":
            return same_value(a, b)
        if operator == "!=":
            return not same_value(a, b)
        return ordered(a, operator, b)
    return test


def _contains(container: Callable, item: Callable) -> Predicate:
    def test(props: dict[str, Any]) -> bool:
        haystack, needle = container(props), item(props)
        if isinstance(haystack, list):
            return any(same_value(v, needle) for v in haystack)
        if isinstance(haystack, str) and isinstance(needle, str):
            return needle in haystack
        return False
    return test


def parse_where(text: str) -> Predicate:
    """Compile a ``where`` expression into a test of a properties dict."""
    if not isinstance(text, str):
        raise ExpressionError("expression must be a string")
    return _Parser(text).parse()
