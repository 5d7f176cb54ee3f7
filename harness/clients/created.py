"""What a client's ``create_*`` call returns: one frozen dataclass per resource, never an id here and
a dict there. Each holds the fields every compatible target must answer (the contract the steps rely
on) and, in ``reply``, the whole reply for anything a target adds."""
from __future__ import annotations

from dataclasses import dataclass, field, fields
from typing import Any, TypeVar

from .errors import HarnessHTTPError

R = TypeVar("R", bound="Created")


@dataclass(frozen=True)
class Created:
    """Base of the records below: ``reply`` is the target's whole JSON reply."""

    reply: dict[str, Any] = field(repr=False, compare=False)

    @classmethod
    def from_reply(cls: type[R], reply: Any, call: str) -> R:
        """The record, or :class:`HarnessHTTPError` naming the missing field (a target that answers
        2xx without what the contract promises is refused, not half-read)."""
        wanted = [f.name for f in fields(cls) if f.name != "reply"]
        missing = [name for name in wanted if not isinstance(reply, dict) or name not in reply]
        if missing:
            method, _, url = call.partition(" ")
            raise HarnessHTTPError(200, f"the reply lacks {', '.join(missing)}", method, url, reply)
        return cls(reply=reply, **{name: reply[name] for name in wanted})


@dataclass(frozen=True)
class Workspace(Created):
    workspace_id: str
    rest_api_key: str


@dataclass(frozen=True)
class RestApiKey(Created):
    rest_api_key: str
    permissions: list[str]


@dataclass(frozen=True)
class DataImportKey(Created):
    """A Braze data import key and the REST endpoint Braze shows with it (SEED-2.1)."""

    key: str
    rest_endpoint: str


@dataclass(frozen=True)
class Segment(Created):
    segment_id: str


@dataclass(frozen=True)
class Campaign(Created):
    campaign_id: str


@dataclass(frozen=True)
class Canvas(Created):
    canvas_id: str


@dataclass(frozen=True)
class Project(Created):
    """A Mixpanel project: ``token`` for ingestion, ``api_secret`` and ``service_account``
    (``{"username", "secret"}``) for the query and import APIs."""

    project_id: int
    token: str
    api_secret: str
    service_account: dict[str, str]


@dataclass(frozen=True)
class Cohort(Created):
    cohort_id: int
    name: str


@dataclass(frozen=True)
class Connection(Created):
    """A saved Mixpanel -> Braze connection (its keys masked in ``reply``)."""

    connection_id: int


@dataclass(frozen=True)
class Export(Created):
    """A cohort export, as created (its first sync has run): ``status``, ``next_sync_at``."""

    export_id: int
    status: str
    next_sync_at: str | None
