"""Steps about the Braze side: workspace, data import keys, users, the partner endpoints called
directly, cohorts, segments, campaigns, Canvases and data points. Thin: each calls the Braze client
through the scenario's :class:`~harness.conformance.world.World` and checks one thing."""
from __future__ import annotations

import json

import requests
from pytest_bdd import parsers, step

from .checks import Mismatch, expect_equal, expect_same_items, expect_true
from .world import NAME_PATH, USERS_PATH, World, split_names, table_rows

NAME = r'"(?P<name>[^"]*)"'


# -- workspace and data import keys (SEED-2) -------------------------------------------------------
@step("a Braze workspace")
def _(world: World) -> None:
    world.ws  # noqa: B018 - creating it is the step


@step("a Braze workspace with a Mixpanel data import key")
def _(world: World) -> None:
    world.generate_import_key()


@step(parsers.re(r'(?:a|(?P<count>\d+)) data import keys? for "mixpanel" (?:is|are) generated in Braze'))
def _(world: World, count: str | None) -> None:
    for _ in range(int(count or 1)):
        world.generate_import_key()


@step('a new data import key for "mixpanel" is generated in Braze and given to the Mixpanel connection')
def _(world: World) -> None:
    key = world.generate_import_key()
    world.mixpanel.update_connection(world.pid, world.connection_id, data_import_key=key["key"])


@step(parsers.re(r"data import key (?P<number>\d+) is invalidated in Braze"))
def _(world: World, number: str) -> None:
    world.braze.invalidate_data_import_key(world.ws, world.import_key(int(number))["key"])


@step('the data import key is "active" and comes with a REST endpoint')
def _(world: World) -> None:
    key = world.import_key()
    expect_equal("the new key's status", key.get("status"), "active")
    expect_equal("the new key's partner", key.get("partner"), "mixpanel")
    endpoint = key.get("rest_endpoint") or ""
    expect_true("the REST endpoint given with the key", endpoint.startswith(("http://", "https://")),
                "an http(s) URL", endpoint)


@step('Braze names the partner "mixpanel" and its partner API key')
def _(world: World) -> None:
    partners = {p["name"]: p.get("partner_api_key") for p in world.braze.partners()}
    expect_true("the partners Braze knows", bool(partners.get("mixpanel")),
                "mixpanel with a partner API key", sorted(partners))


@step('an empty cohort users call to the REST endpoint with that key is answered 201 "success"')
def _(world: World) -> None:
    key = world.import_key()
    client = world.rest_endpoint_client(key)
    body = {"partner_api_key": world.partner_api_key(), "client_secret": key["key"], "cohort_id": world.run_id,
            "cohort_changes": []}
    reply = client.send("POST", USERS_PATH, json=body)
    expect_equal(f"the answer of POST {key['rest_endpoint']}{USERS_PATH}", (reply.status_code, _json(reply)),
                 (201, {"message": "success"}))


@step(parsers.re(r'Braze lists (?P<count>\d+) different data import keys, all "active"'))
def _(world: World, count: str) -> None:
    keys = world.braze.list_data_import_keys(world.ws)
    expect_equal("how many different keys Braze lists", len({k["key"] for k in keys}), int(count))
    expect_equal("their statuses", sorted({k["status"] for k in keys}), ["active"])


@step("Braze lists the data import keys with these statuses:")
def _(world: World, datatable: list[list[str]]) -> None:
    listed = {k["key"]: k["status"] for k in world.braze.list_data_import_keys(world.ws)}
    for row in table_rows(datatable):
        key = world.import_key(int(row["key"]))["key"]
        expect_equal(f"the status of data import key {row['key']}", listed.get(key), row["status"])


@step(parsers.re(r"an empty cohort users call with data import key (?P<number>\d+) is (?:answered|refused with) "
                 r'(?P<status>\d+) "(?P<message>[^"]*)"'))
