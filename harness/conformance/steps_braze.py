"""Steps about the Braze side: workspace, data import keys, users, the partner endpoints called
directly, cohorts, segments, campaigns, Canvases and data points. Thin: each calls the Braze client
through the scenario's :class:`~harness.conformance.scenario_state.ScenarioState` and checks one thing."""
from __future__ import annotations

import json

import requests
from pytest_bdd import parsers, step

from .checks import Mismatch, expect_equal, expect_same_items, expect_true
from .scenario_state import NAME_PATH, USERS_PATH, ScenarioState, split_names, table_rows

NAME = r'"(?P<name>[^"]*)"'


# -- workspace and data import keys (SEED-2) -------------------------------------------------------
@step("a Braze workspace")
def _(scenario_state: ScenarioState) -> None:
    scenario_state.ws  # noqa: B018 - creating it is the step


@step("a Braze workspace with a Mixpanel data import key")
def _(scenario_state: ScenarioState) -> None:
    scenario_state.generate_import_key()


@step(parsers.re(r'(?:a|(?P<count>\d+)) data import keys? for "mixpanel" (?:is|are) generated in Braze'))
def _(scenario_state: ScenarioState, count: str | None) -> None:
    for _ in range(int(count or 1)):
        scenario_state.generate_import_key()


@step('a new data import key for "mixpanel" is generated in Braze and given to the Mixpanel connection')
def _(scenario_state: ScenarioState) -> None:
    key = scenario_state.generate_import_key()
    scenario_state.mixpanel.update_connection(scenario_state.pid, scenario_state.connection_id, data_import_key=key.key)


@step(parsers.re(r"data import key (?P<number>\d+) is invalidated in Braze"))
def _(scenario_state: ScenarioState, number: str) -> None:
    scenario_state.braze.invalidate_data_import_key(scenario_state.ws, scenario_state.import_key(int(number)).key)


@step('the data import key is "active" and comes with a REST endpoint')
def _(scenario_state: ScenarioState) -> None:
    key = scenario_state.import_key()
    expect_equal("the new key's status", key.reply.get("status"), "active")
    expect_equal("the new key's partner", key.reply.get("partner"), "mixpanel")
    endpoint = key.rest_endpoint or ""
    expect_true("the REST endpoint given with the key", endpoint.startswith(("http://", "https://")),
                "an http(s) URL", endpoint)


@step('Braze names the partner "mixpanel" and its partner API key')
def _(scenario_state: ScenarioState) -> None:
    partners = {p["name"]: p.get("partner_api_key") for p in scenario_state.braze.partners()}
    expect_true("the partners Braze knows", bool(partners.get("mixpanel")),
                "mixpanel with a partner API key", sorted(partners))


@step('an empty cohort users call to the REST endpoint with that key is answered 201 "success"')
def _(scenario_state: ScenarioState) -> None:
    key = scenario_state.import_key()
    client = scenario_state.rest_endpoint_client(key)
    body = {"partner_api_key": scenario_state.partner_api_key(), "client_secret": key.key, "cohort_id": scenario_state.run_id,
            "cohort_changes": []}
    reply = client.send("POST", USERS_PATH, json=body)
    expect_equal(f"the answer of POST {key.rest_endpoint}{USERS_PATH}", (reply.status_code, _json(reply)),
                 (201, {"message": "success"}))


@step(parsers.re(r'Braze lists (?P<count>\d+) different data import keys, all "active"'))
def _(scenario_state: ScenarioState, count: str) -> None:
    keys = scenario_state.braze.list_data_import_keys(scenario_state.ws)
    expect_equal("how many different keys Braze lists", len({k["key"] for k in keys}), int(count))
    expect_equal("their statuses", sorted({k["status"] for k in keys}), ["active"])


@step("Braze lists the data import keys with these statuses:")
def _(scenario_state: ScenarioState, datatable: list[list[str]]) -> None:
    listed = {k["key"]: k["status"] for k in scenario_state.braze.list_data_import_keys(scenario_state.ws)}
    for row in table_rows(datatable):
        key = scenario_state.import_key(int(row["key"])).key
        expect_equal(f"the status of data import key {row['key']}", listed.get(key), row["status"])


@step(parsers.re(r"an empty cohort users call with data import key (?P<number>\d+) is (?:answered|refused with) "
                 r'(?P<status>\d+) "(?P<message>[^"]*)"'))
