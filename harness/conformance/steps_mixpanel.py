"""Steps about the Mixpanel side: the project, profiles, imported events and retention, cohorts, and
the Braze connection. Thin: each calls the Mixpanel client through the scenario's ScenarioState."""
from __future__ import annotations

from datetime import datetime, timezone

from pytest_bdd import parsers, step

from harness.clients import HarnessHTTPError

from .checks import Mismatch, expect_equal, expect_same_items, expect_true
from .scenario_state import ScenarioState, split_names, table_rows

#: Profile columns that are not properties.
DISTINCT_ID = "distinct_id"


# -- project, connection (SEED-3) ------------------------------------------------------------------
@step("a Mixpanel project")
def _(scenario_state: ScenarioState) -> None:
    scenario_state.new_project()


@step(parsers.re(r"a Mixpanel project with a rolling retention of (?P<days>\d+) days"))
def _(scenario_state: ScenarioState, days: str) -> None:
    scenario_state.new_project(retention_days=int(days))


@step("the Mixpanel project is connected to the Braze workspace")
def _(scenario_state: ScenarioState) -> None:
    scenario_state.connect()


@step("the Mixpanel project is connected to the Braze workspace with these identifier mappings:")
def _(scenario_state: ScenarioState, datatable: list[list[str]]) -> None:
    scenario_state.connect(None, **{row["setting"]: row["value"] for row in table_rows(datatable)})


@step(parsers.re(r"the Mixpanel project is connected to the Braze workspace with data import key (?P<number>\d+), "
                 r'named "(?P<name>[^"]+)"'))
def _(scenario_state: ScenarioState, number: str, name: str) -> None:
    scenario_state.connect(scenario_state.import_key(int(number)), name=name)


@step("the Mixpanel project tries to connect to the Braze workspace")
def _(scenario_state: ScenarioState) -> None:
    try:
        scenario_state.connect()
    except HarnessHTTPError as exc:
        scenario_state.error = exc


@step("Mixpanel saved the connection")
def _(scenario_state: ScenarioState) -> None:
    expect_true("the connection id Mixpanel answered", scenario_state.connections[-1] not in (None, ""),
                "an id", scenario_state.connections[-1])


@step(parsers.re(r"Mixpanel saved (?P<count>\d+) different connections"))
def _(scenario_state: ScenarioState, count: str) -> None:
    expect_equal("different connection ids", len(set(map(str, scenario_state.connections))), int(count))


@step(parsers.re(r'Mixpanel refuses the connection with a message containing "(?P<text>[^"]+)"'))
def _(scenario_state: ScenarioState, text: str) -> None:
    if scenario_state.error is None:
        raise Mismatch("connecting with that key", f"a refusal mentioning {text!r}",
                       f"connection {scenario_state.connections[-1]!r} saved")
    expect_true("Mixpanel's refusal", text in scenario_state.error.message and 400 <= scenario_state.error.status < 500,
                f"a 4xx whose message contains {text!r}", f"{scenario_state.error.status} {scenario_state.error.message!r}")


# -- profiles --------------------------------------------------------------------------------------
@step("Mixpanel has these profiles:")
def _(scenario_state: ScenarioState, datatable: list[list[str]]) -> None:
    profiles = []
    for row in table_rows(datatable):
        properties = {k: v for k, v in row.items() if k != DISTINCT_ID and v != ""}
        profiles.append((row[DISTINCT_ID], properties))
    scenario_state.set_profiles(profiles)


@step(parsers.re(r'Mixpanel has (?P<count>\d+) more profiles on plan "(?P<plan>[^"]+)", each with a Braze '
                 r"external id"))
def _(scenario_state: ScenarioState, count: str, plan: str) -> None:
    scenario_state.set_profiles([(f"{plan}-{i:05d}", {"$braze_external_id": f"{plan}-{i:05d}", "plan": plan})
                        for i in range(int(count))])


@step(parsers.re(r"(?P<who>[\w-]+)'s (?P<prop>[\w$-]+) becomes \"(?P<value>[^\"]*)\""))
def _(scenario_state: ScenarioState, who: str, prop: str, value: str) -> None:
    scenario_state.set_profiles([(who, {prop: value})])


# -- events and retention (SEED-1.2, HOUSE-5) ------------------------------------------------------
@step("these events are imported into Mixpanel:")
def _(scenario_state: ScenarioState, datatable: list[list[str]]) -> None:
    events = [scenario_state.new_event(row["event"], row["distinct_id"], scenario_state.event_time(row["time"]))
              for row in table_rows(datatable)]
    scenario_state.import_events(events)
    if scenario_state.error is not None:
        raise Mismatch("importing the events", "every event accepted", scenario_state.import_reply)


