"""docs/rules.md defines every SEED and HOUSE rule the suite lists, and no other: the two cannot drift."""
from __future__ import annotations

import re
from pathlib import Path

from harness.conformance.rules import REQUIRED_RULES

RULES_DOC = Path(__file__).resolve().parents[2] / "docs" / "rules.md"
DEFINED = re.compile(r"^- \*\*((?:SEED|HOUSE)-[0-9.]+)\*\* ", re.MULTILINE)


def test_rules_doc_defines_exactly_the_listed_rules() -> None:
    defined = DEFINED.findall(RULES_DOC.read_text(encoding="utf-8"))
    assert len(defined) == len(set(defined)), "a rule is defined twice"
    assert sorted(defined) == sorted(REQUIRED_RULES)



REPO = RULES_DOC.parents[1]
OUTSIDE = re.compile(r"design\.md|shared/seed|shared/reference")
SHIPPED_TEXT = ("*.py", "*.md", "*.feature", "*.toml", "*.json", "*.html", "*.yaml")


def test_no_file_cites_a_document_outside_the_repository() -> None:
    """The rules the code and features cite live in docs/; a newcomer never meets a path they cannot open."""
    skip = {".venv", ".git", "node_modules"}
    offenders = [
        str(path.relative_to(REPO))
        for pattern in SHIPPED_TEXT
        for path in REPO.rglob(pattern)
        if not skip.intersection(path.relative_to(REPO).parts)
        and path.resolve() != Path(__file__).resolve()
        and OUTSIDE.search(path.read_text(encoding="utf-8", errors="replace"))
    ]
    assert offenders == []
