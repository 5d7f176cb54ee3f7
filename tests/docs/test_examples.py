"""Every shell and Python example of README.md and docs/*.md runs as written (issue 13 item 3).

Each ```sh / ```bash / ```shell / ```console / ```python block is one test, named ``file:line``, run in
the file's order against one ``cohort-harness serve`` on free ports; its state is put back to what
serve started with before each file's first block. A file's shell blocks share their variables (as
one terminal would), Python blocks get the same environment: the variables of ``cohort-harness env``
(the docs' preamble, ``eval "$(cohort-harness env)"``) are exported before the first block, so
``$BRAZE_URL`` and a bare ``cohort-harness clock advance`` hit this serve, not the default ports.

A block fails on a non-zero exit (shell blocks run with ``set -e -o pipefail``; every ``curl`` must
carry ``--fail-with-body`` or check ``%{http_code}``, so a 4xx cannot pass silently). A block that
cannot run as such carries ``<!-- example: skip (reason) -->`` on the line before its fence; each skip
is reported with its reason (``pytest -rs``), and ``test_skips_are_few`` keeps them so. A block whose
first line is ``# file: PATH`` shows a file the reader writes: it is written there for the next blocks.
"""
from __future__ import annotations

import json
import os
import re
import shutil
import signal
import subprocess
import sys
from dataclasses import dataclass, field
from pathlib import Path
from typing import Iterator

import pytest
import requests

ROOT = Path(__file__).resolve().parents[2]
DOCUMENTS = [ROOT / "README.md", *sorted((ROOT / "docs").glob("*.md"))]
SHELL = {"sh", "bash", "shell", "console"}
RUNNABLE = SHELL | {"python"}
FENCE = re.compile(r"^```\s*([\w+-]*)\s*$")
FILE = re.compile(r"^#\s*file:\s*(?P<path>\S+)\s*$")  # a block that shows a file the user writes
SKIP = re.compile(r"^<!--\s*example:\s*skip\s*\((?P<reason>[^)]+)\)\s*-->\s*$")
BLOCK_TIMEOUT = 90  # seconds; the slowest block (a conformance run) takes a few
MOST_SKIPS = 12
BIN = Path(sys.executable).parent


@dataclass(frozen=True)
class Example:
    document: Path
    line: int  # of the opening fence, 1-based
    language: str
    code: str
    skip: str | None
    path: str | None = None  # a `# file: PATH` block: written there, for the blocks after it

    @property
    def name(self) -> str:
        return f"{self.document.relative_to(ROOT)}:{self.line}"


def examples_of(document: Path) -> list[Example]:
    found: list[Example] = []
    lines = document.read_text(encoding="utf-8").splitlines()
    index = 0
    while index < len(lines):
        opening = FENCE.match(lines[index])
        if not opening:
            index += 1
            continue
        end = next((j for j in range(index + 1, len(lines)) if lines[j].strip() == "```"), None)
        assert end is not None, f"{document.name}:{index + 1}: a fence that never closes"
        language = opening.group(1).lower()
        code = "\n".join(lines[index + 1:end]) + "\n"
        file = FILE.match(code.splitlines()[0]) if index + 1 < end else None
        if language in RUNNABLE or file:
            before = next((lines[j] for j in range(index - 1, -1, -1) if lines[j].strip()), "")
            marker = SKIP.match(before.strip())
            found.append(Example(document, index + 1, language, code, marker.group("reason") if marker else None,
                                 file.group("path") if file else None))
        index = end + 1
    return found


EXAMPLES = [example for document in DOCUMENTS for example in examples_of(document)]


# -- the served mocks -------------------------------------------------------------------------------
@dataclass
class Served:
    variables: dict[str, str]
    initial: dict[str, dict]  # service -> GET /_harness/state right after start

    def reset(self) -> None:
        """Back to what serve started with: no faults, no journal, the first state and clocks."""
        for service, url in (("braze", self.variables["BRAZE_URL"]), ("mixpanel", self.variables["MIXPANEL_URL"])):
            requests.post(url + "/_harness/reset", timeout=30).raise_for_status()
            requests.put(url + "/_harness/state", json=self.initial[service], timeout=30).raise_for_status()


