"""Judging the broken targets (tests/conformance_targets) as a vendor would: each served by its own
process, the whole suite run by ``conform`` through ``--braze-url`` / ``--mixpanel-url``.

Used by test_sensitivity.py and by ``python -m tests.harness.conformance.sensitivity`` (which
rewrites the table in docs/conformance.md)."""
from __future__ import annotations

import json
import re
import sys
import tempfile
import time
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from pathlib import Path

from tests.conformance_targets import TARGETS, BrokenTarget

from .conftest import REPO, process_printing_first_line, run_conform

#: conform runs at once (each is one pytest process plus one target process).
PARALLEL = 4
TABLE_START, TABLE_END = "<!-- sensitivity table: start -->", "<!-- sensitivity table: end -->"


@dataclass(frozen=True)
class Verdict:
    target: BrokenTarget
    exit_code: int
    failed_rules: frozenset[str]
    failed_scenarios: tuple[str, ...]
    seconds: float
    output: str


def verdict_of(document: dict) -> tuple[frozenset[str], tuple[str, ...]]:
    """The FAIL rules and the failed scenarios of ``conform --json``'s document."""
    failed = frozenset(rule["rule"] for rule in document.get("rules", []) if rule["result"] == "FAIL")
    return failed, tuple(s["name"] for s in document.get("scenarios", []) if s["status"] in ("failed", "undefined"))


def judge(target: BrokenTarget) -> Verdict:
    """Serve ``target`` in its own process and run the whole suite against it."""
    started = time.perf_counter()
    with tempfile.TemporaryDirectory(prefix="sensitivity-") as tmp:
        report = Path(tmp) / "report"
        with process_printing_first_line([sys.executable, "-m", "tests.conformance_targets", target.name]) as url:
            done = run_conform(report, target.url_option, url, "--json")
    try:
        document = json.loads(done.stdout)
    except ValueError:  # the preflight refused the target: no document
        document = {}
    failed, scenarios = verdict_of(document)
    return Verdict(target, done.returncode, failed, scenarios, time.perf_counter() - started,
                   done.stdout[-2000:] + done.stderr[-2000:])


def judge_all(names: list[str] | None = None) -> list[Verdict]:
    targets = [TARGETS[name] for name in (names or sorted(TARGETS))]
    with ThreadPoolExecutor(PARALLEL) as pool:
        return list(pool.map(judge, targets))


def markdown_table(verdicts: list[Verdict]) -> str:
    lines = ["| target | bug | rules it must fail | failed scenarios |", "|---|---|---|---|"]
    for v in verdicts:
        scenarios = "<br>".join(v.failed_scenarios) or "(none)"
        lines.append(f"| `{v.target.name}` | {v.target.bug} | {' '.join(sorted(v.target.rules))} | {scenarios} |")
    return "\n".join(lines)


def write_table(verdicts: list[Verdict], seconds: float, doc: Path = REPO / "docs" / "conformance.md") -> None:
    text = doc.read_text(encoding="utf-8")
    block = (f"{TABLE_START}\n{len(verdicts)} broken targets, judged in {seconds:.0f} s "
             f"({PARALLEL} at a time):\n\n{markdown_table(verdicts)}\n{TABLE_END}")
    doc.write_text(re.sub(re.escape(TABLE_START) + ".*?" + re.escape(TABLE_END), lambda m: block, text,
                          flags=re.S), encoding="utf-8")


if __name__ == "__main__":
    begun = time.perf_counter()
    results = judge_all(sys.argv[1:] or None)
    for v in results:
        mark = "ok " if v.failed_rules == v.target.rules else "BAD"
        print(f"{mark} {v.target.name:45} exit={v.exit_code} want={sorted(v.target.rules)} "
              f"got={sorted(v.failed_rules)} {v.seconds:.0f}s", flush=True)
    if not sys.argv[1:]:
        write_table(results, time.perf_counter() - begun)
