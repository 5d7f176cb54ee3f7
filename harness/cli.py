"""``cohort-harness``: start the mocks, run the Mixpanel -> Braze cohort import over HTTP, and make,
check and replay fixture worlds.

Every command prints for people by default and one JSON document with ``--json``. A user's mistake
is one line on stderr and a non-zero exit, never a traceback (see EXIT CODES in ``--help``).
"""
from __future__ import annotations

import errno
import json
import os
import signal
import sys
import threading
from contextlib import contextmanager
from pathlib import Path
from typing import TYPE_CHECKING, Any, Callable, Iterator

import click

from harness.clients import HarnessHTTPError, TargetUnreachable, Targets
from harness.errors import (HarnessError, InputError, InternalError, ReaderGone, TargetRefused,
                            TargetUnreachableError, exit_codes_epilog, exit_with_verdict)
from harness.params import Duration, Instant, OutputFile, TargetURL
from harness.worlds import (FlowRun, Reporter, WorldFileError, diff_checkpoints, expectation_from, expected_outcome,
                            generate_world, resolve_world, world_problems)
from harness.worlds.files import bundled_worlds, dumps_world, strict_loads, with_expected, write_world
from mocks.common.app import StateRefused
from mocks.common.clock import ClockError, parse_instant
from mocks.common.server import PortInUseError
from mocks.common.ui import UI_PREFIX

if TYPE_CHECKING:
    from harness.embedded import EmbeddedMocks

DEFAULT_BRAZE_PORT = 8710
DEFAULT_MIXPANEL_PORT = 8720
DEFAULT_BRAZE_URL = f"http://127.0.0.1:{DEFAULT_BRAZE_PORT}"
DEFAULT_MIXPANEL_URL = f"http://127.0.0.1:{DEFAULT_MIXPANEL_PORT}"
DEFAULT_PROXY_PORT = 8730
PROGRESS_AT_LEAST = 500  # items: smaller loads finish before a bar is worth drawing


class HarnessGroup(click.Group):
    """Turns the harness's own errors into one-line messages with documented exit codes
    (:mod:`harness.errors`); every command of the group, its subgroups and ``conform`` and ``bench``
    pass through here."""

    def make_context(self, info_name: str | None, args: list[str], parent: click.Context | None = None,
                     **extra: Any) -> click.Context:
        try:
            return super().make_context(info_name, args, parent, **extra)
        except click.UsageError as exc:
            raise one_line(exc) from None
        except BrokenPipeError:  # `--help | head -1`
            raise ReaderGone() from None

    def invoke(self, ctx: click.Context) -> Any:
        try:
            return super().invoke(ctx)
        except click.UsageError as exc:
            raise one_line(exc) from None
        except (click.ClickException, click.exceptions.Exit, click.Abort, KeyboardInterrupt):
            raise
        except Exception as exc:
            raise harness_error(exc) from None


def one_line(exc: click.UsageError) -> InputError:
    """click's usage error (usage, hint, message: three lines) as the house's one line, same exit code."""
    command = exc.ctx.command_path if exc.ctx else "cohort-harness"
    return InputError(f"{exc.format_message().rstrip('.')} (see `{command} --help`)")


def harness_error(exc: Exception) -> HarnessError:
    """The CLI error of an exception a command let through."""
    if isinstance(exc, BrokenPipeError) or (isinstance(exc, OSError) and exc.errno == errno.EPIPE):
        return ReaderGone()
    if isinstance(exc, (WorldFileError, ClockError)):
        return InputError(str(exc))
    if isinstance(exc, TargetUnreachable):
        return TargetUnreachableError(f"{exc} (is the target running? `cohort-harness serve` starts both mocks)")
    if isinstance(exc, HarnessHTTPError):
        return TargetRefused(f"{exc.method} {exc.url} answered {exc.status}: {exc.message}")
    if isinstance(exc, PortInUseError):
        return InputError(f"{exc.strerror}; choose another with --braze-port / --mixpanel-port (0 picks a free one)")
    if os.environ.get("COHORT_HARNESS_DEBUG"):
        raise exc
    return InternalError(f"internal error: {type(exc).__name__}: {exc}")


