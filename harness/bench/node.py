"""One side of the benchmark in its own process: ``python -m harness.bench.node braze|mixpanel|evaluate``.

``braze`` and ``mixpanel`` populate a mock through its Python store (set-up is not what is measured),
add two bench-only routes — ``POST /_bench/sink`` (the do-nothing baseline route on the same server
stack) and ``GET /_bench/rss`` (this process's peak memory) — then serve on 127.0.0.1 and print one
JSON line with what the runner needs. ``evaluate`` builds a project in-process, times a behavioural
cohort and prints the figures.
"""
from __future__ import annotations

import argparse
import json
import statistics
import sys
import time
from datetime import timedelta
from typing import Any

from flask import Flask

from mocks.common import Clock, ServerThread, json_reply
from mocks.common.defaults import DEFAULT_PARTNER_API_KEY, MIXPANEL_PARTNER

from . import synthetic

LOAD_BATCH = 50_000


def peak_rss_mb() -> float:
    """Peak resident memory of this process (VmHWM), in MiB."""
    with open("/proc/self/status", encoding="ascii") as status:
        for line in status:
            if line.startswith("VmHWM:"):
                return int(line.split()[1]) / 1024
    return 0.0


def add_bench_routes(app: Flask) -> None:
    """The baseline route does nothing but read the body, on the same server stack as the mock."""

    def sink() -> Any:
        from flask import request

        request.get_data()
        return json_reply({"message": "success"}, 201)

    app.add_url_rule("/_bench/sink", "bench_sink", sink, methods=["POST"])
    app.add_url_rule("/_bench/rss", "bench_rss", lambda: json_reply({"peak_rss_mb": peak_rss_mb()}))


def serve_braze(users: int) -> dict[str, Any]:
    from mocks.braze import create_app

    app = create_app()
    store = app.extensions["harness"].store
    workspace, rest_key = store.create_workspace("bench")
    for index in range(users):
        workspace.directory.create(external_id=synthetic.external_id(index))
    key = store.add_data_import_key(workspace, MIXPANEL_PARTNER)
    return _serve(app, {"workspace_id": workspace.workspace_id, "data_import_key": key.key,
                        "rest_api_key": rest_key.key, "partner_api_key": DEFAULT_PARTNER_API_KEY})


def build_project(store: Any, now: Any, profiles: int, events: int, members: int | None = None) -> Any:
    """A project with ``profiles`` profiles (the first ``members`` flagged for export) and ``events`` events."""
    project = store.create_project("bench")
    members = profiles if members is None else members
    project.set_profiles(synthetic.member_profiles(0, members))
    project.set_profiles(synthetic.member_profiles(members, profiles - members, member=False))
    now_ms = int(now.timestamp() * 1000)
    batch: list[dict] = []
    for event in synthetic.events(events, max(profiles, 1), now_ms):
        batch.append(event)
        if len(batch) == LOAD_BATCH:
            project.ingest(batch, now)
            batch = []
    if batch:
        project.ingest(batch, now)
    return project


def serve_mixpanel(members: int, events: int) -> dict[str, Any]:
    from mocks.mixpanel import create_app

    clock = Clock()
    app = create_app(clock=clock)
    store = app.extensions["harness"].store
    project = build_project(store, clock.now(), members, events)
    cohort = project.create_cohort("Bench members", synthetic.EXPORT_COHORT, clock.now())
    behavioural = project.create_cohort("Bench purchasers", synthetic.BEHAVIOURAL_COHORT, clock.now())
    return _serve(app, {"project_id": project.project_id, "cohort_id": cohort.cohort_id,
                        "behavioural_cohort_id": behavioural.cohort_id})


def evaluate(profiles: int, events: int, repeats: int) -> dict[str, Any]:
    """Seconds per evaluation of a behavioural cohort (each at a new instant, so no cache helps).
    ``first_seconds`` is the first evaluation after the load, which also sorts the event indexes;
    ``seconds`` is the median of all runs."""
    from mocks.mixpanel import MixpanelStore

    clock = Clock()
    store = MixpanelStore(clock)
    started = time.perf_counter()
    project = build_project(store, clock.now(), profiles, events)
    build_seconds = time.perf_counter() - started
    cohort = project.create_cohort("Bench purchasers", synthetic.BEHAVIOURAL_COHORT, clock.now())
    timings, size = [], 0
    for step in range(repeats):
        at = clock.now() + timedelta(minutes=15 * step)
        started = time.perf_counter()
        size = len(project.cohort_members(cohort.cohort_id, at))
        timings.append(time.perf_counter() - started)
    return {"profiles": profiles, "events": events, "seconds": statistics.median(timings),
            "first_seconds": round(timings[0], 4),
            "runs": [round(t, 4) for t in timings], "members": size, "build_seconds": round(build_seconds, 2),
            "peak_rss_mb": round(peak_rss_mb(), 1)}


def _serve(app: Flask, info: dict[str, Any]) -> dict[str, Any]:
    add_bench_routes(app)
    server = ServerThread(app).start()
    info.update(url=server.url, setup_peak_rss_mb=round(peak_rss_mb(), 1))
    print(json.dumps(info), flush=True)
    sys.stdin.read()  # serve until the runner closes our stdin
    server.stop()
    return info


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m harness.bench.node", description=__doc__)
    sub = parser.add_subparsers(dest="role", required=True)
    sub.add_parser("braze").add_argument("--users", type=int, required=True)
    mixpanel = sub.add_parser("mixpanel")
    mixpanel.add_argument("--members", type=int, required=True)
    mixpanel.add_argument("--events", type=int, default=0)
    evaluation = sub.add_parser("evaluate")
    evaluation.add_argument("--profiles", type=int, required=True)
    evaluation.add_argument("--events", type=int, required=True)
    evaluation.add_argument("--repeats", type=int, default=3)
    args = parser.parse_args(argv)
    if args.role == "braze":
        serve_braze(args.users)
    elif args.role == "mixpanel":
        serve_mixpanel(args.members, args.events)
    else:
        print(json.dumps(evaluate(args.profiles, args.events, args.repeats)), flush=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
