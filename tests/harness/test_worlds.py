"""World files: schema errors with their path, the rules-based expectation, the generator, the diff."""
from __future__ import annotations

import copy
import json

import pytest

from harness.worlds import diff_checkpoints, expected_outcome, generate_world, validate_world
from harness.worlds.files import WorldFileError, bundled_worlds, read_world, resolve_world
from harness.worlds.rules import BrazeModel, MixpanelModel, property_holds
from tests.mocks.common.test_schema_compiler import mutate

MINIMAL = {
    "format": "cohort-harness/world@1", "name": "minimal",
    "mixpanel": {"cohort": {"name": "All", "definition": {"distinct_ids": ["a"]}}},
    "braze": {}, "flow": {"mode": "one_time"},
}


def world(**changes):
    data = copy.deepcopy(MINIMAL)
    data.update(changes)
    return data


# -- validation -------------------------------------------------------------------------------------
def test_minimal_world_is_valid():
    assert validate_world(MINIMAL) == []


@pytest.mark.parametrize("changes, problem", [
    ({"flow": {"mode": "weekly"}}, "$.flow.mode: 'weekly' is not one of ['one_time', 'dynamic']"),
    ({"flow": {"mode": "dynamic", "steps": [{"advance": "15 minutes"}]}},
     "$.flow.steps[0].advance: '15 minutes' does not match '^[0-9]+(\\\\.[0-9]+)?[smhd]$'"),
    ({"format": "v2"}, "$.format: 'cohort-harness/world@1' was expected"),
    ({"surprise": 1}, "$: Additional properties are not allowed ('surprise' was unexpected)"),
    ({"braze": {"users": [{"external_id": "a", "device_id": "d"}]}}, "$.braze.users[0]: fits none of the allowed forms: Exactly one of external_id"),
])
def test_schema_errors_name_the_path_and_reason(changes, problem):
    problems = validate_world(world(**changes))
    assert problems and problems[0].startswith(problem)


def test_missing_required_field_is_reported_at_its_parent():
    data = world()
    del data["mixpanel"]["cohort"]["definition"]
    assert validate_world(data) == ["$.mixpanel.cohort: 'definition' is a required property"]


def test_expected_needs_one_checkpoint_per_step_plus_the_first_sync():
    data = world(flow={"mode": "dynamic", "steps": [{"advance": "15m"}]}, expected={"syncs": [{"members": []}]})
    assert validate_world(data) == ["$.expected.syncs: has 1 checkpoints, the flow needs 2 "
                                    "(one after the first sync, one after each step)"]


def test_reading_missing_and_broken_files(tmp_path):
    with pytest.raises(WorldFileError, match=r"nope\.json: no such file"):
        read_world(tmp_path / "nope.json")
    (tmp_path / "broken.json").write_text("{not json")
    with pytest.raises(WorldFileError, match=r"not valid JSON"):
        read_world(tmp_path / "broken.json")
    (tmp_path / "bad.json").write_text(json.dumps(world(flow={"mode": "x"})))
    with pytest.raises(WorldFileError) as caught:
        read_world(tmp_path / "bad.json")
    assert caught.value.problems == ["$.flow.mode: 'x' is not one of ['one_time', 'dynamic']"]


def test_bundled_worlds_resolve_by_name_and_unknown_names_list_them():
    assert {"demo", "retention_boundary", "churn_dynamic", "key_invalidation", "rename"} <= set(bundled_worlds())
    assert resolve_world(None)[0] == "bundled:demo"
    with pytest.raises(WorldFileError, match="bundled: .*demo"):
        resolve_world("no-such-world")


@pytest.mark.parametrize("name", sorted(bundled_worlds()))
def test_bundled_expectations_follow_the_rules(name):
    """Hand-written expectations and the rules model agree (replay then checks the mocks)."""
    _, data = resolve_world(name)
    assert data["expected"] == expected_outcome(data)


# -- the rules model --------------------------------------------------------------------------------
def test_retention_boundary_in_seconds_and_milliseconds():
    model = MixpanelModel()
    now = 1767225600.0  # 2026-01-01
    events = [(1262303999, "s-before"), (1262304000, "s-at"), (1262303999999, "ms-before"), (1262304000000, "ms-at"),
              (31535999, "pre-1971")]
    model.import_events([{"event": "E", "properties": {"time": t, "distinct_id": d}} for t, d in events], now)
    assert model.members({"event": "E", "at_least": 1}, now) == {"s-at", "ms-at"}


