"""Issue 12, class 2: the save at shutdown waits (bounded) for syncs in flight, so the saved snapshots
match what Braze was sent and a restart sends nothing twice."""
import threading

from harness.embedded import EmbeddedMocks


def connect_and_export(mocks):
    targets = mocks.targets()
    ws = targets.braze.control("POST", "/workspaces", json={"name": "w"})["workspace_id"]
    key = targets.braze.control("POST", f"/workspaces/{ws}/data_import_keys", json={"partner": "mixpanel"})
    pid = targets.mixpanel.control("POST", "/projects", json={"name": "p"})["project_id"]
    cohort = targets.mixpanel.control("POST", f"/projects/{pid}/cohorts", json={
        "name": "C", "definition": {"property": "plan", "equals": "pro"}})["cohort_id"]
    conn = targets.mixpanel.control("POST", f"/projects/{pid}/connections", json={
        "data_import_key": key["key"], "rest_endpoint": key["rest_endpoint"]})["connection_id"]
    targets.mixpanel.control("POST", f"/projects/{pid}/exports",
                             json={"cohort_id": cohort, "connection_id": conn, "mode": "dynamic"})
    return conn


def test_a_save_waits_for_the_sync_in_flight_and_gives_up_after_its_bound():
    with EmbeddedMocks() as mocks:
        conn = connect_and_export(mocks)
        registry = mocks._apps[1].extensions["cohort_sync"]
        in_sync, finish = threading.Event(), threading.Event()
        done = []

        def a_sync_in_flight():
            with registry._connection_lock(conn):  # what a running sync holds
                in_sync.set()
                finish.wait(10)
                done.append("sync finished")

        worker = threading.Thread(target=a_sync_in_flight)
        worker.start()
        in_sync.wait(10)
        _, settled = mocks.dump(settle_s=0.05)
        assert not settled and done == []  # bounded: gave up, the sync still runs
        finish.set()
        state, settled = mocks.dump(settle_s=10)
        worker.join(10)
        assert settled and done == ["sync finished"]
        assert state["mixpanel"]["store"]["components"]["exports"]["exports"][0]["sync_count"] == 1


def test_a_save_that_stops_the_servers_leaves_no_window_for_another_sync():
    mocks = EmbeddedMocks().start()
    connect_and_export(mocks)
    _, settled = mocks.dump(then_stop=True)
    assert settled and mocks.mixpanel is None and mocks.braze is None
    mocks.stop()
