"""Value comparisons and the ``where`` expressions of the Query and Export APIs.

Mixpanel's segmentation expressions look like
``properties["plan"] in ["pro", "team"] and (defined(user["email"]) or not properties["age"] + 1 < 30)``.
The grammar is Mixpanel's (docs.mixpanel.com/reference/segmentation-expressions): ``properties[...]``,
``user[...]`` and ``event[...]`` references, string / number / boolean / null literals, list literals,
``+ - * / %`` (and unary ``-``), ``== != > >= < <=``, ``in`` (list membership and substring), ``not``,
``and``, ``or``, parentheses, the functions of ``_FUNCTIONS`` (typecasts, ``defined``, ``undefined``,
``datetime``, ``floor``, ``round``, ``ceil``) and ``properties["$time"]`` compared with ``datetime(...)``.

Precedence, loosest first: ``or``, ``and``, ``not``, one comparison or ``in``, ``+ -``, ``* / %``, unary
``-``. A value that cannot be computed (a missing property, ``"a" - 1``, a division by zero) is
*undefined*: it matches no comparison but ``!=``, like a missing property.
"""
from __future__ import annotations

import math
import re
import sys
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
  | (?P<number>[0-9]+(?:\.[0-9]+)?(?:[eE][-+]?[0-9]+)?)
  | (?P<op>==|!=|>=|<=|>|<|\(|\)|\[|\]|,|\+|-|\*|/|%)
  | (?P<word>[A-Za-z_][A-Za-z_0-9]*)
)""", re.VERBOSE)
_MISSING = object()
_MAX_DEPTH = 64
#: The longest string ``+`` builds; longer is undefined. Mixpanel keeps string properties to 255 bytes,
#: so no real query comes near it, and a long chain of concatenations stays cheap on every row.
MAX_CONCAT_CHARS = 4096
_COMPARISONS = ("==", "!=", ">", ">=", "<", "<=")
#: A compiled sub-expression: the value it has for one properties dict (``_MISSING`` when undefined).
Value = Callable[[dict[str, Any]], Any]


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
    """A number literal through the one number path: ASCII, and finite as a double. A leading ``-``
    is the unary minus, so ``properties["a"] -1`` subtracts."""
    value = parse_number_literal(text)
    if value is None:
        shown = text if len(text) <= 40 else text[:40] + "..."
        raise ExpressionError(f"the number {shown} is out of range")
    return value


class _Parser:
    """Recursive descent, one method per precedence level. Chains of one level (``a or b or ...``,
    ``a + b + ...``) are loops, and are evaluated by loops, so a long flat expression never recurses;
    nesting (parentheses, ``not``, unary ``-``, function calls, list items) is bounded by ``_MAX_DEPTH``."""

    def __init__(self, text: str):
        self.tokens = _tokenize(text)
        self.position = 0
        self.depth = 0

    def parse(self) -> Predicate:
        if not self.tokens:
            raise ExpressionError("expression is empty")
        value = self._or()
        if self.position != len(self.tokens):
            raise ExpressionError(f"unexpected {self.tokens[self.position][1]!r} after a complete expression")
        return lambda p: _truthy(value(p))

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

    def _at_op(self, *ops: str) -> str | None:
        token = self._peek()
        return token[1] if token is not None and token[0] == "op" and token[1] in ops else None

    def _enter(self) -> None:
        self.depth += 1
        if self.depth > _MAX_DEPTH:
            raise ExpressionError(f"expression is nested more than {_MAX_DEPTH} levels deep")

    def _or(self) -> Value:
        parts = [self._and()]
        while self._at_word("or"):
            self.position += 1
            parts.append(self._and())
        return parts[0] if len(parts) == 1 else lambda p: any(_truthy(part(p)) for part in parts)

    def _and(self) -> Value:
        parts = [self._not()]
        while self._at_word("and"):
            self.position += 1
            parts.append(self._not())
        return parts[0] if len(parts) == 1 else lambda p: all(_truthy(part(p)) for part in parts)

    def _not(self) -> Value:
        self._enter()
        try:
            if self._at_word("not"):
                self.position += 1
                inner = self._not()
                return lambda p: not _truthy(inner(p))
            return self._comparison()
        finally:
            self.depth -= 1

    def _comparison(self) -> Value:
        left = self._sum()
        operator = self._at_op(*_COMPARISONS)
        if operator:
            self.position += 1
            return _compare(left, operator, self._sum())
        if self._at_word("in"):
            self.position += 1
            return _contains(self._sum(), left)
        return left

    def _sum(self) -> Value:
        return self._chain(self._product, ("+", "-"))

    def _product(self) -> Value:
        return self._chain(self._unary, ("*", "/", "%"))

    def _chain(self, operand: Callable[[], Value], ops: tuple[str, ...]) -> Value:
        """``a op b op c ...`` of one precedence level, left to right."""
        first = operand()
        rest: list[tuple[Callable[[Any, Any], Any], Value]] = []
        while (operator := self._at_op(*ops)) is not None:
            self.position += 1
            rest.append((_ARITHMETIC[operator], operand()))
        if not rest:
            return first

        def fold(props: dict[str, Any]) -> Any:
            value = first(props)
            for apply, right in rest:
                value = apply(value, right(props))
            return value
        return fold

    def _unary(self) -> Value:
        if self._at_op("-"):
            self.position += 1
            self._enter()
            try:
                inner = self._unary()
            finally:
                self.depth -= 1
            return lambda p: _negate(inner(p))
        return self._primary()

    def _primary(self) -> Value:
        token = self._peek()
        if token is None:
            raise ExpressionError("expression ends where a value was expected")
        kind, value = token
        if token == ("op", "("):
            self.position += 1
            inner = self._or()
            self._take("op", ")")
            return inner
        if token == ("op", "["):
            return self._list()
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
            inner = self._or()
            self._take("op", ")")
            function = _FUNCTIONS[value]
            return lambda p: function(inner(p))
        if kind == "word" and value in _REFERENCES:
            return self._reference()
        raise ExpressionError(f"unexpected {value!r}: expected a value, properties[\"name\"] or defined(...)")

    def _list(self) -> Value:
        """``[a, b, ...]``: a list of the items' values (undefined items left out); ``[]`` is empty."""
        self._take("op", "[")
        items: list[Value] = []
        if not self._at_op("]"):
            items.append(self._or())
            while self._at_op(","):
                self.position += 1
                items.append(self._or())
        self._take("op", "]")
        return lambda p: [v for v in (item(p) for item in items) if v is not _MISSING]

    def _reference(self) -> Value:
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
    """``number()``: a number stays (a datetime becomes its seconds), a string is read as a number
    literal through :mod:`mocks.common.numbers` (so no ``inf``, ``nan`` or ``1_000``), else undefined."""
    if is_number(value):
        return float(value) if isinstance(value, Instant) else value
    if isinstance(value, str):
        parsed = parse_number_literal(value.strip())
        return _MISSING if parsed is None else parsed
    return _MISSING


