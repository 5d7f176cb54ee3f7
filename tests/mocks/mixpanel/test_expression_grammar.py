"""The rest of Mixpanel's segmentation grammar: arithmetic, unary minus, list literals with ``in``, and
the math functions (reference "Corrections and additions"; docs.mixpanel.com/reference/segmentation-expressions)."""
import pytest

from mocks.mixpanel.expressions import MAX_CONCAT_CHARS, ExpressionError, parse_where

ROW = {"a": 7, "b": 2, "zero": 0, "price": 9.5, "qty": 3, "first": "Ann", "last": "Lee", "plan": "team",
       "tags": ["x", "y"], "time": 1767225600, "flag": True}


@pytest.mark.parametrize("text, expected", [
    # precedence: * / % before + -, left to right, parentheses first
    ('1 + 2 * 3 == 7', True),
    ('(1 + 2) * 3 == 9', True),
    ('10 - 4 - 3 == 3', True),
    ('100 / 10 / 5 == 2', True),
    ('properties["a"] + properties["b"] * 2 == 11', True),
    ('properties["price"] * properties["qty"] > 28', True),
    ('properties["price"] * properties["qty"] > 28.5', False),
    ('properties["a"] / properties["b"] == 3.5', True),  # true division
    ('properties["a"] % properties["b"] == 1', True),
    ('-7 % 3 == -1', True),  # the dividend's sign, as JavaScript's
    ('7.5 % 2 == 1.5', True),
    # unary minus, and a minus with no space is a subtraction
    ('-properties["a"] == -7', True),
    ('properties["a"] -1 == 6', True),
    ('- - properties["a"] == 7', True),
    ('2 - -2 == 4', True),
    # + on strings concatenates; mixed kinds are undefined (matching nothing but !=)
    ('properties["first"] + " " + properties["last"] == "Ann Lee"', True),
    ('properties["first"] + 1 == "Ann1"', False),
    ('properties["first"] + 1 != "Ann1"', True),
    ('string(properties["a"]) + "x" == "7x"', True),
    ('properties["first"] - 1 == 0', False),
    ('properties["flag"] + 1 == 2', False),  # a boolean is no number
    # division and remainder by zero are undefined
    ('properties["a"] / properties["zero"] > 0', False),
    ('properties["a"] / properties["zero"] < 0', False),
    ('properties["a"] / 0 != 1', True),
    ('undefined(properties["a"] / 0)', True),
    ('undefined(properties["a"] % 0.0)', True),
    ('defined(properties["a"] / 2)', True),
    # a missing operand makes the whole result undefined
    ('properties["nope"] + 1 == 1', False),
    ('undefined(properties["nope"] * 2)', True),
    # beyond a double is undefined, never an infinity
    ('undefined(1e308 * 10)', True),
    ('undefined(1e308 + 1e308)', True),
    ('defined(1e308 + 1)', True),
    # list literals with in
    ('properties["plan"] in ["pro", "team"]', True),
    ('properties["plan"] in ["pro", "free"]', False),
    ('properties["a"] in [1, 7, 9]', True),
    ('properties["a"] in [1, 3 + 4]', True),
    ('properties["a"] in []', False),
    ('properties["nope"] in ["pro"]', False),
    ('not properties["plan"] in ["pro"]', True),
    ('properties["tags"] in ["y", "z"]', True),  # a list property: any of its items
    ('properties["tags"] in ["z"]', False),
    ('true in [1]', False),  # no True == 1
    ('"ea" in properties["plan"]', True),  # substring, as before
    ('["pro", "team"] == ["pro", "team"]', True),
    # math functions
    ('floor(properties["price"]) == 9', True),
    ('ceil(properties["price"]) == 10', True),
    ('round(properties["price"]) == 10', True),
    ('round(-2.5) == -2', True),
    ('round(properties["first"]) == 0', False),
    ('floor(properties["a"] / properties["b"]) == 3', True),
    # datetimes: an offset keeps a datetime, two datetimes subtract to seconds
    ('properties["$time"] >= datetime("2025-12-31T23:00:00Z") + 3600', True),
    ('properties["$time"] - 3600 < datetime("2026-01-01T00:00:00Z")', True),
    ('properties["$time"] - datetime("2025-12-31T00:00:00Z") == 86400', True),
    ('properties["$time"] > datetime(1767225600) - 1', True),
])
def test_grammar(text, expected):
    assert parse_where(text)(ROW) is expected


def test_a_non_finite_property_is_no_number_to_round():
    assert parse_where('undefined(floor(properties["x"]))')({"x": float("nan")}) is True
    assert parse_where('undefined(round(properties["x"]))')({"x": float("inf")}) is True


def test_concatenation_is_bounded():
    half = "x" * (MAX_CONCAT_CHARS // 2)
    row = {"h": half}
    assert parse_where('properties["h"] + properties["h"] == properties["h"] + properties["h"]')(row) is True
    assert parse_where('undefined(properties["h"] + properties["h"] + "x")')(row) is True


def test_long_flat_arithmetic_does_not_recurse():
    text = " + ".join(["1"] * 5000) + " == 5000"
    assert parse_where(text)({}) is True
    assert parse_where(" + ".join(['"a"'] * 5000) + ' == "' + "a" * 5000 + '"')({}) is False  # over the bound


@pytest.mark.parametrize("text, message", [
    ('properties["a"] +', "expression ends where a value was expected"),
    ('properties["a"] * * 2', "unexpected '*': expected a value, properties[\"name\"] or defined(...)"),
    ('properties["plan"] in ["pro", "team"', "expected ] but found the end of the expression"),
    ('properties["plan"] in ["pro" "team"]', "expected ] but found 'team'"),
    ('properties["plan"] in ["pro",]', "unexpected ']': expected a value, properties[\"name\"] or defined(...)"),
    ('properties["plan"] in [,]', "unexpected ',': expected a value, properties[\"name\"] or defined(...)"),
    ('1 == 1 == 1', "unexpected '==' after a complete expression"),
    ('floor properties["a"]', "expected ( but found 'properties'"),
    ('2 ^ 3', "unexpected character at position 2: '^ 3'"),
    ("-" * 70 + "1", "expression is nested more than 64 levels deep"),
    ("[" * 70 + "]" * 70, "expression is nested more than 64 levels deep"),
    ("floor(" * 70 + "1" + ")" * 70, "expression is nested more than 64 levels deep"),
    ("1 + 1e999", "the number 1e999 is out of range"),
])
def test_bad_grammar(text, message):
    with pytest.raises(ExpressionError) as raised:
        parse_where(text)
    assert str(raised.value) == message