def _(world: World, number: str, status: str, message: str) -> None:
    key = world.import_key(int(number))
    reply = world.braze.send("POST", USERS_PATH, json={
        "partner_api_key": world.partner_api_key(), "client_secret": key["key"], "cohort_id": world.run_id,
        "cohort_changes": []})
    expect_equal(f"the answer to an empty users call with data import key {number}",
                 (reply.status_code, _json(reply)), (int(status), {"message": message}))


@step("Braze accepted an empty cohort users call as the credentials check")
def _(world: World) -> None:
    checks = [e for e in world.partner_requests() if e["path"] == USERS_PATH
              and isinstance(e.get("request"), dict) and e["request"].get("cohort_changes") == []]
    expect_true("an empty users call answered 201", any(e["status"] == 201 for e in checks),
                "at least one", [(e["status"], e["request"]) for e in checks])


# -- users (SEED-6) --------------------------------------------------------------------------------
@step("Braze has these users:")
def _(world: World, datatable: list[list[str]]) -> None:
    world.create_braze_users(table_rows(datatable))


@step(parsers.re(r'in Braze the anonymous user on device "(?P<device_id>[^"]+)" is identified as '
                 r'"(?P<external_id>[^"]+)", which Braze reports as "(?P<outcome>[^"]+)"'))
def _(world: World, device_id: str, external_id: str, outcome: str) -> None:
    expect_equal(f"the outcome of changeUser({external_id!r}) on device {device_id!r}",
                 world.identify(device_id, external_id), outcome)


@step(parsers.re(r"Braze has exactly these users: (?P<names>.+)"))
def _(world: World, names: str) -> None:
    expect_same_items("the users of the workspace", world.labels_of(world.braze.users(world.ws)), split_names(names))


# -- the partner endpoints called directly (HOUSE-1, HOUSE-2, HOUSE-3) -----------------------------
@step(parsers.re(r"the partner posts this body to the cohort (?P<endpoint>users|name) endpoint: (?P<body>.+)"))
def _(world: World, endpoint: str, body: str) -> None:
    text = body.replace("PARTNER_KEY", world.partner_api_key()).replace("IMPORT_KEY", world.import_key()["key"])
    path = USERS_PATH if endpoint == "users" else NAME_PATH
    reply = world.braze.send("POST", path, data=text.encode(), headers={"Content-Type": "application/json"})
    world.reply = (reply.status_code, _json(reply))


@step(parsers.re(r"the partner adds (?P<user_ids>\d+) user_ids, (?P<device_ids>\d+) device_ids and "
                 r'(?P<aliases>\d+) aliases to cohort "(?P<cohort>[^"]+)" in one request'))
def _(world: World, user_ids: str, device_ids: str, aliases: str, cohort: str) -> None:
    change = {"user_ids": [f"user-{i}" for i in range(int(user_ids))],
              "device_ids": [f"device-{i}" for i in range(int(device_ids))],
              "aliases": [{"alias_name": f"alias-{i}", "alias_label": "mixpanel_id"} for i in range(int(aliases))]}
    world.reply = _partner_users(world, cohort, [change])


@step(parsers.re(r"the partner adds (?P<adds>\d+) user_ids and removes (?P<removes>\d+) other user_ids of "
                 r'cohort "(?P<cohort>[^"]+)" in one request'))
def _(world: World, adds: str, removes: str, cohort: str) -> None:
    """Two change objects in one request: the limit counts them together (HOUSE-2)."""
    world.reply = _partner_users(world, cohort, [{"user_ids": [f"add-{i}" for i in range(int(adds))]},
                                                 {"user_ids": [f"remove-{i}" for i in range(int(removes))],
                                                  "should_remove": True}])


@step(parsers.re(r'the partner adds (?P<count>\d+) user_ids to cohort "(?P<cohort>[^"]+)" with a wrong '
                 r"(?P<which>partner key|client secret)"))
