"""Segments with partner-cohort filters, and the campaigns and Canvases that target them (SEED-5).

A segment's filters are AND-ed: ``includes_value`` keeps the members of a cohort, ``excludes_value``
keeps everybody else. A segment whose filters are all excludes therefore contains every user who is in
none of those cohorts; a segment without filters contains every user. Audiences are evaluated when
asked, so they follow the cohorts as syncs change them.
"""
from __future__ import annotations

from dataclasses import asdict, dataclass, field
from typing import Any

from .cohorts import CohortBook
from .identity import BrazeUser, UserDirectory

INCLUDES, EXCLUDES = "includes_value", "excludes_value"
OPERATORS = (INCLUDES, EXCLUDES)
COHORT_FILTER_SUFFIX = "_cohorts"


@dataclass(frozen=True)
class CohortFilter:
    """``Mixpanel_Cohorts includes_value <cohort>``: the filter type names the partner."""

    partner: str
    operator: str
    cohort_id: str

    def to_dict(self) -> dict[str, str]:
        return {"type": f"{self.partner}{COHORT_FILTER_SUFFIX}", "operator": self.operator,
                "cohort_id": self.cohort_id}


@dataclass
class Segment:
    segment_id: str
    name: str
    filters: list[CohortFilter]
    created_at: str

    def to_dict(self) -> dict[str, Any]:
        return {"segment_id": self.segment_id, "name": self.name, "created_at": self.created_at,
                "filters": [f.to_dict() for f in self.filters]}

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> "Segment":
        filters = [CohortFilter(f["type"].lower().removesuffix(COHORT_FILTER_SUFFIX), f["operator"], f["cohort_id"])
                   for f in data["filters"]]
        return cls(data["segment_id"], data["name"], filters, data["created_at"])


@dataclass
class Target:
    """A campaign or a Canvas: what matters here is the segment it targets."""

    target_id: str
    name: str
    segment_id: str
    created_at: str
    tags: list[str] = field(default_factory=list)
    archived: bool = False

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> "Target":
        return cls(**data)


def segment_members(directory: UserDirectory, cohorts: CohortBook, segment: Segment) -> list[BrazeUser]:
    """The users of a segment now, ordered by braze_id (creation order)."""
    member_sets = {}
    for f in segment.filters:
        cohort = cohorts.get(f.partner, f.cohort_id)
        member_sets[f] = cohort.members if cohort is not None else set()
    includes = [member_sets[f] for f in segment.filters if f.operator == INCLUDES]
    excludes = [member_sets[f] for f in segment.filters if f.operator == EXCLUDES]
    candidates = min(includes, key=len) if includes else directory.users.keys()
    chosen = [braze_id for braze_id in candidates
              if all(braze_id in s for s in includes) and not any(braze_id in s for s in excludes)]
    return [directory.users[braze_id] for braze_id in sorted(chosen) if braze_id in directory.users]
