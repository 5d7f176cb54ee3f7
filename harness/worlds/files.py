"""Reading and checking world files: JSON Schema first, then the consistency the schema cannot say.

Every problem is reported as ``<where>: <reason>`` so ``cohort-harness validate`` can print one line
per error and a user can fix the file without reading the schema.

The schema decides validity through its compiled check (:mod:`mocks.common.schema_compiler`: about
40x faster than ``jsonschema`` on a 200,000-event world); ``jsonschema`` walks only a file that check
refused, to word every error as before.
"""
from __future__ import annotations

import json
import math
from datetime import timedelta
from functools import lru_cache
from importlib import resources
from pathlib import Path
from typing import Any

from jsonschema import Draft202012Validator
from jsonschema.exceptions import ValidationError

from mocks.common.clock import ClockError
from mocks.common.schema_compiler import CompiledSchema

from .instants import LATEST, checked_duration, checked_instant

WORLD_FORMAT = "cohort-harness/world@1"
DEMO_WORLD = "demo"
DEFAULT_START = "2026-01-01T00:00:00Z"
LATEST_EVENT_TIME = LATEST.timestamp() * 1000  # a number: seconds or milliseconds (rules.event_seconds)


class WorldFileError(Exception):
    """A world that cannot be used: unreadable, not JSON, or invalid (``problems`` lists each error)."""

    def __init__(self, source: str, message: str, problems: list[str] | None = None):
        super().__init__(f"{source}: {message}")
        self.source = source
        self.problems = problems or []


@lru_cache(maxsize=1)
def world_schema() -> dict[str, Any]:
    schema: dict[str, Any] = json.loads(resources.files("harness.worlds").joinpath("world.schema.json").read_text("utf-8"))
    Draft202012Validator.check_schema(schema)
    return schema


@lru_cache(maxsize=1)
def world_validator() -> Draft202012Validator:
    """The full check: it words the errors of a world the compiled check refused."""
    return Draft202012Validator(world_schema())


@lru_cache(maxsize=1)
def world_check() -> CompiledSchema:
    """The fast check: valid or not, as ``jsonschema`` decides (the tests hold them to agree)."""
    return CompiledSchema("world", world_schema())


def json_path(parts: Any) -> str:
    text = "$"
    for part in parts:
        text += f"[{part}]" if isinstance(part, int) else f".{part}"
    return text


def _reason(error: ValidationError) -> str:
    """oneOf / anyOf errors say which forms are allowed instead of dumping the whole instance."""
    if error.validator in ("oneOf", "anyOf"):
        description = error.schema.get("description") if isinstance(error.schema, dict) else None
        return "fits none of the allowed forms" + (f": {description}" if description else "")
    return _short(error.message)


def _short(message: str) -> str:
    return message if len(message) <= 160 else message[:157] + "..."


def validate_world(world: Any) -> list[str]:
    """All problems of a parsed world (empty when it is valid)."""
    if world_check().first_failure(world) is None:
        return consistency_problems(world) + time_problems(world)
    errors = sorted(world_validator().iter_errors(world), key=lambda e: list(map(str, e.absolute_path)))
    problems = [f"{json_path(e.absolute_path)}: {_reason(e)}" for e in errors]
    if problems:
        return problems
    return consistency_problems(world) + time_problems(world)


def consistency_problems(world: dict[str, Any]) -> list[str]:
    """What a valid-by-schema world can still get wrong."""
    problems = []
    steps = world["flow"].get("steps", [])
    expected = world.get("expected")
    if expected is not None and len(expected["syncs"]) != len(steps) + 1:
        problems.append(f"$.expected.syncs: has {len(expected['syncs'])} checkpoints, the flow needs "
                        f"{len(steps) + 1} (one after the first sync, one after each step)")
    reconnects = [i for i, step in enumerate(steps) for change in step.get("changes", []) if "reconnect" in change]
    if reconnects and not any("invalidate_key" in c for s in steps for c in s.get("changes", [])):
        problems.append(f"$.flow.steps[{reconnects[0]}]: 'reconnect' needs an earlier 'invalidate_key'")
    return problems


