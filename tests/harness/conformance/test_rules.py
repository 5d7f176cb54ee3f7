"""The rule catalogue and the coverage table: every SEED and HOUSE rule has a scenario."""
from pathlib import Path

from harness.conformance.report import coverage_markdown, with_coverage_table
from harness.conformance.rules import (HOUSE_RULES, REQUIRED_RULES, SEED_RULES, collect_scenarios, coverage,
                                       is_rule, sort_rules)

DOC = Path(__file__).resolve().parents[3] / "README.md"


def test_every_seed_and_house_rule_has_a_scenario():
    table = coverage(collect_scenarios())
    unchecked = [rule for rule in REQUIRED_RULES if not table[rule]]
    assert unchecked == []


def test_the_catalogue_lists_every_rule_of_the_seed_and_the_house():
    assert list(SEED_RULES) == [f"SEED-{a}.{b}" for a, count in ((1, 2), (2, 3), (3, 2), (4, 3), (5, 3), (6, 3))
                                for b in range(1, count + 1)]
    assert list(HOUSE_RULES) == [f"HOUSE-{n}" for n in range(1, 12)]


def test_every_scenario_cites_at_least_one_rule_and_only_known_seed_or_house_rules():
    for spec in collect_scenarios():
        assert spec.rules, f"{spec.feature_file}:{spec.line} {spec.name} cites no rule"
        for rule in spec.rules:
            if rule.startswith(("SEED-", "HOUSE-")):
                assert rule in REQUIRED_RULES, f"{spec.feature_file}:{spec.line} cites unknown {rule}"


def test_scenario_names_are_unique_so_the_report_can_tell_them_apart():
    names = [(spec.feature_file, spec.name) for spec in collect_scenarios()]
    duplicates = {name for name in names if names.count(name) > 1}
    assert duplicates == set()


def test_rules_sort_by_family_then_number():
    assert sort_rules(["HOUSE-10", "MIXPANEL-x", "HOUSE-2", "SEED-6.3", "BRAZE-a", "SEED-1.2"]) == [
        "SEED-1.2", "SEED-6.3", "BRAZE-a", "MIXPANEL-x", "HOUSE-2", "HOUSE-10"]
    assert is_rule("SEED-6.3") and is_rule("BRAZE-partner-errors") and not is_rule("matching")


def test_a_rule_without_scenario_is_listed_as_none_in_the_table():
    specs = [s for s in collect_scenarios() if "HOUSE-11" not in s.tags]
    assert "| HOUSE-11 | A second one-time export brings Braze to the membership of that moment | **none** |" \
        in coverage_markdown(specs)


def test_the_coverage_table_in_the_docs_is_current():
    document = DOC.read_text(encoding="utf-8")
    assert with_coverage_table(document, collect_scenarios()) == document, (
        "README.md is stale: python -c \"from harness.conformance.report import update_coverage_doc; "
        "update_coverage_doc('README.md')\"")
