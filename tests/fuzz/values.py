"""Hostile value families for the HTTP fuzz suite (issue 12), as hypothesis strategies.

Bodies are built as JSON *text*, not Python objects, so they can hold what ``json.dumps`` never writes
(``NaN``, ``1e309``, numbers 5,000 digits long, nesting far past any parser's limit, duplicate keys).
"""
from __future__ import annotations

import base64
import json
from pathlib import Path
from functools import lru_cache
from typing import Any, Iterator

from hypothesis import strategies as st

ROOT = Path(__file__).resolve().parents[2]

UNICODE_DIGITS = ["²", "³", "¹", "٣", "١٢", "１２", "⁹⁹", "߁", "𝟗", "Ⅻ", "½"]
HUGE_NUMBERS = ["9" * 5000, "-" + "9" * 5000, "1" + "0" * 5000, "0." + "1" * 5000, "1e5000", "9" * 4301]
OUT_OF_RANGE_TIMES = ["0001-01-01T00:00:00+01:00", "9999-12-31T23:59:59-01:00", "-1e306", "1e306",
                      "99999999999d", "99999999999999999999s", "-1s", "0d", "1e309", "-0", "2026-02-30",
                      "2026-13-01T00:00:00Z", "10000-01-01T00:00:00Z", "2026-01-01T25:61:61Z", "1d1d", "15 m",
                      "P1D", "-99999999999h", "0001-01-01", "9999-12-31", "99999999999", "-99999999999",
                      "18446744073709551616", "1767225600000000000"]
CONTROL_CHARS = ["\r\n", "\r", "\n", "\x00", "a\x00b", "\x1b[31m", "\t", "\x7f", "\u2028", "\ufeff"]
ODD_TEXT = ["", " ", "null", "undefined", "NaN", "Infinity", "-Infinity", "true", "0", "-1", "1.5", "1e3", "0x10",
            " 1", "1 ", "+1", "%2F", "%", "%zz", "..", "/", "\\", "'", '"', "<script>", "{", "[", "]", "}",
            "é", "\u2603", "😀", "\u202e", "\ud7ff", "ß" * 50, "$device:", "properties[", "((", "not defined(",
            "a" * 300]
LONG_TEXT = ["x" * 70_000, "é" * 20_000, "9" * 100_000]

#: Every literal family named by the issue, in one pool (short ones only: paths and headers carry these).
SHORT_HOSTILE = UNICODE_DIGITS + HUGE_NUMBERS + OUT_OF_RANGE_TIMES + CONTROL_CHARS + ODD_TEXT

RAW_NUMBERS = ["1e309", "-1e309", "NaN", "Infinity", "-Infinity", "-1e306", "1e306", "9" * 5000, "-" + "9" * 5000,
               "1" + "0" * 400, "0.0000000000000000000000001", "-0", "0", "1", "-1", "2147483648",
               "9223372036854775808", "1.7976931348623157e308", "5e-324", "99999999999", "1E400", "00", "01"]


def schema_keys() -> list[str]:
    """Every property name of every request schema of both mocks (a new field is fuzzed automatically)."""
    keys: set[str] = set()
    for path in sorted(ROOT.glob("mocks/**/schemas/*.json")):
        _collect(json.loads(path.read_text()), keys)
    return sorted(keys)


def _collect(node: Any, keys: set[str]) -> None:
    if isinstance(node, dict):
        for name, value in node.items():
            if name == "properties" and isinstance(value, dict):
                keys.update(value)
            _collect(value, keys)
    elif isinstance(node, list):
        for item in node:
            _collect(item, keys)


FIELD_NAMES = sorted(set(schema_keys()) | {
    "event", "properties", "time", "distinct_id", "$insert_id", "token", "$token", "$distinct_id", "$set",
    "$set_once", "$add", "$union", "$append", "$remove", "$unset", "$delete", "$group_key", "$group_id", "$time",
    "$ip", "name", "definition", "profiles", "events", "retention_days", "advance", "set", "path", "method",
    "status", "times", "headers", "body", "delay_ms", "store", "service", "clock", "interval", "mode", "cohort_id",
    "connection_id", "rest_endpoint", "data_import_key", "partner_api_key", "client_secret", "cohort_changes",
    "user_ids", "device_ids", "aliases", "should_remove", "created_at", "attributes", "purchases", "external_id",
    "user_alias", "alias_name", "alias_label", "within_days", "at_least", "at_most", "and", "or", "not",
    "property", "operator", "value", "filters", "segment_id", "permissions", "partner", "device_id",
})

QUERY_NAMES = ["project_id", "page", "limit", "page_size", "where", "from_date", "to_date", "event", "verbose",
               "strict", "data", "session_id", "filter_by_cohort", "distinct_id", "distinct_ids",
               "output_properties", "include_all_users", "behaviors", "data_group_id", "time_in_ms", "ip", "img",
               "callback", "path", "method", "at", "outcome", "sort_direction", "include_archived", "ws", "q",
               "identifier", "notice", "project", "api_key", "api_secret", "token", "redirect"]


@lru_cache(maxsize=None)
def hostile_text(max_long: bool = False) -> st.SearchStrategy[str]:
    """Short hostile strings: the issue's families, generated text, and their concatenations."""
    families = st.sampled_from(SHORT_HOSTILE)
    parts = [families, families, st.text(max_size=30),
             st.text(alphabet="0123456789²³¹٠١-+.eE:TZ", min_size=1, max_size=30),
             st.tuples(families, families).map("".join)]
    if max_long:
        parts.append(st.sampled_from(LONG_TEXT))
    return st.one_of(*parts)


