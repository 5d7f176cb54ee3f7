"""The report writer, from hand-written JUnit XML and cucumber JSON: statuses, rule rows, evidence."""
import json
from xml.sax.saxutils import quoteattr

import pytest

from harness.conformance.report import (NOT_RUN, PASSED, RULE_FAILED, RULE_NO_SCENARIO, RULE_NOT_RUN, RULE_PARTIAL,
                                        RULE_PASSED, SKIPPED, UNDEFINED, render_html, render_markdown, scenario_key,
                                        spec_key, summarize, terminal_table, write_summary)
from harness.conformance.rules import ScenarioSpec


def spec(name, line, *tags, example=()):
    return ScenarioSpec("demo.feature", "Demo", name, name, line, frozenset(tags), example)


SPECS = [
    spec("passes", 3, "SEED-6.1"),
    spec("fails", 9, "SEED-6.3", "BRAZE-cohort-matching"),
    spec("undefined step", 15, "SEED-6.2"),
    spec("skipped", 20, "HOUSE-5"),
    spec("outline <n>", 25, "HOUSE-7", example=(("n", "1"),)),
    spec("outline <n>", 25, "HOUSE-7", example=(("n", "2"),)),
]


def junit_case(name, key, outcome="", props=()):
    properties = "".join(f"<property name={quoteattr(k)} value={quoteattr(v)}/>"
                         for k, v in (("scenario_key", key), *props))
    return f'<testcase classname="suite" name="{name}" time="0.5"><properties>{properties}</properties>{outcome}</testcase>'


@pytest.fixture()
def report_dir(tmp_path):
    requests = [{"at": "2026-01-01T00:15:00Z", "method": "POST", "path": "/partners/mixpanel/cohorts/users",
                 "status": 201, "request": {"cohort_id": "7", "cohort_changes": [{"device_ids": ["dev-erin"]}]},
                 "response": {"message": "success"}}]
    cases = [
        junit_case("test_passes", spec_key(SPECS[0])),
        junit_case("test_fails", spec_key(SPECS[1]), '<failure message="Mismatch">trace</failure>',
                 (("failed_step", 'Then the Braze cohort "Pro users" has no members'),
                  ("expected", "the members: []"), ("observed", '["erin"]'),
                  ("braze_requests", json.dumps(requests)), ("mixpanel_requests", "[]"))),
        junit_case("test_undefined", spec_key(SPECS[2]),
                 '<failure message="pytest_bdd.exceptions.StepDefinitionNotFoundError: Step definition is not found">x'
                 "</failure>"),
        junit_case("test_skipped", spec_key(SPECS[3]), '<skipped message="not applicable"/>'),
        junit_case("test_outline[1]", scenario_key("demo.feature", 25, ["1"])),
    ]
    (tmp_path / "junit.xml").write_text(
        '<?xml version="1.0" encoding="utf-8"?><testsuites><testsuite name="pytest"><properties>'
        '<property name="Braze target" value="http://vendor:9000"/></properties>' + "".join(cases)
        + "</testsuite></testsuites>", encoding="utf-8")
    steps = [{"keyword": "Given", "name": "a workspace", "result": {"status": "passed"}},
             {"keyword": "Then", "name": "the Braze cohort has no members", "result": {"status": "failed"}},
             {"keyword": "And", "name": "more", "result": {"status": "failed"}}]
    (tmp_path / "cucumber.json").write_text(json.dumps([{"elements": [{"id": "test_fails", "steps": steps}]}]))
    return tmp_path


def test_statuses_come_from_junit_and_what_never_ran_is_not_run(report_dir):
    summary = summarize(SPECS, report_dir)
    assert [s.status for s in summary.scenarios] == [PASSED, "failed", UNDEFINED, SKIPPED, PASSED, NOT_RUN]
    assert not summary.ok
    assert summary.headline() == ("FAILED: 2 passed, 1 failed, 1 undefined, 1 skipped, 1 not run (of 6 scenarios)")


def test_one_row_per_rule_and_undefined_or_skipped_never_pass(report_dir):
    rows = {row.rule: row.status for row in summarize(SPECS, report_dir).rows}
    assert rows["SEED-6.1"] == RULE_PASSED
    assert rows["SEED-6.3"] == RULE_FAILED and rows["BRAZE-cohort-matching"] == RULE_FAILED
    assert rows["SEED-6.2"] == RULE_FAILED  # an undefined step is a failure of the rule
    assert rows["HOUSE-5"] == RULE_PARTIAL  # skipped: not passed
    assert rows["HOUSE-7"] == RULE_PARTIAL  # one example passed, one never ran
    assert rows["SEED-1.2"] == RULE_NO_SCENARIO  # a required rule no scenario here checks


def test_a_failure_carries_its_step_expectation_observation_and_requests(report_dir):
    failure = summarize(SPECS, report_dir).failures[0]
    assert failure.failed_step == 'Then the Braze cohort "Pro users" has no members'
    assert (failure.expected, failure.observed) == ("the members: []", '["erin"]')
    assert failure.requests["braze"][0]["path"] == "/partners/mixpanel/cohorts/users"
    assert [s["status"] for s in failure.steps] == ["passed", "failed", "not reached"]


def test_markdown_html_and_terminal_name_the_broken_rule(report_dir):
    summary = summarize(SPECS, report_dir, {"selection": "all"})
    markdown = render_markdown(summary)
    assert "| SEED-6.3 | An anonymous-then-identified user is no longer matched by device_id | FAIL (1 failed) |" in markdown
    assert "- observed: [\"erin\"]" in markdown and "dev-erin" in markdown
    assert "- **Braze target**: http://vendor:9000" in markdown
    html = render_html(summary)
    assert "<tr class='FAIL'><td>SEED-6.3</td>" in html and "&quot;Pro users&quot;" in html
    table = terminal_table(summary)
    assert "SEED-6.3" in table and "FAILED: fails (demo.feature:9) [SEED-6.3, BRAZE-cohort-matching]" in table


def test_nothing_selected_is_not_a_pass(tmp_path):
    summary = summarize(SPECS, tmp_path)
    assert not summary.ok and all(row.status in (RULE_NOT_RUN, RULE_NO_SCENARIO) for row in summary.rows)


def test_write_summary_writes_both_files(report_dir):
    write_summary(summarize(SPECS, report_dir), report_dir)
    assert (report_dir / "summary.md").read_text().startswith("# Conformance report")
    assert (report_dir / "summary.html").read_text().startswith("<!doctype html>")
