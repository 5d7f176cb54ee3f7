"""The preflight: one list of the calls a target lacks, before any scenario runs; and a target whose
health names the other service is refused."""
import sys
import xml.etree.ElementTree as ET

import pytest

from harness.conformance import preflight
from harness.conformance.rules import collect_scenarios

from .conftest import process_printing_first_line, run_conform

FEATURES = sorted({spec.feature_file for spec in collect_scenarios()})


def incomplete_target(name):
    return process_printing_first_line([sys.executable, "-m", "tests.conformance_targets", name])


def test_every_feature_has_its_calls_listed():
    assert set(FEATURES) == set(preflight.FEATURE_CALLS)


@pytest.mark.parametrize("service", [preflight.BRAZE, preflight.MIXPANEL])
def test_the_mocks_offer_every_call_the_suite_needs(served_mocks, service):
    assert preflight.missing_calls(served_mocks[f"{service}_url"], service, FEATURES) == []


@pytest.mark.parametrize("status, body, missing", [
    (404, None, True), (404, {"error": "no such endpoint: GET /x"}, True), (405, {"error": "x"}, True),
    (501, None, True), (404, {"error": "no workspace 'preflight-probe'"}, False), (400, None, False),
    (401, {"message": "Invalid Partner API key"}, False), (200, [], False)])
def test_what_counts_as_a_missing_call(status, body, missing):
    assert preflight.is_missing(status, body) is missing


def test_a_target_lacking_calls_gets_one_list_and_no_scenario_runs(tmp_path):
    with incomplete_target("braze-without-faults-and-sdk") as url:
        done = run_conform(tmp_path / "report", "--braze-url", url)
    assert done.returncode == 4, done.stdout[-2000:] + done.stderr[-2000:]
    lines = done.stderr.strip().splitlines()
    assert lines[0] == "Error: preflight: the targets lack calls the selected scenarios need (no scenario was run):"
    assert [line.split(" (answered")[0].split(": ", 1)[1] for line in lines[1:]] == [
        "DELETE /_harness/faults/{id}", "POST /_harness/faults", "POST /_harness/workspaces/{id}/sdk/change_user",
        "POST /_harness/workspaces/{id}/sdk/users"]
    assert "needed by failures (" in lines[1] and "needed by matching (" in lines[3]
    assert not list(ET.parse(tmp_path / "report" / "junit.xml").getroot().iter("testcase"))


def test_scenarios_that_do_not_need_the_missing_calls_still_run(tmp_path):
    with incomplete_target("braze-without-match-log") as url:
        done = run_conform(tmp_path / "report", "--braze-url", url, "-m", "HOUSE-2")
    assert done.returncode == 0, done.stdout[-2000:] + done.stderr[-2000:]


def test_a_mixpanel_target_given_as_the_braze_target_is_refused(tmp_path, served_mocks):
    done = run_conform(tmp_path / "report", "--braze-url", served_mocks["mixpanel_url"])
    assert done.returncode == 4
    assert done.stderr.strip() == (f"Error: braze target: {served_mocks['mixpanel_url']}/_harness/health names the "
                                   f"service 'mixpanel'; give a braze target")


def test_the_feature_call_matrix_in_the_docs_is_current():
    """docs/conformance.md's matrix is FEATURE_CALLS (regenerate with update_matrix_doc, see the doc)."""
    from .conftest import REPO

    document = (REPO / "docs" / "conformance.md").read_text(encoding="utf-8")
    assert preflight.with_matrix(document) == document


def test_the_matrix_has_a_sentence_per_feature_and_a_row_per_call():
    text = preflight.matrix_markdown()
    assert [line.split("`")[1] for line in text.splitlines() if line.startswith("- `")] == [
        f.removesuffix(".feature") for f in sorted(preflight.FEATURE_CALLS)]
    rows = [line for line in text.splitlines() if line.startswith("| `")]
    assert len(rows) == len({call for calls in preflight.FEATURE_CALLS.values() for call in calls}
                            | preflight.EVERY_SCENARIO)
    assert "| `GET /_harness/workspaces/{id}/cohorts/mixpanel/{id}/match_log` |  |  |  | x |" in text