@pytest.fixture(scope="module")
def served() -> Iterator[Served]:
    for tool in ("bash", "curl", "jq"):
        if shutil.which(tool) is None:
            if os.environ.get("CI"):
                pytest.fail(f"the docs' examples need {tool}")
            pytest.skip(f"the docs' examples need {tool}")
    process = subprocess.Popen([str(BIN / "cohort-harness"), "serve", "--json", "--braze-port", "0",
                                "--mixpanel-port", "0"], stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    try:
        line = process.stdout.readline()  # type: ignore[union-attr]
        assert line, process.stderr.read()  # type: ignore[union-attr]
        summary = json.loads(line)
        # the preamble of the docs: what `eval "$(cohort-harness env)"` exports
        env = subprocess.run([str(BIN / "cohort-harness"), "env", "--json", "--braze-url", summary["braze_url"],
                              "--mixpanel-url", summary["mixpanel_url"]], capture_output=True, text=True, timeout=60)
        assert env.returncode == 0, env.stderr
        variables = json.loads(env.stdout)
        initial = {service: requests.get(summary[f"{service}_url"] + "/_harness/state", timeout=30).json()
                   for service in ("braze", "mixpanel")}
        yield Served(variables, initial)
    finally:
        process.send_signal(signal.SIGINT)
        process.wait(timeout=30)


# -- one terminal per document ----------------------------------------------------------------------
@dataclass
class Terminal:
    """A document's working folder (a copy of fixtures/ and features/, as in a checkout) and the
    shell variables its blocks left behind."""

    folder: Path
    environment: dict[str, str]
    variables: Path = field(init=False)

    def __post_init__(self) -> None:
        self.variables = self.folder / ".example-variables"
        self.variables.write_text("")

    def run(self, example: Example) -> subprocess.CompletedProcess:
        if example.path:
            target = self.folder / example.path
            target.parent.mkdir(parents=True, exist_ok=True)
            target.write_text(example.code)
            return subprocess.CompletedProcess([], 0, "", "")
        if example.language == "python":
            script = self.folder / f".example-{example.line}.py"
            script.write_text(example.code)
            command = [sys.executable, str(script)]
        else:
            code = example.code
            if example.language == "console":  # only the commands, not the output shown
                code = "".join(line[2:] + "\n" for line in code.splitlines() if line.startswith("$ "))
            script = self.folder / f".example-{example.line}.sh"
            # the block's last command gives the exit status; the trap keeps its variables for the next
            script.write_text(f'set -a\n. "{self.variables}"\ntrap \'export -p > "{self.variables}"\' EXIT\n'
                              f'set -e -o pipefail\n{code}')
            command = ["bash", str(script)]
        return subprocess.run(command, cwd=self.folder, env=self.environment, stdin=subprocess.DEVNULL,
                              capture_output=True, text=True, timeout=BLOCK_TIMEOUT)


@dataclass
class Terminals:
    factory: pytest.TempPathFactory
    opened: dict[Path, Terminal] = field(default_factory=dict)


@pytest.fixture(scope="module")
def terminals(tmp_path_factory: pytest.TempPathFactory) -> Terminals:
    return Terminals(tmp_path_factory)


def terminal_for(example: Example, served: Served, terminals: Terminals) -> Terminal:
    opened = terminals.opened
    if example.document not in opened:
        served.reset()
        folder = terminals.factory.mktemp(f"docs-{example.document.stem}")
        for tree in ("fixtures", "features"):
            shutil.copytree(ROOT / tree, folder / tree)
        environment = {key: value for key, value in os.environ.items() if not key.startswith("COHORT_HARNESS")}
        environment.update(served.variables, PATH=f"{BIN}{os.pathsep}{environment.get('PATH', '')}",
                           PYTHONPATH=str(ROOT))
        opened[example.document] = Terminal(folder, environment)
    return opened[example.document]


CURL = re.compile(r"(?<![\w-])curl\s")


def silent_curls(example: Example) -> list[str]:
    """The curl commands of a shell block that would exit 0 on a 4xx/5xx answer."""
    commands = re.split(r"(?<!\\)\n|\|\||&&|;|\|", example.code.replace("\\\n", " "))
    return [c.strip() for c in commands if CURL.search(c)
            and "--fail-with-body" not in c and "http_code" not in c]


@pytest.mark.parametrize("example", EXAMPLES, ids=[e.name for e in EXAMPLES])
def test_example_runs_as_written(example: Example, served: Served, terminals: Terminals) -> None:
    if example.skip:
        pytest.skip(f"{example.name} marked in the doc: {example.skip}")
    if example.language in SHELL and not example.path:
        silent = silent_curls(example)
        assert not silent, f"{example.name}: curl without --fail-with-body (a 4xx would pass): {silent[0]}"
    result = terminal_for(example, served, terminals).run(example)
    assert result.returncode == 0, (f"{example.name} ({example.language} block) exited {result.returncode}\n"
                                    f"--- stdout\n{result.stdout[-3000:]}\n--- stderr\n{result.stderr[-3000:]}")


def test_skips_are_few_and_say_why() -> None:
    skipped = [e for e in EXAMPLES if e.skip]
    assert len(skipped) <= MOST_SKIPS, [e.name for e in skipped]
    assert all(len(e.skip or "") >= 10 for e in skipped), [(e.name, e.skip) for e in skipped]
    print(f"{len(EXAMPLES)} examples, {len(skipped)} skipped: " + "; ".join(f"{e.name} ({e.skip})" for e in skipped))


def test_the_extractor_finds_marked_and_unmarked_blocks(tmp_path: Path) -> None:
    """The extractor itself: languages, line numbers, the marker only when right before a fence."""
    doc = tmp_path / "x.md"
    doc.write_text("# t\n\n```sh\necho one\n```\n\n<!-- example: skip (installs things) -->\n```python\n"
                   "print(2)\n```\n\n```json\n{}\n```\n\n```console\n$ echo three\nthree\n```\n"
                   "\n```gherkin\n# file: qa/x.feature\nFeature: x\n```\n")
    found = examples_of(doc)
    assert [(e.line, e.language, e.skip) for e in found] == [(3, "sh", None), (8, "python", "installs things"),
                                                             (16, "console", None), (21, "gherkin", None)]
    assert found[3].path == "qa/x.feature" and found[0].path is None
    assert found[0].code == "echo one\n"
    quiet = Example(doc, 1, "sh", "curl -s $X/a\ncurl -sS --fail-with-body $X/b | jq .\n", None)
    assert silent_curls(quiet) == ["curl -s $X/a"]
