"""What every CLI mistake must look like through click's runner: the exit code, one line, no traceback."""
from __future__ import annotations

from typing import Any, Callable

from click.testing import CliRunner, Result

from harness.cli import main


def cli_runner() -> Callable[..., Result]:
    runner = CliRunner()

    def invoke(*args: str) -> Result:
        return runner.invoke(main, list(args), catch_exceptions=False)
    return invoke


def one_line_error(result: Any, code: int, text: str) -> None:
    assert result.exit_code == code, result.output
    lines = [line for line in result.output.splitlines() if line.strip()]
    assert len(lines) == 1 and lines[0].startswith("Error: ") and text in lines[0], result.output
    assert "Traceback" not in result.output
