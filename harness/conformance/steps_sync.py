"""Steps about exports and their syncs: exporting, the clock, each sync's record, what Braze received
(read from Braze's journal), and faults set on Braze. Time moves only through the control plane."""
from __future__ import annotations

from datetime import timedelta
from typing import Any

from pytest_bdd import parsers, step

from mocks.common.clock import parse_instant

from harness.clients import HarnessHTTPError

from .checks import Mismatch, expect_equal, expect_same_items, expect_true
from .scenario_state import NAME_PATH, USERS_PATH, ScenarioState, clock_duration, identifiers_in, parse_span, split_names, table_rows

MAX_IDENTIFIERS = 1000
SPAN = r"(?P<span>\d+ (?:second|minute|hour|day)s?(?:,? (?:and )?\d+ (?:second|minute|hour|day)s?)*)"
ENDPOINTS = {"cohort name": NAME_PATH, "cohort users": USERS_PATH}


# -- exporting (SEED-4) ----------------------------------------------------------------------------
@step(parsers.re(r'the cohort "(?P<cohort>[^"]+)" is exported to Braze as a (?P<mode>one-time|dynamic) export'))
def _(scenario_state: ScenarioState, cohort: str, mode: str) -> None:
    scenario_state.export(cohort, mode.replace("-", "_"))


@step(parsers.re(r"the export is (?P<action>stopped|resumed|run now)"))
def _(scenario_state: ScenarioState, action: str) -> None:
    pid, export_id = scenario_state.pid, scenario_state.last_export["export_id"]
    if action == "stopped":
        scenario_state.mixpanel.stop_export(pid, export_id)
    elif action == "resumed":
        scenario_state.syncs_before_resume = scenario_state.sync_count()
        scenario_state.mixpanel.resume_export(pid, export_id)
    else:
        scenario_state.mixpanel.run_export(pid, export_id)


@step(parsers.re(r'(?P<count>\d+) cohorts "(?P<prefix>[^"]+) 1" to "(?P=prefix) (?P=count)" of profiles whose '
                 r'"(?P<prop>[^"]+)" is "(?P<value>[^"]*)", each exported to Braze as a dynamic export'))
def _(scenario_state: ScenarioState, count: str, prefix: str, prop: str, value: str) -> None:
    for number in range(1, int(count) + 1):
        scenario_state.create_cohort(f"{prefix} {number}", {"property": prop, "equals": value})
        scenario_state.export(f"{prefix} {number}", "dynamic")


@step(parsers.re(r'Mixpanel is asked to export the cohort "(?P<cohort>[^"]+)" to Braze as a dynamic export'))
def _(scenario_state: ScenarioState, cohort: str) -> None:
    try:
        scenario_state.export(cohort, "dynamic")
    except HarnessHTTPError as exc:
        scenario_state.error = exc
    else:
        scenario_state.error = None


@step("Mixpanel refuses it with a 4xx status")
def _(scenario_state: ScenarioState) -> None:
    if scenario_state.error is None:
        raise Mismatch("the extra export", "a 4xx refusal", f"export {scenario_state.last_export['export_id']} created")
    expect_true("the refusal's status", 400 <= scenario_state.error.status < 500, "4xx",
                f"{scenario_state.error.status} {scenario_state.error.message}")


@step(parsers.re(r"the project has (?P<count>\d+) dynamic exports"))
def _(scenario_state: ScenarioState, count: str) -> None:
    exports = scenario_state.mixpanel.list_exports(scenario_state.pid)
    dynamic = [e for e in exports if e.get("mode") == "dynamic"]
    expect_equal("dynamic exports of the project", len(dynamic), int(count))


# -- the clock -------------------------------------------------------------------------------------
@step(parsers.re(rf"{SPAN} pass(?:es)?"))
def _(scenario_state: ScenarioState, span: str) -> None:
    scenario_state.advance(parse_span(span))


# -- the export's state and its syncs (HOUSE-7, HOUSE-8) -------------------------------------------
@step(parsers.re(r'the export\'s status is "(?P<status>[^"]+)"'))
def _(scenario_state: ScenarioState, status: str) -> None:
    state = scenario_state.export_state()
    expect_equal("the export's status", state["status"], status)


@step(parsers.re(r'the export\'s error contains "(?P<text>[^"]+)"'))
def _(scenario_state: ScenarioState, text: str) -> None:
    error = scenario_state.export_state().get("error") or ""
    expect_true("the export's error", text in error, f"a message containing {text!r}", error)


@step(parsers.re(r"the export's next sync is (?P<minutes>\d+) minutes after it was created"))
def _(scenario_state: ScenarioState, minutes: str) -> None:
    next_sync = scenario_state.export_state().get("next_sync_at")
    observed = next_sync and clock_duration(parse_instant(next_sync) - scenario_state.last_export["created_at"])
    expect_equal("next_sync_at, after the export's creation", observed, clock_duration(timedelta(minutes=int(minutes))))


