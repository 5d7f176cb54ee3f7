"""/users/identify by alias, email and phone (with prioritization), and the rule that identify does not
combine profiles sharing an alias label (reference braze.md, corrections), over real HTTP."""
import pytest

ALIAS = {"alias_name": "a1", "alias_label": "crm"}
ONE_OF = "One of 'aliases_to_identify', 'emails_to_identify' or 'phone_numbers_to_identify' must be provided"


def expect(reply, status, body):
    assert (reply.status_code, reply.json()) == (status, body)


def users(braze):
    return {u["braze_id"]: u for u in braze.ws_get("/users")["users"]}


@pytest.fixture()
def contacts(braze):
    """ann (identified), an email-only profile and a phone-only profile."""
    braze.seed({"external_id": "ann", "attributes": {"email": "shared@example.com"}},
               {"attributes": {"email": "shared@example.com", "plan": "trial"}},
               {"attributes": {"email": "solo@example.com", "plan": "free"}},
               {"attributes": {"phone": "+4712345678", "plan": "sms"}})
    return braze


def test_emails_to_identify_gives_an_email_only_profile_the_external_id(contacts):
    reply = contacts.rest("/users/identify", {"emails_to_identify": [
        {"external_id": "sol", "email": "solo@example.com", "prioritization": ["most_recently_updated"]}]})
    expect(reply, 201, {"aliases_processed": 1, "message": "success"})
    (sol,) = [u for u in users(contacts).values() if u["external_id"] == "sol"]
    assert (sol["kind"], sol["attributes"]) == ("identified", {"email": "solo@example.com", "plan": "free"})


def test_phone_numbers_to_identify_merges_into_an_existing_external_id(contacts):
    reply = contacts.rest("/users/identify", {"phone_numbers_to_identify": [
        {"external_id": "ann", "phone": "+4712345678", "prioritization": ["unidentified", "most_recently_updated"]}]})
    expect(reply, 201, {"aliases_processed": 1, "message": "success"})
    by_external = {u["external_id"]: u for u in users(contacts).values()}
    assert by_external["ann"]["attributes"] == {"email": "shared@example.com", "phone": "+4712345678", "plan": "sms"}
    assert len(users(contacts)) == 3  # ann and the two email-only profiles: the phone-only one is gone


def test_prioritization_picks_among_the_profiles_holding_the_email(contacts):
    before = users(contacts)
    reply = contacts.rest("/users/identify", {"emails_to_identify": [
        {"external_id": "trial", "email": "shared@example.com", "prioritization": ["unidentified"]}]})
    expect(reply, 201, {"aliases_processed": 1, "message": "success"})
    trial = [u for u in users(contacts).values() if u["external_id"] == "trial"]
    assert len(trial) == 1 and trial[0]["attributes"]["plan"] == "trial" and len(users(contacts)) == len(before)


def test_identified_first_then_an_ambiguous_match_is_not_merged(contacts):
    contacts.rest("/users/track", {"attributes": [{"external_id": "ann-2", "email": "shared@example.com"}]})
    before = users(contacts)
    reply = contacts.rest("/users/identify", {"emails_to_identify": [
        {"external_id": "ann", "email": "shared@example.com", "prioritization": ["identified"]}]})
    expect(reply, 201, {"aliases_processed": 0, "message": "success", "errors": [
        {"type": "more than one user with email 'shared@example.com' matches the prioritization; not merged",
         "input_array": "emails_to_identify", "index": 0}]})
    assert users(contacts) == before


def test_an_email_nobody_holds_is_a_non_fatal_error(contacts):
    reply = contacts.rest("/users/identify", {
        "emails_to_identify": [{"external_id": "x", "email": "nobody@example.com", "prioritization": ["identified"]}],
        "phone_numbers_to_identify": [{"external_id": "y", "phone": "+1", "prioritization": ["unidentified"]}]})
    expect(reply, 201, {"aliases_processed": 0, "message": "success", "errors": [
        {"type": "no user with email 'nobody@example.com'", "input_array": "emails_to_identify", "index": 0},
        {"type": "no user with phone '+1'", "input_array": "phone_numbers_to_identify", "index": 0}]})