def _(scenario_state: ScenarioState, number: str, status: str, message: str) -> None:
    key = scenario_state.import_key(int(number))
    reply = scenario_state.braze.send("POST", USERS_PATH, json={
        "partner_api_key": scenario_state.partner_api_key(), "client_secret": key.key, "cohort_id": scenario_state.run_id,
        "cohort_changes": []})
    expect_equal(f"the answer to an empty users call with data import key {number}",
                 (reply.status_code, _json(reply)), (int(status), {"message": message}))


@step("Braze accepted an empty cohort users call as the credentials check")
def _(scenario_state: ScenarioState) -> None:
    checks = [e for e in scenario_state.partner_requests() if e["path"] == USERS_PATH
              and isinstance(e.get("request"), dict) and e["request"].get("cohort_changes") == []]
    expect_true("an empty users call answered 201", any(e["status"] == 201 for e in checks),
                "at least one", [(e["status"], e["request"]) for e in checks])


# -- users (SEED-6) --------------------------------------------------------------------------------
@step("Braze has these users:")
def _(scenario_state: ScenarioState, datatable: list[list[str]]) -> None:
    scenario_state.create_braze_users(table_rows(datatable))


@step(parsers.re(r'in Braze the anonymous user on device "(?P<device_id>[^"]+)" is identified as '
                 r'"(?P<external_id>[^"]+)", which Braze reports as "(?P<outcome>[^"]+)"'))
def _(scenario_state: ScenarioState, device_id: str, external_id: str, outcome: str) -> None:
    expect_equal(f"the outcome of changeUser({external_id!r}) on device {device_id!r}",
                 scenario_state.identify(device_id, external_id), outcome)


@step(parsers.re(r"Braze has exactly these users: (?P<names>.+)"))
def _(scenario_state: ScenarioState, names: str) -> None:
    expect_same_items("the users of the workspace", scenario_state.labels_of(scenario_state.braze.users(scenario_state.ws)), split_names(names))


# -- the partner endpoints called directly (HOUSE-1, HOUSE-2, HOUSE-3) -----------------------------
@step(parsers.re(r"the partner posts this body to the cohort (?P<endpoint>users|name) endpoint: (?P<body>.+)"))
def _(scenario_state: ScenarioState, endpoint: str, body: str) -> None:
    text = body.replace("PARTNER_KEY", scenario_state.partner_api_key()).replace("IMPORT_KEY", scenario_state.import_key().key)
    path = USERS_PATH if endpoint == "users" else NAME_PATH
    reply = scenario_state.braze.send("POST", path, data=text.encode(), headers={"Content-Type": "application/json"})
    scenario_state.reply = (reply.status_code, _json(reply))


@step(parsers.re(r"the partner adds (?P<user_ids>\d+) user_ids, (?P<device_ids>\d+) device_ids and "
                 r'(?P<aliases>\d+) aliases to cohort "(?P<cohort>[^"]+)" in one request'))
def _(scenario_state: ScenarioState, user_ids: str, device_ids: str, aliases: str, cohort: str) -> None:
    change = {"user_ids": [f"user-{i}" for i in range(int(user_ids))],
              "device_ids": [f"device-{i}" for i in range(int(device_ids))],
              "aliases": [{"alias_name": f"alias-{i}", "alias_label": "mixpanel_id"} for i in range(int(aliases))]}
    scenario_state.reply = _partner_users(scenario_state, cohort, [change])


@step(parsers.re(r"the partner adds (?P<adds>\d+) user_ids and removes (?P<removes>\d+) other user_ids of "
                 r'cohort "(?P<cohort>[^"]+)" in one request'))
def _(scenario_state: ScenarioState, adds: str, removes: str, cohort: str) -> None:
    """Two change objects in one request: the limit counts them together (HOUSE-2)."""
    scenario_state.reply = _partner_users(scenario_state, cohort, [{"user_ids": [f"add-{i}" for i in range(int(adds))]},
                                                 {"user_ids": [f"remove-{i}" for i in range(int(removes))],
                                                  "should_remove": True}])


@step(parsers.re(r'the partner adds (?P<count>\d+) user_ids to cohort "(?P<cohort>[^"]+)" with a wrong '
                 r"(?P<which>partner key|client secret)"))
