"""The custom-step recipe of docs/testing.md, taken from the doc itself: its ``qa/conftest.py`` and
``qa/plans.feature`` run through ``cohort-harness conform --features`` (issue 13 item 2). The step is
loaded, shares the scenario's ``scenario_state``, appears in the report, and can fail with its own message."""
from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest

from .test_examples import ROOT, examples_of

CLI = [sys.executable, "-m", "harness.cli"]
RECIPE = {example.path: example.code for example in examples_of(ROOT / "docs" / "testing.md") if example.path}
SCENARIO = "A user who upgrades joins the segment at the next sync"


def write_recipe(folder: Path, feature: str | None = None, conftest: str | None = None) -> Path:
    qa = folder / "qa"
    qa.mkdir()
    (qa / "conftest.py").write_text(conftest if conftest is not None else RECIPE["qa/conftest.py"])
    (qa / "plans.feature").write_text(feature if feature is not None else RECIPE["qa/plans.feature"])
    return qa


def conform(qa: Path, report: Path) -> subprocess.CompletedProcess:
    return subprocess.run([*CLI, "conform", "--features", str(qa), "--report-dir", str(report)],
                          capture_output=True, text=True, timeout=120, cwd=qa.parent)


def test_the_doc_holds_the_recipe():
    assert set(RECIPE) >= {"qa/conftest.py", "qa/plans.feature"}
    assert "upgrades to the pro plan in Mixpanel" in RECIPE["qa/plans.feature"]


def test_the_recipe_passes_and_is_reported(tmp_path):
    result = conform(write_recipe(tmp_path), tmp_path / "report")
    assert result.returncode == 0, result.stdout + result.stderr
    for page in ("summary.md", "summary.html"):
        assert SCENARIO in (tmp_path / "report" / page).read_text(encoding="utf-8")


def test_the_custom_step_can_fail_with_its_own_message(tmp_path):
    """The same recipe expecting 3 users: the custom Then fails, naming what it expected and observed."""
    feature = RECIPE["qa/plans.feature"].replace("counts 2 users", "counts 3 users")
    result = conform(write_recipe(tmp_path, feature=feature), tmp_path / "report")
    assert result.returncode == 1, result.stdout + result.stderr
    junit = (tmp_path / "report" / "junit.xml").read_text(encoding="utf-8")
    assert "the number of users in segment &apos;Pro segment&apos;" in junit or \
        "the number of users in segment 'Pro segment'" in junit, junit[-2000:]


def test_without_the_conftest_the_step_is_undefined(tmp_path):
    """What loads the step is the conftest beside the feature: an empty one leaves it undefined."""
    result = conform(write_recipe(tmp_path, conftest=""), tmp_path / "report")
    assert result.returncode == 1, result.stdout + result.stderr
    assert "undefined" in (tmp_path / "report" / "summary.md").read_text(encoding="utf-8").lower()


@pytest.mark.parametrize("broken", ["def (:\n", "import no_such_module_here\n"])
def test_a_conftest_that_does_not_import_is_exit_2_naming_it(tmp_path, broken):
    result = conform(write_recipe(tmp_path, conftest=broken), tmp_path / "report")
    assert result.returncode == 2, result.stdout + result.stderr
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1 and "conftest.py: cannot load your steps" in lines[0], result.stderr
