"""The pytest plugin of the conformance suite.

It adds ``--braze-url`` / ``--mixpanel-url`` (default: both mocks embedded in this process, started
once per session on free ports), gives each scenario a fresh :class:`ScenarioState` (its own workspace and
project), registers every feature tag as a marker (so ``-m SEED-6.3`` selects), and, when a step
fails, writes into the JUnit report which step, what it expected, what it observed and the last
requests each target received (from its ``/_harness/journal``).
"""
from __future__ import annotations

import json
from pathlib import Path
from typing import Any, Callable, Iterator

import pytest
from pytest_bdd.scenario import scenario_wrapper_template_registry

from harness.clients import Targets

from .checks import describe
from .report import scenario_key
from .rules import all_tags, collect_scenarios, selected_feature_files
from .scenario_state import GivenCredentials, ScenarioState

pytest_plugins = ["harness.conformance.steps_braze", "harness.conformance.steps_mixpanel",
                  "harness.conformance.steps_sync"]

#: Request bodies in the report are cut to this many characters.
BODY_CHARS = 600
#: The running targets, once a scenario has asked for them (failure reports read their journals).
TARGETS_KEY = pytest.StashKey[Targets]()
#: Calls that keep time, not observe a target: reading or moving both clocks says nothing about either.
TIMEKEEPING = "/_harness/clock"


def pytest_addoption(parser: pytest.Parser) -> None:
    group = parser.getgroup("conformance", "cohort-harness conformance suite")
    group.addoption("--braze-url", default=None,
                    help="Braze target (its vendor API and /_harness control plane); default: the embedded mock")
    group.addoption("--mixpanel-url", default=None,
                    help="Mixpanel target (its vendor API and /_harness control plane); default: the embedded mock")
    group.addoption("--data-import-key", default=None,
                    help="the Braze receiver's data import key: its workspace is not created through /_harness")
    group.addoption("--partner-api-key", default=None, help="the partner API key the Braze receiver issued to Mixpanel")
    group.addoption("--workspace-id", default=None,
                    help="with --data-import-key: the receiver's workspace id (its cohort observation paths)")
    group.addoption("--rest-api-key", default=None,
                    help="with --data-import-key: a REST API key of that workspace (for /users/track)")
    group.addoption("--journal-entries", type=int, default=8,
                    help="how many of each target's last requests a failure report shows (default 8)")


@pytest.hookimpl(trylast=True)
def pytest_configure(config: pytest.Config) -> None:
    # the tags of the features this run selected (a user's own included): none warns "unknown mark"
    for tag in sorted(all_tags(collect_scenarios(files=selected_feature_files()))):
        config.addinivalue_line("markers", f"{tag}: conformance scenarios tagged @{tag}")
    _quiet_cucumber_banner(config)


class _CucumberWithoutBanner:
    """pytest-bdd's cucumber JSON writer minus its "generated json file: ..." terminal line: the
    ``conform`` command names every report file itself, once, after its table."""

    def __init__(self, writer: Any):
        self._writer = writer

    def pytest_runtest_logreport(self, report: pytest.TestReport) -> None:
        self._writer.pytest_runtest_logreport(report)

    def pytest_sessionstart(self) -> None:
        self._writer.pytest_sessionstart()

    def pytest_sessionfinish(self) -> None:
        self._writer.pytest_sessionfinish()


def _quiet_cucumber_banner(config: pytest.Config) -> None:
    writer = getattr(config, "_bddcucumberjson", None)
    if writer is None or isinstance(writer, _CucumberWithoutBanner):
        return
    config.pluginmanager.unregister(writer)
    quiet = _CucumberWithoutBanner(writer)
    config._bddcucumberjson = quiet  # type: ignore[attr-defined]  # pytest-bdd unregisters this one at the end
    config.pluginmanager.register(quiet)


def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    """Name each test's scenario in its JUnit properties, so the report can join it to the features."""
    for item in items:
        template = _scenario_template(item)
        if template is None:
            continue
        callspec = getattr(item, "callspec", None)
        example = callspec.params.get("_pytest_bdd_example", {}) if callspec else {}
        feature_file = Path(template.feature.filename).name
        item.user_properties += [
            ("scenario_key", scenario_key(feature_file, template.line_number, example.values())),
            ("tags", " ".join(sorted(template.tags | template.feature.tags))),
        ]


#: pytest's exit code when the preflight found missing calls (conform reports PREFLIGHT_FILE and exits 4).
PREFLIGHT_EXIT = 6
PREFLIGHT_FILE = "preflight.txt"


def pytest_collection_finish(session: pytest.Session) -> None:
    """Preflight (before any scenario): every call the selected scenarios need, probed on each
    target given by URL (the embedded mocks offer them all); one list of what is missing, then stop."""
    from collections import Counter

    from . import preflight

    features = Counter(Path(template.feature.filename).name for item in session.items
                       if (template := _scenario_template(item)) is not None)
    missing = {}
    minimal = given_credentials(session.config) is not None
    for service in (preflight.BRAZE, preflight.MIXPANEL):
        url = session.config.getoption(f"{service}_url")
        if url and features:
            found = preflight.missing_calls(url, service, features, minimal=minimal)
            if found:
                missing[f"{service} target {url}"] = found
    if missing:
        text = preflight.describe(missing, features)
        xmlpath = getattr(session.config.option, "xmlpath", None)
        if xmlpath:
            Path(xmlpath).with_name(PREFLIGHT_FILE).write_text(text + "\n", encoding="utf-8")
        pytest.exit(text, returncode=PREFLIGHT_EXIT)


