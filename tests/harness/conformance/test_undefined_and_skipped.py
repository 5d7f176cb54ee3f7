"""A real pytest-bdd run through the plugin: undefined and skipped steps are reported, never as passed."""
import subprocess
import sys
import textwrap

from harness.conformance.report import FAILED, PASSED, RULE_FAILED, RULE_PARTIAL, SKIPPED, UNDEFINED, summarize
from harness.conformance.rules import collect_scenarios

FEATURE = """\
Feature: Demo
  @SEED-1.1
  Scenario: Every step is defined
    Given a defined step

  @SEED-1.2
  Scenario: One step has no definition
    Given a defined step
    Then a step nobody wrote

  @HOUSE-4
  Scenario: One step skips
    Given a defined step
    Then a step that skips

  @HOUSE-5
  Scenario: One step fails
    Then a step that fails
"""

MODULE = """\
import pytest
from pytest_bdd import given, scenarios, then

from harness.conformance.checks import expect_equal

scenarios("demo.feature")


@given("a defined step")
def _():
    pass


@then("a step that skips")
def _():
    pytest.skip("not applicable to this target")


@then("a step that fails")
def _():
    expect_equal("the answer", 41, 42)
"""


def test_undefined_skipped_and_failed_scenarios_are_not_passed(tmp_path):
    (tmp_path / "demo.feature").write_text(FEATURE)
    (tmp_path / "test_demo.py").write_text(textwrap.dedent(MODULE))
    (tmp_path / "pytest.ini").write_text("[pytest]\n")
    report = tmp_path / "report"
    report.mkdir()
    done = subprocess.run([sys.executable, "-m", "pytest", "-q", "--disable-plugin-autoload", "-p", "pytest_bdd.plugin",
                           "-p", "harness.conformance.plugin", "-p",
                           "no:cacheprovider", "--junitxml", str(report / "junit.xml"), "--cucumberjson",
                           str(report / "cucumber.json"), "test_demo.py"],
                          cwd=tmp_path, capture_output=True, text=True, timeout=60)
    assert done.returncode == 1, done.stdout + done.stderr
    summary = summarize(collect_scenarios(tmp_path), report)
    assert {s.name: s.status for s in summary.scenarios} == {
        "Every step is defined": PASSED, "One step has no definition": UNDEFINED,
        "One step skips": SKIPPED, "One step fails": FAILED}
    rows = {row.rule: row.status for row in summary.rows}
    assert (rows["SEED-1.1"], rows["SEED-1.2"], rows["HOUSE-4"], rows["HOUSE-5"]) == (
        "PASS", RULE_FAILED, RULE_PARTIAL, RULE_FAILED)
    assert not summary.ok
    undefined = next(s for s in summary.scenarios if s.status == UNDEFINED)
    assert (undefined.failed_step, undefined.observed) == ("Then a step nobody wrote", "undefined step")
    failed = next(s for s in summary.scenarios if s.status == FAILED)
    assert (failed.expected, failed.observed) == ("the answer: 42", "41")
