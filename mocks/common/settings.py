"""How both mocks read the ``config`` mapping given to ``create_app``: lower-case keys are the mock's
own settings (a frozen dataclass built by ``from_mapping``), upper-case keys go to Flask's config."""
from __future__ import annotations

from typing import Any, Iterable, Mapping


def split_settings(mock: str, config: Mapping[str, Any] | None, known: Iterable[str],
                   aliases: Mapping[str, str] | None = None) -> tuple[dict[str, Any], dict[str, Any]]:
    """``(settings, flask_config)``; an ``aliases`` key (an older spelling) counts as its setting, and an
    unknown lower-case key raises ``ValueError`` (a typo is never silently ignored)."""
    aliases = aliases or {}
    settings: dict[str, Any] = {}
    flask_config: dict[str, Any] = {}
    for key, value in (config or {}).items():
        if key in aliases:
            settings[aliases[key]] = value
        elif key.isupper():
            flask_config[key] = value
        else:
            settings[key] = value
    unknown = set(settings) - set(known)
    if unknown:
        raise ValueError(f"unknown {mock} mock settings: {sorted(unknown)}")
    return settings, flask_config