def given_credentials(config: pytest.Config) -> GivenCredentials | None:
    """The Braze receiver's credentials from the command line, when a data import key was given."""
    key = config.getoption("data_import_key")
    if not key:
        return None
    return GivenCredentials(key, config.getoption("partner_api_key") or "", config.getoption("workspace_id"),
                            config.getoption("rest_api_key"))


def _scenario_template(item: pytest.Item) -> Any:
    function = getattr(item, "obj", None)
    return None if function is None else scenario_wrapper_template_registry.get(function)


@pytest.fixture(scope="session")
def conformance_targets(pytestconfig: pytest.Config,
                        record_testsuite_property: Any) -> Iterator[Targets]:
    """The two targets; whichever has no URL option is the embedded mock."""
    braze_url = pytestconfig.getoption("braze_url")
    mixpanel_url = pytestconfig.getoption("mixpanel_url")
    embedded = None
    if not (braze_url and mixpanel_url):
        from harness.embedded import EmbeddedMocks

        embedded = EmbeddedMocks().start()
        braze_target, mixpanel_target = braze_url or embedded.braze_url, mixpanel_url or embedded.mixpanel_url
    else:
        braze_target, mixpanel_target = braze_url, mixpanel_url
    targets = Targets.at(braze_target, mixpanel_target)
    record_testsuite_property("Braze target", targets.braze.base_url + ("" if braze_url else " (embedded mock)"))
    record_testsuite_property("Mixpanel target",
                              targets.mixpanel.base_url + ("" if mixpanel_url else " (embedded mock)"))
    pytestconfig.stash[TARGETS_KEY] = targets
    try:
        yield targets
    finally:
        targets.close()
        if embedded is not None:
            embedded.stop()


class CallCounter:
    """How many requests a scenario's steps send to each target through harness.clients; clock calls
    (timekeeping, not observing) do not count. ``freeze`` stops counting (the failure report's
    journal reads are the plugin's, not the scenario's)."""

    def __init__(self, targets: Targets):
        self.counts = dict.fromkeys(("braze", "mixpanel"), 0)
        self._clients = {"braze": targets.braze, "mixpanel": targets.mixpanel}
        self._listeners = {name: self._listener(name) for name in self._clients}
        for name, client in self._clients.items():
            client.listeners.append(self._listeners[name])

    def _listener(self, name: str) -> Callable[[str, str], None]:
        def count(method: str, path: str) -> None:
            if path != TIMEKEEPING:
                self.counts[name] += 1
        return count

    def freeze(self) -> None:
        for name, client in self._clients.items():
            if self._listeners[name] in client.listeners:
                client.listeners.remove(self._listeners[name])


COUNTER_KEY = pytest.StashKey[CallCounter]()


@pytest.fixture
def scenario_state(conformance_targets: Targets, request: pytest.FixtureRequest) -> Iterator[ScenarioState]:
    """A fresh scenario; each journal starts empty so "what Braze received" means in this scenario.

    It also counts the requests the scenario's steps send to each target (not the journal clearing
    here, the clock calls, the failure report's journal reads or the cleanup): the report calls a
    scenario that sent none to the one target judged by URL "not applicable" to it (docs/conformance.md)."""
    credentials = given_credentials(request.config)
    if credentials is None:  # a receiver judged through its credentials alone may keep no journal
        conformance_targets.braze.clear_journal()
    conformance_targets.mixpanel.clear_journal()
    counter = request.node.stash[COUNTER_KEY] = CallCounter(conformance_targets)
    fresh_state = ScenarioState(conformance_targets, credentials)
    try:
        yield fresh_state
    finally:
        counter.freeze()
        request.node.user_properties += [(f"{name}_calls", str(n)) for name, n in counter.counts.items()]
        fresh_state.cleanup()


def pytest_bdd_step_error(request: pytest.FixtureRequest, feature: Any, scenario: Any, step: Any,
                          step_func: Any, step_func_args: Any, exception: Exception) -> None:
    expected, observed = describe(exception)
    _record_failure(request, f"{step.keyword} {step.name}", expected, observed)


def pytest_bdd_step_func_lookup_error(request: pytest.FixtureRequest, feature: Any, scenario: Any, step: Any,
                                      exception: Exception) -> None:
    _record_failure(request, f"{step.keyword} {step.name}", "a step definition matching this step",
                    "undefined step")


def _record_failure(request: pytest.FixtureRequest, step: str, expected: str, observed: str) -> None:
    node = request.node
    node.user_properties += [("failed_step", step), ("expected", expected), ("observed", observed)]
    targets = request.config.stash.get(TARGETS_KEY, None)
    if targets is None:  # the failure came before any target was reached
        return
    counter = node.stash.get(COUNTER_KEY, None)
    if counter is not None:
        counter.freeze()
    limit = request.config.getoption("journal_entries")
    for name, client in (("braze", targets.braze), ("mixpanel", targets.mixpanel)):
        try:
            entries = client.journal(limit=limit)
        except Exception as exc:  # noqa: BLE001 - a report must still be written
            entries = [{"error": f"journal unavailable: {exc}"}]
        node.user_properties.append((f"{name}_requests", json.dumps([_short(e) for e in entries])))


def _short(entry: dict[str, Any]) -> dict[str, Any]:
    """A journal entry with long bodies cut, for the report."""
    short: dict[str, Any] = {k: entry.get(k) for k in ("at", "method", "path", "status") if k in entry}
    for key in ("request", "response"):
        if key in entry:
            text = json.dumps(entry[key], separators=(",", ":"))
            short[key] = entry[key] if len(text) <= BODY_CHARS else text[:BODY_CHARS - 3] + "..."
    return short
