"""The conformance report: from pytest's JUnit XML and pytest-bdd's cucumber JSON to one row per rule.

The JUnit XML says how each scenario ended; the plugin stores in its ``<properties>`` which scenario it
is (feature file, line, example) and, for a failure, the step, the expectation, what was observed and
the last requests each target received. The cucumber JSON adds the steps. The feature files say which
scenarios exist, so a scenario filtered out or never collected shows as "not run", never as passed,
and so does an undefined or skipped one.
"""
from __future__ import annotations

import html
import json
import re
import xml.etree.ElementTree as ET
from collections import Counter
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Iterable

from .report_files import CUCUMBER_FILE, HTML_FILE, JUNIT_FILE, MARKDOWN_FILE
from .rules import ScenarioSpec, coverage, rule_title

PASSED, FAILED, UNDEFINED, SKIPPED, NOT_RUN = "passed", "failed", "undefined", "skipped", "not run"
#: A scenario that passed without its steps sending one request to the target judged by URL.
NOT_APPLICABLE = "not applicable"
STATUSES = (PASSED, FAILED, UNDEFINED, SKIPPED, NOT_RUN, NOT_APPLICABLE)
#: How a rule reads when its scenarios did not all pass.
RULE_FAILED, RULE_PASSED, RULE_PARTIAL, RULE_NOT_RUN, RULE_NO_SCENARIO, RULE_NOT_APPLICABLE = (
    "FAIL", "PASS", "INCOMPLETE", "NOT RUN", "NO SCENARIO", "NOT APPLICABLE")
SERVICES = ("braze", "mixpanel")


def scenario_key(feature_file: str, line: int | str, example_values: Iterable[str]) -> str:
    """The same key for a scenario in the feature catalogue and in the JUnit properties."""
    values = list(example_values)
    return f"{feature_file}:{line}" + (f"[{'|'.join(values)}]" if values else "")


def spec_key(spec: ScenarioSpec) -> str:
    return scenario_key(spec.feature_file, spec.line, (value for _, value in spec.example))


@dataclass
class ScenarioResult:
    """How one scenario ended, with the evidence of a failure."""

    key: str
    feature_file: str
    name: str
    line: int
    rules: list[str]
    status: str = NOT_RUN
    duration: float = 0.0
    failed_step: str = ""
    expected: str = ""
    observed: str = ""
    message: str = ""
    requests: dict[str, list[dict[str, Any]]] = field(default_factory=dict)
    steps: list[dict[str, str]] = field(default_factory=list)
    #: requests the scenario's steps sent to each target ("braze", "mixpanel"), when recorded
    calls: dict[str, int] = field(default_factory=dict)

    @property
    def location(self) -> str:
        return f"{self.feature_file}:{self.line}"


def status_counts(scenarios: list[ScenarioResult]) -> Counter:
    return Counter(s.status for s in scenarios)


@dataclass
class RuleRow:
    rule: str
    title: str
    scenarios: list[ScenarioResult]

    @property
    def counts(self) -> Counter:
        return status_counts(self.scenarios)

    @property
    def status(self) -> str:
        counts = self.counts
        if not self.scenarios:
            return RULE_NO_SCENARIO
        if counts[FAILED] or counts[UNDEFINED]:
            return RULE_FAILED
        applicable = len(self.scenarios) - counts[NOT_APPLICABLE]
        if counts[NOT_APPLICABLE] and not applicable - counts[NOT_RUN]:
            return RULE_NOT_APPLICABLE  # nothing that ran reached the judged target: no verdict on it
        if counts[PASSED] == applicable:
            return RULE_PASSED
        if counts[PASSED] or counts[SKIPPED]:
            return RULE_PARTIAL
        return RULE_NOT_RUN


