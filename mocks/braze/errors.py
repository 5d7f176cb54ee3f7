"""Errors of the Braze domain rules. Plain exceptions: the HTTP layers pick the status and the text."""
from __future__ import annotations


class BrazeError(Exception):
    """A domain rule refused an operation; ``str(error)`` is a sentence for the caller."""


class NotFoundError(BrazeError):
    """The workspace, user, key, cohort, segment, campaign or Canvas does not exist."""


class ConflictError(BrazeError):
    """The operation would break an identity rule (an identifier already taken, ...)."""


class InvalidError(BrazeError):
    """The request is well formed but names something that cannot be used (an unknown partner, ...)."""