def _string(value: Any) -> Any:
    if value is _MISSING or isinstance(value, str):
        return value
    return "true" if value is True else "false" if value is False else str(value)


# -- arithmetic -------------------------------------------------------------------------------------
def _finite(value: int | float) -> Any:
    """A result that fits a finite double, else undefined (``1e308 * 10``; ints never outgrow this)."""
    if isinstance(value, float):
        return value if math.isfinite(value) else _MISSING
    return value if abs(value) <= sys.float_info.max else _MISSING


def _numeric(operation: Callable[[Any, Any], Any],
             gives_instant: Callable[[Any, Any], bool] = lambda a, b: False) -> Callable[[Any, Any], Any]:
    """An operator on two numbers; anything else is undefined. ``gives_instant`` says when the result
    is a datetime again (``datetime(x) + 3600``); two datetimes subtract to plain seconds."""
    def apply(a: Any, b: Any) -> Any:
        if not (is_number(a) and is_number(b)):
            return _MISSING
        result = operation(a, b)  # float subclasses compute plain floats
        if result is _MISSING or _finite(result) is _MISSING:
            return _MISSING
        return Instant(result) if gives_instant(a, b) else result
    return apply


def _divide(a: Any, b: Any) -> Any:
    """``/`` is true division (``7 / 2`` is 3.5); by zero it is undefined (Mixpanel documents nothing)."""
    return _MISSING if b == 0 else a / b