def time_problems(world: dict[str, Any]) -> list[str]:
    """Instants and durations the schema's patterns let through but the clocks cannot take: month 13,
    year 1 west of UTC, ``99999999999d``, a flow that runs the clocks past the harness's range."""
    problems: list[str] = []
    start = _checked(problems, "$.start", checked_instant, world.get("start", DEFAULT_START))
    advances = [_checked(problems, f"$.flow.steps[{index}].advance", checked_duration, step["advance"])
                for index, step in enumerate(world["flow"].get("steps", []))]
    total = sum(filter(None, advances), timedelta())
    if start is not None and not problems and start + total > LATEST:
        problems.append(f"$.flow.steps: the steps advance the clocks {total.days}d, past {LATEST.date()}")
    for index, event in enumerate(world["mixpanel"].get("events", [])):
        time = event["properties"]["time"]
        where = f"$.mixpanel.events[{index}].properties.time"
        if isinstance(time, str):
            _checked(problems, where, checked_instant, time)
        elif time > LATEST_EVENT_TIME:
            problems.append(f"{where}: {time} is past {LATEST.date()} in seconds and in milliseconds")
    return problems


def _checked(problems: list[str], where: str, check: Any, text: str) -> Any:
    """``check(text)``, or None with the reason appended to ``problems``."""
    try:
        return check(text)
    except ClockError as exc:
        problems.append(f"{where}: {exc}")
        return None


def creation_phases(users: list[dict[str, Any]]) -> tuple[list[dict[str, Any]], ...]:
    """The order a world's Braze users are created in: identified users, then alias-only users, then
    anonymous (device) users; each ``identified_as`` is applied afterwards, in list order. The loader
    batches each phase, and the expected outcome follows the same order."""
    return ([u for u in users if "external_id" in u], [u for u in users if "alias" in u],
            [u for u in users if "device_id" in u])


def read_world(path: str | Path) -> dict[str, Any]:
    """Parse and validate a world file; :class:`WorldFileError` explains what is wrong."""
    return valid_world(load_world_json(path), str(path))


def world_problems(path: str | Path) -> list[str]:
    """Every problem of a world file (``validate`` prints them all), empty when ``run`` can run it."""
    try:
        return validate_world(load_world_json(path))
    except WorldFileError as exc:
        return [str(exc).removeprefix(f"{path}: ")]


def load_world_json(path: str | Path) -> Any:
    """The parsed JSON of a world file, not yet validated."""
    source = str(path)
    try:
        data = Path(path).read_bytes()
    except FileNotFoundError:
        raise WorldFileError(source, "no such file") from None
    except IsADirectoryError:
        raise WorldFileError(source, "is a directory, not a world file") from None
    except OSError as exc:
        raise WorldFileError(source, f"cannot read it ({exc.strerror})") from None
    return parse_json(decoded(data, source), source)


def decoded(data: bytes, source: str) -> str:
    """World files are UTF-8 text (RFC 8259); say what a file is instead when it is not."""
    if data[:2] in (b"\xff\xfe", b"\xfe\xff"):
        raise WorldFileError(source, "is UTF-16 text; save the world as UTF-8")
    try:
        return data.decode("utf-8")
    except UnicodeDecodeError as exc:
        raise WorldFileError(source, f"is not UTF-8 text (byte {exc.start}: {data[exc.start:exc.start + 1]!r}); "
                                 "a world file is UTF-8 JSON") from None


class NotFiniteNumber(ValueError):
    """A number JSON can write but no target can take back: NaN, Infinity, 1e309 (inf once parsed)."""

    def __init__(self, text: str):
        super().__init__(f"holds the number {text}, which is not finite; JSON targets cannot take it")


def _finite(text: str) -> float:
    value = float(text)
    if not math.isfinite(value):
        raise NotFiniteNumber(text)
    return value


def _no_constant(name: str) -> Any:
    raise NotFiniteNumber(name)


def strict_loads(text: str) -> Any:
    """JSON as the targets take it: what requests would refuse to send (non-finite numbers) is refused
    on reading, with the number, instead of failing later inside a request."""
    return json.loads(text, parse_float=_finite, parse_constant=_no_constant)


def parse_json(text: str, source: str) -> Any:
    try:
        return strict_loads(text)
    except NotFiniteNumber as exc:
        raise WorldFileError(source, str(exc)) from None
    except RecursionError:
        raise WorldFileError(source, "not usable JSON (nested too deeply)") from None
    except ValueError as exc:
        raise WorldFileError(source, f"not valid JSON ({exc})") from None