def _(scenario_state: ScenarioState, count: str, cohort: str, which: str) -> None:
    """Credentials are checked before the size (HOUSE-2's order): the 401 wins over the 400."""
    body = {"partner_api_key": "nope" if which == "partner key" else scenario_state.partner_api_key(),
            "client_secret": "nope" if which == "client secret" else scenario_state.import_key().key,
            "cohort_id": scenario_state.partner_cohort(cohort),
            "cohort_changes": [{"user_ids": [f"user-{i}" for i in range(int(count))]}]}
    reply = scenario_state.braze.send("POST", USERS_PATH, json=body)
    scenario_state.reply = (reply.status_code, _json(reply))


@step(parsers.re(r'the partner (?P<operation>adds|removes) user_ids "(?P<names>[^"]+)" (?:to|from) '
                 r'cohort "(?P<cohort>[^"]+)"'))
def _(scenario_state: ScenarioState, operation: str, names: str, cohort: str) -> None:
    change = {"user_ids": split_names(names), **({"should_remove": True} if operation == "removes" else {})}
    scenario_state.reply = _partner_users(scenario_state, cohort, [change])
    _expect_success(scenario_state, f"{operation} {names} to cohort {cohort}")


@step(parsers.re(r'the partner sends these changes to cohort "(?P<cohort>[^"]+)", one request each:'))
def _(scenario_state: ScenarioState, cohort: str, datatable: list[list[str]]) -> None:
    for row in table_rows(datatable):
        change = {"user_ids": split_names(row["user_ids"]),
                  **({"should_remove": True} if row["operation"] == "remove" else {})}
        scenario_state.reply = _partner_users(scenario_state, cohort, [change])
        _expect_success(scenario_state, f"{row['operation']} {row['user_ids']}")


@step(parsers.re(r'the partner names the cohort "(?P<cohort>[^"]+)" "(?P<name>[^"]+)"'))
def _(scenario_state: ScenarioState, cohort: str, name: str) -> None:
    reply = scenario_state.braze.send("POST", NAME_PATH, json={
        "partner_api_key": scenario_state.partner_api_key(), "client_secret": scenario_state.import_key().key,
        "cohort_id": scenario_state.partner_cohort(cohort), "name": name,
        "created_at": scenario_state.mixpanel.get_clock()["now"]})
    scenario_state.reply = (reply.status_code, _json(reply))
    _expect_success(scenario_state, f"naming cohort {cohort}")


@step(parsers.re(r'Braze answers (?P<status>\d+) with the message "(?P<message>.*)"'))
def _(scenario_state: ScenarioState, status: str, message: str) -> None:
    if scenario_state.reply is None:
        raise Mismatch("Braze's answer", "a reply kept by an earlier step", "no request was sent")
    got_status, body = scenario_state.reply
    got_message = body.get("message") if isinstance(body, dict) else body
    expect_equal("Braze's answer (status, message)", (got_status, got_message), (int(status), message))


@step(parsers.re(r'Braze shows the cohort "(?P<cohort>[^"]+)" named "(?P<name>[^"]+)" with exactly these '
                 r"members: (?P<names>.+)"))
def _(scenario_state: ScenarioState, cohort: str, name: str, names: str) -> None:
    cohort_id = scenario_state.partner_cohort(cohort)
    entry = scenario_state.braze_cohort(cohort_id)
    # a cohort never named is named after its id (HOUSE-3): the id the step sent
    expected_name = cohort_id if name == cohort else name
    expect_equal(f"the name of Braze cohort {cohort_id}", entry and entry["name"], expected_name)
    members = scenario_state.braze.cohort_members(scenario_state.ws, cohort_id)
    expect_same_items(f"the members of Braze cohort {cohort}", scenario_state.labels_of(members), split_names(names))


def _partner_users(scenario_state: ScenarioState, cohort: str, changes: list[dict]) -> tuple[int, object]:
    reply = scenario_state.braze.send("POST", USERS_PATH, json={
        "partner_api_key": scenario_state.partner_api_key(), "client_secret": scenario_state.import_key().key,
        "cohort_id": scenario_state.partner_cohort(cohort), "cohort_changes": changes})
    return reply.status_code, _json(reply)


def _expect_success(scenario_state: ScenarioState, what: str) -> None:
    expect_equal(f"Braze's answer to the partner call ({what})", scenario_state.reply, (201, {"message": "success"}))


def _json(reply: requests.Response) -> object:
    try:
        return reply.json()
    except ValueError:
        return reply.text


