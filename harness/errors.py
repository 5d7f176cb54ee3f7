"""The CLI's errors and exit codes, in one place.

Every command ends a user's mistake with one of these: click prints ``Error: <message>`` on one line
of stderr and exits with the class's ``exit_code``. The exit-code table of ``--help``, the README
and docs/cli.md is :data:`EXIT_CODES`, built from these classes (tests/harness/test_errors.py
checks both documents against it), so a new code cannot be documented in one place only.
"""
from __future__ import annotations

import os
import sys
from typing import IO, ClassVar, NoReturn

import click

EXIT_OK = 0


class HarnessError(click.ClickException):
    """A command that cannot go on: one line on stderr, the class's exit code."""

    exit_code: ClassVar[int] = 5
    meaning: ClassVar[str] = ""


class VerdictFailed(HarnessError):
    """The harness ran and the answer is no: what differs was printed, or is this message."""

    exit_code = 1
    meaning = ("a verdict, replay or validation failed (Braze differs from the expectation; a world is "
               "invalid); `conform` had a failing scenario; `bench --check` missed a target")


class InputError(HarnessError):
    """The user's input cannot be used: the same code as click's own usage errors."""

    exit_code = click.UsageError.exit_code
    meaning = ("usage or input error: bad option or URL, missing, unreadable or invalid world file, "
               "instant or duration out of range, unwritable output, port in use")


class TargetUnreachableError(HarnessError):
    """No answer at all from a URL: the user's setup, not the target's behaviour."""

    exit_code = 3
    meaning = "a target is unreachable (the message names the URL)"


class TargetRefused(HarnessError):
    """A target answered, with an error the flow cannot go on after (a bench node that fails counts too)."""

    exit_code = 4
    meaning = "a target answered a call with an error (the message gives the call, status and server text)"


class InternalError(HarnessError):
    """A bug of the harness, still one line; ``COHORT_HARNESS_DEBUG=1`` lets the traceback through."""

    exit_code = 5
    meaning = "internal error of the harness (set `COHORT_HARNESS_DEBUG=1` to see the traceback)"


class ReaderGone(HarnessError):
    """stdout was closed by its reader (``| head``): stop without a word, as Unix tools do (128 + SIGPIPE)."""

    exit_code = 141
    meaning = "stdout was closed by its reader (piped into `head`, say): the command stops quietly, as Unix tools do"

    def __init__(self) -> None:
        super().__init__("stdout closed")

    def show(self, file: IO[str] | None = None) -> None:
        # later writes and the interpreter's final flush must not fail again on the dead pipe
        devnull = os.open(os.devnull, os.O_WRONLY)
        os.dup2(devnull, sys.stdout.fileno())
        os.close(devnull)


ERRORS: tuple[type[HarnessError], ...] = (VerdictFailed, InputError, TargetUnreachableError, TargetRefused,
                                          InternalError, ReaderGone)
#: code -> meaning, in order: the table every document shows.
EXIT_CODES: dict[int, str] = {EXIT_OK: "success", **{error.exit_code: error.meaning for error in ERRORS}}


def exit_codes_markdown() -> str:
    """The table of docs/cli.md and the README."""
    rows = [f"| {code} | {meaning} |" for code, meaning in EXIT_CODES.items()]
    return "\n".join(["| code | meaning |", "|---|---|", *rows])


def exit_codes_epilog() -> str:
    """The EXIT CODES paragraph of ``cohort-harness --help``: one line a code (``\\b``: click keeps the lines)."""
    return "\b\nEXIT CODES:\n" + "\n".join(f"  {code:>3}  {meaning}" for code, meaning in EXIT_CODES.items())


def exit_with_verdict(passed: bool) -> NoReturn:
    """End a command whose verdict was already printed: 0 when it passed, else VerdictFailed's code."""
    sys.exit(EXIT_OK if passed else VerdictFailed.exit_code)