@click.group(cls=HarnessGroup, epilog=exit_codes_epilog(), context_settings={"help_option_names": ["-h", "--help"]})
@click.version_option(package_name="cohort-harness")
def main() -> None:
    """Local simulation and conformance harness for the Mixpanel -> Braze cohort import.

    \b
    Quick start:
      cohort-harness run                     the demo world on embedded mocks
      cohort-harness serve                   both mocks on fixed ports, until Ctrl-C
      cohort-harness generate --seed 7 -o w.json && cohort-harness replay w.json
    """


# -- shared options ---------------------------------------------------------------------------------
def json_option(func: Callable[..., Any]) -> Callable[..., Any]:
    return click.option("--json", "as_json", is_flag=True, help="Print one JSON document instead of text.")(func)


def target_options(default_braze: str | None, default_mixpanel: str | None) -> Callable[..., Any]:
    """--braze-url / --mixpanel-url. Where they default to `serve`'s URLs, the variables BRAZE_URL and
    MIXPANEL_URL (what `cohort-harness env` exports) come before those defaults."""
    def decorate(func: Callable[..., Any]) -> Callable[..., Any]:
        func = click.option("--mixpanel-url", type=TargetURL(), default=default_mixpanel,
                            envvar="MIXPANEL_URL" if default_mixpanel else None, show_envvar=bool(default_mixpanel),
                            show_default=bool(default_mixpanel), help="Base URL of a running Mixpanel target.")(func)
        return click.option("--braze-url", type=TargetURL(), default=default_braze, show_default=bool(default_braze),
                            envvar="BRAZE_URL" if default_braze else None, show_envvar=bool(default_braze),
                            help="Base URL of a running Braze target.")(func)
    return decorate


def emit_json(data: Any) -> None:
    click.echo(json.dumps(data, indent=2, sort_keys=False, default=str))


@contextmanager
def writing(path: str | Path) -> Iterator[None]:
    """Around writing a file the user named: a folder that vanished or will not take it is their
    mistake (the options check the folder first; this catches what happens after)."""
    try:
        yield
    except OSError as exc:
        raise InputError(f"{path}: cannot write it ({exc.strerror or exc})") from None


def connect(braze_url: str, mixpanel_url: str) -> Targets:
    """Clients of running targets, after a health check of both (TargetUnreachable names the dead one)."""
    targets = Targets.at(braze_url, mixpanel_url)
    targets.health()
    return targets


@contextmanager
def embedded_targets(**options: Any) -> Iterator[Targets]:
    from harness.embedded import EmbeddedMocks

    with EmbeddedMocks(**options) as mocks:
        targets = mocks.targets()
        try:
            yield targets
        finally:
            targets.close()


# -- output of a run --------------------------------------------------------------------------------
class BarsReporter(Reporter):
    """Draws a progress bar on stderr for each long piece of work (``run``, ``replay``, ``generate``):
    only when stderr is a terminal, never with ``--quiet`` or ``--json``, never for small loads."""

    def __init__(self, quiet: bool = False):
        self.quiet = quiet

    @contextmanager
    def progress(self, label: str, total: int) -> Iterator[Callable[[int], None]]:
        if self.quiet or total < PROGRESS_AT_LEAST or not sys.stderr.isatty():
            yield lambda done: None
            return
        with click.progressbar(length=total, label=f"    {label}", file=sys.stderr) as bar:
            yield bar.update


class ConsoleReporter(BarsReporter):
    """Prints each step and each checkpoint as it happens, and the bars; ``silent`` (``--json``) prints
    neither, ``bars=False`` (``--quiet``) keeps the steps and drops the bars."""

    def __init__(self, silent: bool = False, bars: bool = True):
        super().__init__(quiet=silent or not bars)
        self.silent = silent

    def step(self, title: str, detail: str = "") -> None:
        if not self.silent:
            click.echo(f"{click.style('==>', fg='cyan')} {title}" + (f": {detail}" if detail else ""))

    def checkpoint(self, index: int, observed: dict[str, Any]) -> None:
        if self.silent:
            return
        unmatched = ", ".join(f"{n} {reason}" for reason, n in sorted(observed["unmatched"].items())) or "none"
        results = ", ".join(r or "?" for r in observed["results"]) or "no sync due"
        click.echo(f"    sync {index} [{observed['label']}] at {observed['at']}: {observed['syncs']} sync(s) ({results}); "
                   f"+{observed['added']} added, -{observed['removed']} removed, {observed['skipped']} skipped "
                   f"(no Braze id); unmatched: {unmatched}; Braze cohort {observed['cohort_name']!r} now "
                   f"{len(observed['members'])} members; data points {observed['data_points']}; "
                   f"export {observed['status']}" + (f" ({observed['error']})" if observed.get("error") else ""))


