"""The Braze mock's settings, read once from the ``config`` mapping given to ``create_app``."""
from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any, Mapping

from mocks.common.defaults import DEFAULT_PARTNER_API_KEY, MIXPANEL_PARTNER

#: Rate-limit buckets and their current documented limits: (requests, window in seconds).
#: ``/users/track``: 3,000 per 3 s since October 2024; ``/users/export/ids``: 250/minute (workspaces since August 2024).
#: ``users.identity`` is the bucket /users/identify, /users/alias/new, /users/alias/update, /users/delete and
#: /users/merge share.
DEFAULT_RATE_LIMITS: dict[str, tuple[int, int]] = {
    "default": (250_000, 3600),
    "users.track": (3_000, 3),
    "users.identity": (20_000, 60),
    "users.export.ids": (250, 60),
    "partner": (250_000, 3600),
}


@dataclass(frozen=True)
class BrazeConfig:
    """Settings (all optional in ``config``):

    - ``partner_api_key``: the key Braze issued to Mixpanel (HOUSE-1);
    - ``partners``: more partners, ``{name: partner_api_key}``;
    - ``data_points_per_cohort_change``: data points per matched identifier of a cohort change (HOUSE-4);
    - ``match_log_limit``: newest match-log entries kept per cohort (``None``: all of them);
    - ``rate_limits``: ``{bucket: [limit, window_seconds]}`` overriding :data:`DEFAULT_RATE_LIMITS`;
    - ``rest_endpoint``: the REST endpoint shown with data import keys (default: the URL the request used).
    """

    partner_api_key: str = DEFAULT_PARTNER_API_KEY
    partners: dict[str, str] = field(default_factory=dict)
    data_points_per_cohort_change: int = 1
    match_log_limit: int | None = 100_000
    rate_limits: dict[str, tuple[int, int]] = field(default_factory=lambda: dict(DEFAULT_RATE_LIMITS))
    rest_endpoint: str | None = None

    @property
    def all_partners(self) -> dict[str, str]:
        return {MIXPANEL_PARTNER: self.partner_api_key, **self.partners}

    @classmethod
    def from_mapping(cls, config: Mapping[str, Any] | None) -> "BrazeConfig":
        """Read and check the settings; a bad value raises ``ValueError`` naming the setting."""
        config = config or {}
        key = config.get("partner_api_key", DEFAULT_PARTNER_API_KEY)
        if not isinstance(key, str) or not key:
            raise ValueError("config 'partner_api_key' must be a non-empty string")
        partners = config.get("partners") or {}
        if not isinstance(partners, Mapping) or not all(isinstance(k, str) and k and isinstance(v, str) and v
                                                        for k, v in partners.items()):
            raise ValueError("config 'partners' must map partner names to partner API keys (strings)")
        cost = config.get("data_points_per_cohort_change", 1)
        if not isinstance(cost, int) or isinstance(cost, bool) or cost < 0:
            raise ValueError("config 'data_points_per_cohort_change' must be an integer >= 0")
        log_limit = config.get("match_log_limit", 100_000)
        if log_limit is not None and (not isinstance(log_limit, int) or isinstance(log_limit, bool) or log_limit < 0):
            raise ValueError("config 'match_log_limit' must be an integer >= 0 or null")
        endpoint = config.get("rest_endpoint")
        if endpoint is not None and (not isinstance(endpoint, str) or not endpoint.startswith(("http://", "https://"))):
            raise ValueError("config 'rest_endpoint' must be an http(s) URL")
        return cls(partner_api_key=key, partners=dict(partners), data_points_per_cohort_change=cost,
                   match_log_limit=log_limit, rate_limits=_rate_limits(config.get("rate_limits")),
                   rest_endpoint=endpoint.rstrip("/") if endpoint else None)


def _rate_limits(overrides: Any) -> dict[str, tuple[int, int]]:
    limits = dict(DEFAULT_RATE_LIMITS)
    if overrides is None:
        return limits
    if not isinstance(overrides, Mapping):
        raise ValueError("config 'rate_limits' must map buckets to [limit, window_seconds]")
    for bucket, pair in overrides.items():
        if bucket not in DEFAULT_RATE_LIMITS:
            raise ValueError(f"config 'rate_limits': unknown bucket {bucket!r} (known: {', '.join(DEFAULT_RATE_LIMITS)})")
        if (not isinstance(pair, (list, tuple)) or len(pair) != 2
                or not all(isinstance(n, int) and not isinstance(n, bool) and n > 0 for n in pair)):
            raise ValueError(f"config 'rate_limits.{bucket}' must be [limit, window_seconds], positive integers")
        limits[bucket] = (pair[0], pair[1])
    return limits
