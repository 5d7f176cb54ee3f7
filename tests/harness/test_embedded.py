"""Both mocks in-process: free ports, separate clocks with one start, clean stop, port in use."""
from __future__ import annotations

import socket

import pytest
import requests

from mocks.common.server import PortInUseError


def test_start_talk_and_stop():
    from harness.embedded import EmbeddedMocks

    with EmbeddedMocks() as mocks:
        targets = mocks.targets()
        assert targets.health()["braze"]["service"] == "braze"
        assert targets.health()["mixpanel"]["service"] == "mixpanel"
        assert mocks.braze_clock is not mocks.mixpanel_clock
        assert mocks.braze_clock.now() == mocks.mixpanel_clock.now()
        url = mocks.braze_url
    with pytest.raises(requests.ConnectionError):
        requests.get(url + "/_harness/health", timeout=1)


def test_a_busy_port_stops_what_already_started():
    from harness.embedded import EmbeddedMocks

    with socket.socket() as busy:
        busy.bind(("127.0.0.1", 0))
        busy.listen()
        mocks = EmbeddedMocks(mixpanel_port=busy.getsockname()[1])
        with pytest.raises(PortInUseError):
            mocks.start()
        assert mocks.braze is None and mocks.mixpanel is None