def test_time_window_and_counts():
    model = MixpanelModel()
    now = 1767225600.0
    model.import_events([{"event": "Buy", "properties": {"time": now - 3600 * h, "distinct_id": "u"}} for h in (1, 30, 50)],
                        now)
    assert model.members({"event": "Buy", "at_least": 1, "within_days": 1}, now) == {"u"}
    assert model.members({"event": "Buy", "at_least": 2, "within_days": 1}, now) == set()
    assert model.members({"event": "Buy", "at_least": 1, "within_days": 1}, now + 23.5 * 3600) == set()
    assert model.members({"event": "Buy", "at_least": 3}, now) == {"u"}


def test_the_latest_copy_of_a_duplicate_is_the_one_conditions_read():
    model = MixpanelModel()
    now = 1767225600.0
    copy = {"time": now - 60, "distinct_id": "u", "$insert_id": "k1"}
    model.import_events([{"event": "Buy", "properties": {**copy, "plan": "free"}},
                         {"event": "Buy", "properties": {**copy, "plan": "pro"}}], now)
    assert model.members({"event": "Buy", "where": {"plan": "pro"}}, now) == {"u"}
    assert model.members({"event": "Buy", "where": {"plan": "free"}}, now) == set()
    assert model.members({"event": "Buy", "at_least": 2}, now) == set()


@pytest.mark.parametrize("node, profile, holds", [
    ({"property": "plan", "equals": "pro"}, {"plan": "pro"}, True),
    ({"property": "plan", "equals": "pro"}, {}, False),
    ({"property": "age", "gte": 30}, {"age": 30}, True),
    ({"property": "age", "gt": 30}, {"age": "31"}, False),
    ({"property": "plan", "defined": True}, {"plan": None}, True),
    ({"property": "plan", "defined": False}, {}, True),
])
def test_property_conditions(node, profile, holds):
    assert property_holds(node, profile) is holds


def test_identifier_order_and_anonymous_only_devices():
    model = MixpanelModel()
    model.set_profiles([
        {"distinct_id": "a", "properties": {"$braze_external_id": "A", "crm": "c-a", "dev": "d-a"}},
        {"distinct_id": "b", "properties": {"crm": "c-b", "dev": "d-b"}},
        {"distinct_id": "c", "properties": {"dev": "d-c"}},
        {"distinct_id": "$device:d", "properties": {"dev": "d-d"}},
    ])
    connection = {"alias_label": "crm", "alias_property": "crm", "device_id_property": "dev"}
    assert [model.identifier(d, connection) for d in ("a", "b", "c", "$device:d")] == [
        ("external_id", "A"), ("alias", "crm", "c-b"), None, ("device_id", "d-d")]


def test_braze_identification_both_cases_stop_device_matching():
    braze = BrazeModel()
    braze.load_users([{"external_id": "kim"}, {"device_id": "p1", "identified_as": "lee"},
                      {"device_id": "p2", "identified_as": "kim"}, {"device_id": "p3"}])
    assert [u.handle() for u in braze.users] == ["kim", "lee", "device:p3"]
    assert braze.match(("device_ids", "p1")) == (None, "identified_device")
    assert braze.match(("device_ids", "p2")) == (None, "identified_device")
    assert braze.match(("device_ids", "p3"))[1] == "matched"
    assert braze.match(("user_ids", "nobody")) == (None, "unknown")


