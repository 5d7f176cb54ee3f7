"""The partner cohort endpoints over real HTTP: exact errors in HOUSE-2's order, matching (SEED-6),
HOUSE-3 naming, the 1,000-identifier limit, key invalidation, locks and data points."""
import pytest

CHANGES_MESSAGE = ("`cohort_changes` must be an array of objects each with key `user_ids` and/or `device_ids` "
                   "mapping to an array of strings, or an `aliases` object")
COHORT_ID_MESSAGE = "`cohort_id` must be a valid string"
NAME_MESSAGE = "`name` must be a non-empty string"
CREATED_AT_MESSAGE = "`created_at` must be a valid time as an ISO-8601 string"
SIZE_MESSAGE = "Only 1,000 `user_ids`, `device_ids`, and `aliases` are allowed per request"


def expect(reply, status, message):
    assert (reply.status_code, reply.json()) == (status, {"message": message})


def aliases(count, label="mixpanel_id"):
    return [{"alias_name": f"a{i}", "alias_label": label} for i in range(count)]


# -- success -------------------------------------------------------------------------------------------
def test_both_endpoints_answer_201_success_and_an_empty_change_list_is_accepted(braze):
    expect(braze.name_cohort("c1", "Pro users"), 201, "success")
    reply = braze.cohort_users("c1", [])
    expect(reply, 201, "success")
    assert reply.headers["x-ratelimit-limit"] == "250000" and reply.headers["x-ratelimit-remaining"].isdigit()
    assert braze.ws_get("/cohorts/mixpanel/c1")["member_count"] == 0


def test_an_empty_change_list_only_checks_credentials_and_creates_no_cohort(braze):
    """Partners send `cohort_changes: []` to test a key; that must not leave a cohort behind."""
    expect(braze.cohort_users("credential-check", []), 201, "success")
    expect(braze.cohort_users("credential-check", [{"user_ids": []}]), 201, "success")
    assert braze.ws_get("/cohorts")["cohorts"] == []


# -- errors, each text exactly, in HOUSE-2's order -------------------------------------------------------
@pytest.mark.parametrize("raw, message", [
    (b"not json", CHANGES_MESSAGE), (b"", CHANGES_MESSAGE), (b'["k", "s"]', CHANGES_MESSAGE), (b"42", CHANGES_MESSAGE),
])
def test_a_body_that_is_not_a_json_object_comes_first(braze, raw, message):
    reply = braze.http.post(f"{braze.url}/partners/mixpanel/cohorts/users", data=raw,
                            headers={"Content-Type": "application/json"})
    expect(reply, 400, message)
    reply = braze.http.post(f"{braze.url}/partners/mixpanel/cohorts", data=raw,
                            headers={"Content-Type": "application/json"})
    expect(reply, 400, NAME_MESSAGE)


@pytest.mark.parametrize("override, status, message", [
    ({"partner_api_key": "nope", "cohort_id": 7}, 401, "Invalid Partner API key"),
    ({"partner_api_key": None}, 401, "Invalid Partner API key"),
    ({"client_secret": "nope", "cohort_id": 7}, 401, "Invalid client secret"),
    ({"client_secret": 12}, 401, "Invalid client secret"),
    ({"cohort_id": 7}, 400, COHORT_ID_MESSAGE),
    ({"cohort_id": ""}, 400, COHORT_ID_MESSAGE),
    ({"cohort_id": None, "cohort_changes": "x"}, 400, COHORT_ID_MESSAGE),
    ({"cohort_changes": {}}, 400, CHANGES_MESSAGE),
    ({"cohort_changes": [{"user_ids": [1, 2]}]}, 400, CHANGES_MESSAGE),
    ({"cohort_changes": [{"should_remove": True}]}, 400, CHANGES_MESSAGE),
    ({"cohort_changes": [{"user_ids": ["a"], "should_remove": "yes"}]}, 400, CHANGES_MESSAGE),
    ({"cohort_changes": [{"aliases": [{"alias_name": "x"}]}]}, 400, CHANGES_MESSAGE),
    ({"cohort_changes": [{"aliases": {"alias_name": "x", "alias_label": "y"}}]}, 400, CHANGES_MESSAGE),
    ({"cohort_changes": ["u1"]}, 400, CHANGES_MESSAGE),
    ({"cohort_changes": [{"user_ids": ["a"] * 1001}], "cohort_id": 5}, 400, COHORT_ID_MESSAGE),
])
def test_users_endpoint_errors(braze, override, status, message):
    body = {**braze.credentials(cohort_id="c1", cohort_changes=[{"user_ids": ["u"]}]), **override}
    expect(braze.http.post(f"{braze.url}/partners/mixpanel/cohorts/users", json=body), status, message)


