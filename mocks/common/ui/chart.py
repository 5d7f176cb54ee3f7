"""A bar chart drawn as SVG on the server: adds above the axis, removes below, one bar pair per
point, placed by its instant. No script and no charting library, so it renders offline and a test
can read every bar's ``<title>``."""
from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

WIDTH, HEIGHT, MARGIN = 900, 220, 30


@dataclass(frozen=True)
class Bar:
    x: float
    y: float
    width: float
    height: float
    kind: str  # "add" or "remove"
    title: str


@dataclass(frozen=True)
class Chart:
    bars: list[Bar]
    axis_y: float
    first: str
    last: str
    peak: int
    width: int = WIDTH
    height: int = HEIGHT


def adds_and_removes(points: list[tuple[datetime, int, int, str]]) -> Chart:
    """``points`` are ``(instant, added, removed, label)`` in time order; bars are scaled to the
    largest count, placed on a time axis (a single point, or points at one instant, sit in the middle)."""
    inner_w, half = WIDTH - 2 * MARGIN, (HEIGHT - 2 * MARGIN) / 2
    axis_y = MARGIN + half
    if not points:
        return Chart([], axis_y, "", "", 0)
    start, end = points[0][0], points[-1][0]
    span = (end - start).total_seconds()
    peak = max(max(added, removed) for _, added, removed, _ in points) or 1
    bar_w = max(2.0, min(24.0, inner_w / (len(points) * 1.6)))
    bars: list[Bar] = []
    for at, added, removed, label in points:
        share = (at - start).total_seconds() / span if span else 0.5
        x = MARGIN + share * (inner_w - bar_w)
        up, down = half * added / peak, half * removed / peak
        bars.append(Bar(x, axis_y - up, bar_w, up, "add", f"{label}: +{added} added"))
        bars.append(Bar(x, axis_y, bar_w, down, "remove", f"{label}: −{removed} removed"))
    return Chart(bars, axis_y, _short(start), _short(end), peak)


def _short(at: datetime) -> str:
    return at.strftime("%Y-%m-%d %H:%M")
