"""HOUSE-9 over HTTP: Braze misbehaves through its fault control plane; every scenario ends with
Braze converged to Mixpanel, nothing lost and nothing applied twice (the match log counts adds)."""
import time

import pytest

from .conftest import USERS_PATH, new_tenants, running_mocks

PRO = {"property": "plan", "equals": "pro"}


@pytest.fixture()
def exported(tenants):
    """alice and bob exported (dynamic); dave then joins, so the next sync has one add to send."""
    tenants.users("alice", "bob", "dave", plan="free")
    tenants.set_profiles({"alice": {"plan": "pro"}, "bob": {"plan": "pro"}})
    cohort = tenants.cohort(PRO, "Pro users")
    export_id = tenants.export(cohort)["export_id"]
    tenants.set_profiles({"dave": {"plan": "pro"}})
    tenants.braze.clear_journal()
    return tenants, cohort, export_id


def fault(tenants, **rule):
    tenants.braze.add_fault(USERS_PATH, method="POST", **rule)


def users_call_statuses(tenants):
    return [e["status"] for e in tenants.partner_calls()]


def test_a_burst_of_429_with_retry_after_and_503_is_retried_inside_the_sync(exported):
    tenants, cohort, export_id = exported
    fault(tenants, status=429, headers={"Retry-After": "5"}, body={"message": "slow down"}, times=2)
    fault(tenants, status=503, times=2)
    fired = tenants.mocks.advance("15m")
    assert [f["result"] for f in fired] == ["success"]
    sync = tenants.last_sync(export_id)
    assert [(r["reason"], r["wait_s"]) for r in sync["retries"]] == [
        ("HTTP 429: slow down", 5.0), ("HTTP 429: slow down", 5.0),
        ("HTTP 503: injected fault", 4.0), ("HTTP 503: injected fault", 8.0)]
    assert sync["waited_s"] == 22.0 and sync["requests"] == 5
    assert users_call_statuses(tenants) == [429, 429, 503, 503, 201]
    assert tenants.braze_members(cohort) == tenants.expected_members(cohort) == {"alice", "bob", "dave"}
    assert tenants.adds_accepted(cohort, "dave") == 1


def test_six_503_fail_the_sync_and_the_next_one_sends_what_was_missed(exported):
    tenants, cohort, export_id = exported
    fault(tenants, status=503, times=6)
    fired = tenants.mocks.advance("15m")
    assert [f["result"] for f in fired] == ["failed"]
    state = tenants.export_state(export_id)
    assert state["status"] == "active" and state["error"].startswith("Braze did not accept the call after 6 attempts")
    assert tenants.braze_members(cohort) == {"alice", "bob"}
    fired = tenants.mocks.advance("15m")
    assert [(f["result"], f["added"]) for f in fired] == [("success", 1)]
    assert tenants.export_state(export_id)["error"] is None
    assert tenants.braze_members(cohort) == {"alice", "bob", "dave"}
    assert tenants.adds_accepted(cohort, "dave") == 1


def test_a_dropped_connection_is_retried(exported):
    tenants, cohort, export_id = exported
    fault(tenants, drop_connection=True, times=1)
    tenants.mocks.advance("15m")
    sync = tenants.last_sync(export_id)
    assert sync["result"] == "success" and sync["retries"][0]["reason"].startswith("connection failed")
    assert sorted(map(str, users_call_statuses(tenants))) == ["201", "dropped"]  # journaled in either order
    assert tenants.braze_members(cohort) == {"alice", "bob", "dave"}
    assert tenants.adds_accepted(cohort, "dave") == 1


def test_an_invalidated_key_pauses_the_export_until_a_new_key_and_a_resume(exported):
    tenants, cohort, export_id = exported
    tenants.braze.invalidate_data_import_key(tenants.workspace, tenants.key)
    fired = tenants.mocks.advance("1h")
    assert [(f["result"], f["error"]) for f in fired] == [("paused", "Invalid client secret")]
    state = tenants.export_state(export_id)
    assert (state["status"], state["error"], state["next_sync_at"]) == ("paused", "Invalid client secret", None)
    assert tenants.braze_members(cohort) == {"alice", "bob"}
    new_key = tenants.braze.create_data_import_key(tenants.workspace).key
    tenants.mixpanel.update_connection(tenants.project_id, tenants.connection_id, data_import_key=new_key)
    resumed = tenants.mixpanel.resume_export(tenants.project_id, export_id)
    assert resumed["status"] == "active" and resumed["last_sync"]["added"] == 1
    assert tenants.braze_members(cohort) == {"alice", "bob", "dave"}
    assert tenants.adds_accepted(cohort, "dave") == 1