def test_missing_fields_of_the_users_endpoint(braze):
    body = braze.credentials(cohort_changes=[])
    expect(braze.http.post(f"{braze.url}/partners/mixpanel/cohorts/users", json=body), 400, COHORT_ID_MESSAGE)
    body = braze.credentials(cohort_id="c1")
    expect(braze.http.post(f"{braze.url}/partners/mixpanel/cohorts/users", json=body), 400, CHANGES_MESSAGE)
    body = {"client_secret": braze.import_key, "cohort_id": "c1", "cohort_changes": []}
    expect(braze.http.post(f"{braze.url}/partners/mixpanel/cohorts/users", json=body), 401, "Invalid Partner API key")


@pytest.mark.parametrize("override, status, message", [
    ({"partner_api_key": "nope", "name": ""}, 401, "Invalid Partner API key"),
    ({"client_secret": "nope", "name": ""}, 401, "Invalid client secret"),
    ({"cohort_id": ["c1"]}, 400, COHORT_ID_MESSAGE),
    ({"name": ""}, 400, NAME_MESSAGE),
    ({"name": 5, "created_at": "yesterday"}, 400, NAME_MESSAGE),
    ({"created_at": "yesterday"}, 400, CREATED_AT_MESSAGE),
    ({"created_at": 1700000000}, 400, CREATED_AT_MESSAGE),
    ({"created_at": ""}, 400, CREATED_AT_MESSAGE),
])
def test_name_endpoint_errors(braze, override, status, message):
    body = {**braze.credentials(cohort_id="c1", name="Pro users", created_at="2026-01-01T00:00:00Z"), **override}
    expect(braze.http.post(f"{braze.url}/partners/mixpanel/cohorts", json=body), status, message)


@pytest.mark.parametrize("created_at", ["2021-01-21T19:20:30+05:00", "2021-01-21T19:20:30Z", "2021-01-21T19:20:30.123Z",
                                        "2021-01-21"])
def test_iso_8601_forms_are_accepted(braze, created_at):
    expect(braze.name_cohort("c1", "Pro users", created_at=created_at), 201, "success")
    assert braze.ws_get("/cohorts/mixpanel/c1")["created_at"] == created_at


def test_an_unknown_partner_path_is_unauthorized_access(braze):
    expect(braze.cohort_users("c1", [], partner="nobody"), 401, "Unauthorized access")


def test_a_key_of_another_partner_is_not_enabled_for_this_partner(braze):
    amplitude = braze.control("POST", "/partners", json={"name": "amplitude"}).json()
    other_key = braze.ws_post("/data_import_keys", {"partner": "amplitude"})["key"]
    reply = braze.cohort_users("c1", [], client_secret=other_key)
    expect(reply, 401, f"Partner not enabled for client with client secret: {other_key}")
    reply = braze.cohort_users("c1", [], partner="amplitude", partner_api_key=amplitude["partner_api_key"])
    expect(reply, 401, f"Partner not enabled for client with client secret: {braze.import_key}")
    reply = braze.cohort_users("c1", [], partner="amplitude", partner_api_key=amplitude["partner_api_key"],
                               client_secret=other_key)
    expect(reply, 201, "success")


