"""Mixpanel exports cohorts into Braze over HTTP: schedule, diffs, matching, data points, batches."""
from datetime import timedelta

from mocks.common.clock import to_iso

from .conftest import NAME_PATH, USERS_PATH, new_tenants

PRO = {"property": "plan", "equals": "pro"}


def test_after_every_sync_braze_holds_the_cohort_of_that_instant(tenants):
    tenants.users("alice", "bob", "carol", "dave", plan="free")
    tenants.set_profiles({"alice": {"plan": "pro"}, "bob": {"plan": "pro"}})
    cohort = tenants.cohort(PRO, "Pro users")
    export = tenants.export(cohort)
    assert export["status"] == "active" and export["last_sync"]["added"] == 2
    assert tenants.braze_members(cohort) == tenants.expected_members(cohort) == {"alice", "bob"}
    changes = [{"carol": {"plan": "pro"}}, {"alice": {"plan": "free"}, "dave": {"plan": "pro"}}, {},
               {"carol": {"plan": "free"}, "dave": {"plan": "free"}, "bob": {"plan": "free"}}]
    for change in changes:
        tenants.set_profiles(change)
        fired = tenants.mocks.advance("15m")
        assert [f["result"] for f in fired] == ["success"]
        assert tenants.braze_members(cohort) == tenants.expected_members(cohort)
    assert tenants.braze_members(cohort) == set()
    syncs = tenants.export_state(export["export_id"])["syncs"]
    assert [(s["added"], s["removed"], s["requests"]) for s in syncs] == [
        (2, 0, 2), (1, 0, 1), (1, 1, 1), (0, 0, 0), (0, 3, 1)]


def test_an_hour_runs_four_syncs_in_order_each_at_its_own_instant(tenants):
    tenants.users("alice", "dave", plan="free")
    tenants.set_profiles({"alice": {"plan": "pro"}})
    cohort = tenants.cohort(PRO)
    created = tenants.mocks.clock.now()
    export = tenants.export(cohort)
    tenants.set_profiles({"dave": {"plan": "pro"}})
    fired = tenants.mocks.advance("1h")
    assert [f["scheduled_at"] for f in fired] == [to_iso(created + timedelta(minutes=m)) for m in (15, 30, 45, 60)]
    assert [f["added"] for f in fired] == [1, 0, 0, 0]
    assert tenants.braze_members(cohort) == {"alice", "dave"}
    state = tenants.export_state(export["export_id"])
    assert state["next_sync_at"] == to_iso(created + timedelta(minutes=75)) and state["sync_count"] == 5
    # Braze saw the only users call of the hour at the instant of the sync that sent it
    assert [e["at"] for e in tenants.partner_calls()][-1] == to_iso(created + timedelta(minutes=15))


def test_a_time_window_cohort_loses_members_by_the_clock_alone(tenants):
    tenants.users("alice", "carol", "erin")
    now = tenants.mocks.clock.now()
    purchases = {"alice": timedelta(days=10), "carol": timedelta(days=29, hours=23, minutes=20),
                 "erin": timedelta(days=31)}
    events = [{"event": "Purchase", "properties": {"distinct_id": who, "time": int((now - ago).timestamp()),
                                                   "$insert_id": f"purchase-{who}"}} for who, ago in purchases.items()]
    tenants.mixpanel.control("POST", f"/projects/{tenants.project_id}/events", json={"events": events})
    cohort = tenants.cohort({"event": "Purchase", "at_least": 1, "within_days": 30}, "Recent buyers")
    tenants.export(cohort)
    assert tenants.braze_members(cohort) == {"alice", "carol"}
    removed_at = []
    for _ in range(4):
        fired = tenants.mocks.advance("15m")
        assert tenants.braze_members(cohort) == tenants.expected_members(cohort)
        removed_at += [f["scheduled_at"] for f in fired if f["removed"]]
    assert removed_at == [to_iso(now + timedelta(minutes=45))]
    assert tenants.braze_members(cohort) == {"alice"}


