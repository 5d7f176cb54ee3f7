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
