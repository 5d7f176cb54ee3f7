"""Cohort definitions compiled and evaluated on a plain project (no Flask)."""
from datetime import timedelta

import pytest

from mocks.mixpanel.cohorts import DefinitionError, compile_definition
from mocks.mixpanel.identity import IdRegistry

from .conftest import DAY_S, NOW_S, START, event


def members(project, definition, at=START):
    cohort = project.create_cohort("c", definition, START)
    return project.cohort_members(cohort.cohort_id, at)


@pytest.fixture()
def people(project):
    project.set_profiles([("ann", {"plan": "pro", "age": 34, "tags": ["a", "b"], "vip": True}),
                          ("bob", {"plan": "free", "age": 29, "vip": False}),
                          ("cid", {"plan": "pro", "age": "old"}),
                          ("dee", {"age": 30, "nick": None})])
    return project


@pytest.mark.parametrize("definition, expected", [
    ({"property": "plan", "equals": "pro"}, {"ann", "cid"}),
    ({"property": "plan", "not_equals": "pro"}, {"bob", "dee"}),
    ({"property": "age", "gte": 30}, {"ann", "dee"}),
    ({"property": "age", "gt": 30}, {"ann"}),
    ({"property": "age", "lt": 30}, {"bob"}),
    ({"property": "age", "lte": 30, "gt": 29}, {"dee"}),
    ({"property": "plan", "defined": True}, {"ann", "bob", "cid"}),
    ({"property": "nick", "defined": False}, {"ann", "bob", "cid", "dee"}),
    ({"property": "tags", "equals": "b"}, {"ann"}),
    ({"property": "vip", "equals": True}, {"ann"}),
    ({"property": "vip", "equals": 1}, set()),
    ({"property": "age", "gte": "a"}, {"cid"}),
])
def test_property_conditions(people, definition, expected):
    assert members(people, definition) == expected


@pytest.fixture()
def shoppers(project):
    project.ingest([
        event("Buy", NOW_S - 2 * DAY_S, "ann", amount=10), event("Buy", NOW_S - 1 * DAY_S, "ann", amount=70),
        event("Buy", NOW_S - 20 * DAY_S, "bob", amount=90), event("View", NOW_S - 3600, "cid"),
        event("Buy", NOW_S - 40 * DAY_S, "dee", amount=5), event("Buy", NOW_S - 60, ""),
    ], START)
    project.set_profiles([("eve", {"plan": "pro"})])
    return project


@pytest.mark.parametrize("definition, expected", [
    ({"event": "Buy"}, {"ann", "bob", "dee"}),
    ({"event": "Buy", "within_days": 30}, {"ann", "bob"}),
    ({"event": "Buy", "at_least": 2, "within_days": 30}, {"ann"}),
    ({"event": "Buy", "at_most": 1, "within_days": 30}, {"bob", "cid", "dee", "eve"}),
    ({"event": "Buy", "at_least": 1, "at_most": 1}, {"bob", "dee"}),
    ({"event": "Buy", "where": {"amount": {"gte": 50}}}, {"ann", "bob"}),
    ({"event": "Buy", "where": {"amount": 5}}, {"dee"}),
    ({"event": "Buy", "between": ["2025-11-01", "2025-12-12"]}, {"bob", "dee"}),
    ({"event": "Buy", "between": ["2025-12-12T00:00:01Z", "2025-12-31"]}, {"ann"}),
    ({"event": "Nothing"}, set()),
    ({"and": [{"event": "Buy"}, {"event": "Buy", "within_days": 30}]}, {"ann", "bob"}),
    ({"or": [{"event": "View"}, {"property": "plan", "equals": "pro"}]}, {"cid", "eve"}),
    ({"not": {"event": "Buy"}}, {"cid", "eve"}),
    ({"and": [{"not": {"event": "View"}}, {"event": "Buy", "within_days": 30}]}, {"ann", "bob"}),
    ({"and": [{"not": {"event": "View"}}]}, {"ann", "bob", "dee", "eve"}),
    ({"distinct_ids": ["zed", "ann"]}, {"zed", "ann"}),
])
def test_behavioural_and_combined_conditions(shoppers, definition, expected):
    assert members(shoppers, definition) == expected


def test_anonymous_events_never_qualify(shoppers):
    assert "" not in members(shoppers, {"event": "Buy", "within_days": 1})
    assert "" not in members(shoppers, {"not": {"event": "View"}})


def test_a_time_window_cohort_loses_members_as_the_clock_moves(shoppers, clock):
    cohort = shoppers.create_cohort("recent", {"event": "Buy", "within_days": 30}, START).cohort_id
    assert shoppers.cohort_members(cohort, clock.now()) == {"ann", "bob"}
    clock.advance("10d")
    assert shoppers.cohort_members(cohort, clock.now()) == {"ann", "bob"}, "exactly 30 days ago is inside"
    clock.advance("1s")
    assert shoppers.cohort_members(cohort, clock.now()) == {"ann"}
    clock.advance("20d")
    assert shoppers.cohort_members(cohort, clock.now()) == set()


def test_evaluation_at_an_earlier_instant_ignores_later_events(shoppers):
    cohort = shoppers.create_cohort("c", {"event": "Buy", "within_days": 30}, START).cohort_id
    assert shoppers.cohort_members(cohort, START - timedelta(days=3)) == {"bob"}