@dataclass
class Summary:
    """Everything the report shows; ``ok`` only when every selected scenario ran and passed."""

    scenarios: list[ScenarioResult]
    rows: list[RuleRow]
    context: dict[str, str] = field(default_factory=dict)
    #: the targets given by URL ("braze", "mixpanel"); the others are the embedded mocks
    judged: tuple[str, ...] = ()

    @property
    def selected(self) -> list[ScenarioResult]:
        return [s for s in self.scenarios if s.status != NOT_RUN]

    @property
    def applicable(self) -> list[ScenarioResult]:
        """The selected scenarios that say something about the judged target."""
        return [s for s in self.selected if s.status != NOT_APPLICABLE]

    @property
    def not_applicable(self) -> list[ScenarioResult]:
        return [s for s in self.scenarios if s.status == NOT_APPLICABLE]

    @property
    def counts(self) -> Counter:
        return status_counts(self.scenarios)

    @property
    def ok(self) -> bool:
        """Every selected scenario passed (or did not apply), and at least one applied."""
        applicable = self.applicable
        return bool(applicable) and all(s.status == PASSED for s in applicable)

    @property
    def unruled(self) -> list[ScenarioResult]:
        """Scenarios citing no rule (a QA engineer's own, ``conform --features``): no rule row shows them."""
        return [s for s in self.scenarios if not s.rules]

    @property
    def failures(self) -> list[ScenarioResult]:
        return [s for s in self.scenarios if s.status in (FAILED, UNDEFINED)]

    def failure_groups(self) -> list[list[ScenarioResult]]:
        """The failures, those that failed the same way (same step pattern, same observation once the
        scenario's own ids and instants are masked) together, in the order of their first member."""
        groups: dict[tuple[str, str, str], list[ScenarioResult]] = {}
        for failure in self.failures:
            key = (failure.status, step_pattern(failure.failed_step), observation_pattern(failure.observed))
            groups.setdefault(key, []).append(failure)
        return list(groups.values())

    @property
    def single_judged(self) -> str | None:
        """The one target given by URL when the other is embedded; applicability is about it."""
        return self.judged[0] if len(self.judged) == 1 else None

    def to_dict(self) -> dict[str, Any]:
        """``conform --json``: the verdict, the run's context (targets, selection), one entry per rule
        and per scenario (failures with their step, expectation and observation)."""
        return {"passed": self.ok, "headline": self.headline(), "context": dict(self.context),
                "judged": list(self.judged),
                "counts": {status: self.counts[status] for status in STATUSES},
                "rules": [{"rule": row.rule, "title": row.title, "result": row.status,
                           "counts": dict(row.counts)} for row in self.rows],
                "scenarios": [{"name": s.name, "location": s.location, "rules": s.rules, "status": s.status,
                               "duration_s": round(s.duration, 3), "failed_step": s.failed_step,
                               "expected": s.expected, "observed": s.observed, "message": s.message,
                               "calls": dict(s.calls)}
                              for s in self.scenarios],
                "failure_groups": [{"failed_step": group[0].failed_step, "observed": group[0].observed,
                                    "scenarios": [f"{s.name} ({s.location})" for s in group]}
                                   for group in self.failure_groups()]}

    def headline(self) -> str:
        c = self.counts
        verdict = "PASSED" if self.ok else "FAILED"
        not_applicable = f"{c[NOT_APPLICABLE]} not applicable to the {self.single_judged} target, " if (
            self.single_judged) else ""
        return (f"{verdict}: {c[PASSED]} passed, {c[FAILED]} failed, {c[UNDEFINED]} undefined, "
                f"{c[SKIPPED]} skipped, {not_applicable}{c[NOT_RUN]} not run (of {len(self.scenarios)} scenarios)")


_QUOTED = re.compile(r'"[^"]*"')
_NUMBER = re.compile(r"\b\d+(?:[.,]\d+)*\b")
_INSTANT = re.compile(r"\d{4}-\d{2}-\d{2}T[\d:.]+Z?")
#: a generated id: a run of 8 or more letters, digits, - or _ holding at least one digit
_GENERATED_ID = re.compile(r"\b(?=[\w-]*\d)[\w-]{8,}\b")


def step_pattern(step: str) -> str:
    """A step's text with its quoted values and numbers as placeholders: the steps one step
    definition matches read the same."""
    return _NUMBER.sub("N", _QUOTED.sub('"..."', step))