def test_matching_by_external_id_alias_and_anonymous_device(mocks):
    """SEED-6: identified users by external_id or alias, anonymous users by device id; the device id
    of a user Braze has since identified matches nobody; members without any id are skipped."""
    tenants = new_tenants(mocks, alias_label="mixpanel_id", alias_property="braze_alias",
                      device_id_property="braze_device_id")
    ws = tenants.workspace
    tenants.braze_users("alice")
    mocks.braze.control("POST", f"/workspaces/{ws}/users",
                        json={"users": [{"aliases": [{"alias_label": "mixpanel_id", "alias_name": "mp-bob"}]}]})
    for device in ("dev-carol", "dev-erin"):
        mocks.braze.sdk_create_user(ws, device)
    assert mocks.braze.sdk_change_user(ws, "dev-erin", "erin")["outcome"] == "identified"
    tenants.set_profiles({
        "alice": {"$braze_external_id": "alice", "plan": "pro"},
        "bob": {"braze_alias": "mp-bob", "plan": "pro"},
        "$device:dev-carol": {"braze_device_id": "dev-carol", "plan": "pro"},
        "$device:dev-erin": {"braze_device_id": "dev-erin", "plan": "pro"},
        "zoe": {"$braze_external_id": "zoe", "plan": "pro"},
        "nora": {"braze_device_id": "dev-nora", "plan": "pro"},  # identified in Mixpanel: no device id
    })
    cohort = tenants.cohort(PRO)
    export = tenants.export(cohort, mode="one_time")
    sync = tenants.last_sync(export["export_id"])
    assert (sync["skipped"], sync["skipped_distinct_ids"], sync["added"]) == (1, ["nora"], 5)
    members = mocks.braze.cohort_members(ws, str(cohort))
    assert {m["external_id"] for m in members} == {"alice", None}
    assert sorted(a["alias_name"] for m in members for a in m["aliases"]) == ["mp-bob"]
    assert sorted(d for m in members for d in m["device_ids"]) == ["dev-carol"]
    outcomes = {e["identifier"]: (e["kind"], e["outcome"]) for e in mocks.braze.match_log(ws, str(cohort))}
    assert outcomes == {"alice": ("external_id", "matched"), "mixpanel_id:mp-bob": ("alias", "matched"),
                        "dev-carol": ("device_id", "matched"), "dev-erin": ("device_id", "device_of_identified_user"),
                        "zoe": ("external_id", "unknown_user")}
    assert sorted(u.get("external_id") or "-" for u in mocks.braze.users(ws)) == ["-", "-", "alice", "erin"]


def test_an_anonymous_member_identified_on_both_sides_moves_from_device_id_to_external_id(mocks):
    """Sent by device id while anonymous; once identified in Mixpanel (ID merge) and in Braze
    (changeUser) the device id is removed (Braze ignores it) and the external id added: the user stays in."""
    tenants = new_tenants(mocks, device_id_property="braze_device_id")
    ws, pid = tenants.workspace, tenants.project_id
    mocks.braze.sdk_create_user(ws, "dev-hank")
    tenants.set_profiles({"$device:dev-hank": {"braze_device_id": "dev-hank", "plan": "pro"}})
    cohort = tenants.cohort(PRO)
    export = tenants.export(cohort)
    assert [m["device_ids"] for m in mocks.braze.cohort_members(ws, str(cohort))] == [["dev-hank"]]
    merge = {"event": "Sign up", "properties": {"distinct_id": "hank", "$user_id": "hank", "$device_id": "dev-hank",
                                                "time": int(mocks.clock.now().timestamp()), "$insert_id": "signup-hank"}}
    mocks.mixpanel.control("POST", f"/projects/{pid}/events", json={"events": [merge]})
    tenants.set_profiles({"hank": {"$braze_external_id": "hank"}})
    mocks.braze.sdk_change_user(ws, "dev-hank", "hank")
    mocks.advance("15m")
    ops = {(o["distinct_id"], o["identifier"], o["operation"]) for o in tenants.last_sync(export["export_id"])["operations"]}
    assert ops == {("hank", "hank", "add"), ("$device:dev-hank", "dev-hank", "remove")}
    outcomes = [(e["operation"], e["kind"], e["outcome"]) for e in mocks.braze.match_log(ws, str(cohort))][-2:]
    assert sorted(outcomes) == [("add", "external_id", "matched"), ("remove", "device_id", "device_of_identified_user")]
    assert tenants.braze_members(cohort) == {"hank"}


