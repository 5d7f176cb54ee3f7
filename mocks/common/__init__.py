"""Pieces both mocks share: clock, journal, faults, rate limits, validation, app pipeline, server."""
from .app import ApiError, MockContext, control_error, create_mock_app, json_reply, mock_context
from .clock import Clock, ClockError, parse_duration, parse_instant, to_iso
from .server import PortInUseError, ServerThread, serve_in_thread

__all__ = [
    "ApiError", "Clock", "ClockError", "MockContext", "PortInUseError", "ServerThread", "control_error",
    "create_mock_app", "json_reply", "mock_context", "parse_duration", "parse_instant", "serve_in_thread",
    "to_iso",
]