def test_mixpanel_partner_key_is_rejected_on_another_partners_path(braze):
    braze.control("POST", "/partners", json={"name": "segment"})
    expect(braze.cohort_users("c1", [], partner="segment"), 401, "Invalid Partner API key")


# -- the 1,000-identifier limit, over all change objects -------------------------------------------------
@pytest.mark.parametrize("user_ids, device_ids, alias_count, status", [
    (1000, 0, 0, 201), (1001, 0, 0, 400), (400, 400, 200, 201), (400, 400, 201, 400), (0, 0, 1001, 400),
])
def test_identifier_limit_counts_user_ids_device_ids_and_aliases_together(braze, user_ids, device_ids, alias_count,
                                                                           status):
    changes = [{"user_ids": [f"u{i}" for i in range(user_ids)]},
               {"device_ids": [f"d{i}" for i in range(device_ids)], "should_remove": True},
               {"aliases": aliases(alias_count)}]
    expect(braze.cohort_users("c1", changes), status, "success" if status == 201 else SIZE_MESSAGE)


def test_limit_spreads_over_many_change_objects(braze):
    changes = [{"user_ids": [f"u{i}"]} for i in range(1001)]
    expect(braze.cohort_users("c1", changes), 400, SIZE_MESSAGE)
    expect(braze.cohort_users("c1", changes[:1000]), 201, "success")


# -- keys (SEED-2) ---------------------------------------------------------------------------------------
def test_an_invalidated_key_gets_invalid_client_secret_and_another_key_still_works(braze):
    second = braze.ws_post("/data_import_keys", {"partner": "mixpanel"})["key"]
    reply = braze.control("DELETE", f"/workspaces/{braze.ws}/data_import_keys/{braze.import_key}")
    assert reply.status_code == 200 and reply.json()["status"] == "invalidated"
    expect(braze.cohort_users("c1", []), 401, "Invalid client secret")
    expect(braze.name_cohort("c1", "N"), 401, "Invalid client secret")
    expect(braze.cohort_users("c1", [], client_secret=second), 201, "success")


# -- matching (SEED-6) -------------------------------------------------------------------------------------
def test_external_id_and_alias_match_identified_and_alias_only_users(braze):
    braze.seed({"external_id": "alice"}, {"aliases": [{"alias_name": "mp-bob", "alias_label": "mixpanel_id"}]})
    braze.add("c1", user_ids=["alice", "ghost"], aliases=[{"alias_name": "mp-bob", "alias_label": "mixpanel_id"}])
    assert braze.outcomes("c1") == [("alice", "external_id", "matched"), ("ghost", "external_id", "unknown_user"),
                                    ("mixpanel_id:mp-bob", "alias", "matched")]
    members = braze.ws_get("/cohorts/mixpanel/c1/members")["members"]
    assert sorted((m["kind"], m["external_id"] or "") for m in members) == [("alias_only", ""), ("identified", "alice")]


def test_device_id_matches_an_anonymous_user(braze):
    braze_id = braze.sdk_user("dev-carol")
    braze.add("c1", device_ids=["dev-carol"])
    assert braze.members("c1") == [braze_id]
    assert braze.outcomes("c1") == [("dev-carol", "device_id", "matched")]


def test_device_of_a_user_identified_with_a_new_external_id_matches_nobody(braze):
    braze_id = braze.sdk_user("dev-erin")
    assert braze.change_user("dev-erin", "erin")["outcome"] == "identified"
    braze.add("c1", device_ids=["dev-erin"])
    assert braze.members("c1") == []
    entry = braze.ws_get("/cohorts/mixpanel/c1/match_log")["entries"][0]
    assert (entry["outcome"], entry["braze_id"]) == ("device_of_identified_user", braze_id)
    users = braze.ws_get("/users")["users"]
    assert [(u["external_id"], u["device_ids"], u["was_anonymous"]) for u in users] == [("erin", ["dev-erin"], True)]


