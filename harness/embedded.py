"""Both mocks in this process, on 127.0.0.1, each with its own clock (same mode, same start).

The CLI (``serve``, ``run``, ``replay``) and the tests start them here and then talk to them over
HTTP through :mod:`harness.clients`, exactly as they would talk to a vendor's servers.
"""
from __future__ import annotations

import threading
from contextlib import ExitStack
from datetime import datetime
from typing import Any, Callable

from mocks.common import Clock, ServerThread
from mocks.common.app import MockContext, restore_state

from .clients import Targets

#: Real and scaled clocks move on their own: this often the Mixpanel side looks for due syncs.
TICK_SECONDS = 1.0
#: How long a save at shutdown waits for a running clock advance (its sync batches) to finish.
SETTLE_SECONDS = 30.0


class EmbeddedMocks:
    """``with EmbeddedMocks() as mocks: mocks.targets()...``; ports 0 pick free ports."""

    def __init__(self, braze_port: int = 0, mixpanel_port: int = 0, clock_mode: str = "virtual",
                 start: datetime | None = None, scale: float = 1.0, host: str = "127.0.0.1",
                 braze_config: dict[str, Any] | None = None, mixpanel_config: dict[str, Any] | None = None):
        from mocks.braze import create_app as create_braze_app
        from mocks.mixpanel import create_app as create_mixpanel_app

        self.braze_clock = Clock(clock_mode, start, scale)
        self.mixpanel_clock = Clock(clock_mode, start, scale)
        self._apps = (create_braze_app(braze_config, clock=self.braze_clock),
                      create_mixpanel_app(mixpanel_config, clock=self.mixpanel_clock))
        self._ports = (braze_port, mixpanel_port)
        self._host = host
        self.braze: ServerThread | None = None
        self.mixpanel: ServerThread | None = None
        self._ticking = threading.Event()
        self._ticker: threading.Thread | None = None

    @property
    def braze_url(self) -> str:
        return self._running(self.braze).url

    @property
    def mixpanel_url(self) -> str:
        return self._running(self.mixpanel).url

    def start(self) -> "EmbeddedMocks":
        """Start Braze then Mixpanel; if Mixpanel cannot start (port in use), Braze is stopped again."""
        self.braze = ServerThread(self._apps[0], self._host, self._ports[0]).start()
        try:
            self.mixpanel = ServerThread(self._apps[1], self._host, self._ports[1]).start()
        except BaseException:
            self.braze.stop()
            self.braze = None
            raise
        if self.mixpanel_clock.mode != "virtual":
            self._start_ticker()
        return self

    def targets(self, timeout: float = 60.0) -> Targets:
        """HTTP clients of the two running mocks."""
        return Targets.at(self.braze_url, self.mixpanel_url, timeout)

    def restore(self, saved: dict[str, Any]) -> None:
        """Load ``{"braze": dump, "mixpanel": dump}`` in this process: a state file may be far over the
        64 MB HTTP body cap of ``PUT /_harness/state``, and parsing it once is enough. Raises
        :class:`~mocks.common.app.StateRefused` (Braze is loaded first; each load is all or nothing)."""
        for context, name in zip(self._contexts(), ("braze", "mixpanel")):
            restore_state(context, saved[name])

    def dump(self, settle_s: float = SETTLE_SECONDS, then_stop: bool = False) -> tuple[dict[str, Any], bool]:
        """Both states as ``GET /_harness/state`` gives them, taken once a running advance and every
        sync in flight have finished (waiting at most ``settle_s`` for each) and with no new one
        started meanwhile; the flag says whether all settled in time (if not, the dump is taken
        anyway: a bounded shutdown). ``then_stop`` stops the servers before anything is let go, so
        no sync runs between the dump and the end (it would be sent again after a restart)."""
        registry = self._apps[1].extensions["cohort_sync"]
        with ExitStack() as stack:
            settled = all([stack.enter_context(self.mixpanel_clock.held(settle_s)),
                           stack.enter_context(self.braze_clock.held(settle_s)),
                           stack.enter_context(registry.held(settle_s))])
            state = {name: {"service": ctx.service, "clock": ctx.clock.to_dict(), "store": ctx.store.to_dict()}
                     for ctx, name in zip(self._contexts(), ("braze", "mixpanel"))}
            if then_stop:
                self._stop_servers()
        return state, settled

    def log_requests(self, sink: Callable[[str], None] | None) -> None:
        """Send one line per request of both mocks to ``sink`` (``serve --log-requests``); None stops it."""
        for context in self._contexts():
            context.request_log = sink

    def _contexts(self) -> tuple[MockContext, MockContext]:
        return self._apps[0].extensions["harness"], self._apps[1].extensions["harness"]

    def stop(self) -> None:
        self._ticking.set()
        if self._ticker is not None:
            self._ticker.join(timeout=2)
        self._stop_servers()

    def _stop_servers(self) -> None:
        for server in (self.mixpanel, self.braze):
            if server is not None:
                server.stop()
        self.braze = self.mixpanel = None

    def __enter__(self) -> "EmbeddedMocks":
        return self.start()

    def __exit__(self, *exc: Any) -> None:
        self.stop()

    def _start_ticker(self) -> None:
        """With a wall clock nobody moves time by hand, so due syncs are looked for every second."""
        def tick() -> None:
            while not self._ticking.wait(TICK_SECONDS):
                self.braze_clock.run_due()
                self.mixpanel_clock.run_due()

        self._ticker = threading.Thread(target=tick, name="clock-ticker", daemon=True)
        self._ticker.start()

    @staticmethod
    def _running(server: ServerThread | None) -> ServerThread:
        if server is None:
            raise RuntimeError("the embedded mocks are not running (call start() first)")
        return server
