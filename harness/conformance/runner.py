"""Run the conformance suite against chosen targets and write the report directory.

pytest runs with the package's own plugin and a throw-away configuration file, rooted in the
installed package, so the suite behaves the same from a checkout, from a wheel in any directory,
and whatever pytest.ini or conftest.py the current directory holds.
"""
from __future__ import annotations

import importlib.util
import os
import sys
import tempfile
import time
from dataclasses import dataclass, field
from datetime import datetime, timezone
from pathlib import Path
from types import ModuleType
from typing import TYPE_CHECKING

import pytest

from harness.errors import InputError

from .report_files import CUCUMBER_FILE, JUNIT_FILE

if TYPE_CHECKING:
    from .report import Summary

PACKAGE_DIR = Path(__file__).resolve().parent
SUITE_FILE = PACKAGE_DIR / "suite.py"
PLUGIN = "harness.conformance.plugin"
#: The file beside a user's feature files that holds their own steps (``conform --features``).
USER_CONFTEST = "conftest.py"
#: The module name each of them is imported under (a number follows).
USER_STEPS_MODULE = "cohort_harness_user_conftest_"


@dataclass
class ConformanceRun:
    """What to run: targets (None = embedded mock), pytest's -m / -k selection, extra pytest args."""

    report_dir: Path
    braze_url: str | None = None
    mixpanel_url: str | None = None
    markexpr: str | None = None
    keyword: str | None = None
    verbose: bool = False
    extra_args: list[str] = field(default_factory=list)
    #: the user's feature files or directories (``--features``); empty: the shipped features
    features: list[Path] = field(default_factory=list)
    with_shipped: bool = False
    #: the Braze receiver's credentials (``--data-import-key``, ``--partner-api-key``, ``--workspace-id``,
    #: ``--rest-api-key``): option name -> value
    credentials: dict[str, str] = field(default_factory=dict)

    def judged(self) -> list[str]:
        """The services given by URL (the others are embedded mocks)."""
        return [service for service, url in (("braze", self.braze_url), ("mixpanel", self.mixpanel_url)) if url]

    def feature_files(self) -> list[Path]:
        from .rules import feature_files, shipped_feature_files

        shipped = shipped_feature_files() if self.with_shipped or not self.features else []
        return feature_files(shipped + self.features)

    def user_step_modules(self) -> list[ModuleType]:
        """The user's own steps, from the conftest.py beside their features (:func:`load_user_steps`)."""
        return load_user_steps(self.features)

    def pytest_args(self, config_file: Path) -> list[str]:
        # only the plugins the suite needs: whatever else is installed (faker's, xdist, ...) stays out
        args = [str(SUITE_FILE), "-c", str(config_file), "--rootdir", str(PACKAGE_DIR),
                "--disable-plugin-autoload", "-p", "pytest_bdd.plugin", "-p", PLUGIN, "-p", "no:cacheprovider",
                "--junitxml", str(self.report_dir / JUNIT_FILE), "--cucumberjson", str(self.report_dir / CUCUMBER_FILE)]
        args += ["-v", "--tb=short"] if self.verbose else ["-q", "--tb=no", "-rN", "--no-header"]
        for option, value in (("--braze-url", self.braze_url), ("--mixpanel-url", self.mixpanel_url),
                              ("-m", self.markexpr), ("-k", self.keyword)):
            if value:
                args += [option, value]
        for option, value in sorted(self.credentials.items()):
            args += [option, value]
        return args + list(self.extra_args)


def run_conformance(run: ConformanceRun) -> tuple[int, "Summary"]:
    """Run pytest in this process, then write summary.md and summary.html; returns pytest's exit
    code and the summary (``summary.ok`` is the verdict)."""
    run.report_dir.mkdir(parents=True, exist_ok=True)
    for stale in (JUNIT_FILE, CUCUMBER_FILE):
        (run.report_dir / stale).unlink(missing_ok=True)
    started = time.perf_counter()
    files = run.feature_files()
    from .rules import FEATURES_ENV

    _forget_suite_module()
    previous = os.environ.get(FEATURES_ENV)
    os.environ[FEATURES_ENV] = os.pathsep.join(str(f.resolve()) for f in files)
    try:
        with tempfile.TemporaryDirectory(prefix="conform-") as tmp:
            config_file = Path(tmp) / "pytest.ini"
            config_file.write_text("[pytest]\naddopts =\njunit_family = xunit2\n", encoding="utf-8")
            exit_code = int(pytest.main(run.pytest_args(config_file), plugins=run.user_step_modules()))
    finally:
        if previous is None:
            os.environ.pop(FEATURES_ENV, None)
        else:
            os.environ[FEATURES_ENV] = previous
    context = {
        "run at": datetime.now(timezone.utc).strftime("%Y-%m-%dT%H:%M:%SZ"),
        "duration": f"{time.perf_counter() - started:.1f} s",
        "selection": " ".join(filter(None, (run.markexpr and f"-m {run.markexpr!r}",
                                            run.keyword and f"-k {run.keyword!r}"))) or "all scenarios",
        "pytest exit code": str(exit_code),
    }
    # imported after the run: pytest must be the first to import pytest-bdd (its assertion rewriting)
    from .report import summarize, write_summary
    from .rules import collect_scenarios

    summary = summarize(collect_scenarios(files=files), run.report_dir, context, run.judged())
    write_summary(summary, run.report_dir)
    return exit_code, summary


def _forget_suite_module() -> None:
    """The suite module binds its scenarios when imported; a second run in this process (a test, a
    script) may select other feature files, so the module imported by an earlier run is dropped."""
    for name, module in list(sys.modules.items()):
        if Path(getattr(module, "__file__", None) or "").resolve() == SUITE_FILE:
            del sys.modules[name]


def user_conftests(features: list[Path]) -> list[Path]:
    """The ``conftest.py`` beside each of the user's feature files (their own steps), in order."""
    from .rules import feature_files

    found: list[Path] = []
    for file in feature_files(features):
        conftest = (file.parent / USER_CONFTEST).resolve()
        if conftest.is_file() and conftest not in found:
            found.append(conftest)
    return found


def load_user_steps(features: list[Path]) -> list[ModuleType]:
    """Each user conftest imported afresh as a plugin of this run: its steps and fixtures join the
    shipped ones (and share the scenario's ``scenario_state``). One that does not import is the user's
    mistake: exit 2, the file and the error. ``conform`` and ``steps`` load them the same way."""
    modules = []
    for index, path in enumerate(user_conftests(features)):
        name = f"{USER_STEPS_MODULE}{index}"
        spec = importlib.util.spec_from_file_location(name, path)
        assert spec is not None and spec.loader is not None
        module = importlib.util.module_from_spec(spec)
        try:
            spec.loader.exec_module(module)
        except Exception as exc:  # noqa: BLE001 - whatever the user's file raises
            raise InputError(f"{path}: cannot load your steps ({type(exc).__name__}: {exc})") from None
        modules.append(module)
    return modules