def test_device_of_a_user_merged_into_an_existing_user_matches_nobody(braze):
    (frank,) = braze.seed({"external_id": "frank"})
    braze.sdk_user("dev-frank", city="Oslo")
    reply = braze.change_user("dev-frank", "frank")
    assert (reply["outcome"], reply["braze_id"]) == ("merged", frank)
    braze.add("c1", device_ids=["dev-frank"], user_ids=[])
    assert braze.members("c1") == []
    assert braze.outcomes("c1") == [("dev-frank", "device_id", "device_of_identified_user")]
    assert [u["braze_id"] for u in braze.ws_get("/users")["users"]] == [frank]
    braze.add("c1", user_ids=["frank"])
    assert braze.members("c1") == ["frank"]


def test_alias_only_user_identified_through_the_rest_api_both_cases(braze):
    braze.rest("/users/alias/new", {"user_aliases": [{"alias_name": "g", "alias_label": "crm"},
                                                     {"alias_name": "h", "alias_label": "crm"}]})
    braze.seed({"external_id": "hank"})
    reply = braze.rest("/users/identify", {"aliases_to_identify": [
        {"external_id": "gina", "user_alias": {"alias_name": "g", "alias_label": "crm"}},
        {"external_id": "hank", "user_alias": {"alias_name": "h", "alias_label": "crm"}}]})
    assert (reply.status_code, reply.json()) == (201, {"aliases_processed": 2, "message": "success"})
    users = {u["external_id"]: u for u in braze.ws_get("/users")["users"]}
    assert sorted(users) == ["gina", "hank"]
    assert users["hank"]["aliases"] == [{"alias_name": "h", "alias_label": "crm"}]
    braze.add("c1", user_ids=["gina"], aliases=[{"alias_name": "h", "alias_label": "crm"}])
    assert braze.members("c1") == ["gina", "hank"]


@pytest.mark.parametrize("existing, outcome_user", [(False, "same profile"), (True, "existing profile")])
def test_anonymous_device_user_identified_through_rest_identify_is_no_longer_matched_by_device(braze, existing,
                                                                                             outcome_user):
    (anonymous,) = braze.seed({"aliases": [{"alias_name": "ivy", "alias_label": "crm"}], "device_ids": ["dev-ivy"]})
    targets = braze.seed({"external_id": "ivy"}) if existing else [anonymous]
    braze.sdk_user("dev-other")
    reply = braze.rest("/users/identify", {"aliases_to_identify": [
        {"external_id": "ivy", "user_alias": {"alias_name": "ivy", "alias_label": "crm"}}]})
    assert reply.json() == {"aliases_processed": 1, "message": "success"}
    braze.add("c1", device_ids=["dev-ivy", "dev-other"])
    entries = braze.ws_get("/cohorts/mixpanel/c1/match_log")["entries"]
    assert [(e["identifier"], e["outcome"]) for e in entries] == [("dev-ivy", "device_of_identified_user"),
                                                                   ("dev-other", "matched")]
    assert entries[0]["braze_id"] == targets[0], outcome_user
    assert [u["external_id"] for u in braze.ws_get("/users")["users"]].count("ivy") == 1


def test_never_creates_users(braze):
    braze.add("c1", user_ids=["u1"], device_ids=["d1"], aliases=aliases(2))
    assert braze.ws_get("/users")["users"] == []
    assert braze.members("c1") == []


# -- cohort naming, membership, removes (HOUSE-3, rename) ---------------------------------------------------
def test_users_call_for_an_unnamed_cohort_names_it_after_its_id_then_rename_keeps_members(braze):
    braze.seed({"external_id": "alice"})
    braze.add("c-77", user_ids=["alice"])
    (cohort,) = braze.ws_get("/cohorts")["cohorts"]
    assert (cohort["cohort_id"], cohort["name"], cohort["member_count"], cohort["named"]) == ("c-77", "c-77", 1, False)
    expect(braze.name_cohort("c-77", "Seventy-seven"), 201, "success")
    expect(braze.name_cohort("c-77", "Renamed"), 201, "success")
    (cohort,) = braze.ws_get("/cohorts")["cohorts"]
    assert (cohort["name"], cohort["member_count"], cohort["named"]) == ("Renamed", 1, True)


