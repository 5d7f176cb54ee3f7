"""Fresh in-process apps of both mocks (the Flask test client, through the whole shared pipeline)."""
from __future__ import annotations

import base64
from typing import Any

import pytest
from flask.testing import FlaskClient

from mocks.braze import create_app as create_braze_app
from mocks.common import Clock
from mocks.mixpanel import create_app as create_mixpanel_app


@pytest.fixture()
def braze() -> FlaskClient:
    return create_braze_app(clock=Clock()).test_client()


@pytest.fixture()
def mixpanel() -> FlaskClient:
    return create_mixpanel_app(clock=Clock()).test_client()


@pytest.fixture()
def project(mixpanel: FlaskClient) -> dict[str, Any]:
    created: dict[str, Any] = mixpanel.post("/_harness/projects", json={"name": "p"}).get_json()
    return created


@pytest.fixture()
def secret_auth(project: dict[str, Any]) -> dict[str, str]:
    """Basic auth with the project's API secret as the username (the Query API and ``/import`` take it)."""
    return {"Authorization": "Basic " + base64.b64encode(f"{project['api_secret']}:".encode()).decode()}
