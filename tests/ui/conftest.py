"""The dashboards in a real browser: Debian's chromium driven by Playwright, both mocks on loopback
sharing one virtual clock (as in tests/integration), a fresh browser profile per session.

Time moves only through the dashboards' clock buttons or the control plane, never by sleeping.
Every test starts from reset mocks and the clock back at its start. Screenshots of each screen land
in ``artifacts/screenshots/`` (git-ignored; CI keeps them as artifacts).
"""
from __future__ import annotations

import os
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Iterator

import pytest

from harness.clients import BrazeClient, MixpanelClient
from mocks.braze import create_app as create_braze_app
from mocks.common import Clock, ServerThread
from mocks.common.clock import DEFAULT_START, to_iso
from mocks.mixpanel import create_app as create_mixpanel_app

CHROMIUM = "/usr/bin/chromium"
CHROMIUM_ARGS = ["--headless", "--no-sandbox", "--disable-gpu", "--disable-background-networking",
                 "--disable-component-update", "--disable-sync", "--no-first-run"]
SCREENSHOTS = Path(__file__).resolve().parents[2] / "artifacts" / "screenshots"
UI = "/_harness/ui/"


@dataclass
class Dashboards:
    """Both running mocks: their dashboards' URLs and control-plane clients."""

    braze_url: str
    mixpanel_url: str
    braze: BrazeClient
    mixpanel: MixpanelClient
    clock: Clock

    @property
    def braze_ui(self) -> str:
        return self.braze_url + UI

    @property
    def mixpanel_ui(self) -> str:
        return self.mixpanel_url + UI

    def epoch(self, hours_before_now: float) -> int:
        """An event time, in epoch seconds, some hours before the clock's start."""
        return int(DEFAULT_START.timestamp() - hours_before_now * 3600)

    def load_mixpanel(self, pid: int, profiles: dict[str, dict[str, Any]], purchases: dict[str, float]) -> None:
        """Profiles, and one Purchase per distinct_id at the given hours before the start."""
        self.mixpanel.control("POST", f"/projects/{pid}/profiles", json={
            "profiles": [{"distinct_id": d, "properties": p} for d, p in profiles.items()]})
        events = [{"event": "Purchase", "properties": {"time": self.epoch(h), "distinct_id": d, "$insert_id": f"p{i}"}}
                  for i, (d, h) in enumerate(purchases.items())]
        report = self.mixpanel.control("POST", f"/projects/{pid}/events", json={"events": events})
        assert report["failed_records"] == [], report


@pytest.fixture(scope="session")
def browser_context(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Any]:
    if not Path(CHROMIUM).exists():
        if os.environ.get("CI"):
            pytest.fail(f"{CHROMIUM} is missing: .ci/run installs Debian's chromium")
        pytest.skip(f"{CHROMIUM} is not installed (apt-get install -y chromium)")
    from playwright.sync_api import sync_playwright

    SCREENSHOTS.mkdir(parents=True, exist_ok=True)
    with sync_playwright() as playwright:
        context = playwright.chromium.launch_persistent_context(
            str(tmp_path_factory.mktemp("chromium-profile")), executable_path=CHROMIUM, args=CHROMIUM_ARGS,
            headless=True, viewport={"width": 1280, "height": 900})
        context.set_default_timeout(10_000)
        yield context
        context.close()


@pytest.fixture(scope="session")
def running() -> Iterator[Dashboards]:
    clock = Clock()
    with ServerThread(create_braze_app(clock=clock)) as braze, \
            ServerThread(create_mixpanel_app(clock=clock)) as mixpanel:
        dashboards = Dashboards(braze.url, mixpanel.url, BrazeClient(braze.url), MixpanelClient(mixpanel.url), clock)
        yield dashboards
        dashboards.braze.close()
        dashboards.mixpanel.close()


@pytest.fixture
def dash(running: Dashboards) -> Dashboards:
    running.braze.reset()
    running.mixpanel.reset()
    running.mixpanel.set_clock(to_iso(DEFAULT_START))  # backwards: runs nothing
    return running


@pytest.fixture
def page(browser_context: Any) -> Iterator[Any]:
    page = browser_context.new_page()
    yield page
    page.close()


def shot(page: Any, name: str) -> None:
    """Save a full-page screenshot of the current screen as a test artifact."""
    page.screenshot(path=str(SCREENSHOTS / f"{name}.png"), full_page=True)
