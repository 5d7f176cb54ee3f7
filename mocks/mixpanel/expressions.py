"""Value comparisons and the ``where`` expressions of the Query and Export APIs.

Mixpanel's segmentation expressions look like
``properties["plan"] == "pro" and (defined(user["email"]) or not properties["age"] < 30)``.
The mock understands the part clients use for profiles and events: ``properties[...]`` and
``user[...]`` references, string / number / boolean / null literals, ``== != > >= < <=``,
``"x" in properties["list"]``, ``defined(...)``, ``not``, ``and``, ``or`` and parentheses.
"""
from __future__ import annotations

import re
from typing import Any, Callable

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
  | (?P<number>-?\d+(?:\.\d+)?(?:[eE][-+]?\d+)?)
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
            value = float(value) if any(c in value for c in ".eE") else int(value)
        tokens.append((kind, value))
    return tokens


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
        if kind == "word" and value == "defined":
            self.position += 1
            self._take("op", "(")
            reference = self._reference()
            self._take("op", ")")
            return lambda p: reference(p) is not _MISSING
        if kind == "word" and value in ("properties", "user"):
            return self._reference()
        raise ExpressionError(f"unexpected {value!r}: expected a value, properties[\"name\"] or defined(...)")

    def _reference(self) -> Callable[[dict[str, Any]], Any]:
        word = self._take("word")
        if word not in ("properties", "user"):
            raise ExpressionError(f"expected properties[\"name\"] but found {word!r}")
        self._take("op", "[")
        name = self._take("string")
        self._take("op", "]")
        return lambda p: p.get(name, _MISSING)


def _truthy(value: Any) -> bool:
    return value is not _MISSING and bool(value)


def _compare(left: Callable, operator: str, right: Callable) -> Predicate:
    def test(props: dict[str, Any]) -> bool:
        a, b = left(props), right(props)
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