@pytest.mark.parametrize("body, message", [
    ({}, ONE_OF),
    ({"aliases_to_identify": []}, ONE_OF),
    ({"emails_to_identify": [{"external_id": "x", "email": "e@x"}]},
     "'emails_to_identify' must be an array of objects with 'external_id' and 'email' strings and a "
     "'prioritization' array of 'identified', 'unidentified', 'most_recently_updated' or 'least_recently_updated'"),
    ({"phone_numbers_to_identify": [{"external_id": "x", "phone": "+1", "prioritization": ["newest"]}]},
     "'phone_numbers_to_identify' must be an array of objects with 'external_id' and 'phone' strings and a "
     "'prioritization' array of 'identified', 'unidentified', 'most_recently_updated' or 'least_recently_updated'"),
    ({"emails_to_identify": [{"external_id": "x", "email": "e@x", "prioritization": ["identified", "unidentified"]}]},
     "'prioritization' may hold only one of 'identified' and 'unidentified'"),
    ({"aliases_to_identify": [{"external_id": "x", "user_alias": ALIAS}] * 30,
      "emails_to_identify": [{"external_id": "x", "email": "e@x", "prioritization": ["identified"]}] * 21},
     "The max number of external_ids and aliases per request was exceeded"),
])
def test_identify_fatal_errors_change_nothing(contacts, body, message):
    before = users(contacts)
    expect(contacts.rest("/users/identify", body), 400, {"message": message})
    assert users(contacts) == before


# -- identify does not combine profiles sharing an alias label ------------------------------------------
def test_identify_does_not_combine_when_the_identified_user_holds_an_alias_with_the_same_label(braze):
    braze.seed({"external_id": "kim", "aliases": [{"alias_name": "k", "alias_label": "crm"}], "attributes": {"a": 1}},
               {"aliases": [ALIAS], "attributes": {"b": 2}})
    before = users(braze)
    reply = braze.rest("/users/identify", {"aliases_to_identify": [{"external_id": "kim", "user_alias": ALIAS}]})
    expect(reply, 201, {"aliases_processed": 0, "message": "success", "errors": [
        {"type": "the user with external_id 'kim' already holds an alias with label 'crm'; the profiles are not "
                 "combined", "input_array": "aliases_to_identify", "index": 0}]})
    assert users(braze) == before


def test_identify_still_merges_when_the_labels_differ(braze):
    braze.seed({"external_id": "kim", "aliases": [{"alias_name": "k", "alias_label": "shop"}]},
               {"aliases": [ALIAS], "attributes": {"b": 2}})
    reply = braze.rest("/users/identify", {"aliases_to_identify": [{"external_id": "kim", "user_alias": ALIAS}]})
    expect(reply, 201, {"aliases_processed": 1, "message": "success"})
    (kim,) = users(braze).values()
    assert (kim["external_id"], kim["attributes"]) == ("kim", {"b": 2})
    assert sorted(a["alias_label"] for a in kim["aliases"]) == ["crm", "shop"]


def test_change_user_and_merge_still_combine_and_keep_the_targets_alias(braze):
    braze.seed({"external_id": "kim", "aliases": [{"alias_name": "k", "alias_label": "crm"}]},
               {"external_id": "lee", "aliases": [{"alias_name": "k2", "alias_label": "crm"}]})
    braze.seed({"device_ids": ["dev-1"], "aliases": [ALIAS], "attributes": {"b": 2}})
    assert braze.change_user("dev-1", "kim")["outcome"] == "merged"
    merged = braze.rest("/users/merge", {"merge_updates": [{"identifier_to_merge": {"external_id": "lee"},
                                                            "identifier_to_keep": {"external_id": "kim"}}]})
    assert merged.status_code == 202
    remaining = [u for u in users(braze).values() if u["external_id"] is not None]
    assert [(u["external_id"], u["aliases"]) for u in remaining] == [("kim", [{"alias_name": "k", "alias_label": "crm"}])]