quiet_option = click.option("--quiet", "-q", is_flag=True,
                            help="No progress bars (they are drawn on stderr only when it is a terminal).")


def checkpoint_problems(world: dict[str, Any], observed: list[dict[str, Any]]) -> list[str]:
    return diff_checkpoints(world["expected"]["syncs"], observed) if world.get("expected") else []


# -- run --------------------------------------------------------------------------------------------
@main.command()
@click.argument("world", required=False)
@target_options(None, None)
@json_option
@quiet_option
def run(world: str | None, braze_url: str | None, mixpanel_url: str | None, as_json: bool, quiet: bool) -> None:
    """Run the whole import flow of a WORLD (a file, or a bundled world's name; default: the demo).

    \b
    The four steps of the seed, over HTTP:
      1. create a Braze data import key and read the REST endpoint;
      2. connect Mixpanel to Braze with them;
      3. export the world's cohort (one-time or dynamic), then each of the world's steps:
         its changes, then a clock advance that runs the syncs that fall due;
      4. create a `Mixpanel_Cohorts includes` segment and a campaign targeting it.
    Each step and sync is printed; the verdict compares the Braze segment with the world's expected
    final members (computed from the rules when the world has no `expected`). Without URLs both mocks
    run embedded on free ports.

    \b
    Examples:
      cohort-harness run
      cohort-harness run fixtures/retention_boundary.json --json
      cohort-harness run my-world.json --braze-url http://127.0.0.1:8710 --mixpanel-url http://127.0.0.1:8720
    """
    source, data = resolve_world(world)
    if bool(braze_url) != bool(mixpanel_url):
        raise click.UsageError("give both --braze-url and --mixpanel-url, or neither (embedded mocks)")
    expected = data.get("expected") or expected_outcome(data)
    targets = connect(braze_url, mixpanel_url or "") if braze_url else None
    reporter = ConsoleReporter(silent=as_json, bars=not quiet)
    reporter.step(f"World {data['name']}", f"{source}; {data['flow']['mode'].replace('_', '-')} export, "
                                           f"{len(data['flow'].get('steps', []))} step(s)")
    if targets is not None:
        result = FlowRun(targets, data, reporter).run()
    else:
        with embedded_targets() as targets:
            reporter.step("Embedded mocks", f"Braze {targets.braze.base_url}, Mixpanel {targets.mixpanel.base_url}")
            result = FlowRun(targets, data, reporter).run()
    want = sorted(expected["syncs"][-1]["members"])
    missing = sorted(set(want) - set(result.segment_members))
    extra = sorted(set(result.segment_members) - set(want))
    passed = not missing and not extra and result.campaign_count == len(want)
    notes = diff_checkpoints(expected["syncs"], result.checkpoints)
    if as_json:
        emit_json({"world": data["name"], "source": source, "passed": passed, "expected_members": want,
                   "segment_members": result.segment_members, "missing": missing, "unexpected": extra,
                   "campaign_audience": result.campaign_count, "checkpoint_differences": notes,
                   "result": result.to_dict()})
    else:
        for note in notes:
            click.echo(f"    note: {note}")
        if passed:
            click.secho(f"PASS: the Braze segment holds exactly the {len(want)} expected members "
                        f"(campaign audience {result.campaign_count})", fg="green", bold=True)
        else:
            click.secho(f"FAIL: the Braze segment holds {len(result.segment_members)} users, expected {len(want)}"
                        + (f"; missing {missing}" if missing else "") + (f"; unexpected {extra}" if extra else "")
                        + (f"; campaign audience {result.campaign_count}" if result.campaign_count != len(want) else ""),
                        fg="red", bold=True)
    exit_with_verdict(passed)


