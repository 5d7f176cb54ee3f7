"""Option types of the CLI: a bad value is click's one-line usage error (exit 2) before anything runs."""
from __future__ import annotations

import tempfile
from datetime import datetime, timezone
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

import click

from harness.worlds.instants import checked_duration, checked_instant
from mocks.common.clock import ClockError, to_iso


class TargetURL(click.ParamType):
    """The base URL of a target: http or https, a host, a port 1-65535 when one is given. requests
    would otherwise fail later, and differently, on each (``InvalidSchema``, ``InvalidURL``)."""

    name = "URL"

    def convert(self, value: Any, param: click.Parameter | None, ctx: click.Context | None) -> str:
        text = str(value).strip()
        problem = url_problem(text)
        if problem:
            self.fail(f"{text!r} {problem}", param, ctx)
        return text.rstrip("/")


def url_problem(text: str) -> str | None:
    """Why ``text`` is no target base URL, or None."""
    try:
        parts = urlsplit(text)
        port = parts.port
    except ValueError as exc:  # an out-of-range port, an unclosed IPv6 bracket
        return f"is not a valid URL ({exc}; a port is a number from 1 to 65535)"
    if parts.scheme not in ("http", "https") or not parts.hostname:
        return "is not an http(s) URL with a host (e.g. http://127.0.0.1:8710)"
    if port == 0:
        return "has port 0: a port is a number from 1 to 65535"
    if parts.query or parts.fragment:
        return "is a base URL: it takes no query or fragment"
    return None


class Instant(click.ParamType):
    """An ISO-8601 instant in the harness's range, or ``now`` (the wall clock, so apps that stamp
    events with ``time.time()`` are accepted), returned in the clocks' own form (UTC, ``Z``)."""

    name = "INSTANT"

    def convert(self, value: Any, param: click.Parameter | None, ctx: click.Context | None) -> str:
        if isinstance(value, datetime):
            return to_iso(value)
        if str(value).strip().lower() == "now":
            return to_iso(datetime.now(timezone.utc).replace(microsecond=0))
        try:
            return to_iso(checked_instant(str(value)))
        except ClockError as exc:
            self.fail(str(exc), param, ctx)


class Duration(click.ParamType):
    """A clock advance such as ``15m`` (s, m, h, d), at most the harness's longest advance."""

    name = "DURATION"

    def convert(self, value: Any, param: click.Parameter | None, ctx: click.Context | None) -> str:
        try:
            checked_duration(str(value))
        except ClockError as exc:
            self.fail(str(exc), param, ctx)
        return str(value)


class WritableDir(click.ParamType):
    """A folder the command will write into: created if missing, then proven writable by writing a
    file (``os.access`` says yes to root on a read-only file system)."""

    name = "DIR"

    def convert(self, value: Any, param: click.Parameter | None, ctx: click.Context | None) -> Path:
        path = Path(value)
        try:
            path.mkdir(parents=True, exist_ok=True)
            with tempfile.TemporaryFile(dir=path):
                pass
        except OSError as exc:
            self.fail(f"{str(path)!r} is not a writable folder ({exc.strerror or exc})", param, ctx)
        return path


class OutputFile(click.ParamType):
    """A file the command will write: its folder must exist (a typo in it should not cost a run)."""

    name = "FILE"

    def convert(self, value: Any, param: click.Parameter | None, ctx: click.Context | None) -> str:
        path = Path(value)
        if path.is_dir():
            self.fail(f"{str(path)!r} is a folder, not a file", param, ctx)
        if not path.parent.is_dir():
            self.fail(f"{str(path)!r}: no folder {str(path.parent)!r} to write it in", param, ctx)
        return str(value)


class SelectionExpression(click.ParamType):
    """A pytest ``-m`` / ``-k`` expression, compiled here so a typo is one line and exit 2 instead of
    pytest's own error followed by "no scenario was selected". pytest exposes its parser only as
    ``_pytest.mark.expression``; if that moves, pytest still refuses the expression itself."""

    name = "EXPR"

    def convert(self, value: Any, param: click.Parameter | None, ctx: click.Context | None) -> str:
        try:
            from _pytest.mark.expression import Expression
        except ImportError:  # pragma: no cover - a pytest without the module
            return str(value)
        try:
            Expression.compile(str(value))
        except Exception as exc:  # SyntaxError in pytest 8, ParseError before
            reason = getattr(exc, "msg", None) or str(exc)
            self.fail(f"{value!r} is not a selection expression ({reason})", param, ctx)
        return str(value)