def parse_world(text: str, source: str) -> dict[str, Any]:
    """A bundled world's text, parsed and validated."""
    return valid_world(parse_json(text, source), source)


def valid_world(world: Any, source: str) -> dict[str, Any]:
    """``world`` when it is valid; else :class:`WorldFileError` with every problem."""
    problems = validate_world(world)
    if problems:
        raise WorldFileError(source, f"{len(problems)} error(s); first: {problems[0]}", problems)
    return world


def bundled_worlds() -> dict[str, Any]:
    """Name -> resource of every world shipped in ``harness.fixtures``."""
    folder = resources.files("harness.fixtures")
    return {entry.name[:-len(".json")]: entry for entry in folder.iterdir()
            if entry.name.endswith(".json") and entry.is_file()}


def resolve_world(name_or_path: str | None) -> tuple[str, dict[str, Any]]:
    """A path, or the name of a bundled world (default: the demo); returns (source, world)."""
    name = name_or_path or DEMO_WORLD
    if Path(name).exists() or name.endswith(".json") or "/" in name:
        return name, read_world(name)
    shipped = bundled_worlds()
    if name not in shipped:
        raise WorldFileError(name, f"no such file, and no bundled world of that name (bundled: {', '.join(sorted(shipped))})")
    return f"bundled:{name}", parse_world(shipped[name].read_text("utf-8"), f"bundled:{name}")


def with_expected(text: str, expected: dict[str, Any]) -> str:
    """``text`` (a world file's JSON) with its top-level ``expected`` value replaced by ``expected``,
    every other byte kept: ``replay --update`` must not reformat a hand-written world. Without an
    ``expected`` key the section is added before the closing brace."""
    spans = _top_level_value_spans(text)
    rendered = _layout(expected, 1)
    if "expected" in spans:
        start, end = spans["expected"]
        return text[:start] + rendered + text[end:]
    closing = text.rstrip().rfind("}")
    body = text[:closing].rstrip()
    separator = "," if spans else ""
    return body + f'{separator}\n "expected": {rendered}\n' + text[closing:]


def _top_level_value_spans(text: str) -> dict[str, tuple[int, int]]:
    """Key -> (start, end) offsets of each value of the top-level object, found with the JSON
    scanner itself (the text was already read as a valid world)."""
    decoder = json.JSONDecoder()

    def skip(at: int) -> int:
        while at < len(text) and text[at] in " \t\n\r":
            at += 1
        return at

    spans: dict[str, tuple[int, int]] = {}
    at = skip(0) + 1  # past "{"
    while True:
        at = skip(at)
        if text[at] == "}":
            return spans
        key, at = json.decoder.scanstring(text, at + 1)  # type: ignore[attr-defined]
        at = skip(at) + 1  # past ":"
        start = skip(at)
        _, end = decoder.raw_decode(text, start)
        spans[key] = (start, end)
        at = skip(end)
        if text[at] == ",":
            at += 1


def write_world(path: str | Path, world: dict[str, Any]) -> None:
    Path(path).write_text(dumps_world(world), encoding="utf-8")


def dumps_world(world: dict[str, Any]) -> str:
    """The layout of the bundled worlds: sections indented, one record (a profile, an event, a user, a
    sync) per line. It reads and diffs like a hand-written world, and it is written by the C encoder a
    record at a time (``indent=`` would take the pure-Python one: 2.6 s for a 200,000-event world)."""
    return _layout(world, 0) + "\n"


def _layout(value: Any, depth: int) -> str:
    inner = " " * (depth + 1)
    if isinstance(value, dict) and any(isinstance(v, (dict, list)) and v for v in value.values()):
        items = (f"{inner}{json.dumps(key, ensure_ascii=False)}: {_layout(item, depth + 1)}" for key, item in value.items())
        return "{\n" + ",\n".join(items) + "\n" + " " * depth + "}"
    if isinstance(value, list) and any(isinstance(v, (dict, list)) for v in value):
        return "[\n" + ",\n".join(inner + json.dumps(item, ensure_ascii=False) for item in value) + "\n" + " " * depth + "]"
    return json.dumps(value, ensure_ascii=False)