# -- replay -----------------------------------------------------------------------------------------
@main.command()
@click.argument("worlds", nargs=-1, required=True)
@click.option("--update", is_flag=True, help="Rewrite each world's `expected` with what was observed (review first).")
@json_option
@quiet_option
def replay(worlds: tuple[str, ...], update: bool, as_json: bool, quiet: bool) -> None:
    """Replay WORLDS offline on embedded mocks and diff the outcome with each world's expected one,
    sync by sync (members by handle, export status, adds, removes, data points, cohort name).

    \b
    Examples:
      cohort-harness replay fixtures/*.json
      cohort-harness replay my-world.json --update      # after reviewing a deliberate change
    """
    loaded = [resolve_world(name) for name in worlds]
    if update and any(source.startswith("bundled:") for source, _ in loaded):
        raise click.UsageError("--update rewrites files: give world files, not bundled names")
    missing = [source for source, world in loaded if not world.get("expected") and not update]
    if missing:
        raise InputError(f"{missing[0]}: has no `expected` section; record one with --update after review")
    reports, failed = [], 0
    with embedded_targets() as targets:
        for source, world in loaded:
            targets.reset()
            result = FlowRun(targets, world, BarsReporter(quiet=quiet or as_json)).run()
            problems = [] if update else checkpoint_problems(world, result.checkpoints)
            if update:
                with writing(source):
                    text = Path(source).read_text(encoding="utf-8")
                    write_atomically(Path(source), with_expected(text, expectation_from(result.checkpoints)))
            failed += bool(problems)
            reports.append({"world": world["name"], "source": source, "passed": not problems,
                            "checkpoints": len(result.checkpoints), "differences": problems, "updated": update})
            if not as_json:
                verdict = "UPDATED" if update else ("PASS" if not problems else "FAIL")
                colour = "green" if not problems else "red"
                click.echo(f"{click.style(verdict, fg=colour, bold=True)} {source} ({world['name']}, "
                           f"{len(result.checkpoints)} checkpoints)")
                for line in problems:
                    click.echo(f"    {line}")
    if as_json:
        emit_json({"passed": not failed, "worlds": reports})
    elif len(reports) > 1:
        click.echo(f"{len(reports) - failed} passed, {failed} failed")
    exit_with_verdict(not failed)


# -- generate ---------------------------------------------------------------------------------------
@main.command()
@click.option("--seed", type=int, default=1, show_default=True, help="Same seed, same world.")
@click.option("--users", type=click.IntRange(1, 100_000), default=40, show_default=True, help="Mixpanel users.")
@click.option("--events", type=click.IntRange(0, 1_000_000), default=200, show_default=True,
              help="Events at load (changes between syncs add a few more).")
@click.option("--steps", type=click.IntRange(0, 200), default=4, show_default=True,
              help="Clock steps after the first sync (15m to 1h each).")
@click.option("-o", "--output", type=OutputFile(), help="Write here instead of stdout.")
@quiet_option
def generate(seed: int, users: int, events: int, steps: int, output: str | None, quiet: bool) -> None:
    """Generate a realistic world with faker, deterministic by --seed, with its expected outcome.

    \b
    The mix: identified users, Mixpanel users unknown to Braze (some appear later), alias-only
    users, anonymous device users, anonymous users identified later (new and existing external_id),
    users without any Braze id; events before and after 2010-01-01 (some in milliseconds); a one-day
    purchase window; churn between syncs (purchases, profile changes, sign-ups). The expectation is
    computed from the rules, independently of the mocks.

    \b
    Example:
      cohort-harness generate --seed 7 --users 200 --events 2000 -o world.json
    """
    world = generate_world(seed, users, events, steps, BarsReporter(quiet=quiet))
    if output:
        with writing(output):
            write_world(output, world)
        final = world["expected"]["syncs"][-1]
        click.echo(f"wrote {output}: {users} users, {events} events, {steps} steps; "
                   f"{len(final['members'])} expected members after the last sync", err=True)
    else:
        click.echo(dumps_world(world), nl=False)


# -- validate ---------------------------------------------------------------------------------------
@main.command()
@click.argument("worlds", nargs=-1, required=True)
@json_option
def validate(worlds: tuple[str, ...], as_json: bool) -> None:
    """Check WORLDS against the world JSON Schema (and the checks it cannot express); prints the
    path and reason of each error. Exit 1 when any world is invalid or unreadable.

    \b
    Example:
      cohort-harness validate fixtures/*.json
    """
    reports = []
    for name in worlds:
        problems = world_problems(name)
        reports.append({"world": name, "valid": not problems, "errors": problems})
        if not as_json:
            if problems:
                for problem in problems:
                    click.echo(f"{name}: {problem}", err=True)
            else:
                click.echo(f"{name}: valid")
    if as_json:
        emit_json({"valid": all(r["valid"] for r in reports), "worlds": reports})
    exit_with_verdict(all(r["valid"] for r in reports))


