"""Email and phone as user identifiers on ``/users/export/ids`` (the reference's corrections)."""
import pytest

FIELDS = ["external_id", "email", "phone"]


@pytest.fixture()
def contacts(braze):
    reply = braze.rest("/users/track", {"attributes": [
        {"external_id": "ann", "email": "ann@example.com", "phone": "+4712345678"},
        {"external_id": "ann-work", "email": "ann@example.com"},
        {"external_id": "bob", "email": "Bob@example.com"}]})
    assert reply.status_code == 201
    return braze


def test_export_by_email_address_answers_every_profile_holding_it(contacts):
    reply = contacts.rest("/users/export/ids", {"email_address": "ann@example.com", "fields_to_export": FIELDS})
    assert (reply.status_code, reply.json()) == (201, {"message": "success", "users": [
        {"external_id": "ann", "email": "ann@example.com", "phone": "+4712345678"},
        {"external_id": "ann-work", "email": "ann@example.com"}]})


def test_export_by_phone_and_exact_comparison(contacts):
    by_phone = contacts.rest("/users/export/ids", {"phone": "+4712345678", "fields_to_export": ["external_id"]})
    assert by_phone.json() == {"message": "success", "users": [{"external_id": "ann"}]}
    folded = contacts.rest("/users/export/ids", {"email_address": "bob@example.com", "fields_to_export": FIELDS})
    assert (folded.status_code, folded.json()) == (201, {"message": "success", "users": []})


@pytest.mark.parametrize("body, message", [({"email_address": 3}, "'email_address' must be a string"),
                                           ({"phone": ["+47"]}, "'phone' must be a string")])
def test_a_contact_identifier_must_be_a_string(contacts, body, message):
    reply = contacts.rest("/users/export/ids", body)
    assert (reply.status_code, reply.json()["message"]) == (400, message)


# -- /users/delete by email and phone: one identifier kind per request --------------------------------
def external_ids(braze):
    return [u["external_id"] for u in braze.ws_get("/users")["users"]]


def test_delete_by_email_addresses_deletes_every_profile_holding_one(contacts):
    reply = contacts.rest("/users/delete", {"email_addresses": ["ann@example.com", "nobody@example.com"]})
    assert (reply.status_code, reply.json()) == (201, {"deleted": 2, "message": "success"})
    assert external_ids(contacts) == ["bob"]


def test_delete_by_phone_numbers_compares_exactly(contacts):
    reply = contacts.rest("/users/delete", {"phone_numbers": ["4712345678", "+4712345678"]})
    assert (reply.status_code, reply.json()) == (201, {"deleted": 2, "message": "success"})
    assert external_ids(contacts) == ["ann-work", "bob"]


@pytest.mark.parametrize("body", [{"external_ids": ["bob"], "email_addresses": ["ann@example.com"]},
                                  {"phone_numbers": [], "braze_ids": []}])
def test_delete_takes_one_identifier_kind_per_request_and_deletes_nothing_otherwise(contacts, body):
    reply = contacts.rest("/users/delete", body)
    assert (reply.status_code, reply.json()) == (400, {"message": (
        "Only one of 'external_ids', 'user_aliases', 'braze_ids', 'email_addresses' or 'phone_numbers' may be "
        "provided per request")})
    assert external_ids(contacts) == ["ann", "ann-work", "bob"]


# -- /users/track naming its user by email or phone -------------------------------------------------------
def profiles(braze):
    return [(u["external_id"], u["attributes"]) for u in braze.ws_get("/users")["users"]]


def test_track_by_email_updates_the_profile_holding_it_and_charges_only_the_attributes(contacts):
    reply = contacts.rest("/users/track", {
        "attributes": [{"email": "Bob@example.com", "plan": "pro"}],
        "events": [{"phone": "+4712345678", "name": "Login", "time": "2026-01-01T00:00:00Z"}]})
    assert (reply.status_code, reply.json()) == (201, {"message": "success", "attributes_processed": 1,
                                                       "events_processed": 1})
    assert profiles(contacts)[2] == ("bob", {"email": "Bob@example.com", "plan": "pro"})
    ann = contacts.rest("/users/export/ids", {"external_ids": ["ann"], "fields_to_export": ["custom_events"]})
    assert ann.json()["users"] == [{"custom_events": [{"name": "Login", "first": "2026-01-01T00:00:00Z",
                                                       "last": "2026-01-01T00:00:00Z", "count": 1}]}]
    # the fixture's 4 attributes, then 'plan' and the event: the identifying email/phone is no data point
    assert contacts.data_points()["by_source"]["users.track"] == 4 + 2


def test_track_by_an_email_several_profiles_hold_updates_the_newest(contacts):
    contacts.rest("/users/track", {"attributes": [{"email": "ann@example.com", "vip": True}]})
    assert [a.get("vip") for _, a in profiles(contacts)] == [None, True, None]


def test_track_by_an_unknown_email_creates_an_email_only_profile_unless_update_existing_only(contacts):
    reply = contacts.rest("/users/track", {"attributes": [
        {"email": "new@example.com", "plan": "free"},
        {"phone": "+15550001", "_update_existing_only": True, "plan": "x"}]})
    assert (reply.status_code, reply.json()) == (201, {"message": "success", "attributes_processed": 1, "errors": [
        {"type": "no user with phone '+15550001' and '_update_existing_only' is true",
         "input_array": "attributes", "index": 1}]})
    (new,) = [u for u in contacts.ws_get("/users")["users"] if u["external_id"] is None]
    assert (new["kind"], new["attributes"]) == ("anonymous", {"email": "new@example.com", "plan": "free"})
    found = contacts.rest("/users/export/ids", {"email_address": "new@example.com", "fields_to_export": ["email"]})
    assert found.json()["users"] == [{"email": "new@example.com"}]


def test_with_an_external_id_the_email_is_an_attribute_not_an_identifier(contacts):
    contacts.rest("/users/track", {"attributes": [{"external_id": "bob", "email": "ann@example.com"}]})
    assert [a["email"] for _, a in profiles(contacts)] == ["ann@example.com"] * 3


@pytest.mark.parametrize("obj, message", [
    ({"plan": "x"}, "'external_id', 'braze_id', 'user_alias', 'email' or 'phone' is required"),
    ({"email": "", "plan": "x"}, "'email' must be a non-empty string"),
    ({"phone": 4712345678, "plan": "x"}, "'phone' must be a non-empty string"),
])
def test_track_contact_identifier_problems_are_non_fatal(contacts, obj, message):
    reply = contacts.rest("/users/track", {"attributes": [obj]})
    assert (reply.status_code, reply.json()) == (201, {"message": "success", "attributes_processed": 0, "errors": [
        {"type": message, "input_array": "attributes", "index": 0}]})
    assert len(profiles(contacts)) == 3
