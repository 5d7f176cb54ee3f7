"""The exit-code table lives in harness/errors.py: the README, docs/cli.md and --help show that one."""
from __future__ import annotations

import re
from pathlib import Path

import click
from click.testing import CliRunner

from harness.cli import main
from harness.errors import ERRORS, EXIT_CODES, HarnessError, exit_codes_markdown

ROOT = Path(__file__).resolve().parents[2]
BLOCK = re.compile(r"<!-- exit codes: generated from harness/errors.py[^\n]*-->\n(.*?)\n<!-- end of exit codes -->", re.S)


def test_the_readme_and_the_cli_doc_show_the_table_of_the_code():
    for document in ("README.md", "docs/cli.md"):
        found = BLOCK.findall((ROOT / document).read_text(encoding="utf-8"))
        assert found == [exit_codes_markdown()], f"{document}: regenerate its table from harness.errors"


def test_each_error_has_its_own_code_and_meaning():
    codes = [error.exit_code for error in ERRORS]
    assert len(set(codes)) == len(codes) == len(EXIT_CODES) - 1 and 0 not in codes
    assert all(issubclass(error, HarnessError) and error.meaning for error in ERRORS)
    assert EXIT_CODES[click.UsageError.exit_code].startswith("usage or input error")


def test_help_lists_every_code():
    lines = [" ".join(line.split()) for line in CliRunner().invoke(main, ["--help"]).output.splitlines()]
    for code, meaning in EXIT_CODES.items():
        assert f"{code} {meaning}" in lines


def test_no_command_picks_an_exit_code_of_its_own():
    """One style: commands raise the classes of harness.errors (or end through exit_with_verdict)."""
    allowed = {ROOT / "harness" / "errors.py", ROOT / "harness" / "bench" / "node.py"}  # node: a subprocess's main
    for path in (ROOT / "harness").rglob("*.py"):
        if path in allowed:
            continue
        text = path.read_text(encoding="utf-8")
        assert not re.search(r"sys\.exit\(|SystemExit|\.exit_code\s*=|ClickException\(", text), path
