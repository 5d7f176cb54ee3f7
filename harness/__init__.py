"""The cohort-harness command line, HTTP clients, worlds, conformance suite and benchmarks."""
