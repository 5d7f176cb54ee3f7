"""The conformance suite: Gherkin features (shipped as ``harness.features``), target-agnostic steps,
the pytest plugin that binds them to targets, the report writer and ``cohort-harness conform``."""