def observation_pattern(observed: str) -> str:
    """What was observed, with instants and generated ids (the scenario's workspace, project, keys)
    masked: the same failure in two scenarios reads the same."""
    return _GENERATED_ID.sub("<id>", _INSTANT.sub("<instant>", " ".join(observed.split())))


# -- reading pytest's outputs ----------------------------------------------------------------------
def read_junit(path: Path) -> dict[str, dict[str, Any]]:
    """Per scenario key: status, duration, failure text and the plugin's properties."""
    if not path.exists():
        return {}
    results: dict[str, dict[str, Any]] = {}
    for case in ET.parse(path).getroot().iter("testcase"):
        props = {p.get("name"): p.get("value", "") for p in case.iter("property")}
        key = props.get("scenario_key")
        if not key:
            continue
        results[key] = {"status": _junit_status(case), "duration": float(case.get("time") or 0),
                        "message": _junit_message(case), "name": case.get("name", ""), "props": props}
    return results


def _junit_status(case: ET.Element) -> str:
    failure = case.find("failure")
    if failure is None:
        failure = case.find("error")
    if failure is not None:
        text = (failure.get("message") or "") + (failure.text or "")
        return UNDEFINED if "StepDefinitionNotFoundError" in text else FAILED
    if case.find("skipped") is not None:
        return SKIPPED
    return PASSED


def _junit_message(case: ET.Element) -> str:
    for tag in ("failure", "error", "skipped"):
        node = case.find(tag)
        if node is not None:
            return node.get("message") or (node.text or "").strip()
    return ""


def read_suite_properties(path: Path) -> dict[str, str]:
    """The run's own properties (the targets the plugin used)."""
    if not path.exists():
        return {}
    root = ET.parse(path).getroot()
    suite = root if root.tag == "testsuite" else root.find("testsuite")
    props = suite.find("properties") if suite is not None else None
    return {p.get("name", ""): p.get("value", "") for p in props.iter("property")} if props is not None else {}


def read_cucumber(path: Path) -> dict[str, list[dict[str, str]]]:
    """Per test name: its steps with a status (steps after the first failure read "not reached")."""
    if not path.exists():
        return {}
    try:
        features = json.loads(path.read_text(encoding="utf-8"))
    except ValueError:
        return {}
    steps_by_test: dict[str, list[dict[str, str]]] = {}
    for feature in features:
        for element in feature.get("elements", []):
            steps, failed = [], False
            for step in element.get("steps", []):
                status = step.get("result", {}).get("status", "")
                if failed:
                    status = "not reached"
                elif status == FAILED:
                    failed = True
                steps.append({"keyword": step.get("keyword", "").strip(), "name": step.get("name", ""),
                              "status": status})
            steps_by_test[element.get("id", "")] = steps
    return steps_by_test


# -- building the summary --------------------------------------------------------------------------
def summarize(specs: list[ScenarioSpec], report_dir: Path, context: dict[str, str] | None = None,
              judged: Iterable[str] = ()) -> Summary:
    """Join the feature catalogue with what pytest recorded in ``report_dir``; ``judged`` names the
    targets given by URL. With exactly one, a scenario that passed without sending it a request is
    "not applicable" (it never reached the vendor's target, so it is no pass of the vendor's)."""
    judged = tuple(service for service in SERVICES if service in set(judged))
    single = judged[0] if len(judged) == 1 else None
    context = {**read_suite_properties(report_dir / JUNIT_FILE), **(context or {})}
    junit = read_junit(report_dir / JUNIT_FILE)
    steps = read_cucumber(report_dir / CUCUMBER_FILE)
    results: dict[str, ScenarioResult] = {}
    for spec in specs:
        key = spec_key(spec)
        result = ScenarioResult(key, spec.feature_file, spec.name, spec.line, spec.rules)
        recorded = junit.get(key)
        if recorded:
            _fill(result, recorded, steps.get(recorded["name"], []))
        if single and result.status == PASSED and result.calls.get(single) == 0:
            result.status = NOT_APPLICABLE
        results[key] = result
    rows = [RuleRow(rule, rule_title(rule), [results[spec_key(s)] for s in scenarios])
            for rule, scenarios in coverage(specs).items()]
    return Summary(list(results.values()), rows, context, judged)


