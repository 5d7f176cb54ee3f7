"""`cohort-harness bench`: the main paths measured against a baseline taken in the same run.

Each side runs in its own process (``python -m harness.bench.node``), so the figures include real
loopback HTTP and each side's peak memory can be read separately.
"""
