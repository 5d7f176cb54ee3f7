"""The compiled body checks accept exactly what jsonschema accepts, and pick the vendor's messages."""
import copy
import json
import random
from importlib import resources

import pytest

from jsonschema import Draft202012Validator

from mocks.common.schema_compiler import CompiledSchema, FullSchema, SchemaNotSupported, _Compiler, body_schema


def body_check(name):
    return body_schema("mocks.braze", name)

SCHEMAS = sorted(p.name.removesuffix(".json") for p in resources.files("mocks.braze").joinpath("schemas").iterdir()
                 if p.name.endswith(".json"))
ALIAS = {"alias_name": "n", "alias_label": "l"}
VALID = {
    "partner_cohort_name": {"partner_api_key": "k", "client_secret": "s", "cohort_id": "1", "name": "N",
                            "created_at": "2026-01-01T00:00:00Z"},
    "partner_cohort_users": {"partner_api_key": "k", "client_secret": "s", "cohort_id": "1",
                             "cohort_changes": [{"user_ids": ["a", ALIAS], "device_ids": ["d"], "aliases": [ALIAS],
                                                 "should_remove": True}]},
    "users_track": {"attributes": [{"external_id": "a", "x": 1}], "events": [{"name": "e"}], "purchases": [{}]},
    "users_identify": {"aliases_to_identify": [{"external_id": "a", "user_alias": ALIAS}],
                       "emails_to_identify": [{"external_id": "b", "email": "e", "prioritization": ["identified"]}]},
    "users_alias_new": {"user_aliases": [{"external_id": "a", **ALIAS}]},
    "users_export_ids": {"external_ids": ["a"], "user_aliases": [ALIAS], "device_id": "d", "braze_id": "b",
                         "fields_to_export": ["braze_id"]},
    "users_delete": {"external_ids": ["a"], "user_aliases": [ALIAS], "braze_ids": ["b"]},
    "users_merge": {"merge_updates": [{"identifier_to_merge": {"external_id": "a"},
                                       "identifier_to_keep": {"user_alias": ALIAS}},
                                      {"identifier_to_merge": {"phone": "p", "prioritization": ["unidentified"]},
                                       "identifier_to_keep": {"email": "e", "prioritization": ["identified"]}}]},
    "control_partner": {"name": "amplitude", "partner_api_key": "k"},
    "control_workspace": {"name": "w"},
    "control_rest_api_key": {"permissions": ["users.track"]},
    "control_data_import_key": {"partner": "mixpanel"},
    "control_sdk_user": {"device_id": "d", "attributes": {"a": 1}},
    "control_change_user": {"device_id": "d", "external_id": "e"},
    "control_sdk_users_batch": {"users": [{"device_id": "d", "attributes": {"a": 1}}, {"device_id": "e"}]},
    "control_change_user_batch": {"changes": [{"device_id": "d", "external_id": "e"}]},
    "control_users": {"users": [{"external_id": "e", "aliases": [ALIAS], "device_ids": ["d"], "attributes": {}}]},
    "control_segment": {"name": "s", "filters": [{"type": "mixpanel_cohorts", "operator": "includes_value",
                                                  "cohort_id": "1"}]},
    "control_target": {"name": "c", "segment_id": "s", "archived": True},
    "users_alias_update": {"alias_updates": [{"alias_label": "l", "old_alias_name": "o", "new_alias_name": "n"}]},
    "users_export_segment": {"segment_id": "s", "fields_to_export": ["email"], "custom_attributes_to_export": ["a"],
                             "callback_endpoint": "https://example.com", "output_format": "zip"},
    "segments_details": {"segment_id": "s"},
    "segments_data_series": {"segment_id": "s", "length": "14", "ending_at": "2026-01-01T00:00:00Z"},
    "campaigns_details": {"campaign_id": "c"},
    "canvas_details": {"canvas_id": "c"},
    "targets_list": {"include_archived": "true", "last_edit.time[gt]": "2026-01-01T00:00:00Z"},
}
ODD_VALUES = [None, True, False, 0, 1, 1.0, 2.5, -1, "", "x", "includes_value", [], [1], ["a"], {}, {"a": 1},
              [{}], [ALIAS], ALIAS, "users.track", "2026-01-01T00:00:00Z", list(range(60))]


