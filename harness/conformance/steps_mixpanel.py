"""Steps about the Mixpanel side: the project, profiles, imported events and retention, cohorts, and
the Braze connection. Thin: each calls the Mixpanel client through the scenario's World."""
from __future__ import annotations

from datetime import datetime, timezone

from pytest_bdd import parsers, step

from harness.clients import HarnessHTTPError

from .checks import Mismatch, expect_equal, expect_same_items, expect_true
from .world import World, split_names, table_rows

#: Profile columns that are not properties.
DISTINCT_ID = "distinct_id"


# -- project, connection (SEED-3) ------------------------------------------------------------------
@step("a Mixpanel project")
def _(world: World) -> None:
    world.new_project()


@step(parsers.re(r"a Mixpanel project with a rolling retention of (?P<days>\d+) days"))
def _(world: World, days: str) -> None:
    world.new_project(retention_days=int(days))


@step("the Mixpanel project is connected to the Braze workspace")
def _(world: World) -> None:
    world.connect()


@step("the Mixpanel project is connected to the Braze workspace with these identifier mappings:")
def _(world: World, datatable: list[list[str]]) -> None:
    world.connect(None, **{row["setting"]: row["value"] for row in table_rows(datatable)})


@step(parsers.re(r"the Mixpanel project is connected to the Braze workspace with data import key (?P<number>\d+), "
                 r'named "(?P<name>[^"]+)"'))
def _(world: World, number: str, name: str) -> None:
    world.connect(world.import_key(int(number)), name=name)


@step("the Mixpanel project tries to connect to the Braze workspace")
def _(world: World) -> None:
    try:
        world.connect()
    except HarnessHTTPError as exc:
        world.error = exc


@step("Mixpanel saved the connection")
def _(world: World) -> None:
    expect_true("the connection id Mixpanel answered", world.connections[-1] not in (None, ""),
                "an id", world.connections[-1])


@step(parsers.re(r"Mixpanel saved (?P<count>\d+) different connections"))
def _(world: World, count: str) -> None:
    expect_equal("different connection ids", len(set(map(str, world.connections))), int(count))


@step(parsers.re(r'Mixpanel refuses the connection with a message containing "(?P<text>[^"]+)"'))
def _(world: World, text: str) -> None:
    if world.error is None:
        raise Mismatch("connecting with that key", f"a refusal mentioning {text!r}",
                       f"connection {world.connections[-1]!r} saved")
    expect_true("Mixpanel's refusal", text in world.error.message and 400 <= world.error.status < 500,
                f"a 4xx whose message contains {text!r}", f"{world.error.status} {world.error.message!r}")


# -- profiles --------------------------------------------------------------------------------------
@step("Mixpanel has these profiles:")
def _(world: World, datatable: list[list[str]]) -> None:
    profiles = []
    for row in table_rows(datatable):
        properties = {k: v for k, v in row.items() if k != DISTINCT_ID and v != ""}
        profiles.append((row[DISTINCT_ID], properties))
    world.set_profiles(profiles)


@step(parsers.re(r'Mixpanel has (?P<count>\d+) more profiles on plan "(?P<plan>[^"]+)", each with a Braze '
                 r"external id"))
def _(world: World, count: str, plan: str) -> None:
    world.set_profiles([(f"{plan}-{i:05d}", {"$braze_external_id": f"{plan}-{i:05d}", "plan": plan})
                        for i in range(int(count))])


@step(parsers.re(r"(?P<who>[\w-]+)'s (?P<prop>[\w$-]+) becomes \"(?P<value>[^\"]*)\""))
def _(world: World, who: str, prop: str, value: str) -> None:
    world.set_profiles([(who, {prop: value})])


# -- events and retention (SEED-1.2, HOUSE-5) ------------------------------------------------------
@step("these events are imported into Mixpanel:")
def _(world: World, datatable: list[list[str]]) -> None:
    events = [world.new_event(row["event"], row["distinct_id"], world.event_time(row["time"]))
              for row in table_rows(datatable)]
    world.import_events(events)
    if world.error is not None:
        raise Mismatch("importing the events", "every event accepted", world.import_reply)


