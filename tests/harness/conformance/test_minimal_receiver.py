"""The minimal observation surface: a Braze receiver that offers only its vendor API, its cohort
listing, members and match log gets a verdict on the partner-API feature from credentials given on
the command line; without them, one preflight list of what it lacks, no scenario run."""
import json
import sys
from contextlib import contextmanager

from harness.conformance.rules import collect_scenarios

from .conftest import process_printing_first_line, run_conform

PARTNER_API = [s for s in collect_scenarios() if s.feature_file == "partner_api.feature"]


@contextmanager
def minimal_receiver():
    with process_printing_first_line([sys.executable, "-m", "tests.conformance_targets",
                                      "braze-minimal-receiver"]) as line:
        yield json.loads(line)


def credential_options(receiver):
    return ["--data-import-key", receiver["data_import_key"], "--partner-api-key", receiver["partner_api_key"],
            "--workspace-id", receiver["workspace_id"], "--rest-api-key", receiver["rest_api_key"]]


def test_the_partner_api_feature_passes_on_the_minimal_surface_with_credentials(tmp_path):
    with minimal_receiver() as receiver:
        done = run_conform(tmp_path / "report", "--braze-url", receiver["url"], *credential_options(receiver),
                           "-m", "partner-api", "--json")
        again = run_conform(tmp_path / "again", "--braze-url", receiver["url"], *credential_options(receiver),
                            "-m", "partner-api", "--json")  # a second run on the same workspace: still isolated
    assert done.returncode == 0, done.stdout[-3000:] + done.stderr[-3000:]
    report = json.loads(done.stdout)
    assert report["counts"]["passed"] == len(PARTNER_API) and report["counts"]["failed"] == 0
    assert {r["rule"]: r["result"] for r in report["rules"]}["HOUSE-3"] == "PASS"
    assert again.returncode == 0, again.stdout[-3000:] + again.stderr[-3000:]


def test_without_credentials_the_minimal_receiver_gets_one_preflight_list(tmp_path):
    with minimal_receiver() as receiver:
        done = run_conform(tmp_path / "report", "--braze-url", receiver["url"], "-m", "partner-api")
    assert done.returncode == 4, done.stdout[-2000:] + done.stderr[-2000:]
    lines = done.stderr.strip().splitlines()
    assert lines[0].startswith("Error: preflight:")
    assert [line.split(" (answered")[0].split(": ", 1)[1] for line in lines[1:]] == [
        "DELETE /_harness/journal", "GET /_harness/journal", "GET /_harness/partners",
        "GET /_harness/workspaces/{id}/users", "POST /_harness/workspaces",
        "POST /_harness/workspaces/{id}/data_import_keys"]
    assert all(f"needed by partner_api ({len(PARTNER_API)} scenarios)" in line for line in lines[1:])
    assert "passed" not in done.stdout


def test_a_data_import_key_without_its_partner_key_is_a_usage_error(tmp_path):
    done = run_conform(tmp_path / "report", "--braze-url", "http://127.0.0.1:9", "--data-import-key", "k")
    assert done.returncode == 2
    assert "--data-import-key and --partner-api-key go together" in done.stderr


def test_with_credentials_the_preflight_asks_only_for_the_minimal_surface():
    from harness.conformance import preflight

    needed = preflight.needed_calls(["partner_api.feature"], preflight.BRAZE, minimal=True)
    assert sorted(str(call) for call in needed) == [
        "GET /_harness/workspaces/{id}/cohorts", "GET /_harness/workspaces/{id}/cohorts/mixpanel/{id}/members",
        "POST /partners/mixpanel/cohorts", "POST /partners/mixpanel/cohorts/users", "POST /users/track"]
