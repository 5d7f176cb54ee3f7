"""``conform`` end to end: the whole suite passes against the embedded mocks and against mocks in
another process, and it fails, naming the broken rule, against deliberately broken receivers."""
import json
import xml.etree.ElementTree as ET

from harness.conformance.rules import collect_scenarios

from .conftest import broken_target, run_conform


def rule_rows(report_dir):
    """``{rule: result}`` from the Markdown summary's table."""
    rows = {}
    for line in (report_dir / "summary.md").read_text().splitlines():
        cells = [c.strip() for c in line.split(" | ")]
        if line.startswith("| ") and len(cells) >= 3 and cells[0].lstrip("| ").count("-"):
            rows[cells[0].lstrip("| ")] = cells[2].split(" ")[0]
    return rows


def test_the_whole_suite_passes_against_the_embedded_mocks(tmp_path):
    done = run_conform(tmp_path / "report")
    assert done.returncode == 0, done.stdout[-3000:] + done.stderr[-2000:]
    cases = list(ET.parse(tmp_path / "report" / "junit.xml").getroot().iter("testcase"))
    assert len(cases) == len(collect_scenarios())
    assert json.loads((tmp_path / "report" / "cucumber.json").read_text())
    assert f"PASSED: {len(cases)} passed, 0 failed" in done.stdout
    assert set(rule_rows(tmp_path / "report").values()) == {"PASS"}
    assert "(embedded mock)" in (tmp_path / "report" / "summary.html").read_text()
    assert "generated json file" not in done.stdout  # pytest-bdd's banner: conform names the files itself
    judged = [line for line in done.stdout.splitlines() if line.startswith("judged: ")]
    assert len(judged) == 1 and judged[0].count("(embedded mock)") == 2, judged


def test_the_whole_suite_passes_against_mocks_served_by_another_process(tmp_path, served_mocks):
    done = run_conform(tmp_path / "report", "--braze-url", served_mocks["braze_url"],
                       "--mixpanel-url", served_mocks["mixpanel_url"])
    assert done.returncode == 0, done.stdout[-3000:] + done.stderr[-2000:]
    assert f"PASSED: {len(collect_scenarios())} passed, 0 failed" in done.stdout
    assert f"Braze target**: {served_mocks['braze_url']}\n" in (tmp_path / "report" / "summary.md").read_text()


def run_failing_conform(report_dir, kind, url_option, markexpr):
    """conform against one broken target (the other embedded): it must exit 1; the rule rows and summary."""
    with broken_target(kind) as url:
        done = run_conform(report_dir, url_option, url, "-m", markexpr)
    assert done.returncode == 1, done.stdout[-3000:] + done.stderr[-2000:]
    return rule_rows(report_dir), (report_dir / "summary.md").read_text()


def test_a_braze_that_matches_devices_of_identified_users_fails_seed_6_3(tmp_path):
    rows, summary = run_failing_conform(tmp_path / "report", "braze-matches-identified-devices", "--braze-url",
                                        "SEED-6.2 or SEED-6.3")
    assert (rows["SEED-6.3"], rows["SEED-6.2"]) == ("FAIL", "PASS")
    assert "### An anonymous user identified with a new external_id is no longer matched by its device_id" in summary
    assert "### An anonymous user merged into an existing identified user is no longer matched by its device_id" in summary
    assert summary.count("\n### ") == 2
    assert '- step: `Then the Braze cohort "Pro users" has no members`' in summary
    assert "Last requests to braze:" in summary and '"device_ids":["dev-erin"]' in summary


def test_a_mixpanel_that_keeps_events_before_2010_fails_seed_1_2(tmp_path):
    rows, summary = run_failing_conform(tmp_path / "report", "mixpanel-keeps-pre-2010-events", "--mixpanel-url",
                                        "HOUSE-5")
    assert (rows["SEED-1.2"], rows["HOUSE-5"]) == ("FAIL", "FAIL")
    failed = [line for line in summary.splitlines() if line.startswith("### ")]
    # the two examples of one outline fail the same way: shown once, with both scenarios
    assert failed == ["### The same failure in 2 scenarios",
                      "### A user whose only qualifying event is before 2010 is never in the cohort and never sent to Braze"]
    assert "- An event at 2009-12-31T23:59:59Z, its time in seconds (`retention.feature:9`;" in summary
    assert "- An event at 2009-12-31T23:59:59.999Z, its time in milliseconds (`retention.feature:9`;" in summary
    assert "- observed: 1" in summary  # one record imported where none should be