# -- the cohort an export produced -----------------------------------------------------------------
@step(parsers.re(rf"the Braze cohort {NAME} has (?:exactly these members: (?P<names>.+)|no members)"))
def _(scenario_state: ScenarioState, name: str, names: str | None) -> None:
    members = scenario_state.braze.cohort_members(scenario_state.ws, scenario_state.braze_cohort_id(name))
    expect_same_items(f"the members of the Braze cohort {name!r}", scenario_state.labels_of(members),
                      split_names(names or ""))


@step(parsers.re(rf"the Braze match log of {NAME} shows:"))
def _(scenario_state: ScenarioState, name: str, datatable: list[list[str]]) -> None:
    entries = scenario_state.braze.match_log(scenario_state.ws, scenario_state.braze_cohort_id(name))
    observed = [{"identifier": e["identifier"], "kind": e["kind"], "outcome": e["outcome"]} for e in entries]
    expect_same_items(f"the match log of {name!r}", observed, table_rows(datatable))


@step(parsers.re(rf"Braze shows the cohort as {NAME}"))
def _(scenario_state: ScenarioState, name: str) -> None:
    cohort_id = scenario_state.exported_braze_cohort_id()
    entry = scenario_state.braze_cohort(cohort_id) if cohort_id is not None else None
    if entry is None:
        raise Mismatch("the exported cohort in Braze", f"a cohort named {name!r}",
                       [c["name"] for c in scenario_state.braze.cohorts(scenario_state.ws)])
    expect_equal(f"the name Braze shows for cohort {cohort_id}", entry["name"], name)


# -- segments, campaigns, Canvases (SEED-5) --------------------------------------------------------
@step(parsers.re(rf"a Braze segment {NAME} is saved with the filter Mixpanel_Cohorts "
                 r'(?P<operator>includes|excludes) "(?P<cohort>[^"]+)"'))
def _(scenario_state: ScenarioState, name: str, operator: str, cohort: str) -> None:
    scenario_state.segments[name] = scenario_state.braze.create_segment(scenario_state.ws, name, scenario_state.braze_cohort_id(cohort),
                                                                         f"{operator}_value").segment_id


@step(parsers.re(rf"the segment {NAME} has exactly these users: (?P<names>.+)"))
def _(scenario_state: ScenarioState, name: str, names: str) -> None:
    users = scenario_state.braze.segment_users(scenario_state.ws, scenario_state.segments[name])
    expect_same_items(f"the users of segment {name!r}", scenario_state.labels_of(users), split_names(names))


@step(parsers.re(rf"an? (?P<kind>campaign|Canvas) {NAME} is created in Braze targeting the segment "
                 r'"(?P<segment>[^"]+)"'))
def _(scenario_state: ScenarioState, kind: str, name: str, segment: str) -> None:
    braze, ws, segment_id = scenario_state.braze, scenario_state.ws, scenario_state.segments[segment]
    scenario_state.audiences[(kind, name)] = (braze.create_campaign(ws, name, segment_id).campaign_id
                                              if kind == "campaign" else braze.create_canvas(ws, name, segment_id).canvas_id)


@step(parsers.re(rf"the audience of the (?P<kind>campaign|Canvas) {NAME} is exactly: (?P<names>.+)"))
def _(scenario_state: ScenarioState, kind: str, name: str, names: str) -> None:
    read = scenario_state.braze.campaign_audience if kind == "campaign" else scenario_state.braze.canvas_audience
    audience = read(scenario_state.ws, scenario_state.audiences[(kind, name)])
    expected = split_names(names)
    expect_same_items(f"the audience of {kind} {name!r}", scenario_state.labels_of(audience["users"]), expected)
    expect_equal(f"the audience count of {kind} {name!r}", audience.get("count"), len(expected))


# -- data points (SEED-1.1, HOUSE-4) ---------------------------------------------------------------
@step(parsers.re(r'the workspace has (?P<count>\d+) data point\(s\) from "(?P<source>[^"]+)"'))
def _(scenario_state: ScenarioState, count: str, source: str) -> None:
    points = scenario_state.braze.data_points(scenario_state.ws)
    expect_equal(f"data points from {source}", points.get("by_source", {}).get(source, 0), int(count))


@step("the workspace's total data points include those of the cohort import")
def _(scenario_state: ScenarioState) -> None:
    points = scenario_state.braze.data_points(scenario_state.ws)
    by_source = points.get("by_source", {})
    expect_true("the workspace total", points.get("total") == sum(by_source.values())
                and by_source.get("cohort_import:mixpanel", 0) > 0,
                "the sum of every source, cohort import included", json.dumps(points))
