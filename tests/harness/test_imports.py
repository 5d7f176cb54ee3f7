"""No module of harness/ imports another in a circle (conformance/report.py and runner.py once did).

Module-level imports only: an import inside a function is a deliberate late import (conform pays
for pytest only when it runs) and cannot deadlock module initialisation.
"""
from __future__ import annotations

import ast
from pathlib import Path

PACKAGE = Path(__file__).resolve().parents[2] / "harness"


def module_name(path: Path) -> str:
    parts = path.relative_to(PACKAGE.parent).with_suffix("").parts
    return ".".join(parts[:-1] if parts[-1] == "__init__" else parts)


def imported(path: Path, modules: set[str]) -> set[str]:
    """The harness modules ``path`` imports at module level."""
    name = module_name(path)
    package = name if path.name == "__init__.py" else name.rpartition(".")[0]
    found = set()
    for node in ast.parse(path.read_text(encoding="utf-8")).body:
        if isinstance(node, ast.Import):
            found |= {alias.name for alias in node.names}
        elif isinstance(node, ast.ImportFrom):
            base = ".".join(package.split(".")[:len(package.split(".")) - node.level + 1]) if node.level else ""
            module = ".".join(filter(None, (base, node.module)))
            found |= {f"{module}.{alias.name}" if f"{module}.{alias.name}" in modules else module
                      for alias in node.names}
    return {module for module in found if module in modules and module != name}


def test_no_import_cycle_in_harness():
    paths = {module_name(path): path for path in PACKAGE.rglob("*.py")}
    graph = {name: imported(path, set(paths)) for name, path in paths.items()}
    state: dict[str, str] = {}

    def visit(name: str, chain: list[str]) -> None:
        state[name] = "open"
        for dependency in sorted(graph[name]):
            assert state.get(dependency) != "open", " -> ".join([*chain, dependency])
            if dependency not in state:
                visit(dependency, [*chain, dependency])
        state[name] = "done"

    for name in sorted(graph):
        if name not in state:
            visit(name, [name])
    assert graph["harness.conformance.report"] and "harness.conformance.runner" not in graph["harness.conformance.report"]