def paths(value, prefix=()):
    yield prefix
    if isinstance(value, dict):
        for key, item in value.items():
            yield from paths(item, prefix + (key,))
    elif isinstance(value, list):
        for index, item in enumerate(value):
            yield from paths(item, prefix + (index,))


EXTRA_KEYS = ["extra", "should_remove", "external_id", "user_alias", "_x"]


def mutate(body, rng, values=ODD_VALUES, keys=EXTRA_KEYS):
    """One random edit: replace a value, drop a key, add a key, or grow an array."""
    body = copy.deepcopy(body)
    path = rng.choice(list(paths(body)))
    if not path:
        return rng.choice(values + [body])
    parent = body
    for part in path[:-1]:
        parent = parent[part]
    action = rng.randrange(4)
    if action == 0:
        parent[path[-1]] = copy.deepcopy(rng.choice(values))
    elif action == 1:
        del parent[path[-1]]
    elif action == 2 and isinstance(parent, dict):
        parent[rng.choice(keys)] = copy.deepcopy(rng.choice(values))
    elif isinstance(parent[path[-1]], list) and parent[path[-1]]:
        items = parent[path[-1]]
        parent[path[-1]] = [copy.deepcopy(items[i % len(items)]) for i in range(rng.choice([2, 51, 76]))]
    return body


def test_every_schema_has_a_valid_example_and_an_object_root():
    assert sorted(VALID) == SCHEMAS
    for name in SCHEMAS:
        assert body_check(name).schema["type"] == "object"
        assert body_check(name).first_failure(VALID[name]) is None, name


@pytest.mark.parametrize("name", SCHEMAS)
def test_compiled_check_agrees_with_jsonschema(name):
    rng = random.Random(name)
    check = body_check(name)
    validator = Draft202012Validator(check.schema)
    body = VALID[name]
    for step in range(400):
        candidate = mutate(VALID[name] if step % 10 == 0 else body, rng)
        assert (check.first_failure(candidate) is None) == validator.is_valid(candidate), json.dumps(candidate)[:300]
        if validator.is_valid(candidate) and isinstance(candidate, dict):
            body = candidate  # keep walking from valid variants too


def test_unsupported_keywords_are_refused_at_compile_time():
    with pytest.raises(SchemaNotSupported):
        _Compiler({}).compile({"type": "string", "format": "date-time"})
    with pytest.raises(SchemaNotSupported):
        _Compiler({}).compile({"$ref": "https://example.com/schema"})
    with pytest.raises(SchemaNotSupported):
        _Compiler({}).compile({"type": "object", "errorMessage": {"type": {"type": "nested"}}})


def test_messages_come_from_the_deepest_node_that_has_one():
    check = body_check("users_merge")
    failure = check.first_failure({"merge_updates": [{"identifier_to_merge": {"external_id": 1},
                                                      "identifier_to_keep": {"external_id": "a"}}]})
    assert failure.text() == ("identifiers must be objects with an 'external_id' property that is a string, "
                              "'user_alias' property that is an object, 'email' property that is a string, or "
                              "'phone' property that is a string")
    failure = check.first_failure({"merge_updates": [{"identifier_to_merge": {"external_id": "a"},
                                                      "identifier_to_keep": {"external_id": "b"}, "x": 1}]})
    assert failure.text() == "'merge_updates' must only have 'identifier_to_merge' and 'identifier_to_keep'"
    assert check.first_failure({"merge_updates": [1]}).text() == "'merge_updates' must be an array of objects"
    assert check.first_failure({"merge_updates": [{}] * 51}).text() == \
        "a single request may not contain more than 50 merge updates"


