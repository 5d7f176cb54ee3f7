"""Fixtures of the HTTP fuzz suite: one embedded pair of mocks for the session, and the request count."""
from __future__ import annotations

import json
import os
from typing import Any, Iterator

import pytest

from .target import COUNTER, LONG, Target


@pytest.fixture(scope="session")
def target() -> Iterator[Target]:
    running = Target()
    try:
        yield running
    finally:
        running.stop()


def pytest_terminal_summary(terminalreporter: Any) -> None:
    if not COUNTER.count:
        return
    summary = {"mode": "long" if LONG else "ci", "requests": COUNTER.count, "by_service": COUNTER.by_service,
               "by_status": dict(sorted(COUNTER.by_status.items())),
               "elapsed_s": round(COUNTER.elapsed(), 1), "on_the_wire_s": round(COUNTER.wire_s, 1),
               "requests_per_s": round(COUNTER.count / max(COUNTER.elapsed(), 1e-9), 1)}
    terminalreporter.write_line(f"fuzz: {json.dumps(summary)}")
    report = os.environ.get("COHORT_FUZZ_REPORT")
    if report:
        with open(report, "w", encoding="utf-8") as out:
            json.dump(summary, out)