@step(parsers.re(r"the export has run (?P<count>\d+) sync\(s\)"))
def _(scenario_state: ScenarioState, count: str) -> None:
    expect_equal("syncs the export has run", scenario_state.sync_count(), int(count))


@step(parsers.re(r"the export has synced at these times after its creation: (?P<offsets>.+)"))
def _(scenario_state: ScenarioState, offsets: str) -> None:
    observed = [clock_duration(o) for o in scenario_state.sync_offsets()]
    expected = [clock_duration(parse_span(o)) for o in split_names(offsets)]
    expect_equal("when each sync was scheduled, after the export's creation", observed, expected)


@step(parsers.re(r"the (?P<which>last sync of the export|first sync after the export was resumed) sent these "
                 r"changes:"))
def _(scenario_state: ScenarioState, which: str, datatable: list[list[str]]) -> None:
    sync = _sync(scenario_state, which)
    observed = [{"distinct_id": op["distinct_id"], "identifier": op["identifier"], "operation": op["operation"]}
                for op in sync.get("operations", []) if op["operation"] in ("add", "remove")]
    expect_same_items(f"the changes the {which} sent", observed, table_rows(datatable))


def _sync(scenario_state: ScenarioState, which: str) -> dict:
    syncs = scenario_state.syncs()
    if which.startswith("first sync after"):
        index = scenario_state.syncs_before_resume - (scenario_state.sync_count() - len(syncs))
        if not 0 <= index < len(syncs):
            raise Mismatch("syncs after the resume", "at least one", f"{len(syncs) - max(index, 0)}")
        return syncs[index]
    if not syncs:
        raise Mismatch("the export's syncs", "at least one", "none")
    return syncs[-1]


@step(parsers.re(r"the last sync of the export skipped (?P<count>\d+) member\(s\)"))
def _(scenario_state: ScenarioState, count: str) -> None:
    expect_equal("members the last sync skipped", _count(_sync(scenario_state, "last")["skipped"]), int(count))


@step(parsers.re(r"the last sync of the export made (?P<count>\d+) request\(s\) to Braze"))
def _(scenario_state: ScenarioState, count: str) -> None:
    expect_equal("requests the last sync made", _count(_sync(scenario_state, "last")["requests"]), int(count))


@step(parsers.re(r"the last sync of the export (?P<result>succeeded|failed)"))
def _(scenario_state: ScenarioState, result: str) -> None:
    sync = _sync(scenario_state, "last")
    expect_equal("the result of the last sync", sync["result"], "success" if result == "succeeded" else "failed")


@step(parsers.re(r"the last sync of the export waited (?P<waits>.+) seconds? before its retries"))
def _(scenario_state: ScenarioState, waits: str) -> None:
    """The sync record's ``retries`` (one entry per failed try, ``wait_s`` null when it gave up)
    are the exporter's account of its backoff, measured on its own clock (HOUSE-9)."""
    retries = _sync(scenario_state, "last").get("retries")
    observed = [("gave up" if r.get("wait_s") is None else _seconds(r["wait_s"])) for r in retries or []]
    expect_equal("the waits before each retry of the last sync", observed, split_names(waits))


def _seconds(value: float) -> str:
    return f"{value:g}"


def _count(value: object) -> int:
    """A count the record gives as a number, or as the list of what it counts."""
    return len(value) if isinstance(value, list) else int(str(value))


@step(parsers.re(r"the sync at (?P<offset>\S+) after creation (?P<operation>added|removed): (?P<names>.+)"))
def _(scenario_state: ScenarioState, offset: str, operation: str, names: str) -> None:
    sync = scenario_state.sync_at(parse_span(offset))
    wanted = "add" if operation == "added" else "remove"
    observed = [op["distinct_id"] for op in sync.get("operations", []) if op["operation"] in ("add", "remove")]
    expect_same_items(f"what the sync at {offset} changed (all {wanted}s)", observed, split_names(names))
    expect_true(f"the operation of the sync at {offset}",
                all(op["operation"] == wanted for op in sync.get("operations", []) if op["operation"] != "no-op"),
                wanted, [op["operation"] for op in sync.get("operations", [])])


@step(parsers.re(r"the syncs? at (?P<offsets>.+) after creation made no change"))
def _(scenario_state: ScenarioState, offsets: str) -> None:
    for offset in split_names(offsets):
        sync = scenario_state.sync_at(parse_span(offset))
        changed = [op for op in sync.get("operations", []) if op["operation"] in ("add", "remove")]
        expect_equal(f"the changes of the sync at {offset}", changed, [])
        expect_equal(f"users requests of the sync at {offset}", _count(sync["requests"]), 0)


