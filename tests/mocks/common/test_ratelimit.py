"""Rate-limit windows: the mock clock's windows, ended early by monotonic wall time while that clock
stands still (never sleeping: the wall is an injected counter)."""
from datetime import datetime, timezone

import pytest

from mocks.common.clock import Clock
from mocks.common.ratelimit import RateLimiter, limits_enabled_by_environment

START = datetime(2026, 1, 1, tzinfo=timezone.utc)


class FakeWall:
    def __init__(self) -> None:
        self.now = 1000.0

    def __call__(self) -> float:
        return self.now


@pytest.fixture()
def clock() -> Clock:
    return Clock("virtual", START)


@pytest.fixture()
def wall() -> FakeWall:
    return FakeWall()


def hits(limiter: RateLimiter, n: int, limit: int = 3, window: int = 60) -> list[bool]:
    return [limiter.hit("k", limit, window).allowed for _ in range(n)]


def test_standing_clock_window_rolls_over_on_wall_time(clock, wall):
    limiter = RateLimiter(clock, wall)
    assert hits(limiter, 4) == [True, True, True, False]
    wall.now += 59.5
    refused = limiter.hit("k", 3, 60)
    assert not refused.allowed and refused.retry_after == 1 and refused.remaining == 0
    wall.now += 0.5
    assert hits(limiter, 4) == [True, True, True, False]
    assert clock.now() == START  # the virtual clock never moved


def test_moving_the_virtual_clock_still_rolls_the_window_over(clock, wall):
    limiter = RateLimiter(clock, wall)
    assert hits(limiter, 4) == [True, True, True, False]
    clock.advance("60s")
    assert hits(limiter, 1) == [True]


def test_retry_after_and_reset_are_the_shorter_wait(clock, wall):
    limiter = RateLimiter(clock, wall)
    clock.advance("50s")  # 10 s of the virtual window left, 60 s of wall time
    hits(limiter, 3)
    refused = limiter.hit("k", 3, 60)
    assert (refused.retry_after, refused.reset_epoch) == (10, int(START.timestamp()) + 60)
    assert refused.headers() == {"x-ratelimit-limit": "3", "x-ratelimit-remaining": "0",
                                 "x-ratelimit-reset": str(int(START.timestamp()) + 60)}


def test_keys_count_apart(clock, wall):
    limiter = RateLimiter(clock, wall)
    assert hits(limiter, 4) == [True, True, True, False]
    assert limiter.hit("other", 3, 60).allowed


def test_disabled_limiter_allows_everything_with_full_remaining(clock, wall):
    limiter = RateLimiter(clock, wall, enabled=False)
    decisions = [limiter.hit("k", 2, 60) for _ in range(5)]
    assert all(d.allowed and d.remaining == 2 for d in decisions)


@pytest.mark.parametrize("value, enabled", [(None, True), ("on", True), ("off", False), ("OFF", False),
                                            ("0", False), ("false", False)])
def test_environment_switch(monkeypatch, value, enabled):
    if value is None:
        monkeypatch.delenv("COHORT_HARNESS_RATE_LIMITS", raising=False)
    else:
        monkeypatch.setenv("COHORT_HARNESS_RATE_LIMITS", value)
    assert limits_enabled_by_environment() is enabled


def test_the_switch_reaches_the_apps_of_both_mocks(monkeypatch):
    from mocks.braze import create_app as braze_app
    from mocks.mixpanel import create_app as mixpanel_app
    monkeypatch.setenv("COHORT_HARNESS_RATE_LIMITS", "off")
    assert [make().extensions["harness"].limiter.enabled for make in (braze_app, mixpanel_app)] == [False, False]
    monkeypatch.delenv("COHORT_HARNESS_RATE_LIMITS")
    assert [make().extensions["harness"].limiter.enabled for make in (braze_app, mixpanel_app)] == [True, True]