def test_conform_json_is_one_document_on_stdout_with_the_failures(tmp_path):
    with broken_target("braze-matches-identified-devices") as url:
        done = run_conform(tmp_path / "report", "--braze-url", url, "-m", "SEED-6.2 or SEED-6.3", "--json")
    assert done.returncode == 1, done.stderr[-2000:]
    report = json.loads(done.stdout)  # nothing but the document: pytest's progress went to stderr
    assert "passed" in done.stderr and report["passed"] is False
    assert report["context"]["Braze target"] == url
    assert report["context"]["Mixpanel target"].endswith("(embedded mock)")
    rules = {row["rule"]: row["result"] for row in report["rules"]}
    assert (rules["SEED-6.3"], rules["SEED-6.2"]) == ("FAIL", "PASS")
    failed = [s for s in report["scenarios"] if s["status"] == "failed"]
    assert len(failed) == report["counts"]["failed"] == 2
    assert {s["failed_step"] for s in failed} == {'Then the Braze cohort "Pro users" has no members'}
    assert all("SEED-6.3" in s["rules"] and ".feature:" in s["location"] for s in failed)
    assert report["report"][-1].endswith("summary.html")


def test_an_unreachable_target_is_one_line_and_exit_3(tmp_path):
    done = run_conform(tmp_path / "report", "--braze-url", "http://127.0.0.1:9")
    assert done.returncode == 3
    assert done.stderr.strip() == "Error: braze target: cannot reach http://127.0.0.1:9/_harness/health: connection refused"


def test_a_braze_only_run_shows_mixpanel_only_rules_as_not_applicable_never_pass(tmp_path):
    with broken_target("braze-external-id-case-insensitive") as url:
        done = run_conform(tmp_path / "report", "--braze-url", url, "-m", "HOUSE-5 or SEED-6.1", "--json")
    assert done.returncode == 1, done.stderr[-2000:]
    report = json.loads(done.stdout)
    rules = {row["rule"]: row["result"] for row in report["rules"]}
    # MIXPANEL-import's scenarios only import into the embedded Mixpanel: no verdict on the receiver
    assert rules["MIXPANEL-import"] == "NOT APPLICABLE"
    assert (rules["SEED-6.1"], rules["HOUSE-5"]) == ("FAIL", "PASS")  # HOUSE-5's exporting scenarios did reach it
    not_applicable = [s for s in report["scenarios"] if s["status"] == "not applicable"]
    assert not_applicable and all(s["calls"]["braze"] == 0 and s["calls"]["mixpanel"] > 0 for s in not_applicable)
    assert all("MIXPANEL-import" in s["rules"] or "HOUSE-5" in s["rules"] for s in not_applicable)
    assert report["judged"] == ["braze"] and report["counts"]["not applicable"] == len(not_applicable)
    summary = (tmp_path / "report" / "summary.md").read_text()
    assert f"## Not applicable to the braze target (no step sent it a request; {len(not_applicable)} scenarios)" in summary
    assert rule_rows(tmp_path / "report")["MIXPANEL-import"] == "NOT"  # "NOT APPLICABLE (...)", never PASS


def test_a_mixpanel_only_run_of_partner_api_scenarios_has_nothing_applicable(tmp_path, served_mocks):
    done = run_conform(tmp_path / "report", "--mixpanel-url", served_mocks["mixpanel_url"], "-m", "HOUSE-3")
    assert done.returncode == 2, done.stdout[-2000:] + done.stderr[-2000:]
    assert "no selected scenario reaches the mixpanel target" in done.stderr
    assert "HOUSE-3                           NOT APPLICABLE" in done.stdout