@main.command("worlds")
@json_option
def list_worlds(as_json: bool) -> None:
    """List the bundled worlds (names `run` and `replay` accept)."""
    rows = []
    for name, resource in sorted(bundled_worlds().items()):
        world = json.loads(resource.read_text("utf-8"))
        rows.append({"name": name, "description": world.get("description", ""), "rules": world.get("rules", [])})
    if as_json:
        emit_json(rows)
        return
    for row in rows:
        click.echo(f"{row['name']:<24} {' '.join(row['rules'])}\n    {row['description']}")


# -- serve ------------------------------------------------------------------------------------------
@main.command()
@click.option("--braze-port", type=click.IntRange(0, 65535), default=DEFAULT_BRAZE_PORT, show_default=True,
              help="0 picks a free port.")
@click.option("--mixpanel-port", type=click.IntRange(0, 65535), default=DEFAULT_MIXPANEL_PORT, show_default=True,
              help="0 picks a free port.")
@click.option("--clock", "clock_mode", type=click.Choice(["virtual", "real"]), default="virtual", show_default=True,
              help="virtual: time moves only through `cohort-harness clock`; real: wall time, syncs every 15 real minutes.")
@click.option("--start", type=Instant(), help="Start instant of a virtual clock (ISO-8601 or `now`; default 2026-01-01T00:00:00Z).")
@click.option("--state-file", type=OutputFile(), help="Restore state from it on start; save on exit.")
@click.option("--log-requests", is_flag=True,
              help="Print one line per request to stderr: mock, method, path, status, time (secrets masked).")
@json_option
def serve(braze_port: int, mixpanel_port: int, clock_mode: str, start: str | None, state_file: str | None,
          log_requests: bool, as_json: bool) -> None:
    """Start both mocks on 127.0.0.1 until Ctrl-C, with a workspace and a ready data import key.

    \b
    Examples:
      cohort-harness serve
      cohort-harness serve --braze-port 0 --mixpanel-port 0 --json
      cohort-harness serve --state-file state.json     # keeps everything across restarts
      cohort-harness serve --log-requests              # braze POST /users/track -> 201 (1.2 ms)
    """
    from harness.embedded import EmbeddedMocks

    saved = _read_state_file(state_file)
    mocks = EmbeddedMocks(braze_port, mixpanel_port, clock_mode, parse_instant(start) if start else None).start()
    stop = threading.Event()
    previous = {sig: signal.signal(sig, lambda *_: stop.set()) for sig in (signal.SIGINT, signal.SIGTERM)}
    try:
        targets = mocks.targets()
        if saved and state_file:
            _restore(mocks, saved, state_file)
            ready = saved["ready"]
        else:
            ready = _ready_workspace(targets)
        summary = {"braze_url": mocks.braze_url, "mixpanel_url": mocks.mixpanel_url, "clock": clock_mode,
                   "braze_dashboard": mocks.braze_url + UI_PREFIX + "/",
                   "mixpanel_dashboard": mocks.mixpanel_url + UI_PREFIX + "/",
                   "now": targets.now(), "restored_from": state_file if saved else None, **ready}
        _print_serve_summary(summary, as_json)
        if log_requests:
            mocks.log_requests(_stderr_line_writer())
        while not stop.wait(0.2):
            pass
        targets.close()
        if state_file:
            state, _ = mocks.dump(then_stop=True)
            with writing(state_file):
                write_atomically(Path(state_file), json.dumps({**state, "ready": ready}))
    finally:
        mocks.stop()
        for sig, handler in previous.items():
            signal.signal(sig, handler)
    if not as_json:
        click.echo("stopped" + (f"; state saved to {state_file}" if state_file else ""))


def _stderr_line_writer() -> Callable[[str], None]:
    """Whole lines to stderr from the servers' threads, one at a time."""
    lock = threading.Lock()

    def write(line: str) -> None:
        with lock:
            click.echo(line, err=True)
    return write


def _read_state_file(state_file: str | None) -> dict[str, Any] | None:
    if not state_file or not Path(state_file).exists():
        return None
    try:
        saved = strict_loads(Path(state_file).read_text(encoding="utf-8"))
    except (OSError, ValueError, RecursionError) as exc:
        raise InputError(f"{state_file}: not a saved state ({exc or type(exc).__name__})") from None
    if not isinstance(saved, dict) or not {"braze", "mixpanel", "ready"} <= set(saved):
        raise InputError(f"{state_file}: not a state file written by `cohort-harness serve`")
    return saved


