"""Every CLI mistake of issue 12 item 9: the README's exit code and one line, never a traceback.

Each case once exited 5 ("internal error") or ran into the mocks with a value they cannot take.
"""
from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest

from harness.errors import InputError, ReaderGone, VerdictFailed
from harness.worlds import generate_world

from .cli_checks import one_line_error

USAGE, INVALID = InputError.exit_code, VerdictFailed.exit_code


BAD_URLS = [("127.0.0.1:1", "is not an http(s) URL with a host"),
            ("http://127.0.0.1:99999", "is not a valid URL (Port out of range"),
            ("http://[::1", "is not a valid URL (Invalid IPv6 URL"),
            ("http://127.0.0.1:0", "has port 0"),
            ("ftp://127.0.0.1:21", "is not an http(s) URL")]


@pytest.mark.parametrize("url, reason", BAD_URLS)
@pytest.mark.parametrize("command", [["clock", "show"], ["clock", "advance", "15m"], ["run"], ["conform"]])
def test_a_bad_target_url_is_a_usage_error(cli, recorder, command, url, reason):
    other = "--mixpanel-url" if command != ["conform"] else "-k"
    result = cli(*command, "--braze-url", url, other, recorder.url if other != "-k" else "x")
    named = "'--braze-url' (env var: 'BRAZE_URL')" if command[0] == "clock" else "'--braze-url'"
    one_line_error(result, USAGE, f"Invalid value for {named}: {url!r} {reason}")
    assert recorder.calls == []


def test_bench_checks_its_url_too(cli):
    one_line_error(cli("bench", "--braze-url", "127.0.0.1:1", "--only", "throughput"), USAGE,
                   "'127.0.0.1:1' is not an http(s) URL")


@pytest.mark.parametrize("only", ["", ",,", " , "])
def test_bench_with_no_part_chosen(cli, only):
    one_line_error(cli("bench", "--only", only), USAGE, "Invalid value for '--only': name at least one part: export")


@pytest.mark.parametrize("option", ["-m", "-k"])
def test_conform_with_a_broken_selection(cli, option):
    one_line_error(cli("conform", option, "SEED-6 and ((("), USAGE,
                   "'SEED-6 and (((' is not a selection expression (")


def test_generate_into_a_missing_folder(cli, tmp_path):
    target = tmp_path / "no" / "such" / "world.json"
    one_line_error(cli("generate", "--users", "2", "--events", "1", "--steps", "0", "-o", str(target)), USAGE,
                   f"Invalid value for '-o' / '--output': {str(target)!r}: no folder {str(target.parent)!r}")


def test_serve_with_a_state_file_in_a_missing_folder(cli, tmp_path):
    target = tmp_path / "no" / "state.json"
    one_line_error(cli("serve", "--braze-port", "0", "--mixpanel-port", "0", "--state-file", str(target)), USAGE,
                   f"Invalid value for '--state-file': {str(target)!r}: no folder")


def test_serve_with_a_state_the_mocks_refuse(cli, tmp_path):
    state = tmp_path / "state.json"
    state.write_text(json.dumps({"braze": 1, "mixpanel": 2, "ready": 3}))
    one_line_error(cli("serve", "--braze-port", "0", "--mixpanel-port", "0", "--state-file", str(state)), USAGE,
                   f"{state}: the mocks refuse this state (")


def test_serve_with_a_state_file_holding_nan(cli, tmp_path):
    state = tmp_path / "state.json"
    state.write_text('{"braze": {}, "mixpanel": {"x": NaN}, "ready": {}}')
    one_line_error(cli("serve", "--braze-port", "0", "--mixpanel-port", "0", "--state-file", str(state)), USAGE,
                   f"{state}: not a saved state (holds the number NaN, which is not finite")


def test_a_write_that_fails_late_is_still_one_line(tmp_path):
    from harness.cli import writing

    with pytest.raises(InputError, match=r"cannot write it \(Is a directory\)"), writing(tmp_path):
        tmp_path.write_text("text")


def test_conform_into_an_unwritable_report_dir(cli, tmp_path):
    blocker = tmp_path / "a-file"
    blocker.write_text("not a folder")
    one_line_error(cli("conform", "--report-dir", str(blocker / "report")), USAGE,
                   f"Invalid value for '--report-dir': {str(blocker / 'report')!r} is not a writable folder")


WORLD_FILES = {"binary.json": (b"\x00\x01\xff\xfe{", "is not UTF-8 text (byte 2"),
               "utf16.json": ('{"format": "cohort-harness/world@1"}'.encode("utf-16"), "is UTF-16 text"),
               "deep.json": (b"[" * 100_000 + b"]" * 100_000, "not usable JSON (nested too deeply)"),
               "infinite.json": (b'{"format": "cohort-harness/world@1", "x": 1e309}', "holds the number 1e309"),
               "nan.json": (b'{"format": "cohort-harness/world@1", "x": NaN}', "holds the number NaN")}


@pytest.mark.parametrize("name", sorted(WORLD_FILES))
def test_world_files_that_are_not_utf8_json(cli, tmp_path, name):
    data, reason = WORLD_FILES[name]
    path = tmp_path / name
    path.write_bytes(data)
    one_line_error(cli("run", str(path)), USAGE, f"{path}: {reason}")
    result = cli("validate", str(path))
    assert result.exit_code == INVALID and result.output == f"{path}: {reason}" + result.output.split(reason, 1)[1]
    assert len(result.output.splitlines()) == 1 and "Traceback" not in result.output


