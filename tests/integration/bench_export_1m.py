"""Measure a one-time export of a large cohort between the two mocks over loopback (not a test).

    /work/venv/bin/python -m tests.integration.bench_export_1m [--members 1000000] [--profile DIR]

Braze runs in its own process (so each side's memory is its own), loaded with the users through its
control plane; the Mixpanel store is loaded in-process through its bulk path. The export runs through
the export registry on this process's main thread (the sync's calls to Braze go over HTTP), so
``--profile`` can profile it with cProfile; Braze profiles its request handling the same way and
writes ``braze.prof`` next to ``mixpanel.prof``. Peak memory is each process's high-water mark
during the export alone (reset through ``/proc/self/clear_refs`` just before it).
"""
from __future__ import annotations

import argparse
import cProfile
import multiprocessing
import os
import pstats
import time
from pathlib import Path
from typing import Any

import requests

from mocks.common import ServerThread


def rss_mib(field: str = "VmHWM") -> float:
    """This process's peak (``VmHWM``) or current (``VmRSS``) resident set, in MiB."""
    for line in Path("/proc/self/status").read_text().splitlines():
        if line.startswith(field + ":"):
            return int(line.split()[1]) / 1024
    return float("nan")


def reset_peak_rss() -> None:
    """Linux: writing 5 to clear_refs resets the high-water mark of the resident set."""
    Path("/proc/self/clear_refs").write_text("5")


def run_braze(conn: Any, profile_dir: str | None) -> None:
    """The Braze mock in this (child) process; answers commands from the parent on ``conn``."""
    from mocks.braze import create_app

    app = create_app()
    profiler = cProfile.Profile() if profile_dir else None
    if profiler is not None:
        wsgi = app.wsgi_app

        def profiled(environ: Any, start_response: Any) -> Any:
            if not environ["PATH_INFO"].startswith("/partners/"):
                return wsgi(environ, start_response)
            profiler.enable()  # requests of one sync come one after another
            try:
                return wsgi(environ, start_response)
            finally:
                profiler.disable()

        app.wsgi_app = profiled  # type: ignore[method-assign]
    with ServerThread(app) as server:
        conn.send(server.url)
        while (command := conn.recv()) != "stop":
            if command == "reset_peak":
                reset_peak_rss()
                conn.send("ok")
            elif command == "rss":
                conn.send((rss_mib("VmRSS"), rss_mib()))
    if profiler is not None:
        profiler.dump_stats(os.path.join(profile_dir, "braze.prof"))
    conn.send("stopped")


def load_braze(url: str, members: int) -> tuple[str, dict[str, Any]]:
    session = requests.Session()
    ws = session.post(f"{url}/_harness/workspaces", json={"name": "bench"}).json()["workspace_id"]
    for start in range(0, members, 50_000):
        users = [{"external_id": f"ext-{i}"} for i in range(start, min(start + 50_000, members))]
        reply = session.post(f"{url}/_harness/workspaces/{ws}/users", json={"users": users})
        assert reply.status_code == 201, reply.text[:300]
    key = session.post(f"{url}/_harness/workspaces/{ws}/data_import_keys", json={"partner": "mixpanel"}).json()
    return ws, key


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--members", type=int, default=1_000_000)
    parser.add_argument("--profile", metavar="DIR", help="write mixpanel.prof and braze.prof here")
    args = parser.parse_args()

    parent, child = multiprocessing.Pipe()
    braze = multiprocessing.Process(target=run_braze, args=(child, args.profile), daemon=True)
    braze.start()
    braze_url = parent.recv()

    from mocks.mixpanel import create_app

    started = time.perf_counter()
    ws, key = load_braze(braze_url, args.members)
    app = create_app()
    store, registry = app.extensions["harness"].store, app.extensions["exports"]
    project = store.create_project("bench")
    project.set_profiles((f"user-{i}", {"$braze_external_id": f"ext-{i}", "plan": "pro"}) for i in range(args.members))
    cohort = project.create_cohort("Everyone on pro", {"property": "plan", "equals": "pro"}, store.clock.now())
    print(f"loaded {args.members:,} Braze users and Mixpanel profiles in {time.perf_counter() - started:.1f} s")

    connection = registry.add_connection(project.project_id, {"data_import_key": key["key"],
                                                              "rest_endpoint": key["rest_endpoint"]})
    parent.send("reset_peak")
    parent.recv()
    parent.send("rss")
    braze_before = parent.recv()[0]
    reset_peak_rss()
    mixpanel_before = rss_mib("VmRSS")
    profiler = cProfile.Profile() if args.profile else None
    started = time.perf_counter()
    if profiler is not None:
        profiler.enable()
    export, record = registry.create_export(project.project_id, cohort.cohort_id, connection.connection_id, "one_time")
    if profiler is not None:
        profiler.disable()
    seconds = time.perf_counter() - started
    mixpanel_peak = rss_mib()
    parent.send("rss")
    braze_peak = parent.recv()[1]
    cohorts = requests.get(f"{braze_url}/_harness/workspaces/{ws}/cohorts", timeout=60).json()["cohorts"]
    members = next(c["member_count"] for c in cohorts if c["cohort_id"] == str(cohort.cohort_id))
    print(f"one-time export: {record.result}, {record.added:,} added in {seconds:.1f} s, {record.requests} requests; "
          f"Braze cohort now has {members:,} members")
    print(f"RSS before -> peak during the export: Mixpanel process {mixpanel_before:.0f} -> {mixpanel_peak:.0f} MiB, "
          f"Braze process {braze_before:.0f} -> {braze_peak:.0f} MiB")
    started = time.perf_counter()
    store.clock.advance("15m")
    export, _ = registry.create_export(project.project_id, cohort.cohort_id, connection.connection_id, "dynamic")
    first = time.perf_counter() - started
    started = time.perf_counter()
    fired = store.clock.advance("15m")
    print(f"dynamic export of the same cohort: first (full) sync {first:.1f} s; a 15-minute sync with nothing "
          f"changed {time.perf_counter() - started:.1f} s, {fired[0]['requests']} requests")
    parent.send("stop")
    parent.recv()
    if profiler is not None:
        path = os.path.join(args.profile, "mixpanel.prof")
        profiler.dump_stats(path)
        for name in ("mixpanel.prof", "braze.prof"):
            print(f"\n== {name} (top 15 by cumulative time)")
            pstats.Stats(os.path.join(args.profile, name)).sort_stats("cumulative").print_stats(15)


if __name__ == "__main__":
    main()