def _(world: World, count: str, cohort: str, which: str) -> None:
    """Credentials are checked before the size (HOUSE-2's order): the 401 wins over the 400."""
    body = {"partner_api_key": "nope" if which == "partner key" else world.partner_api_key(),
            "client_secret": "nope" if which == "client secret" else world.import_key()["key"],
            "cohort_id": cohort, "cohort_changes": [{"user_ids": [f"user-{i}" for i in range(int(count))]}]}
    reply = world.braze.send("POST", USERS_PATH, json=body)
    world.reply = (reply.status_code, _json(reply))


@step(parsers.re(r'the partner (?P<operation>adds|removes) user_ids "(?P<names>[^"]+)" (?:to|from) '
                 r'cohort "(?P<cohort>[^"]+)"'))
def _(world: World, operation: str, names: str, cohort: str) -> None:
    change = {"user_ids": split_names(names), **({"should_remove": True} if operation == "removes" else {})}
    world.reply = _partner_users(world, cohort, [change])
    _expect_success(world, f"{operation} {names} to cohort {cohort}")


@step(parsers.re(r'the partner sends these changes to cohort "(?P<cohort>[^"]+)", one request each:'))
def _(world: World, cohort: str, datatable: list[list[str]]) -> None:
    for row in table_rows(datatable):
        change = {"user_ids": split_names(row["user_ids"]),
                  **({"should_remove": True} if row["operation"] == "remove" else {})}
        world.reply = _partner_users(world, cohort, [change])
        _expect_success(world, f"{row['operation']} {row['user_ids']}")


@step(parsers.re(r'the partner names the cohort "(?P<cohort>[^"]+)" "(?P<name>[^"]+)"'))
def _(world: World, cohort: str, name: str) -> None:
    reply = world.braze.send("POST", NAME_PATH, json={
        "partner_api_key": world.partner_api_key(), "client_secret": world.import_key()["key"],
        "cohort_id": cohort, "name": name, "created_at": world.mixpanel.get_clock()["now"]})
    world.reply = (reply.status_code, _json(reply))
    _expect_success(world, f"naming cohort {cohort}")


@step(parsers.re(r'Braze answers (?P<status>\d+) with the message "(?P<message>.*)"'))
def _(world: World, status: str, message: str) -> None:
    if world.reply is None:
        raise Mismatch("Braze's answer", "a reply kept by an earlier step", "no request was sent")
    got_status, body = world.reply
    got_message = body.get("message") if isinstance(body, dict) else body
    expect_equal("Braze's answer (status, message)", (got_status, got_message), (int(status), message))


@step(parsers.re(r'Braze shows the cohort "(?P<cohort>[^"]+)" named "(?P<name>[^"]+)" with exactly these '
                 r"members: (?P<names>.+)"))
def _(world: World, cohort: str, name: str, names: str) -> None:
    entry = world.braze_cohort(cohort)
    expect_equal(f"the name of Braze cohort {cohort}", entry and entry["name"], name)
    members = world.braze.cohort_members(world.ws, cohort)
    expect_same_items(f"the members of Braze cohort {cohort}", world.labels_of(members), split_names(names))


def _partner_users(world: World, cohort: str, changes: list[dict]) -> tuple[int, object]:
    reply = world.braze.send("POST", USERS_PATH, json={
        "partner_api_key": world.partner_api_key(), "client_secret": world.import_key()["key"],
        "cohort_id": cohort, "cohort_changes": changes})
    return reply.status_code, _json(reply)


def _expect_success(world: World, what: str) -> None:
    expect_equal(f"Braze's answer to the partner call ({what})", world.reply, (201, {"message": "success"}))


def _json(reply: requests.Response) -> object:
    try:
        return reply.json()
    except ValueError:
        return reply.text