# -- what Braze received (its journal) -------------------------------------------------------------
@step(parsers.re(r"(?P<since>since the rename )?Braze received these partner requests for the cohort, in this "
                 r"order:"))
def _(scenario_state: ScenarioState, since: str | None, datatable: list[list[str]]) -> None:
    cohort_id = scenario_state.exported_braze_cohort_id()
    entries = scenario_state.partner_requests(cohort_id, since=scenario_state.journal_mark if since else 0)
    paths = {path: name for name, path in ENDPOINTS.items()}
    expect_equal("the partner requests Braze received for the cohort", [paths[e["path"]] for e in entries],
                 [row["endpoint"] for row in table_rows(datatable)])


@step(parsers.re(r'Braze received (?P<count>\d+) cohort users request\(s\) for "(?P<cohort>[^"]+)"'))
def _(scenario_state: ScenarioState, count: str, cohort: str) -> None:
    entries = scenario_state.users_requests(scenario_state.braze_cohort_id(cohort))
    expect_equal(f"users requests Braze received for {cohort!r}", len(entries), int(count))


@step("no cohort users request to Braze carried more than 1,000 identifiers")
def _(scenario_state: ScenarioState) -> None:
    sizes = [len(identifiers_in(e["request"].get("cohort_changes"))) for e in scenario_state.users_requests()
             if isinstance(e.get("request"), dict)]
    expect_true("identifiers per users request", all(size <= MAX_IDENTIFIERS for size in sizes),
                f"at most {MAX_IDENTIFIERS} each", sizes)


@step(parsers.re(r"Braze received (?P<count>\d+) distinct identifiers as adds"))
def _(scenario_state: ScenarioState, count: str) -> None:
    added = {ident for e in scenario_state.users_requests() if isinstance(e.get("request"), dict)
             for _, ident, remove in identifiers_in(e["request"].get("cohort_changes")) if not remove}
    expect_equal("distinct identifiers Braze received as adds", len(added), int(count))


@step(parsers.re(r'Braze never received the identifier "(?P<identifier>[^"]+)"'))
def _(scenario_state: ScenarioState, identifier: str) -> None:
    seen = [e["request"] for e in scenario_state.users_requests() if isinstance(e.get("request"), dict)
            and any(ident == identifier for _, ident, _ in identifiers_in(e["request"].get("cohort_changes")))]
    expect_equal(f"users requests carrying {identifier!r}", seen, [])


@step(parsers.re(r'Braze received "(?P<identifier>[^"]+)" in the "(?P<field>[^"]+)" of a cohort users request'))
def _(scenario_state: ScenarioState, identifier: str, field: str) -> None:
    found = [(f, ident) for e in scenario_state.users_requests() if isinstance(e.get("request"), dict)
             for f, ident, _ in identifiers_in(e["request"].get("cohort_changes")) if ident == identifier]
    expect_equal(f"where {identifier!r} was sent", found, [(field, identifier)])


@step(parsers.re(r'Braze answered the cohort users requests for "(?P<cohort>[^"]+)" with: (?P<statuses>.+)'))
def _(scenario_state: ScenarioState, cohort: str, statuses: str) -> None:
    entries = scenario_state.users_requests(scenario_state.braze_cohort_id(cohort))
    expect_equal(f"Braze's answers to the users requests for {cohort!r}", [str(e["status"]) for e in entries],
                 split_names(statuses))


@step(parsers.re(r'Braze accepted "(?P<identifier>[^"]+)" as an add exactly once'))
def _(scenario_state: ScenarioState, identifier: str) -> None:
    accepted = [e for e in scenario_state.users_requests() if e["status"] == 201 and isinstance(e.get("request"), dict)
                and any(ident == identifier and not remove
                        for _, ident, remove in identifiers_in(e["request"].get("cohort_changes")))]
    expect_equal(f"accepted users requests adding {identifier!r}", len(accepted), 1)


# -- faults on Braze (HOUSE-9) ---------------------------------------------------------------------
@step(parsers.re(r"Braze answers the next (?P<times>\d+) cohort users requests? with (?P<status>\d+)"
                 r'(?: and the header "(?P<header>[^:"]+): (?P<value>[^"]*)")?'
                 r'(?: and the message "(?P<message>[^"]*)")?'))
def _(scenario_state: ScenarioState, times: str, status: str, header: str | None, value: str | None, message: str | None) -> None:
    rule: dict[str, Any] = {"status": int(status), "times": int(times)}
    if header:
        rule["headers"] = {header: value}
    if message:
        rule["body"] = {"message": message}
    scenario_state.add_users_fault(**rule)


@step(parsers.re(r"Braze drops the connection of the next (?P<times>\d+) cohort users request\(s\)"))
def _(scenario_state: ScenarioState, times: str) -> None:
    scenario_state.add_users_fault(drop_connection=True, times=int(times))

