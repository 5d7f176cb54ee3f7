"""Saved reports that connectors read besides events and profiles: funnels, revenue, annotations.

Plain Python over a project's data (no HTTP here). Mixpanel documents the replies' shapes (and
Airbyte's Mixpanel source reads them), not every rule behind the figures; where it is silent the
choice is written next to the code and in docs/mixpanel.md.
"""
from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime, timedelta, timezone
from typing import Any, Iterable, Mapping

UNITS = ("day", "week", "month")
#: A larger ``$amount`` is not a charge (skipped): sums then stay finite, never Infinity in a reply.
MAX_CHARGE = 1e15


@dataclass(frozen=True)
class Funnel:
    """A saved funnel: its ordered step events and its conversion window (Mixpanel's default, 30 days)."""

    funnel_id: int
    name: str
    steps: tuple[str, ...]
    window_days: int = 30

    def to_dict(self) -> dict[str, Any]:
        return {"funnel_id": self.funnel_id, "name": self.name, "steps": list(self.steps),
                "window_days": self.window_days}

    @classmethod
    def from_dict(cls, data: Mapping[str, Any]) -> "Funnel":
        return cls(int(data["funnel_id"]), str(data["name"]), tuple(str(s) for s in data["steps"]),
                   int(data.get("window_days", 30)))


@dataclass(frozen=True)
class Annotation:
    annotation_id: int
    project_id: int
    date: str  # "YYYY-MM-DD HH:MM:SS", as Mixpanel writes it
    description: str

    def to_dict(self) -> dict[str, Any]:
        return {"id": self.annotation_id, "project_id": self.project_id, "date": self.date,
                "description": self.description}

    @classmethod
    def from_dict(cls, data: Mapping[str, Any]) -> "Annotation":
        return cls(int(data["id"]), int(data["project_id"]), str(data["date"]), str(data.get("description", "")))


def period_start(day: date, unit: str) -> date:
    """The first day of ``day``'s bucket: itself, its week's Monday, or its month's first day."""
    if unit == "week":
        return day - timedelta(days=day.weekday())
    if unit == "month":
        return day.replace(day=1)
    return day


def buckets(first: date, last: date, unit: str) -> list[str]:
    """Every bucket from ``first`` to ``last`` (inclusive), as ``YYYY-MM-DD``, in order."""
    seen: list[str] = []
    day = first
    while day <= last:
        key = period_start(day, unit).isoformat()
        if not seen or seen[-1] != key:
            seen.append(key)
        day += timedelta(days=1)
    return seen


def _day_of(seconds: float) -> date:
    return datetime.fromtimestamp(seconds, timezone.utc).date()


def funnel_report(funnel: Funnel, events: Iterable[tuple[str, str, float]], first: date, last: date,
                  unit: str) -> dict[str, Any]:
    """``/api/2.0/funnels`` for ``events`` ((distinct_id, event, seconds), any order): a user enters on
    the first step-1 event between ``first`` and ``last`` and is counted in that bucket; each later
    step counts when its event follows the previous step's within ``window_days`` of the entry."""
    by_user: dict[str, list[tuple[float, str]]] = {}
    for distinct_id, name, seconds in events:
        if name in funnel.steps:
            by_user.setdefault(distinct_id, []).append((seconds, name))
    dates = buckets(first, last, unit)
    counts = {key: [0] * len(funnel.steps) for key in dates}
    waits: dict[str, list[list[float]]] = {key: [[] for _ in funnel.steps] for key in dates}
    for rows in by_user.values():
        rows.sort()
        entry = next((s for s, n in rows if n == funnel.steps[0] and first <= _day_of(s) <= last), None)
        if entry is None:
            continue
        key = period_start(_day_of(entry), unit).isoformat()
        counts[key][0] += 1
        at, deadline = entry, entry + funnel.window_days * 86400
        for index, step in enumerate(funnel.steps[1:], start=1):
            found = next((s for s, n in rows if n == step and at <= s <= deadline), None)
            if found is None:
                break
            counts[key][index] += 1
            waits[key][index].append(found - at)
            at = found
    return {"meta": {"dates": dates},
            "data": {key: _funnel_day(funnel, counts[key], waits[key]) for key in dates}}


def _funnel_day(funnel: Funnel, counts: list[int], waits: list[list[float]]) -> dict[str, Any]:
    steps = []
    for index, event in enumerate(funnel.steps):
        previous = counts[index - 1] if index else counts[0]
        steps.append({"count": counts[index], "event": event, "goal": event, "step_label": event,
                      "step_conv_ratio": (counts[index] / previous) if previous else 0.0,
                      "overall_conv_ratio": (counts[index] / counts[0]) if counts[0] else 0.0,
                      "avg_time": (sum(waits[index]) / len(waits[index])) if index and waits[index] else None})
    # "worst": the step (1-based, from the second) that loses the largest share; Mixpanel does not define it
    ratios = [(s["step_conv_ratio"], n) for n, s in enumerate(steps[1:], start=2)]
    return {"steps": steps, "analysis": {"completion": counts[-1], "starting_amount": counts[0],
                                         "steps": len(steps), "worst": min(ratios)[1] if ratios else 1}}


def revenue_report(profiles: Iterable[Mapping[str, Any]], first: date, last: date, unit: str,
                   computed_at: datetime) -> dict[str, Any]:
    """``/api/2.0/engage/revenue`` from the profiles' ``$transactions`` (what ``track_charge`` appends:
    ``{"$time", "$amount"}``): per bucket the amount, ``count`` the profiles of the project and
    ``paid_count`` the profiles that paid in it; ``$overall`` the same over the whole range."""
    profiles = list(profiles)
    dates = buckets(first, last, unit)
    amount = {key: 0.0 for key in dates}
    payers: dict[str, set[int]] = {key: set() for key in dates}
    for number, profile in enumerate(profiles):
        for charge in profile.get("$transactions") or []:
            day = _charge_day(charge)
            if day is None or not first <= day <= last:
                continue
            key = period_start(day, unit).isoformat()
            amount[key] += float(charge["$amount"])
            payers[key].add(number)
    results: dict[str, Any] = {"$overall": {"amount": sum(amount.values()), "count": len(profiles),
                                            "paid_count": len(set().union(*payers.values()))}}
    results.update({key: {"amount": amount[key], "count": len(profiles), "paid_count": len(payers[key])}
                    for key in dates})
    return {"computed_at": computed_at.isoformat(), "results": results, "status": "ok"}


def _charge_day(charge: Any) -> date | None:
    """The day of one ``$transactions`` entry; None for an entry that is not a charge (skipped)."""
    value = charge.get("$amount") if isinstance(charge, dict) else None
    if isinstance(value, bool) or not isinstance(value, (int, float)) or not abs(value) <= MAX_CHARGE:
        return None
    text = charge.get("$time")
    if not isinstance(text, str):
        return None
    try:
        return datetime.fromisoformat(text.replace("Z", "+00:00")).date()
    except ValueError:
        return None