def _fill(result: ScenarioResult, recorded: dict[str, Any], steps: list[dict[str, str]]) -> None:
    props = recorded["props"]
    result.status = recorded["status"]
    result.duration = recorded["duration"]
    result.message = recorded["message"]
    result.failed_step = props.get("failed_step", "")
    result.expected = props.get("expected", "")
    result.observed = props.get("observed", "") or (result.message if result.status != PASSED else "")
    for target in ("braze", "mixpanel"):
        raw = props.get(f"{target}_requests")
        if raw:
            try:
                result.requests[target] = json.loads(raw)
            except ValueError:
                pass
    result.steps = steps
    for target in SERVICES:
        count = props.get(f"{target}_calls", "")
        if count.isdigit():
            result.calls[target] = int(count)


# -- rendering -------------------------------------------------------------------------------------
def _rule_counts(row: RuleRow) -> str:
    c = row.counts
    parts = [f"{c[s]} {s}" for s in STATUSES if c[s]]
    return ", ".join(parts) or "-"


def terminal_table(summary: Summary) -> str:
    """The per-rule table ``conform`` prints."""
    width = max(len(r.rule) for r in summary.rows)
    lines = [f"{'rule'.ljust(width)}  {'result'.ljust(14)}  scenarios"]
    unselected = [row for row in summary.rows if row.status in (RULE_NOT_RUN, RULE_NO_SCENARIO)]
    for row in summary.rows:
        if row not in unselected or len(unselected) == len(summary.rows):
            lines.append(f"{row.rule.ljust(width)}  {row.status.ljust(14)}  {_rule_counts(row)}")
    if unselected and len(unselected) < len(summary.rows):
        lines.append(f"({len(unselected)} more rules with no scenario selected: {', '.join(r.rule for r in unselected)})")
    lines.append("")
    if summary.not_applicable:
        lines.append(f"{_not_applicable_title(summary)}: " + "; ".join(
            f"{s.name} ({s.location})" for s in summary.not_applicable))
        lines.append("")
    for group in summary.failure_groups():
        failure = group[0]
        if len(group) == 1:
            lines.append(f"{failure.status.upper()}: {failure.name} ({failure.location}) [{', '.join(failure.rules)}]")
        else:
            lines.append(f"{failure.status.upper()} the same way in {len(group)} scenarios:")
            lines += [f"  - {s.name} ({s.location}) [{', '.join(s.rules)}]" for s in group]
        if failure.failed_step:
            lines.append(f"  step:     {failure.failed_step}")
        if failure.expected:
            lines.append(f"  expected: {_one_line(failure.expected)}")
        if failure.observed:
            lines.append(f"  observed: {_one_line(failure.observed)}")
    lines.append(summary.headline())
    return "\n".join(lines)


def _not_applicable_title(summary: Summary) -> str:
    return (f"Not applicable to the {summary.single_judged} target (no step sent it a request; "
            f"{len(summary.not_applicable)} scenarios)")


def _one_line(text: str, limit: int = 300) -> str:
    text = " ".join(text.split())
    return text if len(text) <= limit else text[: limit - 3] + "..."


