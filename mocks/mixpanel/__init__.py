"""The Mixpanel mock: ingestion with retention, Simplified ID Merge, cohorts, the Query API and the
raw export, plus its control plane; the app factory wires in the cohort sync to Braze
(:mod:`.cohort_sync`), which the rest of the mock does not import.
``create_app(config=None, clock=None)`` builds one instance.

Config keys: ``MIXPANEL_LIMITS`` (a dict of :class:`~.limits.Limits` fields, e.g.
``{"query_per_hour": 10000}``); anything else is passed to Flask.
"""
from __future__ import annotations

from typing import Any

from flask import Flask

from mocks.common import Clock, MockContext, create_mock_app
from mocks.common.ui import install_ui
from mocks.common.validation import InvalidBody, check_body

from .api import ingestion_blueprint
from .cohort_sync import install_cohort_sync
from .control import control_blueprint
from .engage import EngageSessions
from .limits import Limits
from .query_api import query_blueprint
from .errors import CohortNotFound, ProjectNotFound
from .store import MixpanelStore, Project
from .ui import ui_blueprint


def error_body(status: int, message: str) -> dict[str, Any]:
    """Errors the shared pipeline answers for us (unknown path, wrong method, injected faults)."""
    return {"error": message, "status": 0}


def create_app(config: dict[str, Any] | None = None, clock: Clock | None = None) -> Flask:
    clock = clock or Clock()
    config = dict(config or {})
    limits = _limits(config.pop("MIXPANEL_LIMITS", None))
    store = MixpanelStore(clock)
    sessions = EngageSessions()
    store.attach("engage_sessions", sessions)
    app = create_mock_app(MockContext("mixpanel", store, clock, error_body), config)
    app.register_blueprint(ingestion_blueprint(limits))
    app.register_blueprint(query_blueprint(limits, sessions))
    app.register_blueprint(control_blueprint(limits))
    registry = install_cohort_sync(app, store, clock)
    install_ui(app, ui_blueprint(registry), "Mixpanel", "mixpanel_ui.home")
    return app


def _limits(overrides: dict[str, Any] | None) -> Limits:
    limits = Limits()
    if overrides:
        try:
            check_body("mocks.mixpanel", "limits_patch", overrides)
        except InvalidBody as exc:
            raise ValueError(f"MIXPANEL_LIMITS at {exc.message}") from None
        limits.update(overrides)
    return limits


__all__ = ["CohortNotFound", "MixpanelStore", "Project", "ProjectNotFound", "create_app", "error_body"]