@step(parsers.re(r'an event "(?P<event>[^"]+)" of "(?P<who>[^"]+)" timed (?P<time>\d+) \((?P<instant>[^)]+)\) '
                 r"is imported into Mixpanel"))
def _(scenario_state: ScenarioState, event: str, who: str, time: str, instant: str) -> None:
    _check_example(int(time), instant)
    scenario_state.import_events([scenario_state.new_event(event, who, int(time))])


def _check_example(time: int, instant: str) -> None:
    """The feature file gives each raw time with its instant: a typo there must not pass unnoticed."""
    seconds = time / 1000 if time > 10**11 else time
    written = datetime.fromtimestamp(seconds, timezone.utc)
    stated = datetime.fromisoformat(instant.replace("Z", "+00:00"))
    if written != stated:
        raise ValueError(f"the scenario's time {time} is {written.isoformat()}, not {instant}")


@step(parsers.re(r"Mixpanel reports (?P<count>\d+) record\(s\) imported"))
def _(scenario_state: ScenarioState, count: str) -> None:
    reply = scenario_state.import_reply or {}
    expect_equal("num_records_imported of the /import reply", reply.get("num_records_imported"), int(count))
    expect_equal("the status of the /import reply", reply.get("code"), 200)


@step(parsers.re(r"Mixpanel refuses the import with status (?P<status>\d+) and (?P<count>\d+) failed record\(s\)"))
def _(scenario_state: ScenarioState, status: str, count: str) -> None:
    reply = scenario_state.import_reply or {}
    expect_equal("the status of the /import reply", reply.get("code"), int(status))
    expect_equal("failed_records of the /import reply", len(reply.get("failed_records") or []), int(count))


@step(parsers.re(r"the Mixpanel project has stored (?P<count>\d+) event\(s\)"))
def _(scenario_state: ScenarioState, count: str) -> None:
    expect_equal("events_stored", scenario_state.mixpanel.stats(scenario_state.pid)["events_stored"], int(count))


@step(parsers.re(r"the Mixpanel project counts (?P<count>\d+) event\(s\) removed by retention"))
def _(scenario_state: ScenarioState, count: str) -> None:
    expect_equal("events_removed_by_retention", scenario_state.mixpanel.stats(scenario_state.pid)["events_removed_by_retention"],
                 int(count))


# -- cohorts ---------------------------------------------------------------------------------------
@step(parsers.re(r'a Mixpanel cohort "(?P<name>[^"]+)" of profiles whose "(?P<prop>[^"]+)" is "(?P<value>[^"]*)"'))
def _(scenario_state: ScenarioState, name: str, prop: str, value: str) -> None:
    scenario_state.create_cohort(name, {"property": prop, "equals": value})


@step(parsers.re(r'a Mixpanel cohort "(?P<name>[^"]+)" of users who did "(?P<event>[^"]+)" at least once'
                 r"(?: in the last (?P<days>\d+) days)?"))
def _(scenario_state: ScenarioState, name: str, event: str, days: str | None) -> None:
    definition = {"event": event, "at_least": 1, **({"within_days": int(days)} if days else {})}
    scenario_state.create_cohort(name, definition)


@step(parsers.re(r'the Mixpanel cohort "(?P<old>[^"]+)" is renamed "(?P<new>[^"]+)"'))
def _(scenario_state: ScenarioState, old: str, new: str) -> None:
    scenario_state.rename_cohort(old, new)


@step(parsers.re(r'the Mixpanel cohort "(?P<name>[^"]+)" has (?:exactly these members: (?P<names>.+)|no members)'))
def _(scenario_state: ScenarioState, name: str, names: str | None) -> None:
    members = scenario_state.mixpanel.cohort_members(scenario_state.pid, scenario_state.cohort_id(name))
    expect_same_items(f"the members of Mixpanel cohort {name!r}", members, split_names(names or ""))


@step(parsers.re(r'the connection\'s (?P<field>alias_label|alias_property|device_id_property) becomes "(?P<value>[^"]+)"'))
def _(scenario_state: ScenarioState, field: str, value: str) -> None:
    scenario_state.mixpanel.update_connection(scenario_state.pid, scenario_state.connection_id, **{field: value})