def render_markdown(summary: Summary) -> str:
    out = ["# Conformance report", ""]
    for name, value in summary.context.items():
        out.append(f"- **{name}**: {_md(value)}")
    out += ["", f"**{summary.headline()}**", "", "## Rules", "",
            "| Rule | What it says | Result | Scenarios |", "|---|---|---|---|"]
    for row in summary.rows:
        scenarios = "<br>".join(f"{_md(s.name)} ({s.location}): **{s.status}**" for s in row.scenarios) or "-"
        out.append(f"| {row.rule} | {_md(row.title)} | {row.status} ({_rule_counts(row)}) | {scenarios} |")
    if summary.unruled:
        out += ["", "## Scenarios citing no rule", ""] + [
            f"- {_md(s.name)} ({s.location}): **{s.status}**" for s in summary.unruled]
    if summary.not_applicable:
        out += ["", f"## {_not_applicable_title(summary)}", ""] + [
            f"- {_md(s.name)} ({s.location}) [{', '.join(s.rules) or '-'}]" for s in summary.not_applicable]
    if summary.failures:
        out += ["", "## Failures"]
    for group in summary.failure_groups():
        failure = group[0]
        if len(group) == 1:
            out += ["", f"### {_md(failure.name)}", "",
                    f"- where: `{failure.location}`; rules: {', '.join(failure.rules) or '-'}; result: {failure.status}"]
        else:
            out += ["", f"### The same failure in {len(group)} scenarios", ""] + [
                f"- {_md(s.name)} (`{s.location}`; rules: {', '.join(s.rules) or '-'}; result: {s.status})"
                for s in group] + ["", f"The first of them, `{failure.location}`:", ""]
        if failure.failed_step:
            out.append(f"- step: `{failure.failed_step}`")
        if failure.expected:
            out.append(f"- expected: {_md(_one_line(failure.expected, 2000))}")
        if failure.observed:
            out.append(f"- observed: {_md(_one_line(failure.observed, 2000))}")
        if failure.steps:
            out += ["", "Steps:", ""] + [f"- {s['status']}: {s['keyword']} {_md(s['name'])}" for s in failure.steps]
        for target, entries in failure.requests.items():
            out += ["", f"Last requests to {target}:", "", "```", _request_lines(entries), "```"]
    return "\n".join(out) + "\n"


def _md(text: str) -> str:
    """Table-cell text: pipes escaped, and "<placeholders>" of outlines kept visible."""
    return str(text).replace("|", "\\|").replace("\n", " ").replace("<", "&lt;").replace(">", "&gt;")


def _request_lines(entries: list[dict[str, Any]]) -> str:
    return "\n".join(_request_line(entry) for entry in entries) or "(none)"


def _request_line(entry: dict[str, Any]) -> str:
    line = f"{entry.get('at', '')} {entry.get('method', '')} {entry.get('path', '')} -> {entry.get('status', '')}"
    if entry.get("request") not in (None, ""):
        line += f"\n    request:  {_compact(entry['request'])}"
    if entry.get("response") not in (None, ""):
        line += f"\n    response: {_compact(entry['response'])}"
    return line


def _compact(value: Any, limit: int = 400) -> str:
    text = value if isinstance(value, str) else json.dumps(value, separators=(",", ":"))
    return text if len(text) <= limit else text[: limit - 3] + "..."


_CSS = """body{font-family:system-ui,sans-serif;margin:2em;color:#222}table{border-collapse:collapse;width:100%}
td,th{border:1px solid #ccc;padding:4px 8px;vertical-align:top;text-align:left}th{background:#f0f0f0}
.PASS{background:#dff5e1}.FAIL{background:#fbdede}.INCOMPLETE{background:#fff3cd}
.NOT.RUN,.NO,.NOT.APPLICABLE{background:#eee}.passed{color:#1a7f37}.failed,.undefined{color:#c62828;font-weight:bold}
.skipped,.not{color:#777}pre{background:#f7f7f7;padding:8px;overflow-x:auto;font-size:12px}"""


