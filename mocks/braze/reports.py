"""What the segment, campaign and Canvas export endpoints report, without HTTP (reference braze.md,
corrections: /segments/details, /segments/data_series, /campaigns/details, /canvas/details and the list
filters). Shapes follow Braze's export pages; values the mock does not model are their empty forms
(docs/braze.md "Segments, campaigns and Canvases through the REST API")."""
from __future__ import annotations

from datetime import datetime, timedelta
from typing import Any, Iterable

from mocks.common.clock import parse_instant

from .audiences import COHORT_FILTER_SUFFIX, Segment, Target

#: ``/segments/data_series``'s ``length``: days, 1..100 inclusive.
MIN_SERIES_DAYS, MAX_SERIES_DAYS = 1, 100


def filter_description(segment: Segment) -> str:
    """A human-readable description of the filters, as the dashboard names them."""
    parts = [f"{f.partner.capitalize()}{COHORT_FILTER_SUFFIX.title()} {f.operator} {f.cohort_id}" for f in segment.filters]
    return " AND ".join(parts) if parts else "All users"


def segment_details(segment: Segment) -> dict[str, Any]:
    """``/segments/details``: segments are never edited here, so ``updated_at`` is ``created_at``."""
    return {"message": "success", "created_at": segment.created_at, "updated_at": segment.created_at,
            "name": segment.name, "description": filter_description(segment), "text_description": "", "tags": [],
            "teams": []}


def data_series(segment: Segment, size: int, length: int, ending_at: datetime) -> dict[str, Any]:
    """``/segments/data_series``: one point per UTC day, oldest first, the ``length`` days up to
    ``ending_at``'s day, without the days before the segment existed. The mock keeps no size history:
    every point is the size now (Braze's series is an estimate too)."""
    created = parse_instant(segment.created_at).date()
    last = ending_at.date()
    days = [last - timedelta(days=back) for back in range(length - 1, -1, -1)]
    return {"message": "success", "data": [{"time": day.isoformat(), "size": size} for day in days if day >= created]}


def _common(target: Target) -> dict[str, Any]:
    return {"created_at": target.created_at, "updated_at": target.created_at, "name": target.name,
            "description": "", "archived": target.archived, "draft": False, "enabled": not target.archived,
            "has_post_launch_draft": False, "schedule_type": "time_based", "channels": [], "tags": list(target.tags),
            "teams": []}


def campaign_details(target: Target) -> dict[str, Any]:
    return {"message": "success", **_common(target), "first_sent": None, "last_sent": None, "messages": {},
            "conversion_behaviors": []}


def canvas_details(target: Target) -> dict[str, Any]:
    return {"message": "success", **_common(target), "first_entry": None, "last_entry": None, "variants": [],
            "steps": []}


def listed_targets(targets: Iterable[Target], include_archived: bool, edited_after: datetime | None) -> list[Target]:
    """``/campaigns/list`` and ``/canvas/list``: archived ones only when asked, and with
    ``last_edit.time[gt]`` only those last edited (here: created) strictly after it."""
    return [t for t in targets if (include_archived or not t.archived)
            and (edited_after is None or parse_instant(t.created_at) > edited_after)]
