"""Endpoints the reference's corrections add: /users/alias/update, /segments/details, /segments/data_series,
/users/export/segment, /campaigns/details, /canvas/details, and the list filters; exact statuses and bodies."""
import pytest

ALIAS = {"alias_name": "a1", "alias_label": "crm"}


def expect(reply, status, body):
    assert (reply.status_code, reply.json()) == (status, body)


def aliases(braze):
    return sorted((u["external_id"] or "-", a["alias_label"], a["alias_name"])
                  for u in braze.ws_get("/users")["users"] for a in u["aliases"])


# -- POST /users/alias/update ------------------------------------------------------------------------------
def test_alias_update_renames_within_the_label(braze):
    braze.seed({"external_id": "kim", "aliases": [ALIAS, {"alias_name": "s1", "alias_label": "shop"}]},
               {"aliases": [{"alias_name": "taken", "alias_label": "crm"}]})
    reply = braze.rest("/users/alias/update", {"alias_updates": [
        {"alias_label": "crm", "old_alias_name": "a1", "new_alias_name": "a2"},
        {"alias_label": "shop", "old_alias_name": "nobody", "new_alias_name": "x"},
        {"alias_label": "shop", "old_alias_name": "s1", "new_alias_name": "taken"},
        {"alias_label": "crm", "old_alias_name": "a2", "new_alias_name": "taken"}]})
    expect(reply, 201, {"aliases_processed": 2, "message": "success", "errors": [
        {"type": "no user with this alias", "input_array": "alias_updates", "index": 1},
        {"type": "alias 'taken' with label 'crm' already belongs to another user", "input_array": "alias_updates",
         "index": 3}]})
    assert aliases(braze) == [("-", "crm", "taken"), ("kim", "crm", "a2"), ("kim", "shop", "taken")]
    assert reply.headers["x-ratelimit-limit"] == "20000"  # the identity endpoints' shared bucket
    found = braze.rest("/users/export/ids", {"user_aliases": [{"alias_name": "a2", "alias_label": "crm"}],
                                             "fields_to_export": ["external_id"]})
    assert found.json()["users"] == [{"external_id": "kim"}]


@pytest.mark.parametrize("body, message", [
    ({}, "'alias_updates' must be a non-empty array of objects with 'alias_label', 'old_alias_name' and "
         "'new_alias_name' strings"),
    ({"alias_updates": [{"alias_label": "crm", "old_alias_name": "a"}]},
     "'alias_updates' must be a non-empty array of objects with 'alias_label', 'old_alias_name' and "
     "'new_alias_name' strings"),
    ({"alias_updates": [{"alias_label": "crm", "old_alias_name": "a", "new_alias_name": "b"}] * 51},
     "The max number of external_ids and aliases per request was exceeded"),
    ([1], "'alias_updates' must be a non-empty array of objects with 'alias_label', 'old_alias_name' and "
          "'new_alias_name' strings"),
])
def test_alias_update_fatal_errors(braze, body, message):
    reply = braze.rest("/users/alias/update", body)
    expect(reply, 400, {"message": message})
    assert reply.headers["x-ratelimit-remaining"] == "19999"