def _restore(mocks: "EmbeddedMocks", saved: dict[str, Any], state_file: str) -> None:
    """Loaded in-process, past the HTTP body cap. A state the mocks refuse is the file's fault
    (edited, or from another version): exit 2, not 4."""
    try:
        mocks.restore(saved)
    except StateRefused as exc:
        raise InputError(f"{state_file}: the mocks refuse this state ({exc})") from None


def write_atomically(path: Path, text: str) -> None:
    """Write through a temporary file in the same folder and rename it over ``path``: a crash or a
    full disk mid-write leaves the previous file whole, never half of the new one."""
    temporary = path.with_name(f".{path.name}.{os.getpid()}.tmp")
    try:
        temporary.write_text(text, encoding="utf-8")
        os.replace(temporary, path)
    finally:
        temporary.unlink(missing_ok=True)


def _ready_workspace(targets: Targets) -> dict[str, Any]:
    """A workspace and a data import key, so a user can connect Mixpanel at once (SEED-2), and a Mixpanel
    project to connect (what `cohort-harness env` prints)."""
    workspace = targets.braze.create_workspace(SERVE_TENANT_NAME)
    key = targets.braze.create_data_import_key(workspace.workspace_id)
    project = targets.mixpanel.create_project(SERVE_TENANT_NAME)
    return {"partner_api_key": targets.braze.partner_api_key(), "workspace_id": workspace.workspace_id,
            "rest_api_key": workspace.rest_api_key, "data_import_key": key.key,
            "rest_endpoint": key.rest_endpoint, "project_id": project.project_id, "project_token": project.token}


def _print_serve_summary(summary: dict[str, Any], as_json: bool) -> None:
    if as_json:
        click.echo(json.dumps(summary))
    else:
        click.echo(f"Braze mock     {summary['braze_url']}   (default port {DEFAULT_BRAZE_PORT})\n"
                   f"Mixpanel mock  {summary['mixpanel_url']}   (default port {DEFAULT_MIXPANEL_PORT})\n"
                   f"Dashboards     {summary['braze_dashboard']}   {summary['mixpanel_dashboard']}\n"
                   f"Clock          {summary['clock']}, now {summary['now']}\n"
                   f"Partner key    {summary['partner_api_key']}   (Braze's key for partner 'mixpanel')\n"
                   f"Workspace      {summary['workspace_id']}   REST API key {summary['rest_api_key']}\n"
                   f"Data import key {summary['data_import_key']}   REST endpoint {summary['rest_endpoint']}\n"
                   + (f"Mixpanel project {summary['project_id']}   token {summary['project_token']}\n"
                      if "project_id" in summary else "")
                   + (f"Restored from  {summary['restored_from']}\n" if summary["restored_from"] else "")
                   + "Move time with `cohort-harness clock advance 15m`; shell variables: "
                   "eval \"$(cohort-harness env)\". Ctrl-C stops.")
    sys.stdout.flush()


# -- clock ------------------------------------------------------------------------------------------
@main.group()
def clock() -> None:
    """Read or move the clocks of running targets (Braze first, then Mixpanel, whose syncs then run)."""


