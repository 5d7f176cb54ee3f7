"""The where expressions of the Query and Export APIs."""
import pytest

from mocks.mixpanel.expressions import ExpressionError, parse_where

PROFILE = {"plan": "pro", "age": 34, "tags": ["a", "b"], "vip": True, "email": "ann@example.com", "none": None}


@pytest.mark.parametrize("text, expected", [
    ('properties["plan"] == "pro"', True),
    ("properties['plan'] != 'pro'", False),
    ('user["age"] >= 30 and user["age"] < 40', True),
    ('properties["age"] > 40 or properties["plan"] == "pro"', True),
    ('not properties["age"] > 40', True),
    ('defined(properties["email"])', True),
    ('not defined(properties["missing"])', True),
    ('properties["missing"] != "x"', True),
    ('properties["missing"] == "x"', False),
    ('"a" in properties["tags"]', True),
    ('"ann" in properties["email"]', True),
    ('properties["vip"] == true', True),
    ('properties["vip"] == 1', False),
    ('properties["none"] == null', True),
    ('(properties["plan"] == "free" or properties["plan"] == "pro") and properties["age"] == 34', True),
    ('properties["age"] == 34.0', True),
    ('properties["vip"]', True),
])
def test_expressions(text, expected):
    assert parse_where(text)(PROFILE) is expected


@pytest.mark.parametrize("text, message", [
    ("", "expression is empty"),
    ('properties["plan"] ==', "expression ends where a value was expected"),
    ('properties["plan"] == "pro" extra', "unexpected 'extra' after a complete expression"),
    ('props["plan"] == 1', "unexpected 'props': expected a value, properties[\"name\"] or defined(...)"),
    ('properties[plan] == 1', "expected string but found 'plan'"),
    ('(properties["a"] == 1', "expected ) but found the end of the expression"),
    ('properties["a"] == @', "unexpected character at position 19: '@'"),
    ("(" * 70 + "true" + ")" * 70, "expression is nested more than 64 levels deep"),
])
def test_bad_expressions(text, message):
    with pytest.raises(ExpressionError) as raised:
        parse_where(text)
    assert str(raised.value) == message


def test_long_flat_expressions_do_not_recurse():
    text = " or ".join(f'properties["plan"] == "p{i}"' for i in range(3000))
    assert parse_where(text)({"plan": "p2999"}) is True
