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

