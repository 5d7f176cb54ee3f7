from datetime import datetime, timedelta, timezone

import pytest

from mocks.common.clock import Clock, ClockError, parse_duration, parse_instant, to_iso


class EveryQuarterHour:
    """A scheduler that fires every 15 minutes from a start instant and records when it ran."""

    def __init__(self, clock: Clock, start: datetime):
        self.clock = clock
        self.due = start
        self.ran: list[tuple[datetime, datetime]] = []

    def next_due(self):
        return self.due

    def run_due(self, at):
        self.ran.append((at, self.clock.now()))
        self.due = at + timedelta(minutes=15)
        return [{"at": to_iso(at)}]


def test_virtual_clock_moves_only_when_told():
    clock = Clock(start=datetime(2026, 1, 1, tzinfo=timezone.utc))
    assert clock.now() == clock.now() == datetime(2026, 1, 1, tzinfo=timezone.utc)
    clock.advance("90s")
    assert clock.now() == datetime(2026, 1, 1, 0, 1, 30, tzinfo=timezone.utc)


def test_advance_runs_each_due_job_at_its_own_instant_in_order():
    start = datetime(2026, 1, 1, tzinfo=timezone.utc)
    clock = Clock(start=start)
    jobs = EveryQuarterHour(clock, start + timedelta(minutes=15))
    clock.add_scheduler(jobs)
    fired = clock.advance("1h")
    assert [f["at"] for f in fired] == ["2026-01-01T00:15:00Z", "2026-01-01T00:30:00Z",
                                        "2026-01-01T00:45:00Z", "2026-01-01T01:00:00Z"]
    # during each run the clock reads the scheduled instant, not the target
    assert all(at == seen for at, seen in jobs.ran)
    assert clock.now() == start + timedelta(hours=1)


def test_set_backwards_runs_nothing_and_forwards_runs_due_jobs():
    start = datetime(2026, 1, 1, tzinfo=timezone.utc)
    clock = Clock(start=start)
    clock.add_scheduler(EveryQuarterHour(clock, start + timedelta(minutes=15)))
    assert clock.set("2025-12-31T00:00:00Z") == []
    assert len(clock.set("2026-01-01T00:31:00+00:00")) == 2


@pytest.mark.parametrize("text,seconds", [("15m", 900), ("2h", 7200), ("3d", 259200), ("1.5s", 1.5)])
def test_parse_duration(text, seconds):
    assert parse_duration(text).total_seconds() == seconds


@pytest.mark.parametrize("bad", ["", "15", "m", "-5m", "15 minutes", 15, None])
def test_parse_duration_rejects_garbage(bad):
    with pytest.raises(ClockError):
        parse_duration(bad)


def test_parse_instant_accepts_offsets_and_z():
    assert parse_instant("2021-01-21T19:20:30+05:00") == datetime(2021, 1, 21, 14, 20, 30, tzinfo=timezone.utc)
    assert to_iso(parse_instant("2010-01-01T00:00:00Z")) == "2010-01-01T00:00:00Z"
    with pytest.raises(ClockError):
        parse_instant("yesterday")


def test_negative_advance_is_refused():
    with pytest.raises(ClockError):
        Clock().advance(timedelta(seconds=-1))
