"""/users/merge with external_id, user_alias, email and phone identifiers, mixed (reference braze.md,
corrections; texts from Braze's merge page), over real HTTP."""
import pytest

ALIAS = {"alias_name": "a1", "alias_label": "crm"}
IDENTIFIERS = ("identifiers must be objects with an 'external_id' property that is a string, 'user_alias' property "
               "that is an object, 'email' property that is a string, or 'phone' property that is a string")


def merge(braze, *pairs):
    return braze.rest("/users/merge", {"merge_updates": [{"identifier_to_merge": m, "identifier_to_keep": k}
                                                         for m, k in pairs]})


def profiles(braze):
    return sorted((u["external_id"] or "-", u["attributes"].get("plan")) for u in braze.ws_get("/users")["users"])


@pytest.fixture()
def people(braze):
    braze.seed({"external_id": "john", "attributes": {"email": "john@example.com"}},
               {"attributes": {"email": "john@example.com", "plan": "trial"}},
               {"aliases": [ALIAS], "attributes": {"plan": "alias"}},
               {"attributes": {"phone": "+4712345678", "plan": "sms"}})
    return braze


def test_an_unidentified_email_profile_merges_into_an_external_id(people):
    reply = merge(people, ({"email": "john@example.com", "prioritization": ["unidentified", "most_recently_updated"]},
                           {"external_id": "john"}))
    assert (reply.status_code, reply.json()) == (202, {"message": "success"})
    assert profiles(people) == [("-", "alias"), ("-", "sms"), ("john", "trial")]


def test_identifiers_of_different_kinds_mix(people):
    reply = merge(people, ({"user_alias": ALIAS}, {"phone": "+4712345678", "prioritization": ["unidentified"]}),
                  ({"phone": "+4712345678", "prioritization": ["most_recently_updated"]},
                   {"email": "john@example.com", "prioritization": ["identified", "most_recently_updated"]}))
    assert (reply.status_code, reply.json()) == (202, {"message": "success"})
    # the alias profile folded into the phone one (which kept its plan), that one into john
    assert profiles(people) == [("-", "trial"), ("john", "sms")]


def test_an_ambiguous_or_unmatched_identifier_merges_nothing(people):
    people.seed({"attributes": {"email": "john@example.com", "plan": "second"}})
    before = profiles(people)
    reply = merge(people, ({"email": "john@example.com", "prioritization": ["unidentified"]}, {"external_id": "john"}),
                  ({"phone": "+4712345678", "prioritization": ["identified"]}, {"external_id": "john"}),
                  ({"email": "nobody@example.com", "prioritization": ["unidentified"]}, {"external_id": "john"}))
    assert (reply.status_code, reply.json()) == (202, {"message": "success"})
    assert profiles(people) == before
    merge(people, ({"email": "john@example.com", "prioritization": ["unidentified", "least_recently_updated"]},
                   {"external_id": "john"}))
    assert profiles(people) == [("-", "alias"), ("-", "second"), ("-", "sms"), ("john", "trial")]


@pytest.mark.parametrize("identifier, message", [
    ({"email": "john@example.com"}, IDENTIFIERS),
    ({"phone": 4712345678, "prioritization": ["identified"]}, IDENTIFIERS),
    ({"email": "john@example.com", "prioritization": ["newest"]}, IDENTIFIERS),
    ({"external_id": 1}, IDENTIFIERS),
    ({"email": "john@example.com", "prioritization": ["identified", "unidentified"]},
     "'prioritization' may hold only one of 'identified' and 'unidentified'"),
])
def test_bad_identifiers_refuse_the_whole_request(people, identifier, message):
    before = profiles(people)
    reply = merge(people, ({"user_alias": ALIAS}, {"external_id": "john"}), (identifier, {"external_id": "john"}))
    assert (reply.status_code, reply.json()) == (400, {"message": message})
    assert profiles(people) == before
