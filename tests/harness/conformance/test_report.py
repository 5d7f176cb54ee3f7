"""The report writer, from hand-written JUnit XML and cucumber JSON: statuses, rule rows, evidence."""
import json
from xml.sax.saxutils import quoteattr

import pytest

from harness.conformance.report import (NOT_APPLICABLE, NOT_RUN, PASSED, RULE_FAILED, RULE_NO_SCENARIO,
                                        RULE_NOT_APPLICABLE, RULE_NOT_RUN, RULE_PARTIAL,
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


# -- applicability: a scenario that sent no request to the one target judged by URL ---------------
def calls(braze, mixpanel):
    return (("braze_calls", str(braze)), ("mixpanel_calls", str(mixpanel)))


APPLICABILITY_SPECS = [spec("Braze only", 3, "HOUSE-2"), spec("Mixpanel only", 9, "MIXPANEL-import", "HOUSE-5"),
                       spec("both", 15, "HOUSE-5"), spec("Mixpanel only, failed", 21, "HOUSE-10")]


@pytest.fixture()
def applicability_dir(tmp_path):
    cases = [junit_case("test_a", spec_key(APPLICABILITY_SPECS[0]), props=calls(7, 0)),
             junit_case("test_b", spec_key(APPLICABILITY_SPECS[1]), props=calls(0, 5)),
             junit_case("test_c", spec_key(APPLICABILITY_SPECS[2]), props=calls(2, 3)),
             junit_case("test_d", spec_key(APPLICABILITY_SPECS[3]), '<failure message="x">y</failure>', calls(0, 4))]
    (tmp_path / "junit.xml").write_text('<testsuites><testsuite name="pytest">' + "".join(cases)
                                        + "</testsuite></testsuites>", encoding="utf-8")
    return tmp_path


@pytest.mark.parametrize("judged, statuses, rows", [
    ((), [PASSED, PASSED, PASSED, "failed"], {"HOUSE-2": RULE_PASSED, "MIXPANEL-import": RULE_PASSED}),
    (("braze", "mixpanel"), [PASSED, PASSED, PASSED, "failed"], {"MIXPANEL-import": RULE_PASSED}),
    (("braze",), [PASSED, NOT_APPLICABLE, PASSED, "failed"],
     {"HOUSE-2": RULE_PASSED, "MIXPANEL-import": RULE_NOT_APPLICABLE, "HOUSE-5": RULE_PASSED, "HOUSE-10": RULE_FAILED}),
    (("mixpanel",), [NOT_APPLICABLE, PASSED, PASSED, "failed"],
     {"HOUSE-2": RULE_NOT_APPLICABLE, "MIXPANEL-import": RULE_PASSED}),
])
def test_a_scenario_that_never_reached_the_judged_target_is_not_applicable_to_it(applicability_dir, judged,
                                                                                   statuses, rows):
    summary = summarize(APPLICABILITY_SPECS, applicability_dir, judged=judged)
    assert [s.status for s in summary.scenarios] == statuses
    found = {row.rule: row.status for row in summary.rows}
    assert {rule: found[rule] for rule in rows} == rows


def test_not_applicable_is_shown_apart_and_is_no_pass(applicability_dir):
    summary = summarize(APPLICABILITY_SPECS[:2], applicability_dir, judged=("mixpanel",))
    assert summary.ok  # the one scenario that reached the Mixpanel target passed
    assert summary.headline() == ("PASSED: 1 passed, 0 failed, 0 undefined, 0 skipped, 1 not applicable to the "
                                  "mixpanel target, 0 not run (of 2 scenarios)")
    heading = "Not applicable to the mixpanel target (no step sent it a request; 1 scenarios)"
    assert f"## {heading}\n\n- Braze only (demo.feature:3) [HOUSE-2]" in render_markdown(summary)
    assert f"{heading}: Braze only (demo.feature:3)" in terminal_table(summary)
    assert "<h2>" + heading in render_html(summary)
    document = summary.to_dict()
    assert document["judged"] == ["mixpanel"] and document["counts"][NOT_APPLICABLE] == 1
    assert [r["result"] for r in document["rules"] if r["rule"] == "HOUSE-2"] == [RULE_NOT_APPLICABLE]
    only_braze = summarize(APPLICABILITY_SPECS[:1], applicability_dir, judged=("mixpanel",))
    assert not only_braze.ok  # nothing reached the judged target: no verdict of PASS


# -- identical failures, grouped ------------------------------------------------------------------
GROUP_SPECS = [spec(f"scenario {n}", 3 + 6 * n, "HOUSE-7") for n in range(4)]


def failing_case(n, step, observed):
    return junit_case(f"test_{n}", spec_key(GROUP_SPECS[n]), '<failure message="x">y</failure>',
                      (("failed_step", step), ("expected", "201"), ("observed", observed)))


def test_failures_of_the_same_step_pattern_and_observation_are_shown_once(tmp_path):
    missing = "POST /_harness/workspaces/{} answered 404: no such endpoint ({})"
    cases = [failing_case(0, "Given a Braze workspace with a Mixpanel data import key",
                          missing.format("conformance-1a2b3c4d5e", "2026-01-01T00:00:00Z")),
             failing_case(1, 'When the cohort "Pro users" is exported', "3 members"),
             failing_case(2, "Given a Braze workspace with a Mixpanel data import key",
                          missing.format("conformance-9f8e7d6c5b", "2026-01-01T00:15:00Z")),
             failing_case(3, 'When the cohort "Trial users" is exported', "4 members")]
    (tmp_path / "junit.xml").write_text('<testsuites><testsuite name="pytest">' + "".join(cases)
                                        + "</testsuite></testsuites>", encoding="utf-8")
    summary = summarize(GROUP_SPECS, tmp_path)
    assert [[s.name for s in group] for group in summary.failure_groups()] == [
        ["scenario 0", "scenario 2"], ["scenario 1"], ["scenario 3"]]  # 3 vs 4 members: two failures
    table = terminal_table(summary)
    assert "FAILED the same way in 2 scenarios:\n  - scenario 0 (demo.feature:3) [HOUSE-7]\n" \
           "  - scenario 2 (demo.feature:15) [HOUSE-7]\n  step:     Given a Braze workspace" in table
    assert table.count("no such endpoint") == 1
    markdown = render_markdown(summary)
    assert "### The same failure in 2 scenarios" in markdown and markdown.count("no such endpoint") == 1
    assert "### scenario 1" in markdown and "### scenario 3" in markdown
    assert [len(g["scenarios"]) for g in summary.to_dict()["failure_groups"]] == [2, 1, 1]
