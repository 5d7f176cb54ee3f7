"""``cohort-harness steps``: every shipped step pattern, each with a step text that uses it and where."""
from __future__ import annotations

import re
from pathlib import Path

from click.testing import CliRunner

from harness.cli import main

STEP_MODULES = sorted((Path(__file__).resolve().parents[3] / "harness" / "conformance").glob("steps_*.py"))


def test_every_step_definition_is_listed_with_an_example_and_its_feature() -> None:
    result = CliRunner().invoke(main, ["steps"])
    assert result.exit_code == 0, result.output
    lines = result.output.splitlines()
    patterns, examples = lines[0::2], lines[1::2]
    defined = sum(len(re.findall(r"^@(?:step|given|when|then)\(", p.read_text(encoding="utf-8"), re.M))
                  for p in STEP_MODULES)
    assert len(patterns) == len(examples) == defined
    at = patterns.index(r"data import key (?P<number>\d+) is invalidated in Braze")
    assert examples[at] == "    e.g. data import key 2 is invalidated in Braze  (keys_and_connection.feature:23)"


def test_examples_can_come_from_the_users_features(tmp_path: Path) -> None:
    (tmp_path / "mine.feature").write_text("Feature: Mine\n  Scenario: One\n    Given a Braze workspace\n",
                                           encoding="utf-8")
    result = CliRunner().invoke(main, ["steps", "--features", str(tmp_path)])
    lines = result.output.splitlines()
    assert lines[:2] == ["a Braze workspace", "    e.g. a Braze workspace  (mine.feature:3)"]
    assert "    (no feature uses it yet)" in lines


def test_the_users_own_steps_are_listed_last_with_their_file(tmp_path: Path) -> None:
    """The conftest.py beside the user's features (the docs/testing.md recipe) is loaded as `conform
    --features` loads it: its steps follow the shipped ones, marked as theirs, with their example."""
    from tests.docs.test_custom_step import write_recipe

    qa = write_recipe(tmp_path)
    result = CliRunner().invoke(main, ["steps", "--features", str(qa)])
    assert result.exit_code == 0, result.output
    lines = result.output.splitlines()
    yours = [at for at, line in enumerate(lines) if line.endswith(f"[yours: {qa / 'conftest.py'}]")]
    assert yours and yours == list(range(yours[0], len(lines), 2))  # all last, one pair each
    assert any("upgrades to the pro plan" in lines[at + 1] and "(plans.feature:" in lines[at + 1] for at in yours)


def test_a_conftest_that_does_not_import_is_exit_2_in_one_line(tmp_path: Path) -> None:
    from tests.docs.test_custom_step import write_recipe

    qa = write_recipe(tmp_path, conftest="import no_such_module_here\n")
    result = CliRunner().invoke(main, ["steps", "--features", str(qa)])
    assert result.exit_code == 2
    assert "cannot load your steps (ModuleNotFoundError" in result.output


def test_listing_twice_in_one_process_lists_the_users_steps_once(tmp_path: Path) -> None:
    from tests.docs.test_custom_step import write_recipe

    qa = write_recipe(tmp_path)
    first, second = (CliRunner().invoke(main, ["steps", "--features", str(qa)]).output for _ in range(2))
    assert first == second
