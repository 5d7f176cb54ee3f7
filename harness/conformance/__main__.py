"""``python -m harness.conformance``: the same as ``cohort-harness conform``."""
from .cli import conform

conform()
