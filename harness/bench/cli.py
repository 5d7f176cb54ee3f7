"""``cohort-harness bench``: print the benchmark table (or one JSON object with ``--json``)."""
from __future__ import annotations

import json
from typing import Any

import click

from harness.errors import TargetRefused, VerdictFailed
from harness.params import TargetURL

from .runner import PARTS, BenchError, BenchOptions, run_bench


def _parts(ctx: click.Context, param: click.Parameter, value: str | None) -> tuple[str, ...]:
    if value is None:
        return PARTS
    chosen = tuple(part.strip() for part in value.split(",") if part.strip())
    if not chosen:
        raise click.BadParameter(f"name at least one part: {', '.join(PARTS)}")
    unknown = [part for part in chosen if part not in PARTS]
    if unknown:
        raise click.BadParameter(f"unknown part(s) {', '.join(unknown)}; choose from {', '.join(PARTS)}")
    return chosen


def _positive(ctx: click.Context, param: click.Parameter, value: int) -> int:
    if value < 1:
        raise click.BadParameter("must be at least 1")
    return value


@click.command()
@click.option("--members", default=1_000_000, show_default=True, callback=_positive,
              help="Members of the exported cohort (export, churn).")
@click.option("--profiles", default=None, type=int,
              help="Profiles of the evaluation world and of the ingest part [default: same as --members].")
@click.option("--events", default=5_000_000, show_default=True, callback=_positive,
              help="Events of the evaluation world and of the ingest part.")
@click.option("--requests", "throughput_requests", default=500, show_default=True, callback=_positive,
              help="Requests of the throughput part.")
@click.option("--world-users", default=20_000, show_default=True, callback=_positive,
              help="Users of the generated world (worlds).")
@click.option("--world-events", default=200_000, show_default=True, callback=_positive,
              help="Events of the generated world (worlds).")
@click.option("--import-requests", default=500, show_default=True, callback=_positive,
              help="Requests of 2,000 events of the import part.")
@click.option("--only", callback=_parts, metavar="PARTS",
              help=f"Comma-separated parts to run: {', '.join(PARTS)} [default: all].")
@click.option("--braze-url", type=TargetURL(), default=None,
              help="A vendor's Braze-compatible receiver (it must offer the control plane's workspaces and "
                   "data_import_keys); baselines still run on the local stack.")
@click.option("--json", "as_json", is_flag=True, help="Print one JSON object instead of the table.")
@click.option("--check", is_flag=True,
              help="Exit with status 1 when a measured figure misses its target (the targets are set for the "
                   "full size).")
def bench(members: int, profiles: int | None, events: int, throughput_requests: int, world_users: int,
          world_events: int, import_requests: int, only: tuple[str, ...],
          braze_url: str | None, as_json: bool, check: bool) -> None:
    """Measure the main paths, each next to a baseline measured in the same run.

    \b
    Parts: export (one-time export of --members over loopback HTTP vs the same requests to a
    do-nothing route), churn (three 15-minute syncs, each after 1% of members leave and as many join),
    evaluation (a behavioural cohort on --profiles / --events), throughput (partner users
    endpoint with 1,000-identifier bodies vs the do-nothing route), suite (the conformance suite),
    worlds (generate a --world-users / --world-events world), replay (that world on embedded mocks, next
    to decoding the file), ingest (--events / --profiles through the Mixpanel bulk endpoints, next to
    decoding the same bodies), import (--import-requests of 2,000 events to /import vs the do-nothing route).
    Full size takes about two minutes on 2 cores; size it down with --members/--events or pick parts with --only.
    """
    profiles = profiles if profiles is not None else members
    if profiles < 1:
        raise click.BadParameter("must be at least 1", param_hint="--profiles")
    progress = (lambda message: None) if as_json else (lambda message: click.echo(f"  .. {message}", err=True))
    options = BenchOptions(members=members, profiles=profiles, events=events, only=only,
                           throughput_requests=throughput_requests, world_users=world_users,
                           world_events=world_events, import_requests=import_requests, braze_url=braze_url,
                           progress=progress)
    try:
        result = run_bench(options)
    except BenchError as exc:
        raise TargetRefused(str(exc)) from None
    click.echo(json.dumps(result, indent=2) if as_json else format_table(result))
    missed = [verdict["target"] for verdict in result["targets"] if not verdict["met"]]
    if check and missed:
        raise VerdictFailed(f"missed {len(missed)} target(s): {'; '.join(missed)}")


