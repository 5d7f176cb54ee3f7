"""Progress bars of generate and replay (issue 13 item 4): drawn on stderr when it is a terminal (a real
pseudo-terminal here), silent when it is not and with --quiet; stdout never carries them."""
from __future__ import annotations

import os
import pty
import subprocess
import sys

CLI = [sys.executable, "-m", "harness.cli"]
SMALL = ["--seed", "3", "--users", "900", "--events", "1500", "--steps", "1"]


def on_a_terminal(*args: str) -> tuple[subprocess.CompletedProcess, str]:
    """Run the CLI with stderr on a pseudo-terminal; returns the process and what the terminal got."""
    master, slave = pty.openpty()
    try:
        done = subprocess.run([*CLI, *args], stdout=subprocess.PIPE, stderr=slave, text=True, timeout=120)
        os.close(slave)
        chunks = []
        while True:
            try:
                chunk = os.read(master, 65536)
            except OSError:  # the terminal's other side is closed and drained
                break
            if not chunk:
                break
            chunks.append(chunk)
    finally:
        os.close(master)
    return done, b"".join(chunks).decode("utf-8", "replace")


def test_generate_and_replay_draw_bars_on_a_terminal(tmp_path):
    path = str(tmp_path / "world.json")
    generated, terminal = on_a_terminal("generate", *SMALL, "-o", path)
    assert generated.returncode == 0, terminal
    for label in ("Users", "Events"):
        assert f"    {label}  [####" in terminal and "100%" in terminal, terminal
    assert f"wrote {path}" in terminal
    replayed, terminal = on_a_terminal("replay", path)
    assert replayed.returncode == 0 and replayed.stdout.startswith("PASS"), (replayed.stdout, terminal)
    for label in ("Braze users", "Mixpanel events", "Mixpanel profiles"):
        assert f"    {label}  [####" in terminal, terminal
    assert "[#" not in replayed.stdout


def test_bars_are_silent_with_quiet_and_off_a_terminal(tmp_path):
    path = str(tmp_path / "world.json")
    generated, terminal = on_a_terminal("generate", *SMALL, "-o", path, "--quiet")
    assert generated.returncode == 0 and terminal.strip().startswith(f"wrote {path}"), terminal
    assert "[" not in terminal
    replayed, terminal = on_a_terminal("replay", path, "-q")
    assert replayed.returncode == 0 and terminal == "", terminal
    piped = subprocess.run([*CLI, "replay", path], capture_output=True, text=True, timeout=120)
    assert piped.returncode == 0 and piped.stderr == "" and piped.stdout.startswith("PASS"), piped.stderr
    piped = subprocess.run([*CLI, "generate", *SMALL], capture_output=True, text=True, timeout=120)
    assert piped.returncode == 0 and piped.stderr == "" and piped.stdout.startswith("{")


def test_run_draws_bars_on_a_terminal_and_quiet_keeps_only_its_steps(tmp_path):
    path = str(tmp_path / "world.json")
    assert on_a_terminal("generate", *SMALL, "-o", path, "-q")[0].returncode == 0
    ran, terminal = on_a_terminal("run", path)
    assert ran.returncode == 0 and "    Braze users  [####" in terminal, terminal
    ran, terminal = on_a_terminal("run", path, "--quiet")
    assert ran.returncode == 0 and terminal == "", terminal
    assert "==> 4. Segment and campaign" in ran.stdout and ran.stdout.splitlines()[-1].startswith("PASS")