def test_a_user_whose_only_events_are_before_2010_is_not_a_member(project):
    project.set_retention(None)  # the 2010 floor alone, no rolling window
    report = project.ingest([event("Buy", 1262303999, "old"), event("Buy", 1262303999999, "old-ms"),
                             event("Buy", 1262304000, "edge"), event("Buy", 1262304000000, "edge-ms")], START)
    assert (report.imported, report.removed, report.failures) == (2, 2, [])
    assert members(project, {"event": "Buy"}) == {"edge", "edge-ms"}
    assert members(project, {"not": {"event": "Buy"}}) == set()


def test_rolling_retention_drops_old_events_from_cohorts_and_stats(project, clock):
    project.set_retention(30)
    report = project.ingest([event("Buy", NOW_S - 31 * DAY_S, "gone"), event("Buy", NOW_S - 10 * DAY_S, "ann")], START)
    assert (report.imported, report.removed) == (1, 1)
    cohort = project.create_cohort("c", {"event": "Buy"}, START).cohort_id
    assert project.cohort_members(cohort, clock.now()) == {"ann"}
    clock.advance("21d")
    assert project.cohort_members(cohort, clock.now()) == set()
    stats = project.stats(clock.now())
    assert (stats["events_stored"], stats["events_removed_by_retention"]) == (0, 2)
    assert list(project.export(0, NOW_S * 2000, None, clock.now())) == []


def test_redefining_a_cohort_changes_its_members_and_revision(people):
    cohort = people.create_cohort("c", {"property": "plan", "equals": "pro"}, START)
    people.update_cohort(cohort.cohort_id, {"name": "renamed", "definition": {"property": "plan", "equals": "free"}})
    assert (cohort.name, cohort.revision) == ("renamed", 1)
    assert people.cohort_members(cohort.cohort_id, START) == {"bob"}


def test_members_follow_profile_changes_even_when_cached(people):
    from mocks.mixpanel.profiles import ProfileUpdate

    cohort = people.create_cohort("c", {"property": "plan", "equals": "pro"}, START).cohort_id
    assert people.cohort_count(cohort, START) == 2
    people.update_profile(ProfileUpdate("bob", "$set", {"plan": "pro"}))
    assert people.cohort_count(cohort, START) == 3


@pytest.mark.parametrize("definition, message", [
    ([], "invalid cohort definition at $: [] is not of type 'object'"),
    ({}, "invalid cohort definition at $: {} should be non-empty"),
    ({"prop": "x"}, "invalid cohort definition at $: 'prop' is not one of ['property', 'event', 'and', 'or', "
                    "'not', 'distinct_ids']"),
    ({"property": "plan"}, "invalid cohort definition at $: a property condition needs one of equals, not_equals, "
                           "gt, gte, lt, lte, defined"),
    ({"property": "plan", "equals": ["a"]}, "invalid cohort definition at $.equals: ['a'] is not of type 'string', "
                                            "'number', 'boolean', 'null'"),
    ({"and": [{"event": "E", "at_least": -1}]}, "invalid cohort definition at $.and[0].at_least: -1 is less than "
                                                "the minimum of 0"),
    ({"event": "E", "within_days": 3, "between": ["2025-01-01", "2025-02-01"]},
     "invalid cohort definition at $: give 'within_days' or 'between', not both"),
    ({"event": "E", "at_least": 3, "at_most": 2}, "invalid cohort definition at $: 'at_most' (2) is below 'at_least' (3)"),
    ({"event": "E", "between": ["2025-02-01", "2025-01-01"]},
     "invalid cohort definition at $.between: the end is before the start"),
    ({"event": "E", "between": ["soon", "2025-01-01"]},
     "invalid cohort definition at $.between: invalid ISO-8601 instant 'soon'"),
    ({"not": {"or": [{"not": {"event": "E"}}, {"distinct_ids": [""]}]}},
     "invalid cohort definition at $.not.or[1].distinct_ids[0]: '' should be non-empty"),
    ({"event": "E", "where": {"a": {"above": 1}}},
     "invalid cohort definition at $.where.a: {'above': 1} is not valid under any of the given schemas"),
])
def test_bad_definitions_are_refused_with_where_and_why(definition, message):
    with pytest.raises(DefinitionError) as raised:
        compile_definition(definition, IdRegistry())
    assert str(raised.value) == message


def test_deeply_nested_definitions_are_refused_before_validation():
    definition = {"event": "E"}
    for _ in range(40):
        definition = {"not": definition}
    with pytest.raises(DefinitionError, match="nested more than 32 levels deep"):
        compile_definition(definition, IdRegistry())


# -- the fast path of `equals` agrees with the generic comparison ----------------------------------------
@pytest.mark.parametrize("expected", [True, False, 1, 0, 1.0, "pro", ""])
def test_equals_fast_path_agrees_with_same_value(expected):
    from mocks.mixpanel.cohorts import value_test
    from mocks.mixpanel.expressions import same_value

    test = value_test({"equals": expected})
    for actual in [True, False, 1, 0, 1.0, 2, "pro", "", None, [expected], [], ["x", expected], [1, True], {"a": 1}]:
        props = {} if actual is None else {"p": actual}
        generic = actual is not None and same_value(actual, expected)
        assert test(props, "p") is generic, (actual, expected)