@step(parsers.re(r'an event "(?P<event>[^"]+)" of "(?P<who>[^"]+)" timed (?P<time>\d+) \((?P<instant>[^)]+)\) '
                 r"is imported into Mixpanel"))
def _(world: World, event: str, who: str, time: str, instant: str) -> None:
    _check_example(int(time), instant)
    world.import_events([world.new_event(event, who, int(time))])


def _check_example(time: int, instant: str) -> None:
    """The feature file gives each raw time with its instant: a typo there must not pass unnoticed."""
    seconds = time / 1000 if time > 10**11 else time
    written = datetime.fromtimestamp(seconds, timezone.utc)
    stated = datetime.fromisoformat(instant.replace("Z", "+00:00"))
    if written != stated:
        raise ValueError(f"the scenario's time {time} is {written.isoformat()}, not {instant}")


@step(parsers.re(r"Mixpanel reports (?P<count>\d+) record\(s\) imported"))
def _(world: World, count: str) -> None:
    reply = world.import_reply or {}
    expect_equal("num_records_imported of the /import reply", reply.get("num_records_imported"), int(count))
    expect_equal("the status of the /import reply", reply.get("code"), 200)


@step(parsers.re(r"Mixpanel refuses the import with status (?P<status>\d+) and (?P<count>\d+) failed record\(s\)"))
def _(world: World, status: str, count: str) -> None:
    reply = world.import_reply or {}
    expect_equal("the status of the /import reply", reply.get("code"), int(status))
    expect_equal("failed_records of the /import reply", len(reply.get("failed_records") or []), int(count))


@step(parsers.re(r"the Mixpanel project has stored (?P<count>\d+) event\(s\)"))
def _(world: World, count: str) -> None:
    expect_equal("events_stored", world.mixpanel.stats(world.pid)["events_stored"], int(count))


@step(parsers.re(r"the Mixpanel project counts (?P<count>\d+) event\(s\) removed by retention"))
def _(world: World, count: str) -> None:
    expect_equal("events_removed_by_retention", world.mixpanel.stats(world.pid)["events_removed_by_retention"],
                 int(count))


# -- cohorts ---------------------------------------------------------------------------------------
@step(parsers.re(r'a Mixpanel cohort "(?P<name>[^"]+)" of profiles whose "(?P<prop>[^"]+)" is "(?P<value>[^"]*)"'))
def _(world: World, name: str, prop: str, value: str) -> None:
    world.create_cohort(name, {"property": prop, "equals": value})


@step(parsers.re(r'a Mixpanel cohort "(?P<name>[^"]+)" of users who did "(?P<event>[^"]+)" at least once'
                 r"(?: in the last (?P<days>\d+) days)?"))
def _(world: World, name: str, event: str, days: str | None) -> None:
    definition = {"event": event, "at_least": 1, **({"within_days": int(days)} if days else {})}
    world.create_cohort(name, definition)


@step(parsers.re(r'the Mixpanel cohort "(?P<old>[^"]+)" is renamed "(?P<new>[^"]+)"'))
def _(world: World, old: str, new: str) -> None:
    world.rename_cohort(old, new)


@step(parsers.re(r'the Mixpanel cohort "(?P<name>[^"]+)" has (?:exactly these members: (?P<names>.+)|no members)'))
def _(world: World, name: str, names: str | None) -> None:
    members = world.mixpanel.cohort_members(world.pid, world.cohort_id(name))
    expect_same_items(f"the members of Mixpanel cohort {name!r}", members, split_names(names or ""))


@step(parsers.re(r'the connection\'s (?P<field>alias_label|alias_property|device_id_property) becomes "(?P<value>[^"]+)"'))
def _(world: World, field: str, value: str) -> None:
    world.mixpanel.update_connection(world.pid, world.connection_id, **{field: value})
