"""Profile queries of the Query API's ``/engage``: who matches, and the paging sessions.

A query is evaluated once, on its first page; the ordered ids are kept under a ``session_id`` so
later pages read the same snapshot (properties are read when each page is served).
"""
from __future__ import annotations

import secrets
import threading
from collections import OrderedDict
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from .expressions import Predicate
from .store import Project

MAX_SESSIONS = 200


@dataclass(frozen=True)
class ProfileQuery:
    cohort_id: int | None = None
    where: Predicate | None = None
    distinct_ids: tuple[str, ...] | None = None
    include_all_users: bool = True


def select_profiles(project: Project, query: ProfileQuery, at: datetime) -> list[str]:
    """Canonical ids matching the query, sorted. Without a cohort only profiles count; with one,
    members without a profile count too unless ``include_all_users`` is false."""
    with project.lock:
        if query.cohort_id is not None:
            ids = project.cohort_members(query.cohort_id, at)
            if not query.include_all_users:
                ids = {i for i in ids if project.has_profile(i)}
        else:
            ids = set(project.profile_ids())
        if query.distinct_ids is not None:
            ids &= {project.canonical_id(d) for d in query.distinct_ids}
        if query.where is not None:
            where = query.where
            ids = {i for i in ids if where(project.profile_properties(i))}
        return sorted(ids)


class EngageSessions:
    """Result snapshots by session id (the newest ``MAX_SESSIONS``); attached to the store so a
    reset forgets them. They are not part of a state dump."""

    def __init__(self) -> None:
        self._sessions: OrderedDict[str, tuple[int, list[str]]] = OrderedDict()
        self._lock = threading.Lock()

    def open(self, project_id: int, ids: list[str]) -> str:
        session_id = f"{secrets.token_hex(5)}-{secrets.token_hex(3).upper()}"
        with self._lock:
            self._sessions[session_id] = (project_id, ids)
            while len(self._sessions) > MAX_SESSIONS:
                self._sessions.popitem(last=False)
        return session_id

    def get(self, project_id: int, session_id: str) -> list[str] | None:
        with self._lock:
            found = self._sessions.get(session_id)
        return found[1] if found and found[0] == project_id else None

    def reset(self) -> None:
        with self._lock:
            self._sessions.clear()

    def to_dict(self) -> dict[str, Any]:
        return {}

    def load(self, data: dict[str, Any]) -> None:
        self.reset()
