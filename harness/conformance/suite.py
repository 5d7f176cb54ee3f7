"""The test module of the conformance suite: one pytest test per scenario of the shipped features.

Run it through ``cohort-harness conform`` (or pytest with ``-p harness.conformance.plugin``); the
steps, the targets and the report hooks come from that plugin.
"""
from pytest_bdd import scenarios

from harness.conformance.rules import features_dir

scenarios(str(features_dir()))
