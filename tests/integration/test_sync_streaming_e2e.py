"""The streamed exporter over HTTP, at batch scale: a fault on the name call, on batch 1, on a middle
batch or on the last batch of a multi-batch sync leaves a record, a snapshot and a Braze cohort that
all say exactly what Braze accepted, and the next sync sends exactly the rest (counted in Braze's
journal) until Braze holds the cohort.

A fault rule fires for the next ``times`` matching calls, so a rule that only delays by 1 ms, put
first with ``times=N``, lets the first N users calls through and the fault rule behind it hits
call N+1: the same batch on every run, because one request is in flight at a time."""
from __future__ import annotations

from typing import Any

import pytest

from .conftest import NAME_PATH, new_tenants, running_mocks
from .test_sync_faults_e2e import fault

BULK = {"property": "plan", "equals": "bulk"}

GAVE_UP = "Braze did not accept the call after 6 attempts: "
#: fault rule, tries the failing call gets, the sync's result, the export's error
FAULTS = {
    "503-burst": ({"status": 503, "times": 6}, 6, "failed", GAVE_UP + "HTTP 503: injected fault"),
    "423-locked": ({"status": 423, "body": {"message": "Resource locked"}, "times": 6}, 6, "failed",
                   GAVE_UP + "HTTP 423: Resource locked"),
    "dropped": ({"drop_connection": True, "times": 6}, 6, "failed",
                GAVE_UP + "connection failed (RemoteDisconnected: Remote end closed connection without response)"),
    "401-refused": ({"status": 401, "body": {"message": "Invalid client secret"}, "times": 1}, 1, "paused",
                    "Invalid client secret"),
}
#: failing batch -> the batches (adds, removes) Braze accepts before it, and in the next sync
CUTS = {1: ([], [(1000, 0), (1000, 0), (500, 0)]),
        2: ([(1000, 0)], [(1000, 0), (500, 0)]),
        3: ([(1000, 0), (1000, 0)], [(500, 0)])}


def names(start: int, stop: int) -> list[str]:
    return [f"m-{i:05}" for i in range(start, stop)]


def fault_on_users_call(tenants, number: int, **rule: Any) -> None:
    """``rule`` hits the ``number``-th users call from now (1-based) and the calls after it."""
    if number > 1:
        fault(tenants, delay_ms=1, times=number - 1)
    fault(tenants, **rule)


def accepted_calls(tenants) -> list[tuple[int, int]]:
    """(identifiers added, identifiers removed) of each users call Braze accepted, from its journal."""
    counts = []
    for entry in tenants.partner_calls():
        if entry["status"] != 201:
            continue
        added = removed = 0
        for change in entry["request"]["cohort_changes"]:
            size = sum(len(change.get(key, [])) for key in ("user_ids", "aliases", "device_ids"))
            if change.get("should_remove"):
                removed += size
            else:
                added += size
        counts.append((added, removed))
    return counts


def braze_adds(tenants, cohort: int) -> list[str]:
    """Every identifier Braze applied as an add to the cohort, in order (repeats show)."""
    return [e["identifier"] for e in tenants.braze.match_log(tenants.workspace, str(cohort)) if e["operation"] == "add"]


def snapshot(tenants, export_id: int) -> tuple[int, int]:
    found = tenants.export_state(export_id)["snapshot"]
    return found["members"], found["pending_removal"]


def sync_counts(sync: dict[str, Any]) -> tuple:
    return sync["result"], sync["added"], sync["removed"], sync["not_sent"], sync["requests"]


def catch_up(tenants, export_id: int, result: str) -> dict[str, Any]:
    """The sync after a failed one (the next slot) or a refused one (a resume); its record."""
    if result == "paused":
        tenants.mixpanel.resume_export(tenants.project_id, export_id)
    else:
        assert [f["result"] for f in tenants.mocks.advance("15m")] == ["success"]
    return tenants.last_sync(export_id)


