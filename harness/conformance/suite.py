"""The test module of the conformance suite: one pytest test per scenario of the shipped features, or
of the user's (``conform --features``).

Run it through ``cohort-harness conform`` (or pytest with ``-p harness.conformance.plugin``); the
steps, the targets and the report hooks come from that plugin.
"""
from pytest_bdd import scenarios

from harness.conformance.rules import selected_feature_files

scenarios(*(str(path) for path in selected_feature_files()))