def test_without_a_message_the_failure_names_the_place_and_reason():
    failure = body_check("control_segment").first_failure(
        {"name": "s", "filters": [{"type": "mixpanel_cohorts", "operator": "has", "cohort_id": "1"}]})
    assert failure.text() == '$.filters[0].operator: must be one of ["includes_value", "excludes_value"]'
    assert body_check("control_change_user").first_failure({"device_id": "d"}).text() == \
        "$.external_id: 'external_id' is required"


def test_a_body_check_is_compiled_once():
    assert body_check("users_track") is body_check("users_track")
    assert isinstance(body_check("users_track"), CompiledSchema)


def test_control_plane_schemas_of_mixpanel_get_the_full_check_with_its_wording():
    check = body_schema("mocks.mixpanel", "project_create")
    assert isinstance(check, FullSchema)
    failure = check.first_failure({"name": "x", "retention_days": 0})
    assert (failure.location, failure.text()) == ("$.retention_days", "$.retention_days: 0 is less than the minimum of 1")


def test_error_message_is_the_one_message_key_of_both_checks():
    failure = body_schema("mocks.mixpanel.cohort_sync", "connection").first_failure(
        {"data_import_key": "k", "rest_endpoint": "ftp://x"})
    assert failure.text() == "$.rest_endpoint: must be an http(s) URL such as https://rest.iad-01.braze.com"
    for package in ("mocks.braze", "mocks.mixpanel", "mocks.mixpanel.cohort_sync"):
        folder = resources.files(package).joinpath("schemas")
        for path in folder.iterdir():
            assert "x-message" not in path.read_text(encoding="utf-8"), path.name


# -- the keywords the world schema needs (harness/worlds/world.schema.json) ---------------------------
KEYWORD_CASES = [
    ({"oneOf": [{"required": ["a"]}, {"required": ["b"]}]}, [{"a": 1}, {"b": 1}, {"a": 1, "b": 1}, {}, 3]),
    ({"oneOf": [{"type": "number", "minimum": 0}, {"type": "string", "pattern": "^x"}]},
     [0, -1, 2.5, "x1", "y", True, None]),
    ({"not": {"anyOf": [{"required": ["a"]}, {"required": ["b"]}]}}, [{}, {"a": 1}, {"b": 1}, {"c": 1}, "a"]),
    ({"type": "object", "minProperties": 1, "maxProperties": 1}, [{}, {"a": 1}, {"a": 1, "b": 2}, []]),
    ({"dependentRequired": {"a": ["b"], "b": ["a"]}}, [{}, {"a": 1}, {"b": 1}, {"a": 1, "b": 1}, {"c": 1}, 1]),
    ({"type": "number", "exclusiveMinimum": 0, "exclusiveMaximum": 10}, [0, 0.1, 9.9, 10, -1, "5"]),
    ({"type": "array", "prefixItems": [{"type": "string"}, {"type": "integer"}], "items": {"type": "boolean"}},
     [[], ["a"], ["a", 1], ["a", 1, True], ["a", 1, 2], [1, 1], ["a", "b"], ["a", 1, True, False]]),
    ({"type": "array", "prefixItems": [{"type": "string"}], "minItems": 2, "maxItems": 2}, [["a"], ["a", 1], [1, "a"]]),
]


@pytest.mark.parametrize("schema, instances", KEYWORD_CASES)
def test_the_world_schema_keywords_agree_with_jsonschema(schema, instances):
    check = CompiledSchema("case", schema)
    validator = Draft202012Validator(schema)
    for instance in instances:
        assert (check.first_failure(instance) is None) == validator.is_valid(instance), (schema, instance)


def test_the_world_schema_compiles():
    schema = json.loads(resources.files("harness.worlds").joinpath("world.schema.json").read_text("utf-8"))
    assert CompiledSchema("world", schema).first_failure({}) is not None