def bulk_members(tenants, count: int, **extra: Any) -> list[str]:
    members = names(0, count)
    tenants.users(*members, plan="bulk", **extra)
    return members


# -- a first sync of 2,500 members (batches 1,000 / 1,000 / 500) cut at each batch -----------------------
@pytest.mark.parametrize("kind", FAULTS)
@pytest.mark.parametrize("failing_batch", CUTS)
def test_a_first_sync_cut_at_a_batch_keeps_what_braze_accepted_and_the_next_sends_the_rest(tenants, kind,
                                                                                            failing_batch):
    rule, tries, result, error = FAULTS[kind]
    before, after = CUTS[failing_batch]
    accepted = sum(added for added, _ in before)
    members = bulk_members(tenants, 2500)
    cohort = tenants.cohort(BULK)
    tenants.braze.clear_journal()
    fault_on_users_call(tenants, failing_batch, **rule)
    export = tenants.export(cohort)
    export_id = export["export_id"]
    assert sync_counts(export["last_sync"]) == (result, accepted, 0, 2500 - accepted, 1 + len(before) + tries)
    state = tenants.export_state(export_id)
    assert (state["status"], state["error"]) == ("paused" if result == "paused" else "active", error)
    assert snapshot(tenants, export_id) == (accepted, 0)
    assert tenants.braze_members(cohort) == set(members[:accepted])
    assert accepted_calls(tenants) == before

    tenants.braze.clear_journal()
    sync = catch_up(tenants, export_id, result)
    assert sync_counts(sync) == ("success", 2500 - accepted, 0, 0, len(after))
    assert sync["name_sent"] is False  # Braze got the name before the first batch
    assert accepted_calls(tenants) == after
    assert snapshot(tenants, export_id) == (2500, 0)
    assert tenants.braze_members(cohort) == tenants.expected_members(cohort) == set(members)
    assert sorted(braze_adds(tenants, cohort)) == members  # each member applied exactly once


def test_a_failed_name_call_sends_no_batch_and_the_next_sync_names_then_sends_everything(tenants):
    members = bulk_members(tenants, 2500)
    cohort = tenants.cohort(BULK)
    tenants.braze.clear_journal()
    tenants.braze.add_fault(NAME_PATH, method="POST", status=503, times=6)
    export = tenants.export(cohort)
    assert sync_counts(export["last_sync"]) == ("failed", 0, 0, 2500, 6)
    assert export["last_sync"]["name_sent"] is False
    assert tenants.export_state(export["export_id"])["snapshot"]["name_sent"] is None
    assert tenants.partner_calls() == [] and tenants.braze.cohorts(tenants.workspace) == []
    sync = catch_up(tenants, export["export_id"], "failed")
    assert sync_counts(sync) == ("success", 2500, 0, 0, 4) and sync["name_sent"] is True
    assert accepted_calls(tenants) == [(1000, 0), (1000, 0), (500, 0)]
    assert tenants.braze_members(cohort) == set(members)


def test_an_empty_cohort_sends_only_its_name(tenants):
    bulk_members(tenants, 3)
    cohort = tenants.cohort({"property": "plan", "equals": "nobody"})
    tenants.braze.clear_journal()
    export = tenants.export(cohort)
    assert sync_counts(export["last_sync"]) == ("success", 0, 0, 0, 1)
    assert tenants.partner_calls() == [] and len(tenants.partner_calls(NAME_PATH)) == 1
    assert snapshot(tenants, export["export_id"]) == (0, 0)


