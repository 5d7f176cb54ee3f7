"""Fixtures of the harness tests: a recording stand-in target, and the real mocks when present."""
from __future__ import annotations

import json
from typing import Any

import pytest
from flask import Flask, Response, request

from mocks.common import ServerThread

from .cli_checks import cli_runner


class Recorder:
    """A target that records every request and answers a canned JSON reply per (method, path)."""

    def __init__(self) -> None:
        self.calls: list[dict[str, Any]] = []
        self.replies: dict[tuple[str, str], tuple[int, Any]] = {}
        self.app = Flask("recorder")

        @self.app.route("/", defaults={"path": ""}, methods=["GET", "POST", "PUT", "PATCH", "DELETE"])
        @self.app.route("/<path:path>", methods=["GET", "POST", "PUT", "PATCH", "DELETE"])
        def record(path: str) -> Response:
            body: Any = request.get_data(as_text=True)
            if request.is_json:
                body = request.get_json()
            elif request.form:
                body = request.form.to_dict()
            self.calls.append({"method": request.method, "path": "/" + path, "query": request.args.to_dict(),
                               "body": body, "auth": request.authorization and
                               (request.authorization.username, request.authorization.password),
                               "bearer": request.headers.get("Authorization")})
            status, reply = self.replies.get((request.method, "/" + path), (200, {}))
            text = reply if isinstance(reply, str) else json.dumps(reply)
            return Response(text, status=status, mimetype="text/plain" if isinstance(reply, str) else "application/json")

    def reply(self, method: str, path: str, body: Any, status: int = 200) -> None:
        self.replies[(method, path)] = (status, body)

    @property
    def last(self) -> dict[str, Any]:
        return self.calls[-1]


@pytest.fixture()
def recorder():
    rec = Recorder()
    with ServerThread(rec.app) as server:
        rec.url = server.url
        yield rec


@pytest.fixture(scope="session")
def braze():
    """A BrazeClient of the real Braze mock, started once (each test makes its own workspace)."""
    from harness.clients import BrazeClient
    from mocks.braze import create_app

    with ServerThread(create_app()) as server:
        client = BrazeClient(server.url)
        yield client
        client.close()


@pytest.fixture(scope="session")
def embedded():
    """Both real mocks, started once for the session (tests use their own workspace / project)."""
    from harness.embedded import EmbeddedMocks

    with EmbeddedMocks() as mocks:
        yield mocks


@pytest.fixture()
def cli():
    """The CLI through click's runner: ``cli("run", "demo")`` returns click's Result."""
    return cli_runner()
