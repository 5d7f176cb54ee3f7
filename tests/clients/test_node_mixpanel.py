"""The official ``mixpanel`` npm package (pinned by clients/node/package-lock.json), run unmodified by
node against the Mixpanel mock: directly (its ``host``/``protocol`` options) and through the proxy
(a TLS front on https://localhost:<port>: ``import`` refuses service accounts over http, and the package's
HTTPS_PROXY support throws at ``init`` in 0.24.0, so the client is pointed at the front with its ``host``
option instead)."""
from __future__ import annotations

import json
from typing import Any

import pytest
import requests

from .conftest import CLIENTS, require, run, without_recent_last_seen

NODE = CLIENTS / "node"


@pytest.fixture()
def node_mixpanel() -> str:
    require(NODE / "node_modules" / "mixpanel" / "package.json", "the mixpanel npm package")
    return str(NODE / "mixpanel-drive.js")


def drive(script: str, project: dict[str, Any], calls: list[str], host: str, protocol: str = "http",
          env: dict[str, str] | None = None) -> dict[str, str]:
    account = project["service_account"]
    config = {"token": project["token"], "project_id": project["project_id"], "username": account["username"],
              "secret": account["secret"], "calls": calls, "host": host, "protocol": protocol}
    return {line["call"]: line["error"] for line in run(["node", script, json.dumps(config)], env)}


def test_track_and_people_directly(node_mixpanel, mixpanel_mock):
    url, project = mixpanel_mock
    pid = project["project_id"]
    requests.post(f"{url}/_harness/projects/{pid}/profiles",
                  json={"profiles": [{"distinct_id": "omar", "properties": {"plan": "x"}}]}).raise_for_status()
    calls = ["track", "people_set", "people_increment", "people_union", "people_delete"]
    assert drive(node_mixpanel, project, calls, host=url.removeprefix("http://")) == dict.fromkeys(calls, "")
    assert without_recent_last_seen(requests.get(f"{url}/_harness/projects/{pid}/profiles/nina").json()["properties"]) == {
        "plan": "team", "seats": 4, "logins": 2, "tags": ["x", "y"]}
    assert requests.get(f"{url}/_harness/projects/{pid}/profiles/omar").status_code == 404
    assert requests.get(f"{url}/_harness/projects/{pid}/stats").json()["events_stored"] == 1


def test_import_and_import_batch_over_https(node_mixpanel, mixpanel_mock, mixpanel_front):
    url, project = mixpanel_mock
    pid = project["project_id"]
    calls = ["import", "import_batch", "track"]
    assert drive(node_mixpanel, project, calls, mixpanel_front["host"], "https", mixpanel_front) == dict.fromkeys(
        calls, "")
    cohort = requests.post(f"{url}/_harness/projects/{pid}/cohorts",
                           json={"name": "signups", "definition": {"event": "Signup", "within_days": 60}}).json()
    members = requests.get(f"{url}/_harness/projects/{pid}/cohorts/{cohort['cohort_id']}/members").json()
    assert members["members"] == ["pia", "quinn"]
    assert requests.get(f"{url}/_harness/projects/{pid}/stats").json()["events_stored"] == 4


def test_wrong_credentials_are_reported_by_the_client(node_mixpanel, mixpanel_mock, mixpanel_front):
    _, project = mixpanel_mock
    wrong = {**project, "service_account": {**project["service_account"], "secret": "wrong"}}
    errors = drive(node_mixpanel, wrong, ["import"], mixpanel_front["host"], "https", mixpanel_front)
    assert errors == {"import": "Mixpanel Server Error: 0"}
