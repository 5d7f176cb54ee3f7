"""Placeholder: the Braze connections, cohort exports and the sync scheduler (issue 4) plug in here."""
from __future__ import annotations

from typing import Any


def install_exports(app: Any, store: Any, clock: Any) -> None:
    """Register the exports control plane on ``app`` and the sync scheduler on ``clock`` (not built yet)."""