@pytest.mark.parametrize("status", [400, 401, 403, 404])
def test_refusals_pause_with_brazes_message(exported, status):
    tenants, cohort, export_id = exported
    fault(tenants, status=status, body={"message": f"refused {status}"}, times=1)
    tenants.mocks.advance("15m")
    state = tenants.export_state(export_id)
    assert (state["status"], state["error"]) == ("paused", f"refused {status}")
    assert users_call_statuses(tenants) == [status]
    tenants.mixpanel.resume_export(tenants.project_id, export_id)
    assert tenants.braze_members(cohort) == {"alice", "bob", "dave"}


def test_connecting_checks_the_key_with_an_empty_users_call_that_leaves_no_cohort(mocks):
    tenants = new_tenants(mocks)
    checks = [e["request"] for e in tenants.partner_calls()]
    assert checks == [{"partner_api_key": "***", "client_secret": "***", "cohort_id": "connection-check",
                       "cohort_changes": []}]
    assert mocks.braze.cohorts(tenants.workspace) == []


def test_a_refused_key_is_not_saved(mocks):
    tenants = new_tenants(mocks)
    tenants.braze.invalidate_data_import_key(tenants.workspace, tenants.key)
    reply = mocks.mixpanel.send("POST", f"/_harness/projects/{tenants.project_id}/connections",
                                json={"data_import_key": tenants.key, "rest_endpoint": tenants.rest_endpoint})
    assert (reply.status_code, reply.json()) == (400, {"error": "Invalid client secret", "braze_status": 401})
    assert [c["connection_id"] for c in mocks.mixpanel.control("GET", f"/projects/{tenants.project_id}/connections")[
        "connections"]] == [tenants.connection_id]


def test_a_sync_cut_short_half_way_resumes_where_braze_stopped_acknowledging():
    """Braze's partner rate limit (4 calls an hour here) answers the third users call 429 with a
    Retry-After past the 60 s budget: the sync fails after 2 of 3 batches. The snapshot kept those
    2 batches, so the sync of the next hour sends only the third."""
    with running_mocks(braze_config={"rate_limits": {"partner": [4, 3600]}}) as mocks:
        tenants = new_tenants(mocks)  # call 1: the credential check
        names = [f"bulk-{i:04}" for i in range(2500)]
        tenants.users(*names, plan="bulk")
        cohort = tenants.cohort({"property": "plan", "equals": "bulk"})
        export = tenants.export(cohort)  # calls 2-4: name, batch 1, batch 2; batch 3 refused 429
        sync = export["last_sync"]
        assert (sync["result"], sync["added"], sync["not_sent"]) == ("failed", 2000, 500)
        assert "HTTP 429" in tenants.export_state(export["export_id"])["error"]
        fired = mocks.advance("1h")
        assert [(f["result"], f["added"]) for f in fired if f["result"] == "success"][0] == ("success", 500)
        assert tenants.braze_members(cohort) == set(names)
        adds = [e["identifier"] for e in mocks.braze.match_log(tenants.workspace, str(cohort)) if e["operation"] == "add"]
        assert sorted(adds) == names  # each member applied exactly once


def test_a_timeout_is_retried_and_braze_converges():
    """A reply slower than the read timeout is retried. Braze had applied the first try, so that
    one request is applied twice: membership is unaffected; the match log shows the repeat
    (at-least-once for a request whose reply was lost, as documented)."""
    with running_mocks(mixpanel_config={"EXPORTS": {"timeout_s": [2, 0.3]}}) as mocks:
        tenants = new_tenants(mocks)
        tenants.users("alice", "dave", plan="free")
        tenants.set_profiles({"alice": {"plan": "pro"}})
        cohort = tenants.cohort(PRO)
        export = tenants.export(cohort)
        tenants.set_profiles({"dave": {"plan": "pro"}})
        tenants.braze.clear_journal()
        fault(tenants, delay_ms=600, times=1)
        mocks.advance("15m")
        sync = tenants.last_sync(export["export_id"])
        assert sync["result"] == "success" and sync["retries"][0]["reason"] == "timed out after 0.3 s"
        wait_for_replies(tenants, 2)  # the slow first try is still being handled by Braze
        assert tenants.braze_members(cohort) == {"alice", "dave"}
        assert tenants.adds_accepted(cohort, "dave") == 2
        assert tenants.data_points() == 1 + 2  # alice at creation, dave twice


def wait_for_replies(tenants, count, seconds=5.0):
    """Wait (real time, bounded) until Braze has answered ``count`` users calls since the journal was cleared."""
    deadline = time.monotonic() + seconds
    while len(tenants.partner_calls()) < count and time.monotonic() < deadline:
        time.sleep(0.02)
    assert len(tenants.partner_calls()) == count
