"""The official ``mixpanel`` PyPI client (version pinned in clients/python-mixpanel/requirements.txt),
run unmodified from its own venv against the Mixpanel mock; results are read through the control plane."""
from __future__ import annotations

import json
from typing import Any

import pytest
import requests

from .conftest import CLIENTS, require, run, without_recent_last_seen

DRIVER = CLIENTS / "python-mixpanel" / "drive.py"


@pytest.fixture()
def python_client() -> str:
    return str(require(CLIENTS / "python-mixpanel" / ".venv" / "bin" / "python", "the mixpanel PyPI client"))


def drive(python: str, url: str, project: dict[str, Any], calls: list[str], env: dict[str, str] | None = None
          ) -> dict[str, str]:
    """Each call's error ("" when the client reported success)."""
    account = project["service_account"]
    config = {"url": url, "token": project["token"], "project_id": project["project_id"],
              "username": account["username"], "secret": account["secret"], "calls": calls}
    return {line["call"]: line["error"] for line in run([python, str(DRIVER), json.dumps(config)], env)}


def test_events_imports_and_merge_are_accepted_and_stored(python_client, mixpanel_mock):
    url, project = mixpanel_mock
    pid = project["project_id"]
    errors = drive(python_client, url, project, ["track", "import_data", "merge", "buffered_track"])
    assert errors == {"track": "", "import_data": "", "merge": "", "buffered_track": ""}
    stats = requests.get(f"{url}/_harness/projects/{pid}/stats").json()
    assert stats["events_stored"] == 62  # track + import + 60 buffered; the $merge event is not an event row
    members = _members(url, pid, {"event": "Purchase", "within_days": 60})
    assert members == ["alice", "bob"]  # merge changed no identity (Simplified ID Merge)


def test_every_people_call_lands_on_the_profile(python_client, mixpanel_mock):
    url, project = mixpanel_mock
    pid = project["project_id"]
    requests.post(f"{url}/_harness/projects/{pid}/profiles",
                  json={"profiles": [{"distinct_id": "carol", "properties": {"plan": "old"}}]}).raise_for_status()
    calls = ["people_set", "people_set_once", "people_increment", "people_append", "people_union", "people_remove",
             "people_unset", "people_track_charge", "people_delete"]
    errors = drive(python_client, url, project, calls)
    assert errors == {call: "" for call in calls}
    profile = requests.get(f"{url}/_harness/projects/{pid}/profiles/alice").json()["properties"]
    charges = profile.pop("$transactions")
    assert without_recent_last_seen(profile) == {"plan": "pro", "first_seen": "2026-01-01", "logins": 2, "tags": ["b"]}
    assert [charge["$amount"] for charge in charges] == [9.5]
    assert requests.get(f"{url}/_harness/projects/{pid}/profiles/carol").status_code == 404
    assert drive(python_client, url, project, ["people_clear_charges"]) == {"people_clear_charges": ""}
    assert "$transactions" not in requests.get(f"{url}/_harness/projects/{pid}/profiles/alice").json()["properties"]


def test_every_group_call_lands_on_the_group_profile(python_client, mixpanel_mock):
    url, project = mixpanel_mock
    calls = ["group_set", "group_set_once", "group_union", "group_remove", "group_unset", "group_delete"]
    assert drive(python_client, url, project, calls) == dict.fromkeys(calls, "")
    read = requests.get(f"{url}/api/query/engage", auth=_auth(project), params={
        "project_id": project["project_id"], "data_group_id": "company"}).json()
    assert read["results"] == [{"$distinct_id": "acme", "$properties": {"tier": "gold", "regions": []}}]


def test_alias_reaches_the_hard_coded_host_through_the_proxy(python_client, mixpanel_mock, vendor_proxy):
    """``alias()`` always posts to https://api.mixpanel.com/track, whatever consumer it is given."""
    url, project = mixpanel_mock
    assert drive(python_client, url, project, ["alias"], vendor_proxy) == {"alias": ""}
    stats = requests.get(f"{url}/_harness/projects/{project['project_id']}/stats").json()
    assert stats["events_stored"] == 1
    exported = requests.get(f"{url}/api/2.0/export", auth=_auth(project), params={
        "project_id": project["project_id"], "from_date": "2020-01-01", "to_date": _today()}).text
    assert json.loads(exported)["event"] == "$create_alias"


def test_a_refused_call_raises_in_the_client(python_client, mixpanel_mock):
    url, project = mixpanel_mock
    wrong = {**project, "secret": "x", "service_account": {**project["service_account"], "secret": "wrong"}}
    assert drive(python_client, url, wrong, ["import_data"]) == {"import_data": "Mixpanel error: Invalid credentials"}


def _auth(project: dict[str, Any]) -> tuple[str, str]:
    return project["service_account"]["username"], project["service_account"]["secret"]


def _today() -> str:
    from datetime import datetime, timezone

    return datetime.now(timezone.utc).strftime("%Y-%m-%d")


def _members(url: str, pid: int, definition: dict[str, Any]) -> list[str]:
    cohort = requests.post(f"{url}/_harness/projects/{pid}/cohorts", json={"name": "c", "definition": definition}).json()
    return requests.get(f"{url}/_harness/projects/{pid}/cohorts/{cohort['cohort_id']}/members").json()["members"]
