"""The official ``mixpanel`` package, pointed at a running mock with its URL overrides: what it
tracks, sets and imports shows up in engage, the raw export and cohort membership."""
import time
from datetime import datetime, timezone

import pytest
import requests
from mixpanel import BufferedConsumer, Consumer, Mixpanel, MixpanelException, ServiceAccountCredentials

from mocks.common import Clock, ServerThread
from mocks.mixpanel import create_app


@pytest.fixture()
def live():
    """The mock on a real port, its clock at wall time (the client stamps events with time.time())."""
    clock = Clock(start=datetime.now(timezone.utc).replace(microsecond=0))
    with ServerThread(create_app(clock=clock)) as server:
        project = requests.post(server.url + "/_harness/projects", json={"name": "official"}).json()
        yield server.url, project


def client_for(url, project, **consumer_options):
    account = project["service_account"]
    credentials = ServiceAccountCredentials(account["username"], account["secret"], str(project["project_id"]))
    consumer = consumer_options.pop("consumer", Consumer)(
        events_url=url + "/track", people_url=url + "/engage", import_url=url + "/import",
        credentials=credentials, **consumer_options)
    return Mixpanel(project["token"], consumer=consumer)


def test_track_people_and_import_are_visible_in_engage_export_and_cohorts(live):
    url, project = live
    pid, auth = project["project_id"], (project["service_account"]["username"], project["service_account"]["secret"])
    mp = client_for(url, project)
    mp.track("alice", "Purchase", {"amount": 5})
    mp.people_set("alice", {"plan": "pro", "$braze_external_id": "ext-alice"})
    mp.people_increment("alice", {"logins": 1})
    thirty_days_ago = int(time.time()) - 30 * 86400
    mp.import_data(None, "bob", "Purchase", thirty_days_ago, {"amount": 7})
    mp.import_data(None, "carol", "Purchase", 1262303999)  # before 2010: accepted, then removed

    cohort = requests.post(f"{url}/_harness/projects/{pid}/cohorts",
                           json={"name": "buyers", "definition": {"event": "Purchase", "within_days": 60}}).json()
    members = requests.get(f"{url}/_harness/projects/{pid}/cohorts/{cohort['cohort_id']}/members").json()["members"]
    assert members == ["alice", "bob"]

    engaged = requests.post(f"{url}/api/query/engage", params={"project_id": pid}, auth=auth,
                            data={"filter_by_cohort": '{"id": %d}' % cohort["cohort_id"]}).json()
    assert engaged["total"] == 2
    alice = engaged["results"][0]
    seen = datetime.strptime(alice["$properties"].pop("$last_seen"), "%Y-%m-%dT%H:%M:%S").replace(tzinfo=timezone.utc)
    assert abs((datetime.now(timezone.utc) - seen).total_seconds()) < 600  # the client's $time: time.time()
    assert alice == {"$distinct_id": "alice",
                     "$properties": {"plan": "pro", "$braze_external_id": "ext-alice", "logins": 1}}
    assert engaged["results"][1] == {"$distinct_id": "bob", "$properties": {}}

    today = datetime.now(timezone.utc).strftime("%Y-%m-%d")
    lines = requests.get(f"{url}/api/2.0/export", auth=auth, params={
        "project_id": pid, "from_date": "2000-01-01", "to_date": today}).text.splitlines()
    exported = [__import__("json").loads(line) for line in lines]
    assert [(e["properties"]["distinct_id"], e["properties"]["amount"]) for e in exported] == [("bob", 7), ("alice", 5)]
    assert exported[1]["properties"]["mp_lib"] == "python" and "token" not in exported[1]["properties"]
    stats = requests.get(f"{url}/_harness/projects/{pid}/stats").json()
    assert (stats["events_stored"], stats["events_removed_by_retention"]) == (2, 1)


def test_buffered_consumer_batches(live):
    url, project = live
    mp = client_for(url, project, consumer=BufferedConsumer)
    for i in range(60):
        mp.track(f"user-{i}", "Open")
    mp._consumer.flush()
    stats = requests.get(f"{url}/_harness/projects/{project['project_id']}/stats").json()
    assert stats["events_stored"] == 60


def test_legacy_api_secret_import(live):
    url, project = live
    consumer = Consumer(import_url=url + "/import")
    Mixpanel(project["token"], consumer=consumer).import_data(None, "dave", "Signup", int(time.time()) - 86400,
                                                              api_secret=project["api_secret"])
    stats = requests.get(f"{url}/_harness/projects/{project['project_id']}/stats").json()
    assert stats["events_stored"] == 1


def test_the_client_sees_the_mocks_errors(live):
    url, project = live
    wrong = dict(project, service_account={"username": "x", "secret": "y"})
    with pytest.raises(MixpanelException, match="Mixpanel error: Invalid credentials"):
        client_for(url, wrong).import_data(None, "bob", "Purchase", int(time.time()))
    with pytest.raises(MixpanelException, match="only accepts events from the last 5 days"):
        client_for(url, project).track("alice", "Old", {"time": int(time.time()) - 6 * 86400})
    with pytest.raises(MixpanelException, match="token, not a valid project token"):
        Mixpanel("unknown-token", consumer=Consumer(people_url=url + "/engage")).people_set("a", {"x": 1})
