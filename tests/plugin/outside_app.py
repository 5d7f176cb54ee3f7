"""An app's own test: only `pip install cohort-harness`, no conftest."""
import time

import requests
from mixpanel import Consumer, Mixpanel


def test_buyers_reach_the_braze_segment(cohort_mocks, braze_workspace, mixpanel_project, cohort_clock):
    # the app's users exist in Braze (REST /users/track with the workspace's key)
    reply = requests.post(braze_workspace.url + "/users/track",
                          headers={"Authorization": f"Bearer {braze_workspace.rest_api_key}"},
                          json={"attributes": [{"external_id": "alice"}, {"external_id": "bob"}]})
    assert reply.status_code == 201, reply.text
    # the app sends its events with the official Mixpanel client, stamped time.time()
    mp = Mixpanel(mixpanel_project.token, consumer=Consumer(events_url=mixpanel_project.url + "/track",
                                                            people_url=mixpanel_project.url + "/engage"))
    for user in ("alice", "bob"):
        mp.people_set(user, {"$braze_external_id": user})
    mp.track("alice", "Purchase", {"time": time.time(), "amount": 30})
    # a cohort of buyers, exported dynamically to the workspace
    mixpanel = cohort_mocks.targets.mixpanel
    pid = mixpanel_project.project_id
    cohort_id = mixpanel.create_cohort(pid, "Buyers", {"event": "Purchase", "within_days": 30}).cohort_id
    connection = mixpanel.create_connection(pid, braze_workspace.data_import_key, braze_workspace.rest_endpoint,
                                            partner_api_key=cohort_mocks.targets.braze.partner_api_key()).connection_id
    mixpanel.create_export(pid, cohort_id, connection, "dynamic")
    cohort_clock.advance("15m")
    braze = cohort_mocks.targets.braze
    segment = braze.create_segment(braze_workspace.workspace_id, "Buyers", str(cohort_id)).segment_id
    members = [u["external_id"] for u in braze.segment_users(braze_workspace.workspace_id, segment)]
    assert members == ["alice"]
