"""Errors of the Mixpanel mock's rules and of reading what clients send. Plain exceptions without HTTP
statuses (as ``mocks/braze/errors.py``): each surface maps a class to its status in one table,
:data:`mocks.mixpanel.api.IMPORT_STATUS` / :data:`~mocks.mixpanel.api.TOKEN_STATUS` for the ingestion
endpoints and :data:`mocks.mixpanel.control.STATUS` for the control plane. ``message`` is the exact
text the reply carries; ``extra`` are further fields of the reply (``failed_records``, ...)."""
from __future__ import annotations

from typing import Any


class MixpanelError(Exception):
    """A refusal of the Mixpanel mock; ``message`` is the text for the caller."""

    def __init__(self, message: str, **extra: Any):
        super().__init__(message)
        self.message = message
        self.extra = extra

    def __str__(self) -> str:
        return self.message


# -- the store's rules ----------------------------------------------------------------------------
class ProjectNotFound(MixpanelError):
    """No project with this id (the cohort sync asks ``find_project`` instead, and never sees it)."""

    def __init__(self, project_id: Any):
        super().__init__(f"no project {project_id!r}")


class CohortNotFound(MixpanelError):
    """No cohort with this id in the project."""

    def __init__(self, cohort_id: Any, project_id: int):
        super().__init__(f"no cohort {cohort_id!r} in project {project_id}")


class CredentialsTaken(MixpanelError):
    """A new project's token or API secret is already another project's."""


class DefinitionError(MixpanelError):
    """A cohort definition that is not valid; the message says where and why."""


# -- reading a request (vendor endpoints) ---------------------------------------------------------
class BadBody(MixpanelError):
    """A body that cannot be read: not gzip, not UTF-8, not JSON, empty, too many events."""


class BodyTooLarge(MixpanelError):
    """A body past the size limit (uncompressed)."""


class InvalidCredentials(MixpanelError):
    """``/import``: the Basic credentials open no project."""


class RateLimited(MixpanelError):
    """``/import``: the project's request rate is exceeded."""


class FailedValidation(MixpanelError):
    """``/import`` in strict mode: some events failed validation (``extra`` carries them)."""


class TokenRefused(MixpanelError):
    """``/track`` and ``/engage``: no message carries a token of a known project."""