# -- the generator ----------------------------------------------------------------------------------
@pytest.mark.parametrize("seed, users, events", [(1, 10, 30), (2, 40, 200), (3, 120, 600)])
def test_generated_worlds_are_valid_deterministic_and_varied(seed, users, events):
    data = generate_world(seed, users, events)
    assert validate_world(data) == []
    assert generate_world(seed, users, events) == data
    assert generate_world(seed + 100, users, events) != data
    assert len(data["mixpanel"]["profiles"]) == users and len(data["mixpanel"]["events"]) == events
    times = [e["properties"]["time"] for e in data["mixpanel"]["events"]]
    seconds = [t / 1000 if t > 1e11 else t for t in times]
    if users >= 40:
        assert min(seconds) < 1262304000 < max(seconds)          # both sides of 2010-01-01
        assert any(t > 1e11 for t in times)                       # some in milliseconds
        kinds = {("external_id" in u, "alias" in u, "device_id" in u, "identified_as" in u)
                 for u in data["braze"]["users"]}
        assert {(True, False, False, False), (False, True, False, False), (False, False, True, False),
                (False, False, True, True)} <= kinds
        assert any("$braze_external_id" not in p["properties"] and "mixpanel_alias" not in p["properties"]
                   and not p["distinct_id"].startswith("$device:") for p in data["mixpanel"]["profiles"])
    assert len(data["expected"]["syncs"]) == len(data["flow"]["steps"]) + 1


# -- the diff ---------------------------------------------------------------------------------------
def test_diff_names_checkpoint_field_and_members():
    expected = [{"members": ["a", "b"], "status": "active"}, {"members": ["a"], "data_points": 3}]
    observed = [{"members": ["a", "b"], "status": "active"}, {"members": ["a", "z"], "data_points": 4, "added": 9}]
    assert diff_checkpoints(expected, observed) == [
        "checkpoint 1 (after step 1): members: expected 1, observed 2; unexpected [z]",
        "checkpoint 1 (after step 1): data_points: expected 3, observed 4",
    ]
    assert diff_checkpoints(expected, observed[:1]) == ["expected 2 checkpoints, observed 1"]


# -- the compiled check decides validity, jsonschema words the errors --------------------------------
WORLD_KEYS = ["extra", "alias", "device_id", "external_id", "identified_as", "aliases", "attributes", "event",
              "property", "and", "or", "not", "distinct_ids", "between", "within_days", "at_least", "gt",
              "defined", "where", "time", "$insert_id", "alias_label", "user_id_property", "alias_property",
              "invalidate_key", "reconnect", "rename_cohort", "note", "advance", "members", "status"]
WORLD_VALUES = [None, True, False, 0, 1, 1.0, 2.5, -1, "", "x", "15m", "15 minutes", "2026-01-01T00:00:00Z",
                "2026-13-01T00:00:00Z", 1735689600, -5, [], ["a"], ["2026-01-01T00:00:00Z"] * 2,
                ["2026-01-01T00:00:00Z", 3], {}, {"alias_name": "n", "alias_label": "l"}, {"property": "p"},
                {"event": "e", "at_least": 1}, {"property": "p", "event": "e"}, [{"distinct_ids": []}],
                {"device_id": "d", "external_id": "e"}, "dynamic", "SEED-1.1", "paused"]


@pytest.mark.parametrize("name", sorted(set(bundled_worlds()) - {"generated_s7"}))
def test_the_compiled_world_check_accepts_exactly_what_jsonschema_accepts(name):
    import random

    from harness.worlds.files import world_check, world_validator

    rng = random.Random(name)
    start = json.loads(bundled_worlds()[name].read_text("utf-8"))
    data, invalid = start, 0
    for step in range(300):
        candidate = mutate(start if step % 10 == 0 else data, rng, WORLD_VALUES, WORLD_KEYS)
        valid = world_validator().is_valid(candidate)
        assert (world_check().first_failure(candidate) is None) == valid, json.dumps(candidate)[:400]
        invalid += not valid
        if valid:
            data = candidate  # walk on from valid variants too
    assert 0 < invalid < 300  # the walk met both kinds


def test_an_invalid_world_keeps_the_jsonschema_wording_of_every_error():
    data = world(flow={"mode": "weekly"}, braze={"users": [{"external_id": "a", "device_id": "d"}]})
    assert validate_world(data) == [
        "$.braze.users[0]: fits none of the allowed forms: Exactly one of external_id (identified, via /users/track), "
        "alias (alias-only, via /users/alias/new) or device_id (anonymous, SDK-style). identified_as identifies it "
        "later: changeUser for a device user, /users/identify for an alias-only user.",
        "$.flow.mode: 'weekly' is not one of ['one_time', 'dynamic']"]
