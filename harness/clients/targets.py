"""Both targets as one pair, for the calls that must reach both in a fixed order."""
from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from .braze import BrazeClient
from .mixpanel import MixpanelClient


@dataclass
class Targets:
    """A Braze target and a Mixpanel target that share one notion of time.

    Clock moves go to Braze first, then Mixpanel: syncs run on the Mixpanel clock and call Braze, so
    Braze must already stand at the new instant when they do.
    """

    braze: BrazeClient
    mixpanel: MixpanelClient

    @classmethod
    def at(cls, braze_url: str, mixpanel_url: str, timeout: float = 60.0) -> "Targets":
        return cls(BrazeClient(braze_url, timeout), MixpanelClient(mixpanel_url, timeout))

    def health(self) -> dict[str, Any]:
        """``{"braze": reply, "mixpanel": reply}``; raises TargetUnreachable naming the dead one."""
        return {"braze": self.braze.health(), "mixpanel": self.mixpanel.health()}

    def reset(self) -> None:
        self.braze.reset()
        self.mixpanel.reset()

    def now(self) -> str:
        """The Mixpanel clock's instant (the one syncs run on)."""
        return self.mixpanel.get_clock()["now"]

    def advance(self, duration: str) -> list[dict[str, Any]]:
        """Advance both clocks; returns the syncs Mixpanel ran (its ``fired`` list: every one up to
        20, else the first and last 10; :meth:`advance_reply` has the counts)."""
        return self.advance_reply(duration)["fired"]

    def advance_reply(self, duration: str) -> dict[str, Any]:
        """Advance both clocks; Mixpanel's whole reply (``now``, ``fired_count``, ``exports``, ...)."""
        self.braze.advance_clock(duration)
        return self.mixpanel.advance_clock(duration)

    def set_clock(self, instant: str) -> list[dict[str, Any]]:
        """Set both clocks to an ISO-8601 instant; returns Mixpanel's ``fired`` list."""
        return self.set_clock_reply(instant)["fired"]

    def set_clock_reply(self, instant: str) -> dict[str, Any]:
        """Set both clocks to an ISO-8601 instant; Mixpanel's whole reply."""
        self.braze.set_clock(instant)
        return self.mixpanel.set_clock(instant)

    def close(self) -> None:
        self.braze.close()
        self.mixpanel.close()