def test_data_points_one_per_matched_identifier_in_each_change(tenants):
    """HOUSE-4: adds and removes of matched users cost one each; unknown ids and empty syncs nothing."""
    tenants.users("alice", "bob", "carol", plan="pro")
    tenants.set_profiles({"carol": {"plan": "free"}, "zoe": {"$braze_external_id": "zoe", "plan": "pro"}})
    cohort = tenants.cohort(PRO)
    tenants.export(cohort)
    assert tenants.data_points() == 2
    tenants.set_profiles({"bob": {"plan": "free"}, "carol": {"plan": "pro"}})
    tenants.mocks.advance("15m")
    assert tenants.data_points() == 4
    tenants.mocks.advance("45m")
    assert tenants.data_points() == 4
    assert tenants.braze.data_points(tenants.workspace)["total"] >= 4


def test_a_2500_member_cohort_arrives_in_3_requests_of_at_most_1000(tenants):
    names = [f"bulk-{i:04}" for i in range(2500)]
    tenants.users(*names, plan="bulk")
    cohort = tenants.cohort({"property": "plan", "equals": "bulk"}, "Bulk")
    tenants.braze.clear_journal()
    export = tenants.export(cohort, mode="one_time")
    assert export["status"] == "finished" and export["last_sync"]["requests"] == 4
    calls = [e for e in tenants.partner_calls() if e["status"] == 201]
    sizes = [sum(len(c.get("user_ids", [])) for c in e["request"]["cohort_changes"]) for e in calls]
    assert sizes == [1000, 1000, 500]
    sent = [x for e in calls for c in e["request"]["cohort_changes"] for x in c["user_ids"]]
    assert sorted(sent) == names
    assert tenants.braze_members(cohort) == set(names)


def test_a_rename_reaches_braze_before_the_next_change(tenants):
    tenants.users("alice", "dave", plan="free")
    tenants.set_profiles({"alice": {"plan": "pro"}})
    cohort = tenants.cohort(PRO, "Pro users")
    tenants.export(cohort)
    tenants.mixpanel.update_cohort(tenants.project_id, cohort, name="Premium users")
    tenants.set_profiles({"dave": {"plan": "pro"}})
    tenants.braze.clear_journal()
    tenants.mocks.advance("15m")
    paths = [e["path"] for e in tenants.braze.journal(path="/partners/*")]
    assert paths == [NAME_PATH, USERS_PATH]
    named = {c["cohort_id"]: c["name"] for c in tenants.braze.cohorts(tenants.workspace)}
    assert named[str(cohort)] == "Premium users"
    assert tenants.braze_members(cohort) == {"alice", "dave"}


def test_one_time_exports_never_update_and_a_new_one_brings_braze_to_that_moment(tenants):
    """HOUSE-11: the second one-time export sends adds and the removes of who has left."""
    tenants.users("alice", "bob", "dave", plan="free")
    tenants.set_profiles({"alice": {"plan": "pro"}, "bob": {"plan": "pro"}})
    cohort = tenants.cohort(PRO)
    first = tenants.export(cohort, mode="one_time")
    tenants.set_profiles({"bob": {"plan": "free"}, "dave": {"plan": "pro"}})
    assert tenants.mocks.advance("2h") == []
    assert tenants.export_state(first["export_id"])["status"] == "finished"
    assert tenants.braze_members(cohort) == {"alice", "bob"}
    second = tenants.export(cohort, mode="one_time")
    assert (second["last_sync"]["added"], second["last_sync"]["removed"]) == (2, 1)
    assert tenants.braze_members(cohort) == tenants.expected_members(cohort) == {"alice", "dave"}