def render_html(summary: Summary) -> str:
    e = html.escape
    out = ["<!doctype html><html><head><meta charset='utf-8'><title>Conformance report</title>",
           f"<style>{_CSS}</style></head><body><h1>Conformance report</h1><ul>"]
    out += [f"<li><b>{e(k)}</b>: {e(v)}</li>" for k, v in summary.context.items()]
    out += [f"</ul><p><b>{e(summary.headline())}</b></p><h2>Rules</h2>",
            "<table><tr><th>Rule</th><th>What it says</th><th>Result</th><th>Scenarios</th></tr>"]
    for row in summary.rows:
        scenarios = "<br>".join(
            f"<span class='{e(s.status)}'>{e(s.status)}</span> {e(s.name)} <small>({e(s.location)})</small>"
            for s in row.scenarios) or "-"
        out.append(f"<tr class='{e(row.status)}'><td>{e(row.rule)}</td><td>{e(row.title)}</td>"
                   f"<td>{e(row.status)}<br><small>{e(_rule_counts(row))}</small></td><td>{scenarios}</td></tr>")
    out.append("</table>")
    if summary.unruled:
        out += ["<h2>Scenarios citing no rule</h2><ul>"] + [
            f"<li><span class='{e(s.status)}'>{e(s.status)}</span> {e(s.name)} <small>({e(s.location)})</small></li>"
            for s in summary.unruled] + ["</ul>"]
    if summary.not_applicable:
        out += [f"<h2>{e(_not_applicable_title(summary))}</h2><ul>"] + [
            f"<li>{e(s.name)} <small>({e(s.location)}; {e(', '.join(s.rules) or '-')})</small></li>"
            for s in summary.not_applicable] + ["</ul>"]
    if summary.failures:
        out.append("<h2>Failures</h2>")
    for group in summary.failure_groups():
        failure = group[0]
        if len(group) == 1:
            out.append(f"<h3>{e(failure.name)}</h3><p><code>{e(failure.location)}</code> &middot; rules: "
                       f"{e(', '.join(failure.rules) or '-')} &middot; {e(failure.status)}</p><ul>")
        else:
            out.append(f"<h3>The same failure in {len(group)} scenarios</h3><ul>" + "".join(
                f"<li>{e(s.name)} <small>(<code>{e(s.location)}</code>; {e(', '.join(s.rules) or '-')})</small></li>"
                for s in group) + f"</ul><p>The first of them, <code>{e(failure.location)}</code>:</p><ul>")
        for label, value in (("step", failure.failed_step), ("expected", failure.expected),
                             ("observed", failure.observed)):
            if value:
                out.append(f"<li><b>{label}</b>: <code>{e(value)}</code></li>")
        out.append("</ul>")
        if failure.steps:
            out.append("<ol>" + "".join(f"<li class='{e(s['status'].split()[0])}'>{e(s['status'])}: "
                                        f"{e(s['keyword'])} {e(s['name'])}</li>" for s in failure.steps) + "</ol>")
        for target, entries in failure.requests.items():
            out.append(f"<p>Last requests to {e(target)}:</p><pre>{e(_request_lines(entries))}</pre>")
    out.append("</body></html>")
    return "\n".join(out)


def write_summary(summary: Summary, report_dir: Path) -> None:
    report_dir.mkdir(parents=True, exist_ok=True)
    (report_dir / MARKDOWN_FILE).write_text(render_markdown(summary), encoding="utf-8")
    (report_dir / HTML_FILE).write_text(render_html(summary), encoding="utf-8")


def coverage_markdown(specs: list[ScenarioSpec]) -> str:
    """The coverage table of README.md: every rule with the scenarios that check it."""
    out = ["| Rule | What it says | Scenarios |", "|---|---|---|"]
    for rule, scenarios in coverage(specs).items():
        examples = Counter(f"{spec.feature_file}: {spec.template_name}" for spec in scenarios)
        cells = [_md(name) + (f" ({count} examples)" if count > 1 else "") for name, count in examples.items()]
        out.append(f"| {rule} | {_md(rule_title(rule))} | {'<br>'.join(cells) or '**none**'} |")
    return "\n".join(out) + "\n"


COVERAGE_START, COVERAGE_END = "<!-- coverage:start -->", "<!-- coverage:end -->"


def with_coverage_table(document: str, specs: list[ScenarioSpec]) -> str:
    """``document`` with the text between the coverage markers replaced by the current table."""
    head, start, rest = document.partition(COVERAGE_START)
    _, end, tail = rest.partition(COVERAGE_END)
    if not start or not end:
        raise ValueError(f"the document has no {COVERAGE_START} ... {COVERAGE_END} section")
    return f"{head}{COVERAGE_START}\n{coverage_markdown(specs)}{COVERAGE_END}{tail}"


def update_coverage_doc(path: str | Path) -> None:
    """Regenerate the coverage table of README.md from the features' tags."""
    from .rules import collect_scenarios

    target = Path(path)
    target.write_text(with_coverage_table(target.read_text(encoding="utf-8"), collect_scenarios()), encoding="utf-8")
