"""Fixtures of the real-client tests: each client lives in its own venv or npm folder under
``clients/`` (installed by ``clients/install``, never into the project's venv) and is driven as a subprocess.

A client that is not installed skips its tests on a developer's machine and fails them under CI
(``CI=true``), so a broken install step can never pass as green."""
from __future__ import annotations

import json
import os
import subprocess
from datetime import datetime, timezone
from pathlib import Path
from typing import Any, Iterator

import pytest
import requests

from mocks.common import Clock, ServerThread

CLIENTS = Path(__file__).resolve().parents[2] / "clients"


def require(path: Path, what: str) -> Path:
    """``path`` when it exists; else skip (developer) or fail (CI) naming the install step."""
    if path.exists():
        return path
    message = f"{what} is not installed at {path}: run clients/install"
    if os.environ.get("CI") == "true":
        pytest.fail(message)
    pytest.skip(message)


def run(argv: list[str], env: dict[str, str] | None = None, timeout: float = 120) -> list[dict[str, Any]]:
    """Run a driver; its stdout is one JSON object per line."""
    done = subprocess.run(argv, capture_output=True, text=True, timeout=timeout,
                          env={**os.environ, **(env or {})})
    assert done.returncode == 0, done.stderr
    return [json.loads(line) for line in done.stdout.splitlines() if line.strip()]


def wall_clock() -> Clock:
    """Real clients stamp events with the wall time, so their mock's clock starts there."""
    return Clock(start=datetime.now(timezone.utc).replace(microsecond=0))


@pytest.fixture()
def mixpanel_mock() -> Iterator[tuple[str, dict[str, Any]]]:
    """The Mixpanel mock on a real port and one fresh project (its control-plane record)."""
    from mocks.mixpanel import create_app

    with ServerThread(create_app(clock=wall_clock())) as server:
        project = requests.post(server.url + "/_harness/projects", json={"name": "clients"}).json()
        yield server.url, project


@pytest.fixture()
def vendor_proxy(mixpanel_mock: tuple[str, dict[str, Any]], tmp_path: Path) -> Iterator[dict[str, str]]:
    """``cohort-harness proxy`` in front of the Mixpanel mock (and a Braze mock): the environment a
    client's process needs to reach the vendors' real hosts through it, trusting its local CA."""
    from harness.proxy import LocalCA, ProxyServer, Upstreams, trust_environment
    from mocks.braze import create_app as create_braze

    with ServerThread(create_braze(clock=wall_clock())) as braze:
        ca = LocalCA(tmp_path / "proxy-ca")
        with ProxyServer(Upstreams(mixpanel_mock[0], braze.url), ca) as proxy:
            yield trust_environment(proxy.url, ca.cert_path)


@pytest.fixture()
def mixpanel_front(mixpanel_mock: tuple[str, dict[str, Any]], tmp_path: Path) -> Iterator[dict[str, str]]:
    """A TLS front of the proxy answering as api.mixpanel.com on https://localhost:<port>: ``host`` to
    configure the client with, ``env`` to trust the local CA."""
    from harness.proxy import LocalCA, ProxyServer, Upstreams

    ca = LocalCA(tmp_path / "front-ca")
    with ProxyServer(Upstreams(mixpanel_mock[0], ""), ca, front_host="api.mixpanel.com") as front:
        yield {"host": front.url.removeprefix("https://"), "NODE_EXTRA_CA_CERTS": str(ca.cert_path)}


@pytest.fixture()
def braze_mock() -> Iterator[tuple[str, dict[str, Any]]]:
    """The Braze mock on a real port and one fresh workspace (with its all-permission REST key)."""
    from mocks.braze import create_app

    with ServerThread(create_app(clock=wall_clock())) as server:
        workspace = requests.post(server.url + "/_harness/workspaces", json={"name": "clients"}).json()
        yield server.url, workspace


def without_recent_last_seen(profile: dict[str, Any]) -> dict[str, Any]:
    """The profile without ``$last_seen``, after checking it is the client's own ``$time`` (the wall
    clock: both official clients stamp each people call with it)."""
    seen = datetime.strptime(profile.pop("$last_seen"), "%Y-%m-%dT%H:%M:%S").replace(tzinfo=timezone.utc)
    assert abs((datetime.now(timezone.utc) - seen).total_seconds()) < 600, seen
    return profile
