"""The /engage operations on the plain profile store."""
import pytest

from mocks.mixpanel.profiles import ProfileStore, ProfileUpdate, parse_update


def apply(store, operation, value, user=1):
    store.apply(user, operation, value)
    return store.get(user)


def test_set_and_set_once():
    store = ProfileStore()
    assert apply(store, "$set", {"plan": "free", "n": 1}) == {"plan": "free", "n": 1}
    assert apply(store, "$set_once", {"plan": "pro", "first": "x"}) == {"plan": "free", "n": 1, "first": "x"}
    assert apply(store, "$set", {"plan": "pro"})["plan"] == "pro"


def test_add_counts_a_missing_property_as_zero_and_leaves_non_numbers():
    store = ProfileStore()
    apply(store, "$set", {"name": "x"})
    assert apply(store, "$add", {"logins": 2, "name": 5}) == {"name": "x", "logins": 2}
    assert apply(store, "$add", {"logins": -0.5})["logins"] == 1.5


def test_list_operations():
    store = ProfileStore()
    assert apply(store, "$append", {"tags": "a"})["tags"] == ["a"]
    assert apply(store, "$union", {"tags": ["a", "b", "b"]})["tags"] == ["a", "b"]
    assert apply(store, "$append", {"tags": "a"})["tags"] == ["a", "b", "a"]
    assert apply(store, "$remove", {"tags": "a"})["tags"] == ["b"]


def test_unset_delete_and_removal_never_create_a_profile():
    store = ProfileStore()
    for operation, value in (("$unset", ["x"]), ("$remove", {"x": 1}), ("$delete", "")):
        assert apply(store, operation, value, user=9) is None
    apply(store, "$set", {"a": 1, "b": 2})
    assert apply(store, "$unset", ["a", "zzz"]) == {"b": 2}
    assert apply(store, "$delete", "") is None and len(store) == 0


@pytest.mark.parametrize("message, problem", [
    ([], "each profile update must be a JSON object"),
    ({"$set": {}}, "$distinct_id, missing or empty"),
    ({"$distinct_id": True, "$set": {}}, "$distinct_id, missing or empty"),
    ({"$distinct_id": "u"}, "each profile update needs exactly one operation of $set, $set_once, $add, $append, "
                            "$union, $remove, $unset, $delete"),
    ({"$distinct_id": "u", "$set": {}, "$add": {}}, "each profile update needs exactly one operation of $set, "
                                                    "$set_once, $add, $append, $union, $remove, $unset, $delete"),
    ({"$distinct_id": "u", "$set": [1]}, "$set must be a JSON object of property names to values"),
    ({"$distinct_id": "u", "$add": {"a": "1"}}, "$add values must be numbers"),
    ({"$distinct_id": "u", "$union": {"a": 1}}, "$union values must be JSON arrays"),
    ({"$distinct_id": "u", "$unset": "a"}, "$unset must be a JSON array of property names"),
])
def test_bad_updates_are_refused_with_a_reason(message, problem):
    assert parse_update(message) == problem


def test_a_good_update_parses():
    assert parse_update({"$token": "t", "$distinct_id": 7, "$delete": ""}) == ProfileUpdate("7", "$delete", "")
