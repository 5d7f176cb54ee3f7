"""The Mixpanel mock: ingestion with retention, Simplified ID Merge, cohorts, the Query API and the
raw export, plus its control plane; the app factory wires in the cohort sync to Braze
(:mod:`.cohort_sync`), which the rest of the mock does not import.
``create_app(config=None, clock=None)`` builds one instance.

``config`` holds the settings of :class:`~.config.MixpanelConfig` (``limits``, ``exports``; the older
``MIXPANEL_LIMITS`` / ``EXPORTS`` spellings too); other upper-case keys go to Flask's config, and
unknown lower-case keys are refused, as on the Braze mock.
"""
from __future__ import annotations

from dataclasses import fields
from typing import Any, Mapping

from flask import Flask, request

from mocks.common import Clock, MockContext, create_mock_app
from mocks.common.settings import split_settings
from mocks.common.ui import install_ui

from .api import INGESTION_PATHS, ingestion_blueprint, ingestion_error
from .cohort_sync import install_cohort_sync
from .config import ALIASES, MixpanelConfig
from .control import control_blueprint
from .engage import EngageSessions
from .query_api import query_blueprint, query_error_body
from .errors import CohortNotFound, ProjectNotFound
from .store import MixpanelStore, Project
from .ui import ui_blueprint


def error_body(status: int, message: str) -> Any:
    """Errors the shared pipeline answers for us (unknown path, wrong method, body over the cap,
    injected faults, a bug), each in the shape of the surface it happens on: the Query and Export
    APIs' ``{"request", "error"}``, ``/import``'s and the legacy endpoints' own replies, and
    ``{"error", "status": 0}`` on a path that is none of them."""
    if request.path.startswith("/api/"):
        return query_error_body(message)
    if request.path in INGESTION_PATHS:
        return ingestion_error(status, message)
    return {"error": message, "status": 0}


def create_app(config: Mapping[str, Any] | None = None, clock: Clock | None = None) -> Flask:
    """A new Mixpanel mock app with its own state (see the module docstring for ``config``)."""
    settings, flask_config = split_settings("Mixpanel", config, [f.name for f in fields(MixpanelConfig)], ALIASES)
    mixpanel_config = MixpanelConfig.from_mapping(settings)
    limits = mixpanel_config.limits
    clock = clock or Clock()
    store = MixpanelStore(clock)
    sessions = EngageSessions()
    store.attach("engage_sessions", sessions)
    app = create_mock_app(MockContext("mixpanel", store, clock, error_body), flask_config)
    app.register_blueprint(ingestion_blueprint(limits))
    app.register_blueprint(query_blueprint(limits, sessions))
    app.register_blueprint(control_blueprint(limits))
    registry = install_cohort_sync(app, store, clock, mixpanel_config.exports)
    install_ui(app, ui_blueprint(registry), "Mixpanel", "mixpanel_ui.home")
    return app


__all__ = ["CohortNotFound", "MixpanelConfig", "MixpanelStore", "Project", "ProjectNotFound", "create_app", "error_body"]
