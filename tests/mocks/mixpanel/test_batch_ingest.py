"""The per-batch ingest path (``plain_run`` + ``EventLog.add_batch``) against the per-event one (the
full rules and ``EventLog.add`` for each event in order): the same report, the same stored state and
the same indexes, on batches mixing every edge the rules know (issue 15)."""
from __future__ import annotations

import itertools
import random
from datetime import datetime, timezone
from typing import Any

import pytest

from mocks.common import Clock
from mocks.mixpanel.events import EventLog
from mocks.mixpanel.ingest import Failure, IdentityMerge, full_import_event
from mocks.mixpanel.store import MixpanelStore, Project, _insert_id_of, to_ms

NOW = datetime(2026, 1, 1, tzinfo=timezone.utc)
NOW_S = int(NOW.timestamp())


def edge_events(seed: int, count: int) -> list[Any]:
    """Events drawn from the edges of every rule, with repeats (duplicates within the batch)."""
    rng = random.Random(seed)
    names = ["Buy", "View", "$merge", "", " ", 7]
    times = [NOW_S - 60, NOW_S * 1000 - 5, NOW_S + 3599, NOW_S + 3601, 1_262_303_999, 1_262_304_000,
             31_535_999, 31_536_000, 1.5, "1767225600", None, True, 9_999_999_999, 10_000_000_000]
    ids = ["u1", "u2", "u3", "", "anon", " Null ", 42, None, True]
    insert_ids = ["k1", "k2", "K-3", "", "x" * 36, "x" * 37, "bad id", "null", "---", "é", 5, None, "missing"]
    extras = [{}, {"plan": "pro"}, {"plan": "free", "token": "t"}, {"$user_id": "u9"}, {"$device_id": "d1"},
              {"$user_id": "u9", "$device_id": "d2"}, {"$distinct_ids": ["a", "b"]}, {"big": "x" * 1_048_600},
              {str(i): i for i in range(255)}]
    made: list[Any] = []

    def pick(values: list[Any], good: int) -> Any:
        """Mostly one of the first ``good`` (valid) values, else any edge."""
        return rng.choice(values[:good] if rng.random() < 0.8 else values)

    for _ in range(count):
        if made and rng.random() < 0.25:
            made.append(rng.choice(made))  # an exact repeat
            continue
        if rng.random() < 0.03:
            made.append(rng.choice([[1], "text", None, {"event": "Buy"}, {"event": "Buy", "properties": []}]))
            continue
        props: dict[str, Any] = {"time": pick(times, 2), "distinct_id": pick(ids, 3)}
        insert_id = pick(insert_ids, 3)
        if insert_id != "missing":
            props["$insert_id"] = insert_id
        if rng.random() < 0.3:
            props.update(rng.choice(extras) if rng.random() < 0.2 else rng.choice(extras[:3]))
        for key in [k for k in ("time", "distinct_id") if rng.random() < 0.03]:
            props.pop(key)
        made.append({"event": rng.choice(names) if rng.random() < 0.2 else rng.choice(names[:2]), "properties": props})
    return made


def per_event(project: Project, events: list[Any], require: bool) -> tuple[int, int, int, list[Any]]:
    """The reference: each event alone through the full rules, stored by ``EventLog.add``."""
    now_ms = to_ms(NOW)
    cutoff = project.cutoff_ms(now_ms)
    imported = removed = duplicates = 0
    failures = []
    for index, raw in enumerate(events):
        result = full_import_event(raw, now_ms, require)
        if isinstance(result, Failure):
            failures.append((index, _insert_id_of(raw), result))
        elif isinstance(result, IdentityMerge):
            imported += 1
        elif result.time_ms < cutoff:
            removed += 1
        else:
            imported += 1
            duplicates += not project._store_event(result)
    return imported, removed, duplicates, failures


def indexes(log: EventLog) -> dict[str, Any]:
    """Everything a query or a later duplicate reads, indexes settled."""
    for index in log.by_name.values():
        index.settle()
    return {"names": log.names, "columns": (list(log.name_col), list(log.time_col), list(log.user_col)),
            "insert_ids": bytes(log.insert_ids), "extras": log.extras, "superseded": log.superseded,
            "by_name": {k: (list(i.times), list(i.users), list(i.rows), i.superseded) for k, i in log.by_name.items()},
            "user_rows": {k: list(v) for k, v in log._user_rows.items()}, "user_keys": log._user_keys,
            "spans": (list(log._first_time), list(log._last_time))}


