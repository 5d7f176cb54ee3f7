"""Deliberately broken targets, each in its own process, for the tests that show the suite can fail.

``python -m tests.harness.conformance.broken_targets <kind>`` starts one mock with one rule broken,
prints its URL on one line and serves until its stdin closes. Kinds:

* ``braze-matches-identified-devices``: Braze whose cohort import matches the device id of a user
  that is now identified (breaks SEED-6.3);
* ``mixpanel-keeps-pre-2010-events``: Mixpanel whose /import keeps events timed before 2010 (breaks
  SEED-1.2), the rolling retention still working.
"""
from __future__ import annotations

import sys

from mocks.common import ServerThread


def braze_matching_identified_devices():
    from mocks.braze import cohorts, create_app

    original = cohorts.match_identifiers

    def match_identifiers(directory, kind, values):
        matches = original(directory, kind, values)
        matches.outcomes = [cohorts.MATCHED if outcome == cohorts.DEVICE_OF_IDENTIFIED_USER else outcome
                            for outcome in matches.outcomes]
        return matches

    cohorts.match_identifiers = match_identifiers
    return create_app()


def mixpanel_keeping_pre_2010_events():
    from mocks.mixpanel import create_app, ingest, store

    original = store.retention_cutoff_ms

    def retention_cutoff_ms(now_ms, retention_days):
        return ingest.TIME_FLOOR_MS if retention_days is None else original(now_ms, retention_days)

    store.retention_cutoff_ms = retention_cutoff_ms
    return create_app()


BROKEN = {"braze-matches-identified-devices": braze_matching_identified_devices,
          "mixpanel-keeps-pre-2010-events": mixpanel_keeping_pre_2010_events}


def main(kind: str) -> None:
    with ServerThread(BROKEN[kind]()) as server:
        print(server.url, flush=True)
        sys.stdin.read()


if __name__ == "__main__":
    main(sys.argv[1])
