"""The rules the suite checks and the scenarios that check them, read from the feature files' tags.

A scenario cites a rule with a tag: ``@SEED-6.3`` (the seed document), ``@HOUSE-9`` (docs/rules.md's house
rules), ``@BRAZE-...`` / ``@MIXPANEL-...`` (a vendor behaviour). SEED and HOUSE rules are listed here
with their text so the report and the coverage table can show every one of them, checked or not.
"""
from __future__ import annotations

import importlib
import os

import re
from dataclasses import dataclass
from importlib import resources
from pathlib import Path
from typing import Iterable

from pytest_bdd.parser import FeatureParser

SEED_RULES: dict[str, str] = {
    "SEED-1.1": "Every integration counts toward the Braze account's data point volume",
    "SEED-1.2": "Events sent before 1 January 2010 are removed during import",
    "SEED-2.1": "Braze generates a data import key for Mixpanel and shows the REST endpoint",
    "SEED-2.2": "More keys can be generated; an existing key can be invalidated",
    "SEED-2.3": "The key and the REST endpoint are what Mixpanel is given",
    "SEED-3.1": "Mixpanel connects to Braze from its Integrations page",
    "SEED-3.2": "The connection takes the data import key and the REST endpoint and saves them",
    "SEED-4.1": "A Mixpanel cohort is exported to Braze",
    "SEED-4.2": "The export is a one-time sync or a dynamic sync",
    "SEED-4.3": "A dynamic sync re-syncs the Braze cohort every 15 minutes",
    "SEED-5.1": "A Braze segment uses the Mixpanel_Cohorts filter",
    "SEED-5.2": "The filter's includes option picks the cohort from Mixpanel",
    "SEED-5.3": "A saved segment is chosen as the audience of a Canvas or a campaign",
    "SEED-6.1": "Identified users are matched by external_id or alias",
    "SEED-6.2": "Anonymous users are matched by device_id",
    "SEED-6.3": "An anonymous-then-identified user is no longer matched by device_id",
}

HOUSE_RULES: dict[str, str] = {
    "HOUSE-1": "Partner path name mixpanel; the partner API key is configurable",
    "HOUSE-2": "Partner endpoints answer 201 success; exact errors, checked in a fixed order",
    "HOUSE-3": "A users call for a never-named cohort creates it, named after its id",
    "HOUSE-4": "One data point per matched identifier in a cohort change; unmatched cost nothing",
    "HOUSE-5": "Events before 2010 removed at import and counted; before 1971 rejected; rolling retention",
    "HOUSE-6": "Members are sent by user id, alias or device id property; a member with none is skipped",
    "HOUSE-7": "Name first, then changes in requests of at most 1,000; diffs; nothing on an empty diff",
    "HOUSE-8": "A dynamic export syncs at creation and every 15 minutes after",
    "HOUSE-9": "429/5xx/dropped retried 5 times; 4xx pauses; a snapshot older than 3 days forces a full sync",
    "HOUSE-10": "At most 60 dynamic exports per project; 10,000,000 members per exported cohort",
    "HOUSE-11": "A second one-time export brings Braze to the membership of that moment",
}

#: Every rule the suite must check (the coverage test fails when one has no scenario).
REQUIRED_RULES: dict[str, str] = {**SEED_RULES, **HOUSE_RULES}

RULE_TAG = re.compile(r"^(SEED|HOUSE|BRAZE|MIXPANEL)-[A-Za-z0-9.\-]+$")
_FAMILY_ORDER = {"SEED": 0, "BRAZE": 1, "MIXPANEL": 2, "HOUSE": 3}


@dataclass(frozen=True)
class ScenarioSpec:
    """One runnable scenario (an outline contributes one per Examples row), as the feature file says it."""

    feature_file: str  # e.g. "sync.feature"
    feature_name: str
    name: str  # rendered with the example's values
    template_name: str  # the name as written (placeholders kept): what pytest-bdd binds a test to
    line: int
    tags: frozenset[str]
    example: tuple[tuple[str, str], ...] = ()

    @property
    def rules(self) -> list[str]:
        return sort_rules(t for t in self.tags if is_rule(t))


def is_rule(tag: str) -> bool:
    return bool(RULE_TAG.match(tag))


def rule_sort_key(rule: str) -> tuple:
    family, _, rest = rule.partition("-")
    parts = tuple(int(p) if p.isdigit() else p for p in re.split(r"[.\-]", rest))
    return (_FAMILY_ORDER.get(family, 9), family, tuple((0, p) if isinstance(p, int) else (1, p) for p in parts))


def sort_rules(rules: Iterable[str]) -> list[str]:
    return sorted(set(rules), key=rule_sort_key)


def rule_title(rule: str) -> str:
    return REQUIRED_RULES.get(rule, "")


def features_dir() -> Path:
    """The folder of the shipped feature files (``harness.features``; ``features/`` in a checkout)."""
    return Path(str(resources.files("harness.features")))


def shipped_feature_files() -> list[Path]:
    """The shipped features, as ``harness.features.SHIPPED`` lists them: another file in the folder
    is a user's own and runs only through ``conform --features``."""
    shipped: tuple[str, ...] = importlib.import_module("harness.features").SHIPPED  # mapped from features/
    return [features_dir() / name for name in shipped]


#: ``conform --features`` hands the selected feature files to the suite module (imported by pytest, so
#: it cannot take arguments) through this variable: paths joined with ``os.pathsep``.
FEATURES_ENV = "COHORT_HARNESS_FEATURES"


def feature_files(paths: Iterable[Path]) -> list[Path]:
    """Each path, a directory standing for the ``*.feature`` files in it, in order, without repeats."""
    found: list[Path] = []
    for path in paths:
        for file in (sorted(path.glob("*.feature")) if path.is_dir() else [path]):
            if file.resolve() not in [f.resolve() for f in found]:
                found.append(file)
    return found


def selected_feature_files() -> list[Path]:
    """The feature files of this run: those of :data:`FEATURES_ENV`, or else the shipped ones."""
    chosen = os.environ.get(FEATURES_ENV)
    return feature_files(Path(p) for p in chosen.split(os.pathsep)) if chosen else shipped_feature_files()


def collect_scenarios(directory: Path | None = None, files: list[Path] | None = None) -> list[ScenarioSpec]:
    """Every scenario of every feature file (of ``directory``, or ``files``, or the shipped ones),
    outlines expanded, in file order."""
    specs: list[ScenarioSpec] = []
    for path in files if files is not None else (feature_files([directory]) if directory else shipped_feature_files()):
        feature = FeatureParser(str(path.parent), path.name).parse()
        for template in feature.scenarios.values():
            tags = frozenset(template.tags | feature.tags)
            contexts = [ctx for examples in template.examples for ctx in examples.as_contexts()]
            for ctx in contexts or [{}]:
                rendered = template.render(ctx) if ctx else template
                specs.append(ScenarioSpec(path.name, feature.name, rendered.name, template.name,
                                          template.line_number, tags, tuple(ctx.items())))
    return specs


def coverage(specs: list[ScenarioSpec]) -> dict[str, list[ScenarioSpec]]:
    """Every rule cited by a scenario, plus every required rule (possibly with no scenario)."""
    table: dict[str, list[ScenarioSpec]] = {rule: [] for rule in REQUIRED_RULES}
    for spec in specs:
        for rule in spec.rules:
            table.setdefault(rule, []).append(spec)
    return {rule: table[rule] for rule in sort_rules(table)}


def all_tags(specs: list[ScenarioSpec]) -> set[str]:
    return {tag for spec in specs for tag in spec.tags}
