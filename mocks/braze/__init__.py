"""The Braze mock: partner cohort import, the users REST API, segments/campaigns/Canvases lists,
and a test control plane, over a stateful model of workspaces and users (see docs/braze.md).

    from mocks.braze import create_app
    from mocks.common import ServerThread

    with ServerThread(create_app()) as server:
        print(server.url)
"""
from __future__ import annotations

from dataclasses import fields
from typing import Any, Mapping

from flask import Flask

from mocks.common import Clock, MockContext, create_mock_app
from mocks.common.settings import split_settings
from mocks.common.ui import install_ui

from .api import braze_error_body, partner_blueprint, rest_blueprint
from .config import BrazeConfig
from .control import control_blueprint
from .store import BrazeStore
from .ui import ui_blueprint

__all__ = ["create_app", "BrazeConfig", "BrazeStore"]


def create_app(config: Mapping[str, Any] | None = None, clock: Clock | None = None) -> Flask:
    """A new Braze mock app with its own state. ``config`` holds the settings of :class:`BrazeConfig`
    (unknown lower-case keys are refused; upper-case keys go to Flask's config)."""
    settings, flask_config = split_settings("Braze", config, [f.name for f in fields(BrazeConfig)])
    clock = clock or Clock()
    store = BrazeStore(BrazeConfig.from_mapping(settings), clock)
    app = create_mock_app(MockContext("braze", store, clock, braze_error_body), flask_config)
    app.register_blueprint(partner_blueprint())
    app.register_blueprint(rest_blueprint())
    app.register_blueprint(control_blueprint())
    install_ui(app, ui_blueprint(), "Braze", "braze_ui.home")
    return app
