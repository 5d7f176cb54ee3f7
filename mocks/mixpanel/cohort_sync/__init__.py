"""Mixpanel's cohort sync to Braze (SEED-3, SEED-4): Braze connections, cohort exports, the
15-minute grid and the partner HTTP client, beside Mixpanel's own mock rather than inside it.

The package reads the Mixpanel mock only through the Protocols of :mod:`.model`
(``CohortProject``) and :mod:`.scheduler` (``ProjectDirectory``); Mixpanel's own modules never
import it. The app factory wires it in with :func:`install_cohort_sync`. See ``docs/sync.md``.
"""
from __future__ import annotations

from .control import install_cohort_sync

__all__ = ["install_cohort_sync"]