def _print_clock(targets: Targets, moved: dict[str, Any] | None, as_json: bool, verbose: bool = False) -> None:
    """Both clocks, and after a move a summary of what Mixpanel ran: the count, one line per export
    and the first and last sync. ``verbose`` (and ``--json``) list every sync, read back from each
    export's history, because the mock's reply keeps only the first and last 10 of a long advance."""
    now = {"braze": targets.braze.get_clock()["now"], "mixpanel": targets.mixpanel.get_clock()["now"]}
    moved = moved or {}
    count = moved.get("fired_count", len(moved.get("fired", [])))
    rows, not_listed = (_every_sync(targets, moved) if (verbose or as_json) and moved
                        else (moved.get("fired", []), 0))
    if as_json:
        emit_json({"now": now, "fired_count": count, "exports": moved.get("exports", []),
                   "first": moved.get("first"), "last": moved.get("last"),
                   "fired": rows, "not_listed": not_listed})
        return
    click.echo(f"Braze {now['braze']}  Mixpanel {now['mixpanel']}")
    skew = parse_instant(now["mixpanel"]) - parse_instant(now["braze"])
    if skew:
        ahead = "Mixpanel" if skew.total_seconds() > 0 else "Braze"
        click.echo(f"The clocks differ: {ahead} is {abs(skew.total_seconds()):g} s ahead "
                   "(`cohort-harness clock sync` moves the other one forward to it)")
    if not moved:
        return
    click.echo(f"{count} sync(s) ran")
    for export in moved.get("exports", []):
        results = ", ".join(f"{name} {n}" for name, n in sorted(export.get("results", {}).items()))
        click.echo(f"  project {export.get('project_id')} export {export.get('export_id')}: "
                   f"{export.get('count', 0)} sync(s) ({results}), +{export.get('added', 0)} "
                   f"-{export.get('removed', 0)}")
    if verbose:
        for row in rows:
            click.echo("    " + _sync_line(row))
        if not_listed:
            click.echo(f"    ({not_listed} earlier sync(s) are no longer in the exports' history)")
    elif count:
        click.echo(f"  first {_sync_line(moved['first'])}")
        if count > 1:
            click.echo(f"  last  {_sync_line(moved['last'])}")
        if count > 2:
            click.echo("  (--verbose lists every sync)")


def _sync_line(row: dict[str, Any]) -> str:
    """One sync on one line: when, which export, why, what, the outcome and the changes sent."""
    line = (f"{row.get('scheduled_at')}  project {row.get('project_id')} export {row.get('export_id')}  "
            f"{row.get('trigger')} {row.get('kind')}  {row.get('result')}  "
            f"+{row.get('added') or 0} -{row.get('removed') or 0}  {row.get('members') or 0} members")
    return line + (f"  error: {row['error']}" if row.get("error") else "")


def _every_sync(targets: Targets, moved: dict[str, Any]) -> tuple[list[dict[str, Any]], int]:
    """Every sync an advance ran, in time order, and how many of them the histories no longer hold.
    Each export's history ends with this advance's syncs (the clock runs one thing at a time), so its
    last ``count`` records are them."""
    if not moved.get("fired_truncated"):
        return list(moved.get("fired", [])), 0
    rows: list[dict[str, Any]] = []
    for export in moved.get("exports", []):
        ids = {key: export.get(key) for key in ("service", "job", "project_id", "export_id")}
        count = int(export.get("count", 0))
        detail = targets.mixpanel.get_export(ids["project_id"], ids["export_id"], limit=count)
        rows.extend({**ids, **record} for record in detail.get("syncs", [])[-count:])
    rows.sort(key=lambda row: (str(row.get("scheduled_at")), str(row.get("ran_at"))))
    return rows, max(0, int(moved.get("fired_count", 0)) - len(rows))


@clock.command("show")
@target_options(DEFAULT_BRAZE_URL, DEFAULT_MIXPANEL_URL)
@json_option
def clock_show(braze_url: str, mixpanel_url: str, as_json: bool) -> None:
    """Print both clocks."""
    _print_clock(connect(braze_url, mixpanel_url), None, as_json)


@clock.command("advance")
@click.argument("duration", type=Duration())
@click.option("-v", "--verbose", is_flag=True, help="List every sync that ran, one line each.")
@target_options(DEFAULT_BRAZE_URL, DEFAULT_MIXPANEL_URL)
@json_option
def clock_advance(duration: str, verbose: bool, braze_url: str, mixpanel_url: str, as_json: bool) -> None:
    """Advance both clocks by DURATION (e.g. 15m, 1h, 2d) and summarise the syncs that ran: their
    count, one line per export (syncs by result, identifiers added and removed), the first and last.

    \b
    Examples:
      cohort-harness clock advance 15m
      cohort-harness clock advance 1d --verbose     # every sync, one line each
      cohort-harness clock advance 1h --json        # every sync as JSON rows
    """
    targets = connect(braze_url, mixpanel_url)
    _print_clock(targets, targets.advance_reply(duration), as_json, verbose)


@clock.command("set")
@click.argument("instant", type=Instant())
@click.option("--force", is_flag=True,
              help="Also move a clock back (a backward jump runs nothing, and what already ran stays done).")
