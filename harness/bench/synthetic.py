"""Deterministic synthetic data for the benchmark: cheap to make, identical for a given seed."""
from __future__ import annotations

import random
from typing import Iterator

BEHAVIOURAL_COHORT = {"and": [{"event": "Purchase", "at_least": 2, "within_days": 30},
                              {"property": "plan", "not_equals": "free"}]}
#: The exported cohort: a profile flag the churn step flips.
EXPORT_COHORT = {"property": "bench_member", "equals": True}
EVENT_NAMES = ("Purchase", "View", "Login", "Search", "Share")
DAY_MS = 86_400_000


def external_id(index: int) -> str:
    """The Braze external id (and the Mixpanel distinct id) of bench user ``index``."""
    return f"user-{index:08d}"


def member_profiles(first: int, count: int, member: bool = True) -> Iterator[tuple[str, dict]]:
    """Profiles carrying the Braze partner id and the export flag."""
    for index in range(first, first + count):
        uid = external_id(index)
        yield uid, {"$braze_external_id": uid, "bench_member": member, "plan": ("free", "pro", "team")[index % 3]}


def events(count: int, users: int, now_ms: int, seed: int = 7, days: int = 90) -> Iterator[dict]:
    """``count`` /import events spread over ``users`` users and the last ``days`` days."""
    rng = random.Random(seed)
    span = days * DAY_MS
    for n in range(count):
        yield {"event": EVENT_NAMES[rng.randrange(len(EVENT_NAMES))],
               "properties": {"time": now_ms - rng.randrange(span), "distinct_id": external_id(rng.randrange(users)),
                              "$insert_id": f"e{n:x}"}}


def partner_users_body(partner_api_key: str, client_secret: str, cohort_id: str,
                       first: int, count: int) -> dict:
    """A partner users call with ``count`` external ids, as the exporter sends it."""
    return {"partner_api_key": partner_api_key, "client_secret": client_secret, "cohort_id": cohort_id,
            "cohort_changes": [{"user_ids": [external_id(i) for i in range(first, first + count)]}]}