OUT_OF_RANGE = "is out of range: use one between 1970-01-01T00:00:00Z and 9000-01-01T00:00:00Z"


@pytest.mark.parametrize("instant, reason", [
    ("0001-01-01T00:00:00+01:00", f"instant '0001-01-01T00:00:00+01:00' {OUT_OF_RANGE}"),
    ("9999-12-31T23:59:59Z", f"instant '9999-12-31T23:59:59Z' {OUT_OF_RANGE}"),
    ("99999-01-01T00:00:00Z", "invalid ISO-8601 instant '99999-01-01T00:00:00Z'"),
    ("2026-13-01T00:00:00Z", "invalid ISO-8601 instant '2026-13-01T00:00:00Z'")])
def test_clock_set_out_of_range_calls_nothing(cli, recorder, instant, reason):
    result = cli("clock", "set", instant, "--braze-url", recorder.url, "--mixpanel-url", recorder.url)
    one_line_error(result, USAGE, f"Invalid value for 'INSTANT': {reason}")
    assert recorder.calls == []


def test_clock_advance_too_long_calls_nothing(cli, recorder):
    result = cli("clock", "advance", "99999999999d", "--braze-url", recorder.url, "--mixpanel-url", recorder.url)
    one_line_error(result, USAGE, "duration '99999999999d' is too long: one advance moves at most 3650d")
    assert recorder.calls == []


def test_serve_start_out_of_range(cli):
    one_line_error(cli("serve", "--braze-port", "0", "--mixpanel-port", "0", "--start", "0001-01-01T00:00:00+01:00"),
                   USAGE, "Invalid value for '--start': instant '0001-01-01T00:00:00+01:00' is out of range")


def small_world(**changes: Any) -> dict[str, Any]:
    world = generate_world(3, 6, 12, 2)
    del world["expected"]
    for where, value in changes.items():
        *path, key = where.split(".")
        node: Any = world
        for part in path:
            node = node[int(part)] if part.isdigit() else node[part]
        node[key] = value
    return world


UNRUNNABLE = {
    "start in year 1": ({"start": "0001-01-01T00:00:00+01:00"}, "$.start: instant '0001-01-01T00:00:00+01:00' is out"),
    "month 13": ({"start": "2026-13-01T00:00:00Z"}, "$.start: invalid ISO-8601 instant"),
    "endless advance": ({"flow.steps.0.advance": "99999999999d"}, "$.flow.steps[0].advance: duration '99999999999d' is too long"),
    "clocks run past the range": ({"start": "8999-12-31T00:00:00Z", "flow.steps.0.advance": "3000d"},
                                  "$.flow.steps: the steps advance the clocks"),
    "event in year 1": ({"mixpanel.events.0.properties.time": "0001-01-01T00:00:00+01:00"},
                        "$.mixpanel.events[0].properties.time: instant"),
    "event time past the range": ({"mixpanel.events.0.properties.time": 1e306},
                                  "$.mixpanel.events[0].properties.time: 1e+306 is past 9000-01-01"),
}


@pytest.mark.parametrize("case", sorted(UNRUNNABLE))
def test_validate_refuses_what_run_cannot_run(cli, tmp_path, case):
    changes, problem = UNRUNNABLE[case]
    path = tmp_path / "world.json"
    path.write_text(json.dumps(small_world(**changes)))
    result = cli("validate", str(path))
    assert result.exit_code == INVALID and f"{path}: {problem}" in result.output, result.output
    one_line_error(cli("run", str(path)), USAGE, problem)


def test_a_runnable_world_still_validates(cli, tmp_path):
    path = tmp_path / "world.json"
    path.write_text(json.dumps(small_world()))
    assert cli("validate", str(path)).exit_code == 0


def test_an_unknown_option_is_one_line(cli):
    one_line_error(cli("--bogus"), USAGE, "No such option '--bogus' (see `main --help`)")
    one_line_error(cli("run", "--bogus"), USAGE, "No such option '--bogus' (see `main run --help`)")


def test_serve_into_a_closed_pipe_stops_quietly(tmp_path: Path):
    """``serve | head -1``: the reader is gone when serve writes its last line; no traceback, the
    README's code (128 + SIGPIPE, as Unix tools)."""
    process = subprocess.Popen([sys.executable, "-m", "harness.cli", "serve", "--braze-port", "0",
                                "--mixpanel-port", "0"], stdout=subprocess.PIPE, stderr=subprocess.PIPE)
    assert process.stdout is not None and process.stderr is not None
    assert process.stdout.readline().startswith(b"Braze mock")
    process.stdout.close()
    process.send_signal(signal.SIGINT)
    assert process.wait(timeout=30) == ReaderGone.exit_code
    assert process.stderr.read() == b""


@pytest.mark.parametrize("args", [["--help"], ["worlds"], ["generate", "--users", "2", "--events", "1", "--steps", "0"]])
def test_writing_into_a_pipe_nobody_reads(args):
    """The reader is gone before the first byte (the read end is closed): every write fails with EPIPE."""
    read_end, write_end = os.pipe()
    os.close(read_end)
    try:
        done = subprocess.run([sys.executable, "-m", "harness.cli", *args], stdout=write_end,
                              stderr=subprocess.PIPE, timeout=60)
    finally:
        os.close(write_end)
    assert (done.returncode, done.stderr) == (ReaderGone.exit_code, b"")