def test_removes_and_repeated_adds(braze):
    braze.seed({"external_id": "alice"}, {"external_id": "bob"})
    braze.add("c9", user_ids=["alice", "bob"])
    braze.add("c9", user_ids=["alice"])
    braze.remove("c9", user_ids=["bob"])
    braze.remove("c9", user_ids=["bob"])
    assert braze.members("c9") == ["alice"]
    operations = [e["operation"] for e in braze.ws_get("/cohorts/mixpanel/c9/match_log")["entries"]]
    assert operations == ["add", "add", "add", "remove", "remove"]


# -- data points (HOUSE-4) ---------------------------------------------------------------------------------
def test_each_matched_identifier_costs_one_data_point_unmatched_cost_nothing(braze):
    braze.seed({"external_id": "alice"}, {"external_id": "bob"})
    braze.sdk_user("dev-x")
    braze.change_user("dev-x", "xavier")
    braze.add("c1", user_ids=["alice", "bob", "ghost"], device_ids=["dev-x"])
    braze.add("c1", user_ids=["alice"])
    braze.remove("c1", user_ids=["bob", "ghost"])
    assert braze.data_points() == {"total": 4, "by_source": {"cohort_import:mixpanel": 4}}


# -- 423 Resource locked --------------------------------------------------------------------------------------
def test_a_locked_cohort_answers_423_until_unlocked(braze):
    braze.seed({"external_id": "alice"})
    lock_path = f"/workspaces/{braze.ws}/cohorts/mixpanel/c1/lock"
    assert braze.control("PUT", lock_path).json()["locked"] is True
    expect(braze.cohort_users("c1", [{"user_ids": ["alice"]}]), 423, "Resource locked")
    expect(braze.name_cohort("c1", "N"), 423, "Resource locked")
    expect(braze.cohort_users("c2", []), 201, "success")
    expect(braze.cohort_users("c1", [{"user_ids": [1]}]), 400, CHANGES_MESSAGE)  # fields come before the lock
    assert braze.data_points()["total"] == 0
    assert braze.control("DELETE", lock_path).json()["locked"] is False
    braze.add("c1", user_ids=["alice"])
    assert braze.members("c1") == ["alice"]


# -- alias objects inside user_ids (the partner page's field table; reference, corrections) ---------------
def test_user_ids_may_hold_alias_objects_beside_external_ids(braze):
    braze.seed({"external_id": "ext"}, {"aliases": [{"alias_name": "m1", "alias_label": "mixpanel_id"}]})
    reply = braze.cohort_users("c1", [{"user_ids": ["ext", {"alias_name": "m1", "alias_label": "mixpanel_id"},
                                                    {"alias_name": "m9", "alias_label": "mixpanel_id"}]}])
    expect(reply, 201, "success")
    assert len(braze.members("c1")) == 2
    assert sorted(braze.outcomes("c1")) == [("ext", "external_id", "matched"), ("mixpanel_id:m1", "alias", "matched"),
                                            ("mixpanel_id:m9", "alias", "unknown_user")]
    braze.remove("c1", user_ids=[{"alias_name": "m1", "alias_label": "mixpanel_id"}], aliases=[])
    assert braze.members("c1") == ["ext"]


@pytest.mark.parametrize("user_ids", [[{"alias_name": "m1"}], [["ext"]], [{"alias_name": 1, "alias_label": "x"}], [5]])
def test_user_ids_items_are_strings_or_alias_objects(braze, user_ids):
    expect(braze.cohort_users("c1", [{"user_ids": user_ids}]), 400, CHANGES_MESSAGE)


def test_alias_objects_in_user_ids_count_toward_the_1000(braze):
    expect(braze.cohort_users("c1", [{"user_ids": ["x"] * 500 + aliases(500)}]), 201, "success")
    expect(braze.cohort_users("c1", [{"user_ids": ["x"] * 500 + aliases(501)}]), 400, SIZE_MESSAGE)
