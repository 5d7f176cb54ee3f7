"""The Mixpanel mock's settings, read once from the ``config`` mapping given to ``create_app`` (the
same style as :class:`mocks.braze.config.BrazeConfig`: lower-case keys are settings, upper-case keys
go to Flask's config)."""
from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any, Mapping

from mocks.common.validation import InvalidBody, check_body

from .cohort_sync.runner import SyncSettings
from .limits import Limits

#: Older upper-case spellings of the settings, still read (integration tests and worlds use them).
ALIASES = {"MIXPANEL_LIMITS": "limits", "EXPORTS": "exports"}


@dataclass(frozen=True)
class MixpanelConfig:
    """Settings (all optional in ``config``):

    - ``limits``: fields of :class:`~.limits.Limits`, e.g. ``{"query_per_hour": 10000}``, checked
      against ``schemas/limits_patch.json`` (the ``PATCH /_harness/limits`` body);
    - ``exports``: the cohort sync's :class:`~.cohort_sync.runner.SyncSettings` (batch size, caps,
      timeouts, retry policy).
    """

    limits: Limits = field(default_factory=Limits)
    exports: SyncSettings = field(default_factory=SyncSettings)

    @classmethod
    def from_mapping(cls, config: Mapping[str, Any] | None) -> "MixpanelConfig":
        """Read and check the settings; a bad value raises ``ValueError`` naming the setting."""
        settings = dict(config or {})
        return cls(limits=_limits(settings.get("limits")), exports=SyncSettings.from_config(settings.get("exports")))


def _limits(overrides: Any) -> Limits:
    limits = Limits()
    if overrides:
        try:
            check_body("mocks.mixpanel", "limits_patch", overrides)
        except InvalidBody as exc:
            raise ValueError(f"MIXPANEL_LIMITS at {exc.message}") from None
        limits.update(overrides)
    return limits