# -- churn: adds and removes in one sync -------------------------------------------------------------
def test_churn_cut_on_the_batch_that_mixes_adds_and_removes(tenants):
    """3,000 exported; then 1,500 join and 700 leave: batches [1,000 adds], [500 adds + 500 removes],
    [200 removes]. The mixed batch fails: only batch 1 counts, and the next sync sends the mixed
    batch and the last one, nothing else."""
    everyone = bulk_members(tenants, 4500)
    tenants.set_profiles({name: {"plan": "later"} for name in everyone[3000:]})
    cohort = tenants.cohort(BULK)
    export_id = tenants.export(cohort)["export_id"]
    leavers, joiners = everyone[:700], everyone[3000:]
    tenants.set_profiles({**{n: {"plan": "gone"} for n in leavers}, **{n: {"plan": "bulk"} for n in joiners}})
    tenants.braze.clear_journal()
    fault_on_users_call(tenants, 2, status=503, times=6)
    fired = tenants.mocks.advance("15m")
    assert [(f["result"], f["added"], f["removed"], f["not_sent"], f["requests"]) for f in fired] == [
        ("failed", 1000, 0, 1200, 7)]
    assert accepted_calls(tenants) == [(1000, 0)]
    assert snapshot(tenants, export_id) == (4000, 0)
    assert tenants.braze_members(cohort) == set(everyone[:4000])
    mixed = [e["request"]["cohort_changes"] for e in tenants.partner_calls()][1]
    assert [(len(c["user_ids"]), c.get("should_remove", False)) for c in mixed] == [(500, False), (500, True)]

    tenants.braze.clear_journal()
    sync = catch_up(tenants, export_id, "failed")
    assert sync_counts(sync) == ("success", 500, 700, 0, 2)
    assert accepted_calls(tenants) == [(500, 500), (0, 200)]
    assert snapshot(tenants, export_id) == (3800, 0)
    assert tenants.braze_members(cohort) == tenants.expected_members(cohort) == set(everyone[700:])
    assert sorted(braze_adds(tenants, cohort)) == everyone  # nobody added twice


def test_removes_only_sync_cut_on_its_last_batch(tenants):
    members = bulk_members(tenants, 2500)
    cohort = tenants.cohort(BULK)
    export_id = tenants.export(cohort)["export_id"]
    tenants.set_profiles({name: {"plan": "gone"} for name in members[:1200]})
    tenants.braze.clear_journal()
    fault_on_users_call(tenants, 2, drop_connection=True, times=6)
    fired = tenants.mocks.advance("15m")
    assert [(f["result"], f["added"], f["removed"], f["not_sent"], f["requests"]) for f in fired] == [
        ("failed", 0, 1000, 200, 7)]
    assert snapshot(tenants, export_id) == (1500, 0)
    assert tenants.braze_members(cohort) == set(members[1000:])
    tenants.braze.clear_journal()
    sync = catch_up(tenants, export_id, "failed")
    assert sync_counts(sync) == ("success", 0, 200, 0, 1)
    assert accepted_calls(tenants) == [(0, 200)]
    assert tenants.braze_members(cohort) == set(members[1200:])


def test_a_locked_cohort_fails_a_diff_sync_at_its_first_batch_until_unlocked(tenants):
    members = bulk_members(tenants, 3500)
    tenants.set_profiles({name: {"plan": "later"} for name in members[1000:]})
    cohort = tenants.cohort(BULK)
    export_id = tenants.export(cohort)["export_id"]
    tenants.set_profiles({name: {"plan": "bulk"} for name in members[1000:]})
    lock = f"/workspaces/{tenants.workspace}/cohorts/mixpanel/{cohort}/lock"
    tenants.braze.control("PUT", lock)
    tenants.braze.clear_journal()
    fired = tenants.mocks.advance("15m")
    assert [(f["result"], f["added"], f["not_sent"], f["requests"]) for f in fired] == [("failed", 0, 2500, 6)]
    assert [e["status"] for e in tenants.partner_calls()] == [423] * 6
    assert tenants.last_sync(export_id)["retries"][0]["reason"] == "HTTP 423: Resource locked"
    assert snapshot(tenants, export_id) == (1000, 0)
    tenants.braze.control("DELETE", lock)
    tenants.braze.clear_journal()
    sync = catch_up(tenants, export_id, "failed")
    assert sync_counts(sync) == ("success", 2500, 0, 0, 3)
    assert accepted_calls(tenants) == [(1000, 0), (1000, 0), (500, 0)]
    assert tenants.braze_members(cohort) == set(members)


