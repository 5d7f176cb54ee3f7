"""Measure cohort evaluation on a large world (not a test: run it by hand).

    /work/venv/bin/python tests/mocks/mixpanel/bench_cohort_eval.py [profiles] [events]

Loads N profiles and M events through the store's bulk paths (same validation and retention rules as
``/import``), then times a behavioural, a property and a combined cohort, and prints peak memory.
"""
from __future__ import annotations

import random
import resource
import sys
import time
from datetime import timedelta

from mocks.common.clock import Clock
from mocks.mixpanel.store import MixpanelStore

NAMES = ["Purchase", "View", "Login", "Signup", "Share"]
PLANS = ["free", "pro", "team"]


def main(profiles: int = 1_000_000, events: int = 5_000_000) -> None:
    rng = random.Random(7)
    clock = Clock()
    store = MixpanelStore(clock)
    project = store.create_project("bench")
    now_s = int(clock.timestamp())

    started = time.perf_counter()
    project.set_profiles((f"user-{i}", {"plan": PLANS[i % 3], "age": 18 + i % 60,
                                        "$braze_external_id": f"ext-{i}"}) for i in range(profiles))
    loaded_profiles = time.perf_counter() - started

    started = time.perf_counter()
    batch = 100_000
    for offset in range(0, events, batch):
        chunk = [{"event": NAMES[rng.randrange(5)],
                  "properties": {"time": now_s - rng.randrange(400 * 86400),
                                 "distinct_id": f"user-{rng.randrange(profiles)}",
                                 "$insert_id": f"e{offset + i}", "amount": rng.randrange(100)}}
                 for i in range(min(batch, events - offset))]
        report = project.ingest(chunk, clock.now())
        assert not report.failures, report.failures[:3]
    loaded_events = time.perf_counter() - started
    print(f"loaded {profiles:,} profiles in {loaded_profiles:.1f} s, {events:,} events in {loaded_events:.1f} s")

    cohorts = {
        "behavioural (Purchase >= 1 in 30 days)": {"event": "Purchase", "at_least": 1, "within_days": 30},
        "behavioural (View >= 3 in 90 days)": {"event": "View", "at_least": 3, "within_days": 90},
        "filtered (Purchase amount >= 50 in 30 days)": {"event": "Purchase", "within_days": 30,
                                                         "where": {"amount": {"gte": 50}}},
        "property (plan = pro)": {"property": "plan", "equals": "pro"},
        "combined (pro and not Login in 7 days)": {"and": [{"property": "plan", "equals": "pro"},
                                                            {"not": {"event": "Login", "within_days": 7}}]},
    }
    for label, definition in cohorts.items():
        cohort = project.create_cohort(label, definition, clock.now())
        started = time.perf_counter()
        members = project.cohort_members(cohort.cohort_id, clock.now())
        first = time.perf_counter() - started
        clock.advance(timedelta(minutes=15))
        started = time.perf_counter()
        project.cohort_members(cohort.cohort_id, clock.now())
        again = time.perf_counter() - started
        print(f"{label}: {len(members):,} members, first {first:.2f} s, 15 min later {again:.2f} s")
    peak_mib = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    print(f"peak memory (max RSS): {peak_mib:,.0f} MiB")


if __name__ == "__main__":
    main(*(int(arg) for arg in sys.argv[1:3]))