# -- the cohort an export produced -----------------------------------------------------------------
@step(parsers.re(rf"the Braze cohort {NAME} has (?:exactly these members: (?P<names>.+)|no members)"))
def _(world: World, name: str, names: str | None) -> None:
    members = world.braze.cohort_members(world.ws, world.braze_cohort_id(name))
    expect_same_items(f"the members of the Braze cohort {name!r}", world.labels_of(members),
                      split_names(names or ""))


@step(parsers.re(rf"the Braze match log of {NAME} shows:"))
def _(world: World, name: str, datatable: list[list[str]]) -> None:
    entries = world.braze.match_log(world.ws, world.braze_cohort_id(name))
    observed = [{"identifier": e["identifier"], "kind": e["kind"], "outcome": e["outcome"]} for e in entries]
    expect_same_items(f"the match log of {name!r}", observed, table_rows(datatable))


@step(parsers.re(rf"Braze shows the cohort as {NAME}"))
def _(world: World, name: str) -> None:
    cohort_id = world.exported_braze_cohort_id()
    entry = world.braze_cohort(cohort_id) if cohort_id is not None else None
    if entry is None:
        raise Mismatch("the exported cohort in Braze", f"a cohort named {name!r}",
                       [c["name"] for c in world.braze.cohorts(world.ws)])
    expect_equal(f"the name Braze shows for cohort {cohort_id}", entry["name"], name)


# -- segments, campaigns, Canvases (SEED-5) --------------------------------------------------------
@step(parsers.re(rf"a Braze segment {NAME} is saved with the filter Mixpanel_Cohorts "
                 r'(?P<operator>includes|excludes) "(?P<cohort>[^"]+)"'))
def _(world: World, name: str, operator: str, cohort: str) -> None:
    world.segments[name] = world.braze.create_segment(world.ws, name, world.braze_cohort_id(cohort),
                                                      f"{operator}_value")


@step(parsers.re(rf"the segment {NAME} has exactly these users: (?P<names>.+)"))
def _(world: World, name: str, names: str) -> None:
    users = world.braze.segment_users(world.ws, world.segments[name])
    expect_same_items(f"the users of segment {name!r}", world.labels_of(users), split_names(names))


@step(parsers.re(rf"an? (?P<kind>campaign|Canvas) {NAME} is created in Braze targeting the segment "
                 r'"(?P<segment>[^"]+)"'))
def _(world: World, kind: str, name: str, segment: str) -> None:
    create = world.braze.create_campaign if kind == "campaign" else world.braze.create_canvas
    world.audiences[(kind, name)] = create(world.ws, name, world.segments[segment])


@step(parsers.re(rf"the audience of the (?P<kind>campaign|Canvas) {NAME} is exactly: (?P<names>.+)"))
def _(world: World, kind: str, name: str, names: str) -> None:
    read = world.braze.campaign_audience if kind == "campaign" else world.braze.canvas_audience
    audience = read(world.ws, world.audiences[(kind, name)])
    expected = split_names(names)
    expect_same_items(f"the audience of {kind} {name!r}", world.labels_of(audience["users"]), expected)
    expect_equal(f"the audience count of {kind} {name!r}", audience.get("count"), len(expected))


# -- data points (SEED-1.1, HOUSE-4) ---------------------------------------------------------------
@step(parsers.re(r'the workspace has (?P<count>\d+) data point\(s\) from "(?P<source>[^"]+)"'))
def _(world: World, count: str, source: str) -> None:
    points = world.braze.data_points(world.ws)
    expect_equal(f"data points from {source}", points.get("by_source", {}).get(source, 0), int(count))


@step("the workspace's total data points include those of the cohort import")
def _(world: World) -> None:
    points = world.braze.data_points(world.ws)
    by_source = points.get("by_source", {})
    expect_true("the workspace total", points.get("total") == sum(by_source.values())
                and by_source.get("cohort_import:mixpanel", 0) > 0,
                "the sum of every source, cohort import included", json.dumps(points))
