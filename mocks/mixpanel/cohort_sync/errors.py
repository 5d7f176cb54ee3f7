"""The cohort sync's refusals, without HTTP statuses: :mod:`.control` maps each class to its
status in one table (as ``mocks/braze/errors.py`` and the Braze views do). The message is the
exact text the control plane answers; ``details`` are extra fields of the reply."""
from __future__ import annotations

from typing import Any


class CohortSyncError(Exception):
    """A refusal of the connection and export registry."""

    def __init__(self, message: str, **details: Any):
        super().__init__(message)
        self.message = message
        self.details = details


class UnknownItem(CohortSyncError):
    """No such cohort, connection or export in the project."""


class ExportStateConflict(CohortSyncError):
    """The export's status does not allow the action (already stopped, finished, not active...)."""


class DynamicExportLimit(CohortSyncError):
    """A second dynamic export of one cohort to one connection, or too many in the project."""


class InvalidConnection(CohortSyncError):
    """A connection whose fields contradict each other (an alias label without its property)."""


class CredentialsRefused(CohortSyncError):
    """Braze refused the connection's keys; ``details`` carry Braze's status."""


class BrazeUnreachable(CohortSyncError):
    """Braze could not be reached to check the connection's keys."""
