"""Deliberately broken targets: each is one of the mocks with one realistic bug, served out of process.

``python -m tests.conformance_targets <name>`` applies one bug to the mock of its service (a small
patch of one function), serves it on a free 127.0.0.1 port, prints the URL on one line and serves
until its stdin closes. ``tests/harness/conformance/test_sensitivity.py`` judges every one of them
through ``--braze-url`` / ``--mixpanel-url`` and asserts it fails exactly the rules in ``rules``:
the suite's sensitivity is a tested property. A new rule or scenario comes with the target only it
catches (add it here, with the rules it must fail).
"""
from __future__ import annotations

from .registry import TARGETS, BrokenTarget

__all__ = ["TARGETS", "BrokenTarget"]
