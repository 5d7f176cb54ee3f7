"""The columnar event log: duplicates, time order after out-of-order appends, windows."""
import random

from mocks.mixpanel.events import EventLog


def test_duplicates_are_the_same_event_time_user_and_insert_id():
    log = EventLog()
    assert log.add("Buy", 1000, 1, "a", None)
    assert not log.add("Buy", 1000, 1, "a", b'{"x":1}')
    assert log.add("Buy", 1001, 1, "a", None)
    assert log.add("Buy", 1000, 2, "a", None)
    assert log.add("View", 1000, 1, "a", None)
    assert log.add("Buy", 1000, 1, "b", None)
    assert (len(log), log.live_count(), log.superseded) == (6, 5, {0})


def test_events_without_insert_id_are_never_duplicates():
    log = EventLog()
    assert log.add("Open", 5, 1, "", None) and log.add("Open", 5, 1, "", None)
    assert log.insert_id(0) == ""


def test_heavy_users_are_deduplicated_through_their_key_set():
    log = EventLog()
    for i in range(200):
        assert log.add("E", i, 7, f"i{i}", None)
    assert not log.add("E", 3, 7, "i3", b'{"n":2}')
    assert not log.add("E", 3, 7, "i3", b'{"n":3}')
    assert log.add("E", 3, 7, "other", None)
    assert log.superseded == {3, 200}
    live = [row for row in log.rows_in_order(["E"], 3, 3)]
    assert [log.properties(r) for r in live] == [{"n": 3}, {}]
    assert list(log.rows_in_order(["E"], 3, 3, every_copy=True)) == [3, 200, 201, 202]


def test_the_latest_copy_is_live_and_every_copy_is_kept():
    log = EventLog()
    assert log.add("Buy", 1000, 1, "a", b'{"plan":"free"}')
    assert log.add("Buy", 2000, 2, "b", None)
    assert not log.add("Buy", 1000, 1, "a", b'{"plan":"pro"}')
    index = log.index("Buy")
    lo, hi = index.window(0, 5000)
    assert list(log.rows_in_order(None, 0, 5000, every_copy=True)) == [0, 2, 1]
    assert list(log.rows_in_order(None, 0, 5000)) == [2, 1]
    assert list(log.users_between(index, lo, hi)) == [1, 2]
    assert [(u, log.properties(r)) for u, r in log.live_between(index, lo, hi)] == [(1, {"plan": "pro"}), (2, {})]
    assert (log.count_between(0, 1500), log.count_between(0, 5000), log.rows_of(1)) == (1, 2, [2])


def test_a_user_turning_heavy_keeps_the_live_copy_in_its_key_map():
    log = EventLog()
    log.add("E", 1, 7, "k", b'{"v":1}')
    log.add("E", 1, 7, "k", b'{"v":2}')
    for i in range(100):
        log.add("F", i, 7, f"f{i}", None)
    assert not log.add("E", 1, 7, "k", b'{"v":3}')
    assert log.superseded == {0, 1}
    assert [log.properties(r) for r in log.rows_in_order(["E"], 0, 10)] == [{"v": 3}]


def test_out_of_order_appends_are_read_in_time_order():
    rng = random.Random(3)
    log = EventLog()
    times = [rng.randrange(10_000) for _ in range(5000)]
    for row, time_ms in enumerate(times):
        log.add("E", time_ms, row % 50, f"r{row}", None)
        if row == 4000:
            assert list(log.index("E").window(0, 10_000)) == [0, 4001]
    index = log.index("E")
    lo, hi = index.window(2000, 3000)
    assert list(index.times[lo:hi]) == sorted(t for t in times if 2000 <= t <= 3000)
    assert all(log.time_col[row] == t for row, t in zip(index.rows, index.times))


def test_a_small_late_batch_is_merged_into_a_large_sorted_index():
    log = EventLog()
    for row in range(1000):
        log.add("E", row * 10, row, f"r{row}", None)
    for row, time_ms in enumerate((55, 5, 9990, 5)):
        log.add("E", time_ms, 2000 + row, f"late{row}", None)
    index = log.index("E")
    assert index.window(0, 10) == (0, 4)
    assert list(index.times[:5]) == [0, 5, 5, 10, 20]
    assert [log.insert_id(r) for r in index.rows[1:3]] == ["late1", "late3"]


def test_rows_in_order_merge_names_and_keep_storage_order_for_ties():
    log = EventLog()
    log.add("B", 20, 1, "b1", None)
    log.add("A", 10, 1, "a1", None)
    log.add("A", 20, 1, "a2", None)
    log.add("C", 15, 1, "c1", None)
    assert list(log.rows_in_order(None, 0, 100)) == [1, 3, 0, 2]
    assert list(log.rows_in_order(["A", "missing"], 0, 15)) == [1]
    assert log.count_between(11, 20) == 3


def test_users_active_in_a_window_come_from_first_and_last_times():
    log = EventLog()
    log.add("A", 10, 0, "a", None)
    log.add("A", 50, 2, "b", None)
    log.add("A", 90, 2, "c", None)
    assert log.users_active(0, 100) == [0, 2]
    assert log.users_active(20, 100) == [2]
    assert log.users_active(0, 40) == [0]
    assert log.users_active(60, 80) == [2], "events on both sides of the window still count"


def test_properties_round_trip_and_small_blobs_are_shared():
    log = EventLog()
    log.add("E", 1, 1, "x", b'{"plan":"pro"}')
    log.add("E", 2, 1, "y", bytes(b'{"plan":"pro"}'))
    assert log.properties(0) == {"plan": "pro"} and log.insert_id(0) == "x"
    assert log.extras[0] is log.extras[1]
