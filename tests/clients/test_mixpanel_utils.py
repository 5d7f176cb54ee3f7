"""``mixpanel-utils`` (pinned in clients/mixpanel-utils/requirements.txt), whose hosts are hard-coded,
run unmodified from its own venv through ``cohort-harness proxy``: import, export, engage query and the
cohort listing, each compared with what the mock holds."""
from __future__ import annotations

import json
import time
from datetime import datetime, timezone

import pytest
import requests

from .conftest import CLIENTS, require, run


@pytest.fixture()
def mixpanel_utils() -> str:
    return str(require(CLIENTS / "mixpanel-utils" / ".venv" / "bin" / "python", "mixpanel-utils"))


def test_import_export_engage_and_cohorts_through_the_proxy(mixpanel_utils, mixpanel_mock, vendor_proxy, tmp_path):
    url, project = mixpanel_mock
    pid = project["project_id"]
    requests.post(f"{url}/_harness/projects/{pid}/profiles", json={"profiles": [
        {"distinct_id": "ann", "properties": {"plan": "pro"}},
        {"distinct_id": "bob", "properties": {"plan": "free"}}]}).raise_for_status()
    cohort = requests.post(f"{url}/_harness/projects/{pid}/cohorts", json={
        "name": "pro", "definition": {"property": "plan", "equals": "pro"}}).json()
    day_ago = int(time.time()) - 86400
    events = [{"event": "Buy", "properties": {"time": day_ago + i, "distinct_id": "ann", "$insert_id": f"mu-{i}",
                                              "amount": i}} for i in range(3)]
    today = datetime.now(timezone.utc).strftime("%Y-%m-%d")
    config = {"project_id": pid, "username": project["service_account"]["username"],
              "secret": project["service_account"]["secret"], "token": project["token"], "events": events,
              "from_date": "2020-01-01", "to_date": today, "output": str(tmp_path / "export.json")}
    env = {**vendor_proxy, "NO_PROXY": ""}
    [result] = run([mixpanel_utils, str(CLIENTS / "mixpanel-utils" / "drive.py"), json.dumps(config)], env)
    assert requests.get(f"{url}/_harness/projects/{pid}/stats").json()["events_stored"] == 3
    assert [(e["properties"]["$insert_id"], e["properties"]["amount"]) for e in result["exported"]] == [
        ("mu-0", 0), ("mu-1", 1), ("mu-2", 2)]
    assert result["engage"] == [{"$distinct_id": "ann", "$properties": {"plan": "pro"}}]
    assert [(c["id"], c["name"], c["count"]) for c in result["cohorts"]] == [(cohort["cohort_id"], "pro", 1)]
