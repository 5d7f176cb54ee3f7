"""``conform --features``: a QA engineer's own feature file, outside the repository, runs with the
shipped steps, carries its own tags without warnings and appears in the report."""
from __future__ import annotations

from pathlib import Path

from click.testing import CliRunner

from harness.cli import main

FEATURE = """@qa-checkout
Feature: QA checkout - pro users reach Braze

  @smoke
  Scenario: QA pro users are imported on the first sync
    Given a Braze workspace with a Mixpanel data import key
    And Braze has these users:
      | user  | external_id |
      | alice | alice       |
      | bob   | bob         |
    And a Mixpanel project
    And the Mixpanel project is connected to the Braze workspace
    And Mixpanel has these profiles:
      | distinct_id | $braze_external_id | plan |
      | alice       | alice              | pro  |
      | bob         | bob                | free |
    And a Mixpanel cohort "Pro users" of profiles whose "plan" is "pro"
    When the cohort "Pro users" is exported to Braze as a dynamic export
    Then the workspace has 1 data point(s) from "cohort_import:mixpanel"
"""


def test_a_user_feature_runs_alone_and_appears_in_the_report(tmp_path: Path) -> None:
    feature = tmp_path / "qa" / "checkout.feature"
    feature.parent.mkdir()
    feature.write_text(FEATURE, encoding="utf-8")
    report = tmp_path / "report"
    result = CliRunner().invoke(main, ["conform", "--features", str(feature), "--report-dir", str(report), "-m", "smoke"])
    assert result.exit_code == 0, result.output
    assert "unknown mark" not in result.output.lower()
    html = (report / "summary.html").read_text(encoding="utf-8")
    assert "QA pro users are imported on the first sync" in html
    assert "Data points - what the cohort import costs" not in html  # alone: no shipped feature
    assert "passed</span> QA pro users are imported on the first sync <small>(checkout.feature:5)</small>" in html


def test_a_user_feature_runs_with_the_shipped_ones(tmp_path: Path) -> None:
    (tmp_path / "checkout.feature").write_text(FEATURE, encoding="utf-8")
    report = tmp_path / "report"
    result = CliRunner().invoke(main, ["conform", "--features", str(tmp_path), "--with-shipped",
                                       "--report-dir", str(report), "-m", "smoke or SEED-1.1"])
    assert result.exit_code == 0, result.output
    summary = (report / "summary.md").read_text(encoding="utf-8")
    assert "QA pro users are imported on the first sync (checkout.feature:5): **passed**" in summary
    assert "data_points.feature" in summary and "(data_points.feature:16): **passed**" in summary
