"""Fixture worlds: the format (``world.schema.json``), reading and validating, the expected outcome
from the rules, the generator, and the flow run that drives a world through two targets."""
from .compare import diff_checkpoints, expectation_from
from .files import WorldFileError, read_world, resolve_world, validate_world, world_problems
from .generate import generate_world
from .rules import expected_outcome
from .runner import FlowRun, Reporter, RunResult

__all__ = ["FlowRun", "Reporter", "RunResult", "WorldFileError", "diff_checkpoints", "expectation_from",
           "expected_outcome", "generate_world", "read_world", "resolve_world", "validate_world", "world_problems"]
