"""Sensitivity is a property of the suite: every broken target (tests/conformance_targets), served by
its own process and judged through --braze-url / --mixpanel-url, fails exactly the rules it breaks."""
import time

import pytest

from tests.conformance_targets import TARGETS

from .sensitivity import judge_all

MINIMUM_TARGETS = 40


@pytest.fixture(scope="module")
def verdicts():
    started = time.perf_counter()
    found = {v.target.name: v for v in judge_all()}
    print(f"\n{len(found)} broken targets judged in {time.perf_counter() - started:.0f} s")
    return found


def test_there_are_enough_broken_targets_on_both_sides():
    services = [t.service for t in TARGETS.values()]
    assert len(TARGETS) >= MINIMUM_TARGETS
    assert services.count("braze") >= 15 and services.count("mixpanel") >= 15


@pytest.mark.parametrize("name", sorted(TARGETS))
def test_the_broken_target_fails_exactly_its_rules(verdicts, name):
    verdict = verdicts[name]
    assert verdict.exit_code == 1, verdict.output
    assert sorted(verdict.failed_rules) == sorted(verdict.target.rules), verdict.failed_scenarios