# -- a full sync (snapshot older than 3 days) cut on its last batch ------------------------------------
def test_a_full_sync_cut_on_its_last_batch_keeps_the_pending_removals_for_the_next_sync(tenants):
    """2,500 exported; the export stops for 4 days while 300 leave and 200 join. The resume is a full
    sync: name, then every member again as an add and the leavers as removes: [1,000], [1,000],
    [400 adds + 300 removes]. The last batch fails; the next sync sends it and nothing else."""
    everyone = bulk_members(tenants, 2700)
    tenants.set_profiles({name: {"plan": "later"} for name in everyone[2500:]})
    cohort = tenants.cohort(BULK)
    export_id = tenants.export(cohort)["export_id"]
    tenants.mixpanel.stop_export(tenants.project_id, export_id)
    tenants.mocks.advance("4d")
    tenants.set_profiles({**{n: {"plan": "gone"} for n in everyone[:300]},
                        **{n: {"plan": "bulk"} for n in everyone[2500:]}})
    tenants.braze.clear_journal()
    fault_on_users_call(tenants, 3, status=503, times=6)
    tenants.mixpanel.resume_export(tenants.project_id, export_id)
    sync = tenants.last_sync(export_id)
    assert (sync["kind"], sync["name_sent"]) == ("full", True)
    assert sync_counts(sync) == ("failed", 2000, 0, 700, 1 + 2 + 6)
    assert accepted_calls(tenants) == [(1000, 0), (1000, 0)]
    assert snapshot(tenants, export_id) == (2000, 500)  # 0-299 left, 2300-2499 not re-sent yet
    assert tenants.braze_members(cohort) == set(everyone[:2500])  # a re-add changes nothing in Braze

    tenants.braze.clear_journal()
    sync = catch_up(tenants, export_id, "failed")
    assert (sync["kind"], sync["name_sent"]) == ("diff", False)
    assert sync_counts(sync) == ("success", 400, 300, 0, 1)
    assert accepted_calls(tenants) == [(400, 300)]
    assert snapshot(tenants, export_id) == (2400, 0)
    assert tenants.braze_members(cohort) == tenants.expected_members(cohort) == set(everyone[300:])


# -- identifiers other than external ids ---------------------------------------------------------------
def test_shared_identifier_whose_smaller_distinct_id_comes_later_is_sent_once_across_a_failure(tenants):
    """``m-00005``'s external id is also carried by ``z-late`` and ``a-late``, seen last (two slices
    after it, behind the failing batch); ``a-late`` is the smallest distinct_id, so it takes the
    identifier over after it went out in batch 1. Three profiles, one identifier, sent once."""
    members = bulk_members(tenants, 2500)
    tenants.set_profiles({"z-late": {"$braze_external_id": members[5], "plan": "bulk"}})
    tenants.set_profiles({"a-late": {"$braze_external_id": members[5], "plan": "bulk"}})
    cohort = tenants.cohort(BULK)
    tenants.braze.clear_journal()
    fault_on_users_call(tenants, 2, status=503, times=6)
    export = tenants.export(cohort)
    sync = tenants.export_state(export["export_id"])["syncs"][-1]
    assert sync_counts(sync) == ("failed", 1000, 0, 1500, 1 + 1 + 6)
    assert (sync["members"], sync["unchanged"]) == (2502, 2)
    sync = catch_up(tenants, export["export_id"], "failed")
    assert sync_counts(sync) == ("success", 1500, 0, 0, 2)
    assert (sync["members"], sync["unchanged"]) == (2502, 1002)
    assert tenants.braze_members(cohort) == set(members)
    assert braze_adds(tenants, cohort).count(members[5]) == 1
    assert accepted_calls(tenants) == [(1000, 0), (1000, 0), (500, 0)]


