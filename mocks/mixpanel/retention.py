"""How long a project keeps its events when nobody said: Mixpanel's policy by project creation date.

Reference "Corrections and additions": projects created since 1 September 2025 keep events 2 years,
older ones 5 years. The mock counts a year as 365 days (a rolling window of days, like an explicit
``retention_days``) and reads the creation date on the mock's clock, so a world or a test decides it.
An explicit ``retention_days`` (a number of days, or ``None``: no rolling window, only the 2010 floor
of SEED-1.2 / HOUSE-5) always wins over this default.
"""
from __future__ import annotations

import enum
from datetime import datetime, timezone
from typing import Literal, Union

#: Projects created at or after this instant get the shorter default.
POLICY_CHANGE = datetime(2025, 9, 1, tzinfo=timezone.utc)
SHORT_DAYS = 2 * 365
LONG_DAYS = 5 * 365


class Default(enum.Enum):
    """The "nothing said" value of a retention setting (``None`` already means "no rolling window")."""

    VENDOR = "vendor"


VENDOR_DEFAULT = Default.VENDOR
#: What a project's retention is set to: days, ``None`` (keep all since 2010), or the vendor's default.
RetentionSetting = Union[int, None, Literal[Default.VENDOR]]


def default_retention_days(created_at: datetime) -> int:
    """2 years for a project created since 1 September 2025 (UTC), else 5 years."""
    return SHORT_DAYS if created_at >= POLICY_CHANGE else LONG_DAYS


def effective_days(setting: RetentionSetting, created_at: datetime) -> int | None:
    """The rolling window in days a setting amounts to (``None``: no window)."""
    return default_retention_days(created_at) if setting is VENDOR_DEFAULT else setting