def segment(real: list[str]) -> st.SearchStrategy[str]:
    """A path segment: mostly a value that exists (so the request goes deep), else a hostile one."""
    return _segment(tuple(real))


@lru_cache(maxsize=None)
def _segment(real: tuple[str, ...]) -> st.SearchStrategy[str]:
    hostile = hostile_text().filter(lambda s: len(s.encode()) < 6000)
    if not real:
        return hostile
    return st.one_of(st.sampled_from(real), st.sampled_from(real), hostile)


# -- JSON text --------------------------------------------------------------------------------------
def _dumps(value: Any) -> str:
    return json.dumps(value, ensure_ascii=False)


@lru_cache(maxsize=None)
def json_leaf() -> st.SearchStrategy[str]:
    return st.one_of(
        st.sampled_from(["null", "true", "false", "0", "[]", "{}", '""']),
        st.sampled_from(RAW_NUMBERS),
        hostile_text(max_long=True).map(_dumps),
        st.integers().map(str),
        st.floats(allow_nan=False, allow_infinity=False).map(repr),
    )


def json_object(children: st.SearchStrategy[str]) -> st.SearchStrategy[str]:
    key = st.one_of(st.sampled_from(FIELD_NAMES), hostile_text()).map(_dumps)
    return st.lists(st.tuples(key, children), max_size=6).map(
        lambda pairs: "{" + ",".join(f"{k}:{v}" for k, v in pairs) + "}")


@lru_cache(maxsize=None)
def json_text() -> st.SearchStrategy[str]:
    """JSON of every shape, with hostile leaves and keys; sometimes nested far too deep."""
    tree = st.recursive(json_leaf(), lambda children: st.one_of(
        st.lists(children, max_size=5).map(lambda items: "[" + ",".join(items) + "]"),
        json_object(children)), max_leaves=12)
    return st.one_of(tree, tree, deep_json())


@lru_cache(maxsize=None)
def deep_json() -> st.SearchStrategy[str]:
    """A value nested 100 to 20,000 levels deep, in lists, objects or both."""
    def build(args: tuple[int, str, str]) -> str:
        depth, kind, leaf = args
        if kind == "list":
            return "[" * depth + leaf + "]" * depth
        if kind == "object":
            return '{"a":' * depth + leaf + "}" * depth
        return '{"$set":{"plan":' + "[" * depth + leaf + "]" * depth + "}}"
    return st.tuples(st.sampled_from([100, 600, 1000, 5000, 20000]), st.sampled_from(["list", "object", "set"]),
                     st.sampled_from(["1", '"x"', "NaN", "1e309", "null"])).map(build)


_MUTATED: dict[str, st.SearchStrategy[str]] = {}


def mutated(template: Any) -> st.SearchStrategy[str]:
    """``template`` (a valid-looking body) as JSON text with one to three values or keys made hostile."""
    key = json.dumps(template, sort_keys=True)
    if key not in _MUTATED:
        _MUTATED[key] = _mutated(template)
    return _MUTATED[key]


def _mutated(template: Any) -> st.SearchStrategy[str]:
    paths = list(_paths(template, ()))

    @st.composite
    def build(draw: Any) -> str:
        swaps = {draw(st.sampled_from(paths)): draw(json_text()) for _ in range(draw(st.integers(1, 3)))}
        extra = draw(st.booleans())
        text = _with_swaps(template, (), swaps)
        if extra and text.startswith("{") and text != "{}":
            text = "{" + _dumps(draw(st.sampled_from(FIELD_NAMES))) + ":" + draw(json_text()) + "," + text[1:]
        return text
    return build()


def _paths(node: Any, at: tuple[Any, ...]) -> Iterator[tuple[Any, ...]]:
    yield at
    if isinstance(node, dict):
        for key, value in node.items():
            yield from _paths(value, at + (key,))
    elif isinstance(node, list):
        for index, value in enumerate(node):
            yield from _paths(value, at + (index,))


def _with_swaps(node: Any, at: tuple[Any, ...], swaps: dict[tuple[Any, ...], str]) -> str:
    if at in swaps:
        return swaps[at]
    if isinstance(node, dict):
        return "{" + ",".join(f"{_dumps(k)}:{_with_swaps(v, at + (k,), swaps)}" for k, v in node.items()) + "}"
    if isinstance(node, list):
        return "[" + ",".join(_with_swaps(v, at + (i,), swaps) for i, v in enumerate(node)) + "]"
    return _dumps(node)


@lru_cache(maxsize=None)
def form_body(token: str) -> st.SearchStrategy[dict[str, str]]:
    """A form: ``data=`` as base64 JSON, JSON or junk, beside the fields the ingestion API reads."""
    data = st.one_of(json_text(), json_text().map(lambda t: base64.b64encode(t.encode()).decode()),
                     st.just(json.dumps([{"event": "E", "properties": {"token": token, "distinct_id": "fz-user-1",
                                                                      "time": 1767225600}}])),
                     st.just(json.dumps({"$token": token, "$distinct_id": "fz-user-1",
                                         "$set": {"plan": "x" * 10}})),
                     hostile_text(max_long=True))
    others = st.dictionaries(st.sampled_from(["verbose", "strict", "api_key", "api_secret", "token", "ip", "img",
                                              "callback", "project_id", "name", "where", "page", "session_id",
                                              "filter_by_cohort", "from_date", "to_date"]),
                             st.one_of(st.sampled_from(["1", "0", token]), hostile_text()), max_size=4)
    return st.tuples(data, others, st.booleans()).map(
        lambda parts: ({"data": parts[0]} if parts[2] else {}) | parts[1])