def test_aliases_and_device_ids_cut_on_the_mixed_middle_batch_converge(mocks):
    """Members in this order: 1,500 external ids, 300 aliases, 500 external ids, 200 anonymous device
    ids. Batches: [1,000 external ids], [700 external ids + 300 aliases], [300 external ids + 200
    device ids]; the mixed middle one fails."""
    tenants = new_tenants(mocks, alias_label="crm", alias_property="crm_id", device_id_property="device")
    externals, aliased, devices = names(0, 2000), names(2000, 2300), [f"dev-{i:04}" for i in range(200)]
    tenants.braze.control("POST", f"/workspaces/{tenants.workspace}/users", json={"users": [
        *({"external_id": x} for x in externals),
        *({"aliases": [{"alias_label": "crm", "alias_name": a}]} for a in aliased),
        *({"device_ids": [d]} for d in devices)]})
    tenants.set_profiles({x: {"$braze_external_id": x, "plan": "bulk"} for x in externals[:1500]})
    tenants.set_profiles({a: {"crm_id": a, "plan": "bulk"} for a in aliased})
    tenants.set_profiles({x: {"$braze_external_id": x, "plan": "bulk"} for x in externals[1500:]})
    tenants.set_profiles({f"$device:{d}": {"device": d, "plan": "bulk"} for d in devices})
    cohort = tenants.cohort(BULK)
    tenants.braze.clear_journal()
    fault_on_users_call(tenants, 2, status=500, times=6)
    export = tenants.export(cohort)
    assert sync_counts(export["last_sync"]) == ("failed", 1000, 0, 1500, 1 + 1 + 6)
    assert len(tenants.braze_members(cohort)) == 1000
    sync = catch_up(tenants, export["export_id"], "failed")
    assert sync_counts(sync) == ("success", 1500, 0, 0, 2)
    calls = [e["request"]["cohort_changes"] for e in tenants.partner_calls() if e["status"] == 201]
    assert [[sorted((key, len(values)) for key, values in change.items()) for change in changes]
            for changes in calls] == [[[("user_ids", 1000)]],
                                      [[("aliases", 300), ("user_ids", 700)]],
                                      [[("device_ids", 200), ("user_ids", 300)]]]
    members = tenants.braze.cohort_members(tenants.workspace, str(cohort))
    assert sorted(m["external_id"] for m in members if m["external_id"]) == externals
    assert sorted(a["alias_name"] for m in members for a in m["aliases"]) == aliased
    assert sorted(d for m in members if not m["external_id"] for d in m["device_ids"]) == devices
    assert len(braze_adds(tenants, cohort)) == 2500  # each identifier applied once


# -- the record of a failed sync ---------------------------------------------------------------------
def test_a_failed_syncs_record_lists_every_planned_add_up_to_the_operations_cap():
    """500 members exported, then 2,500 join after them. Batch 1 fails while batch 2 (encoded ahead)
    has resolved the last member but not yielded the last slice's adds: the record must still list
    the 2,500 planned adds (and the 500 no-ops), as the counts say."""
    with running_mocks(mixpanel_config={"EXPORTS": {"operations_cap": 5000}}) as mocks:
        tenants = new_tenants(mocks)
        members = bulk_members(tenants, 3000)
        tenants.set_profiles({name: {"plan": "later"} for name in members[500:]})
        cohort = tenants.cohort(BULK)
        export_id = tenants.export(cohort)["export_id"]
        tenants.set_profiles({name: {"plan": "bulk"} for name in members[500:]})
        fault_on_users_call(tenants, 1, status=503, times=6)
        assert [f["result"] for f in mocks.advance("15m")] == ["failed"]
        sync = tenants.last_sync(export_id)
        assert sync["operation_counts"] == {"add": 2500, "remove": 0, "no-op": 500}
        operations = [(op["operation"], op["distinct_id"]) for op in sync["operations"]]
        assert operations[:2500] == [("add", name) for name in members[500:]]
        assert sorted(operations[2500:]) == [("no-op", name) for name in members[:500]]
        assert sync["operations_truncated"] is False