def format_table(result: dict[str, Any]) -> str:
    """A plain table: figure, value, baseline, ratio, and the verdict of the figure's target."""
    verdict_of = {verdict["figure"]: verdict for verdict in result.get("targets", [])}

    def target(figure: str) -> str:
        verdict = verdict_of.get(figure)
        if verdict is None:
            return ""
        return f"{'met' if verdict['met'] else 'MISSED'}: {verdict['target']}"

    rows: list[tuple[str, ...]] = []
    export = result.get("export")
    if export:
        rows.append((f"export of {export['members']:,} members (s)", f"{export['seconds']:.2f}",
                     f"{export['baseline_seconds']:.2f}", f"{export['ratio']:.2f}x", target("export")))
        rows.append(("  requests / members per second", f"{export['requests']:,}",
                     f"{export['members_per_second']:,}/s", "", ""))
        rows.append(("  floor: same bodies, the exporter's client (s)", "", f"{export['floor_seconds']:.2f}",
                     f"{export['floor_ratio']:.2f}x", target("export_floor")))
    churn = result.get("churn_sync")
    if churn:
        rows.append((f"churn sync, +{churn['added']:,} / -{churn['removed']:,} (s, median)", f"{churn['seconds']:.3f}",
                     "", "", target("churn_sync")))
        rows.append(("  each sync (s)", " ".join(f"{run:.3f}" for run in churn["runs"]), "", "", ""))
    evaluation = result.get("evaluation")
    if evaluation:
        rows.append((f"evaluation, {evaluation['profiles']:,} profiles / {evaluation['events']:,} events (s)",
                     f"{evaluation['seconds']:.3f}", "", "", target("evaluation")))
        rows.append(("  first evaluation after the load (s)", f"{evaluation['first_seconds']:.3f}", "", "",
                     target("first_evaluation")))
    throughput = result.get("throughput")
    if throughput:
        rows.append(("partner users throughput (req/s)", f"{throughput['requests_per_second']:.1f}",
                     f"{throughput['baseline_requests_per_second']:.1f}", f"{throughput['ratio']:.2f}x", ""))
    suite = result.get("suite")
    if suite:
        rows.append(("conformance suite (s)", f"{suite['seconds']:.1f}", "", "passed" if suite["passed"] else "FAILED",
                     target("suite")))
    generate, replay = result.get("generate"), result.get("replay")
    if generate:
        rows.append((f"generate, {generate['users']:,} users / {generate['events']:,} events (s)",
                     f"{generate['seconds']:.2f}", f"{generate['floor_seconds']:.2f}",
                     f"{generate['floor_ratio']:.1f}x", target("generate")))
    if replay:
        rows.append((f"replay, {replay['users']:,} users / {replay['events']:,} events (s; floor: decoding the file)",
                     f"{replay['seconds']:.2f}", f"{replay['floor_seconds']:.2f}", f"{replay['floor_ratio']:.1f}x",
                     target("replay")))
    ingest = result.get("ingest")
    if ingest:
        rows.append((f"ingest, {ingest['events']:,} events + {ingest['profiles']:,} profiles (s)",
                     f"{ingest['seconds']:.2f}", f"{ingest['floor_seconds']:.2f}", f"{ingest['floor_ratio']:.2f}x",
                     target("ingest")))
        rows.append(("  events, then profiles (s); floor: json.loads of the same bodies",
                     f"{ingest['events_seconds']:.2f} + {ingest['profiles_seconds']:.2f}", "", "", ""))
        rows.append(("  events per second", f"{ingest['events_per_second']:,}/s", "", "", ""))
    imported = result.get("import")
    if imported:
        rows.append((f"/import, {imported['requests']:,} x 2,000 events (s)", f"{imported['seconds']:.2f}",
                     f"{imported['baseline_seconds']:.2f}", f"{imported['ratio']:.2f}x", target("import")))
        rows.append(("  baseline: same requests to the do-nothing route; events per second",
                     f"{imported['events_per_second']:,}/s", "", "", ""))
    for side, value in (result.get("peak_rss_mb_by_side") or {}).items():
        if value:
            rows.append((f"peak memory, {side} process (MiB)", f"{value:.0f}", "", "", ""))
    if "export_memory" in verdict_of:
        rows.append(("peak memory, export's two sides together (MiB)", f"{verdict_of['export_memory']['value']:.0f}",
                     "", "", target("export_memory")))
    if evaluation:
        rows.append(("peak memory, evaluation process (MiB)", f"{evaluation['peak_rss_mb']:.0f}", "", "", ""))
    if result.get("peak_rss_mb"):
        rows.append(("peak memory, largest process (MiB)", f"{result['peak_rss_mb']:.0f}", "", "",
                     target("peak_rss_mb")))
    header = ("figure", "value", "baseline", "ratio", "target")
    widths = [max(len(row[i]) for row in [header, *rows]) for i in range(len(header))]
    lines = ["  ".join(cell.ljust(widths[i]) if i in (0, 4) else cell.rjust(widths[i])
                       for i, cell in enumerate(row)).rstrip()
             for row in [header, *rows]]
    lines.insert(1, "  ".join("-" * w for w in widths))
    lines.append("targets are set for the full size: 1,000,000 members, 1,000,000 profiles, 5,000,000 events "
                 "(the export's memory: 10,000,000 members)")
    return "\n".join(lines)
