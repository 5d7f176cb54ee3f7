"""Must show (issue 13): a project outside the repository, with only the built wheel installed in a fresh
venv and a ``test_app.py`` (no conftest), gets the fixtures through the ``pytest11`` entry point. Its test
sends Mixpanel events stamped ``time.time()`` with the official client, exports a cohort dynamically,
advances 15 minutes and asserts the Braze segment. Never skipped: a failure to build or install fails."""
from __future__ import annotations

import os
import shutil
import subprocess
import sys
import venv
from pathlib import Path

REPO = Path(__file__).resolve().parents[2]
APP = Path(__file__).with_name("outside_app.py")  # not collected here: it needs the plugin's fixtures only


def run(argv: list[str], cwd: Path, timeout: float = 300) -> subprocess.CompletedProcess[str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith(("PYTEST_", "VIRTUAL_ENV"))}
    env["PIP_DISABLE_PIP_VERSION_CHECK"] = "1"
    return subprocess.run(argv, cwd=cwd, env=env, capture_output=True, text=True, timeout=timeout)


def checked(argv: list[str], cwd: Path, timeout: float = 300) -> str:
    done = run(argv, cwd, timeout)
    assert done.returncode == 0, f"{' '.join(argv)} failed:\n{done.stdout[-3000:]}\n{done.stderr[-3000:]}"
    return done.stdout


def test_a_fresh_project_with_only_the_wheel_passes_its_test(tmp_path: Path) -> None:
    source = tmp_path / "src"  # a copy, so the build leaves the repository untouched
    shutil.copytree(REPO, source, ignore=shutil.ignore_patterns(".venv", ".git", "build", "*.egg-info",
                                                                "__pycache__", "node_modules", ".mypy_cache"))
    checked([sys.executable, "-m", "pip", "wheel", "-q", "--no-deps", "-w", str(tmp_path / "dist"), str(source)],
            tmp_path)
    (wheel,) = (tmp_path / "dist").glob("cohort_harness-*.whl")
    venv.create(tmp_path / "venv", with_pip=True)
    python = str(tmp_path / "venv" / "bin" / "python")
    checked([python, "-m", "pip", "install", "-q", str(wheel), "mixpanel==5.4.1", "pytest"], tmp_path)
    project = tmp_path / "app"
    project.mkdir()
    shutil.copy(APP, project / "test_app.py")
    out = checked([python, "-m", "pytest", "-q", "-p", "no:cacheprovider", "test_app.py"], project, timeout=120)
    assert "1 passed" in out
    assert not (project / "conftest.py").exists()
