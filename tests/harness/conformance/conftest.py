"""Running ``conform`` as a user does (a separate process), and starting targets in other processes."""
from __future__ import annotations

import json
import subprocess
import sys
from contextlib import contextmanager
from pathlib import Path
from typing import Iterator

import pytest

REPO = Path(__file__).resolve().parents[3]


def run_conform(report_dir: Path, *args: str) -> subprocess.CompletedProcess:
    """``python -m harness.conformance`` (what ``cohort-harness conform`` runs) from outside the repo."""
    return subprocess.run([sys.executable, "-m", "harness.conformance", "--report-dir", str(report_dir), *args],
                          cwd=report_dir.parent, capture_output=True, text=True, timeout=120)


@contextmanager
def process_printing_first_line(command: list[str]) -> Iterator[str]:
    """Start a server process, yield the first line it prints, stop it afterwards."""
    process = subprocess.Popen(command, cwd=REPO, stdin=subprocess.PIPE, stdout=subprocess.PIPE,
                               stderr=subprocess.PIPE, text=True)
    try:
        line = process.stdout.readline()
        if not line:
            raise RuntimeError(f"{command} exited: {process.stderr.read()}")
        yield line.strip()
    finally:
        process.terminate()
        process.wait(timeout=10)


@pytest.fixture()
def served_mocks() -> Iterator[dict]:
    """Both mocks in a separate ``cohort-harness serve`` process: ``{"braze_url", "mixpanel_url", ...}``."""
    command = [sys.executable, "-c", "from harness.cli import main; main()", "serve", "--braze-port", "0",
               "--mixpanel-port", "0", "--json"]
    with process_printing_first_line(command) as line:
        yield json.loads(line)


@contextmanager
def broken_target(kind: str) -> Iterator[str]:
    """The URL of a deliberately broken mock (see tests/conformance_targets) running in its own process."""
    with process_printing_first_line([sys.executable, "-m", "tests.conformance_targets", kind]) as url:
        yield url
