"""Expected vs observed, checkpoint by checkpoint, as lines a person can read."""
from __future__ import annotations

from typing import Any

#: The fields of a checkpoint an expectation may pin (the observation carries more, for display).
COMPARED = ("at", "members", "status", "added", "removed", "data_points", "cohort_name")


def checkpoint_title(index: int) -> str:
    return "sync 0 (the export's first sync)" if index == 0 else f"checkpoint {index} (after step {index})"


def diff_checkpoints(expected: list[dict[str, Any]], observed: list[dict[str, Any]]) -> list[str]:
    """One line per difference; empty when the outcome is as expected. Only fields the expectation
    names are compared."""
    lines = []
    if len(expected) != len(observed):
        lines.append(f"expected {len(expected)} checkpoints, observed {len(observed)}")
    for index, (want, got) in enumerate(zip(expected, observed)):
        for name in COMPARED:
            if name not in want or want[name] == got.get(name):
                continue
            lines.append(f"{checkpoint_title(index)}: {name}: {describe(name, want[name], got.get(name))}")
    return lines


def describe(name: str, want: Any, got: Any) -> str:
    if name == "members" and isinstance(got, list):
        missing = sorted(set(want) - set(got))
        extra = sorted(set(got) - set(want))
        parts = [f"expected {len(want)}, observed {len(got)}"]
        if missing:
            parts.append(f"missing {_names(missing)}")
        if extra:
            parts.append(f"unexpected {_names(extra)}")
        return "; ".join(parts)
    return f"expected {want!r}, observed {got!r}"


def _names(items: list[str], limit: int = 8) -> str:
    shown = ", ".join(items[:limit])
    return f"[{shown}{', ...' if len(items) > limit else ''}] ({len(items)})" if len(items) > limit else f"[{shown}]"


def expectation_from(observed: list[dict[str, Any]]) -> dict[str, Any]:
    """An ``expected`` section holding what was observed (``replay --update``)."""
    return {"syncs": [{name: cp[name] for name in COMPARED if cp.get(name) is not None} for cp in observed]}
