"""Fixtures of the Mixpanel mock tests: a virtual clock at 2026-01-01T00:00:00Z, the plain store,
and the Flask app driven through its test client (the official-client tests start a real server)."""
from __future__ import annotations

import itertools
from datetime import datetime, timezone
from typing import Any

import pytest

from mocks.common import Clock
from mocks.mixpanel import create_app
from mocks.mixpanel.store import MixpanelStore, Project

START = datetime(2026, 1, 1, tzinfo=timezone.utc)
NOW_S = int(START.timestamp())
DAY_S = 86400
_insert_ids = itertools.count(1)


def event(name: str, time: float, distinct_id: str | None = "u1", insert_id: str | None = None,
          **props: Any) -> dict[str, Any]:
    """An /import event; a fresh ``$insert_id`` unless one is given."""
    properties: dict[str, Any] = {"time": time, "$insert_id": insert_id or f"ins-{next(_insert_ids)}", **props}
    if distinct_id is not None:
        properties["distinct_id"] = distinct_id
    return {"event": name, "properties": properties}


@pytest.fixture()
def clock() -> Clock:
    return Clock(start=START)


@pytest.fixture()
def store(clock) -> MixpanelStore:
    return MixpanelStore(clock)


@pytest.fixture()
def project(store) -> Project:
    return store.create_project("unit")


@pytest.fixture()
def app(clock):
    return create_app(clock=clock)


@pytest.fixture()
def api(app):
    return app.test_client()


@pytest.fixture()
def proj(api) -> dict[str, Any]:
    """A project made through the control plane: project_id, token, api_secret, service_account."""
    reply = api.post("/_harness/projects", json={"name": "P"})
    assert reply.status_code == 201
    return reply.json


def sa(proj: dict[str, Any]) -> tuple[str, str]:
    return proj["service_account"]["username"], proj["service_account"]["secret"]


def import_url(proj: dict[str, Any], strict: str | None = "1") -> str:
    query = f"?project_id={proj['project_id']}" + (f"&strict={strict}" if strict is not None else "")
    return "/import" + query