def assert_indexes_follow_the_columns(log: EventLog) -> None:
    """The oracle that shares no code with the store: every index recomputed from the columns."""
    rows = range(len(log))
    key = [(log.name_col[r], log.time_col[r], log.user_col[r], log.insert_id(r)) for r in rows]
    later = {k: r for r, k in zip(rows, key)}  # the last copy of each key
    assert log.superseded == {r for r in rows if key[r][3] and later[key[r]] != r}
    for name_id, index in log.by_name.items():
        index.settle()
        mine = sorted((log.time_col[r], r) for r in rows if log.name_col[r] == name_id)
        assert (list(index.times), list(index.rows)) == ([t for t, _ in mine], [r for _, r in mine])
        assert list(index.users) == [log.user_col[r] for _, r in mine]
        assert index.superseded == sum(1 for _, r in mine if r in log.superseded)
    for user, user_rows in log._user_rows.items():
        assert list(user_rows) == [r for r in rows if log.user_col[r] == user]
        times = [log.time_col[r] for r in user_rows]
        assert (log._first_time[user], log._last_time[user]) == (min(times), max(times))
    assert set(log._user_rows) == set(log.user_col)


def project_pair(retention_days: int | None) -> tuple[Project, Project]:
    clock = Clock(start=NOW)
    return (MixpanelStore(clock).create_project("batch", retention_days),
            MixpanelStore(clock).create_project("batch", retention_days))


@pytest.mark.parametrize("seed, require, retention_days", [(1, True, None), (2, False, None), (3, True, 30),
                                                          (4, False, 1)])
def test_a_batch_gives_what_each_event_in_order_gives(seed, require, retention_days):
    batched, reference = project_pair(retention_days)
    for round_ in range(3):  # later batches repeat earlier keys: duplicates of stored events
        events = edge_events(seed * 10 + round_, 400)
        report = batched.ingest(events, NOW, require_insert_id=require)
        expected = per_event(reference, events, require)
        assert (report.imported, report.removed, report.duplicates, report.failures) == expected
    assert report.imported and report.duplicates and report.failures  # the edges were all met
    assert batched.registry.ids == reference.registry.ids and batched.registry.merges == reference.registry.merges
    assert indexes(batched.events) == indexes(reference.events)
    assert_indexes_follow_the_columns(batched.events)
    assert batched.to_dict()["events"] == reference.to_dict()["events"]


def test_the_fast_check_declines_what_it_cannot_judge_and_the_full_rules_decide():
    """Runs stop at each event that is not plain; the report keeps every index and text."""
    project, _ = project_pair(None)
    events = [{"event": "Buy", "properties": {"time": NOW_S, "distinct_id": "a", "$insert_id": "---"}},
              {"event": "Buy", "properties": {"time": NOW_S, "distinct_id": "null", "$insert_id": "k"}},
              {"event": "Buy", "properties": {"time": NOW_S, "distinct_id": "a", "$insert_id": "---", "n": 2}},
              {"event": "Buy", "properties": {"time": 1_262_303_999, "distinct_id": "a", "$insert_id": "old"}}]
    report = project.ingest(events, NOW)
    assert (report.imported, report.removed, report.duplicates) == (2, 1, 1)
    assert report.failures == [(1, "k", Failure("properties.distinct_id",
                                                "'properties.distinct_id' is invalid: 'null' is a disallowed placeholder id"))]
    assert [e["properties"] for e in project.export(0, 2 ** 62, None, NOW, every_copy=True)] == [
        {"time": NOW_S, "distinct_id": "a", "$insert_id": "---"},
        {"time": NOW_S, "distinct_id": "a", "$insert_id": "---", "n": 2}]


def test_add_batch_in_any_chunks_equals_add_of_each():
    rng = random.Random(5)
    rows = [(rng.choice(["A", "B", "C"]), rng.randrange(50) * 1000, rng.randrange(8),
             rng.choice(["", "i1", "i2", "i3", f"u{rng.randrange(400)}"]), rng.choice([None, b'{"v":1}', b'{"v":2}']))
            for _ in range(3000)]  # users 0..7 get far more than the scan limit: their key maps are used too
    one_by_one, batched = EventLog(), EventLog()
    fresh = [one_by_one.add(*row) for row in rows]
    position = 0
    duplicates = 0
    for size in itertools.cycle([1, 7, 300, 50]):
        chunk = rows[position:position + size]
        if not chunk:
            break
        duplicates += batched.add_batch(*map(list, zip(*chunk)))
        position += size
    assert duplicates == fresh.count(False) > 0
    assert indexes(batched) == indexes(one_by_one)
    assert_indexes_follow_the_columns(batched)


def test_a_state_dump_insert_id_longer_than_a_slot_is_refused():
    log = EventLog()
    with pytest.raises(ValueError, match="an \\$insert_id is longer than 36 bytes"):
        log.add_batch(["E"], [1], [0], ["é" * 20], [None])