def _remainder(a: Any, b: Any) -> Any:
    """``%`` takes the dividend's sign, as JavaScript's and C's do (``-7 % 3`` is -1); by zero undefined."""
    if b == 0:
        return _MISSING
    if isinstance(a, int) and isinstance(b, int):
        rest = abs(a) % abs(b)
        return -rest if a < 0 else rest
    return math.fmod(a, b)


_add_numbers = _numeric(lambda a, b: a + b, lambda a, b: isinstance(a, Instant) != isinstance(b, Instant))


def _add(a: Any, b: Any) -> Any:
    """``+``: two numbers add, two strings concatenate (up to ``MAX_CONCAT_CHARS``); else undefined."""
    if isinstance(a, str) and isinstance(b, str):
        return a + b if len(a) + len(b) <= MAX_CONCAT_CHARS else _MISSING
    return _add_numbers(a, b)


_ARITHMETIC: dict[str, Callable[[Any, Any], Any]] = {
    "+": _add,
    "-": _numeric(lambda a, b: a - b, lambda a, b: isinstance(a, Instant) and not isinstance(b, Instant)),
    "*": _numeric(lambda a, b: a * b), "/": _numeric(_divide), "%": _numeric(_remainder),
}


def _negate(value: Any) -> Any:
    return -float(value) if isinstance(value, Instant) else -value if is_number(value) else _MISSING


def _rounding(function: Callable[[float], int]) -> Callable[[Any], Any]:
    """``floor()`` / ``round()`` / ``ceil()`` of a number (a datetime gives plain seconds), else undefined."""
    return lambda v: function(v) if is_number(v) and math.isfinite(v) else _MISSING


#: Segmentation typecasts and tests: ``datetime(1796074377)`` (Airbyte's incremental export),
#: ``datetime("2026-01-01T00:00:00")``, ``number()``, ``string()``, ``boolean()``, ``defined()``,
#: ``undefined()``; the math functions ``floor()``, ``ceil()`` and ``round()`` (half up, as JavaScript's
#: ``Math.round``: ``round(-2.5)`` is -2).
_FUNCTIONS: dict[str, Callable[[Any], Any]] = {
    "datetime": _instant, "number": _number, "string": _string,
    "boolean": lambda v: v if v is _MISSING else bool(v),
    "defined": lambda v: v is not _MISSING, "undefined": lambda v: v is _MISSING,
    "floor": _rounding(math.floor), "ceil": _rounding(math.ceil),
    "round": _rounding(lambda v: math.floor(v + 0.5)),
}
_REFERENCES = ("properties", "user", "event")


def _truthy(value: Any) -> bool:
    return value is not _MISSING and bool(value)


def _compare(left: Value, operator: str, right: Value) -> Value:
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


def _contains(container: Value, item: Value) -> Value:
    """``x in [list]`` (a list property: any of its items), ``"sub" in properties["text"]``."""
    def test(props: dict[str, Any]) -> bool:
        haystack, needle = container(props), item(props)
        if needle is _MISSING:
            return False
        if isinstance(haystack, list):
            needles = needle if isinstance(needle, list) else [needle]
            return any(same_value(v, n) for n in needles for v in haystack)
        if isinstance(haystack, str) and isinstance(needle, str):
            return needle in haystack
        return False
    return test


def parse_where(text: str) -> Predicate:
    """Compile a ``where`` expression into a test of a properties dict."""
    if not isinstance(text, str):
        raise ExpressionError("expression must be a string")
    return _Parser(text).parse()
