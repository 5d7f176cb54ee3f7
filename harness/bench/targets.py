"""The scale targets of the harness (issues 7 and 15) and the verdict of one benchmark run against them.

The targets are set for the full-size run (1,000,000 members, 1,000,000 profiles and 5,000,000
events on a 2-core machine); a verdict is given for every figure the run measured, whatever its size.
"""
from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Callable


@dataclass(frozen=True)
class Target:
    """One target: a figure read off the result, which must stay at or under ``limit``."""

    figure: str
    text: str
    limit: float
    read: Callable[[dict[str, Any]], float | None]

    def verdict(self, result: dict[str, Any]) -> dict[str, Any] | None:
        """``{"target", "value", "limit", "met"}``, or None when the run did not measure the figure."""
        value = self.read(result)
        if value is None:
            return None
        return {"target": self.text, "figure": self.figure, "value": value, "limit": self.limit,
                "met": value <= self.limit}


def _part(name: str, key: str) -> Callable[[dict[str, Any]], float | None]:
    return lambda result: (result.get(name) or {}).get(key)


def _slowest_evaluation(result: dict[str, Any]) -> float | None:
    """Every evaluation counts, the first one after the load included."""
    runs = (result.get("evaluation") or {}).get("runs")
    return max(runs) if runs else None


def _export_sides_together(result: dict[str, Any]) -> float | None:
    """The Braze and Mixpanel processes of the export and churn parts, summed: the 10,000,000-member
    export's memory target counts both sides of the transfer together (a vendor's receiver has none)."""
    by_side = result.get("peak_rss_mb_by_side") or {}
    braze, mixpanel = by_side.get("braze"), by_side.get("mixpanel")
    return round(braze + mixpanel, 1) if braze and mixpanel else None


TARGETS = (
    Target("export", "export within 2x its baseline", 2.0, _part("export", "ratio")),
    Target("export_floor", "export within 2x its floor", 2.0, _part("export", "floor_ratio")),
    Target("churn_sync", "1% churn sync under 1 s (median of 3)", 1.0, _part("churn_sync", "seconds")),
    Target("evaluation", "every evaluation within 5 s", 5.0, _slowest_evaluation),
    Target("first_evaluation", "first evaluation after a load under 1 s", 1.0,
           _part("evaluation", "first_seconds")),
    Target("export_memory", "export: both sides' peak memory together within 6,144 MiB", 6144.0,
           _export_sides_together),
    Target("peak_rss_mb", "peak memory within 2,048 MiB", 2048.0, lambda result: result.get("peak_rss_mb")),
    Target("suite", "conformance suite within 60 s", 60.0, _part("suite", "seconds")),
    Target("generate", "generate 20,000 users / 200,000 events within 8 s", 8.0, _part("generate", "seconds")),
    Target("replay", "replay of a 20,000-user world within 10 s", 10.0, _part("replay", "seconds")),
    Target("ingest", "ingest within 3x its decoding floor", 3.0, _part("ingest", "floor_ratio")),
    Target("import", "/import within 2x the do-nothing route", 2.0, _part("import", "ratio")),
)


def verdicts(result: dict[str, Any]) -> list[dict[str, Any]]:
    """The verdict of every target whose figure ``result`` holds, in the order of :data:`TARGETS`."""
    return [verdict for target in TARGETS if (verdict := target.verdict(result)) is not None]
