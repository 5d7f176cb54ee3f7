"""``cohort-harness steps``: every shipped step pattern, with one step text that uses it and where, so
a QA engineer writes a scenario without reading ``steps_*.py``."""
from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Iterator

from pytest_bdd.parser import FeatureParser
from pytest_bdd.steps import StepFunctionContext, step_function_context_registry

from .rules import feature_files, shipped_feature_files
from .runner import load_user_steps


@dataclass(frozen=True)
class StepEntry:
    pattern: str
    module: str
    example: str = ""
    used_in: str = ""  # "feature.feature:line", empty when no feature listed uses the step
    defined_in: str = ""  # the user's conftest.py for their own steps; empty for the shipped ones


def shipped_step_contexts() -> list[StepFunctionContext]:
    """The step definitions of the shipped step modules, in definition order."""
    from . import steps_braze, steps_mixpanel, steps_sync  # noqa: F401 - importing registers them

    modules = ("steps_braze", "steps_mixpanel", "steps_sync")
    found = [c for c in list(step_function_context_registry.values())
             if c.step_func.__module__.rsplit(".", 1)[-1] in modules]
    return sorted(found, key=lambda c: (modules.index(c.step_func.__module__.rsplit(".", 1)[-1]),
                                        c.step_func.__code__.co_firstlineno))


def feature_steps(paths: list[Path]) -> Iterator[tuple[str, str]]:
    """(step text, ``file:line``) of every step of every scenario (first example row of outlines)."""
    for path in feature_files(paths):
        feature = FeatureParser(str(path.parent), path.name).parse()
        for template in feature.scenarios.values():
            contexts = [ctx for examples in template.examples for ctx in examples.as_contexts()]
            rendered = template.render(contexts[0]) if contexts else template
            for step in rendered.steps:
                yield step.name, f"{path.name}:{step.line_number}"


def user_step_contexts(features: list[Path]) -> list[tuple[StepFunctionContext, str]]:
    """The steps of the conftest.py beside the user's features (what ``conform --features`` loads),
    each with its file, in file and definition order."""
    modules = load_user_steps(features)
    # by the module's own namespace, not its name: a second load in one process reuses the names
    namespaces = [id(module.__dict__) for module in modules]
    found = [c for c in list(step_function_context_registry.values())
             if id(c.step_func.__globals__) in namespaces]
    found.sort(key=lambda c: (namespaces.index(id(c.step_func.__globals__)), c.step_func.__code__.co_firstlineno))
    return [(c, str(modules[namespaces.index(id(c.step_func.__globals__))].__file__)) for c in found]


def catalogue(paths: list[Path] | None = None) -> list[StepEntry]:
    """Each shipped step, then the user's own (from the conftest.py beside ``paths``), with the first
    step text of the features (default: shipped) it matches."""
    uses = list(feature_steps(paths or shipped_feature_files()))
    contexts = [(context, "") for context in shipped_step_contexts()]
    contexts += user_step_contexts(paths) if paths else []
    entries = []
    for context, defined_in in contexts:
        match = next(((text, where) for text, where in uses if context.parser.is_matching(text)), ("", ""))
        entries.append(StepEntry(context.parser.name, context.step_func.__module__, *match, defined_in=defined_in))
    return entries
