"""The rule catalogue and the coverage table: every SEED and HOUSE rule has a scenario."""
import subprocess
from pathlib import Path

import pytest

from harness.conformance.report import coverage_markdown, with_coverage_table
from harness.conformance.rules import (HOUSE_RULES, REQUIRED_RULES, SEED_RULES, collect_scenarios, coverage,
                                       features_dir, is_rule, shipped_feature_files, sort_rules)

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


def test_every_feature_file_the_repository_tracks_is_shipped_and_every_shipped_one_exists():
    from harness.features import SHIPPED

    repo = DOC.parent
    tracked = subprocess.run(["git", "ls-files", "features/*.feature"], cwd=repo, capture_output=True, text=True)
    if tracked.returncode != 0:
        pytest.skip("not a git checkout")
    assert sorted(Path(line).name for line in tracked.stdout.split()) == sorted(SHIPPED)
    assert all(path.exists() for path in shipped_feature_files())


def test_a_users_feature_dropped_into_the_folder_changes_nothing_shipped(tmp_path, monkeypatch):
    """A QA engineer's own file next to the shipped ones: the scenario list, and so the rule coverage
    and the README table, stay those of the shipped features."""
    before = [(s.feature_file, s.name) for s in collect_scenarios()]
    own = features_dir() / "zz_qa_own_test.feature"
    own.write_text("Feature: QA own\n  Scenario: a QA scenario\n    Given a Braze workspace \"Shop\"\n")
    try:
        assert [(s.feature_file, s.name) for s in collect_scenarios()] == before
        document = DOC.read_text(encoding="utf-8")
        assert with_coverage_table(document, collect_scenarios()) == document
    finally:
        own.unlink()