@target_options(DEFAULT_BRAZE_URL, DEFAULT_MIXPANEL_URL)
@json_option
def clock_set(instant: str, force: bool, braze_url: str, mixpanel_url: str, as_json: bool) -> None:
    """Set both clocks to INSTANT (ISO-8601); a forward jump runs the syncs that fall due.

    A jump back is refused (exit 2) unless --force: syncs already run are not undone, so going back
    usually means a test lost track of time.

    \b
    Example:
      cohort-harness clock set 2026-01-02T09:00:00Z
    """
    targets = connect(braze_url, mixpanel_url)
    if not force:
        _refuse_backward_jump(targets, instant)
    _print_clock(targets, targets.set_clock_reply(instant), as_json)


def _refuse_backward_jump(targets: Targets, instant: str) -> None:
    """InputError when INSTANT lies before either clock's now (checked before anything moves)."""
    target = parse_instant(instant)
    for name, client in (("Braze", targets.braze), ("Mixpanel", targets.mixpanel)):
        now = client.get_clock()["now"]
        if target < parse_instant(now):
            raise InputError(f"{instant} is earlier than the {name} clock ({now}): "
                             "use --force to move the clocks back")


@clock.command("sync")
@target_options(DEFAULT_BRAZE_URL, DEFAULT_MIXPANEL_URL)
@json_option
def clock_sync(braze_url: str, mixpanel_url: str, as_json: bool) -> None:
    """Move the clock that is behind forward to the other one (never back), running what falls due.

    Two clocks disagree after one mock was moved alone (a `POST /_harness/clock` to one of them).
    """
    targets = connect(braze_url, mixpanel_url)
    braze_now, mixpanel_now = targets.braze.get_clock()["now"], targets.mixpanel.get_clock()["now"]
    moved: dict[str, Any] | None = None
    if parse_instant(braze_now) < parse_instant(mixpanel_now):
        targets.braze.set_clock(mixpanel_now)
    elif parse_instant(mixpanel_now) < parse_instant(braze_now):
        moved = targets.mixpanel.set_clock(braze_now)
    _print_clock(targets, moved, as_json)


@main.command("proxy")
@click.option("--port", type=click.IntRange(0, 65535), default=DEFAULT_PROXY_PORT, show_default=True,
              help="Port on 127.0.0.1 (0 picks a free one).")
@target_options(DEFAULT_BRAZE_URL, DEFAULT_MIXPANEL_URL)
@json_option
def proxy(port: int, braze_url: str, mixpanel_url: str, as_json: bool) -> None:
    """HTTP(S) proxy on 127.0.0.1 routing Mixpanel's and Braze's hosts to the mocks; refuses every other host.

    \b
    For clients whose hosts are hard-coded (docs/clients.md says how each ecosystem trusts the CA):
      cohort-harness serve &  cohort-harness proxy
      export HTTPS_PROXY=http://127.0.0.1:8730 REQUESTS_CA_BUNDLE=~/.cache/cohort-harness/proxy-ca/ca.pem
    """
    from harness.proxy import LocalCA, ProxyServer, Upstreams, ca_folder, trust_environment

    ca = LocalCA(ca_folder())
    server = ProxyServer(Upstreams(mixpanel_url.rstrip("/"), braze_url.rstrip("/")), ca, port).start()
    env = trust_environment(server.url, ca.cert_path)
    if as_json:
        emit_json({"proxy_url": server.url, "ca_certificate": str(ca.cert_path), "environment": env})
    else:
        click.echo(f"proxy on {server.url} -> Mixpanel {mixpanel_url}, Braze {braze_url}; CA certificate {ca.cert_path}")
        click.echo("".join(f"export {key}={value}\n" for key, value in env.items()), nl=False)
    stop = threading.Event()
    previous = {sig: signal.signal(sig, lambda *_: stop.set()) for sig in (signal.SIGINT, signal.SIGTERM)}
    try:
        while not stop.wait(0.2):
            pass
    finally:
        server.stop()
        for sig, handler in previous.items():
            signal.signal(sig, handler)


# -- commands of other parts of the harness register here ------------------------------------------
# e.g. main.add_command(conform) from harness.conformance, main.add_command(bench).
from harness.conformance.cli import conform, steps  # noqa: E402 - registered after the group is defined

main.add_command(conform)
main.add_command(steps)

from harness.bench.cli import bench  # noqa: E402

main.add_command(bench)

from harness.shell_env import SERVE_TENANT_NAME, env  # noqa: E402

main.add_command(env)


if __name__ == "__main__":
    main()
