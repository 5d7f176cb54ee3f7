"""Typed HTTP clients of the two targets (the embedded mocks or a vendor's servers).

Everything the CLI and the Gherkin steps do to a target goes through these, over HTTP only:
``BrazeClient``, ``MixpanelClient``, the pair ``Targets``, and the two errors they raise.
"""
from .base import HttpClient
from .braze import BrazeClient
from .errors import HarnessHTTPError, TargetUnreachable
from .mixpanel import MixpanelClient
from .targets import Targets

__all__ = ["BrazeClient", "HarnessHTTPError", "HttpClient", "MixpanelClient", "TargetUnreachable", "Targets"]
