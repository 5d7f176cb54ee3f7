"""The benchmark parts. Every timed figure comes with a baseline measured in the same run on the
same machine, so a ratio means something on a noisy 2-core box.

* export: a one-time export of N members, Mixpanel process -> Braze process over loopback HTTP;
  baseline: the same number of requests with byte-identical bodies, posted one after another by a
  ``requests`` session (the harness's HTTP client) to a do-nothing route of the same server stack
  (``POST /_bench/sink`` on the Braze process). The floor is the same again through the exporter's
  own, lighter transport: what the export would cost if neither side did any work. Both are the
  fastest of two runs, so a hiccup of the machine cannot make the export look better than it is.
* churn: a dynamic export of the same cohort, then three times over 1% of the members leave and
  as many join; seconds of the 15-minute sync that sends the diff (the median of the three).
* evaluation: a behavioural cohort over P profiles and E events, seconds per evaluation.
* throughput: requests per second of the partner users endpoint with 1,000-identifier bodies,
  against the sink route with the same bodies.
* suite: wall seconds of the whole conformance suite on the embedded mocks.
* worlds: ``generate`` of a world of U users and E events (written to a file), next to the floor of
  writing the same world with the C JSON encoder at all.
* replay: ``replay`` of such a generated file on embedded mocks (read, validate, load over HTTP, sync,
  compare), the path a developer meets first. Its target is absolute (10 s for 20,000 users, as the
  issue states it); beside it, the floor of reading and decoding the same file (``json.loads`` with
  the reader's own number checks), so a busy machine shows in the ratio.
* ingest: E events and P profiles loaded into an empty project through the Mixpanel mock's bulk
  endpoints (``POST /_harness/projects/{pid}/events`` and ``/profiles``, 10,000 items a body) over
  loopback; floor: decoding the same bodies with the fastest JSON decoder the harness ships (the
  standard library's C decoder: no other is a dependency).
* import: R requests of 2,000 events to ``/import`` (the vendor path, Basic auth) vs the same
  requests, byte for byte, to the do-nothing route of the same server.
"""
from __future__ import annotations

import json
import math
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from typing import Any, Callable, Iterator

import requests

from harness.clients import BrazeClient, MixpanelClient, Targets
from mocks.common.clock import parse_instant
from mocks.common.defaults import DEFAULT_PARTNER_API_KEY
from mocks.mixpanel.cohort_sync.partner_client import HttpTransport, TransportError

from . import synthetic
from .targets import verdicts

PARTS = ("export", "churn", "evaluation", "throughput", "suite", "worlds", "replay", "ingest", "import")
BATCH = 1000
#: Items per body of the ingest part (the bulk endpoints take any number; 10,000 is what the harness sends).
BULK_BATCH = 10_000
#: Events per /import request (Mixpanel's limit).
IMPORT_BATCH = 2000
#: The export's baseline and floor are each the fastest of this many runs.
BASELINE_RUNS = 2
#: Churn syncs measured (the figure is their median).
CHURN_SYNCS = 3
NODE_START_TIMEOUT = 1800.0

Progress = Callable[[str], None]


class BenchError(RuntimeError):
    """A benchmark part could not run (a node did not start, a target refused a call)."""


@dataclass
class BenchOptions:
    members: int = 1_000_000
    events: int = 5_000_000
    profiles: int = 1_000_000
    churn: float = 0.01
    throughput_requests: int = 500
    throughput_clients: int = 4
    world_users: int = 20_000
    world_events: int = 200_000
    import_requests: int = 500
    only: tuple[str, ...] = PARTS
    braze_url: str | None = None
    progress: Progress = field(default=lambda message: None)


# -- processes ------------------------------------------------------------------------------------
class Node:
    """One side of the benchmark running ``python -m harness.bench.node`` in its own process."""

    def __init__(self, *args: str):
        self.args = args
        self.process: subprocess.Popen[str] | None = None
        self.info: dict[str, Any] = {}

    def __enter__(self) -> "Node":
        self.stderr = tempfile.TemporaryFile(mode="w+")
        self.process = subprocess.Popen([sys.executable, "-m", "harness.bench.node", *self.args],
                                        stdin=subprocess.PIPE, stdout=subprocess.PIPE, stderr=self.stderr,
                                        text=True)
        line = _read_line(self.process, NODE_START_TIMEOUT)
        if not line:
            self.stderr.seek(0)
            error = self.stderr.read() if self.process.poll() is not None else "timed out"
            self.close()
            raise BenchError(f"bench node {' '.join(self.args)} did not start: {error.strip()[-500:]}")
        self.info = json.loads(line)
        return self

    @property
    def url(self) -> str:
        return self.info["url"]

    def peak_rss_mb(self) -> float:
        return requests.get(self.url + "/_bench/rss", timeout=30).json()["peak_rss_mb"]

    def close(self) -> None:
        if self.process is None:
            return
        try:
            if self.process.stdin is not None:
                self.process.stdin.close()
            self.process.wait(timeout=10)
        except subprocess.TimeoutExpired:
            self.process.kill()
            self.process.wait()
        self.process = None
        self.stderr.close()

    def __exit__(self, *exc: Any) -> None:
        self.close()


def _read_line(process: subprocess.Popen[str], timeout: float) -> str:
    found: list[str] = []
    stdout = process.stdout
    assert stdout is not None, "the node is started with stdout=PIPE"
    reader = threading.Thread(target=lambda: found.append(stdout.readline()), daemon=True)
    reader.start()
    reader.join(timeout)
    return found[0].strip() if found else ""


def run_node_once(*args: str) -> dict[str, Any]:
    """Run a node that prints one JSON result and exits."""
    done = subprocess.run([sys.executable, "-m", "harness.bench.node", *args], capture_output=True, text=True,
                          timeout=NODE_START_TIMEOUT)
    if done.returncode != 0:
        raise BenchError(f"bench node {' '.join(args)} failed: {done.stderr.strip()[-500:]}")
    return json.loads(done.stdout.strip().splitlines()[-1])


# -- timing helpers -------------------------------------------------------------------------------
def timed(action: Callable[[], Any]) -> tuple[float, Any]:
    started = time.perf_counter()
    result = action()
    return time.perf_counter() - started, result


def post_all(url: str, bodies: list[bytes], clients: int = 1, auth: tuple[str, str] | None = None) -> float:
    """Seconds to POST every body to ``url`` over keep-alive sessions (``clients`` in parallel)."""
    local = threading.local()

    def send(body: bytes) -> None:
        session = getattr(local, "session", None) or requests.Session()
        local.session = session
        reply = session.post(url, data=body, headers={"Content-Type": "application/json"}, timeout=600, auth=auth)
        if reply.status_code >= 300:
            raise BenchError(f"POST {url} answered {reply.status_code}: {reply.text[:200]}")

    started = time.perf_counter()
    if clients == 1:
        for body in bodies:
            send(body)
    else:
        with ThreadPoolExecutor(clients) as pool:
            list(pool.map(send, bodies))
    return time.perf_counter() - started


def post_all_like_the_exporter(url: str, bodies: list[bytes]) -> float:
    """Seconds to POST every body to ``url`` one after another with the exporter's own transport
    (:class:`~mocks.mixpanel.cohort_sync.partner_client.HttpTransport`): the transport floor of an export."""
    transport = HttpTransport(url, timeout=(10.0, 120.0))
    started = time.perf_counter()
    try:
        for body in bodies:
            transport.send("", body)
            reply = transport.receive()
            if reply.status >= 300:
                raise BenchError(f"POST {url} answered {reply.status}: {reply.body[:200]!r}")
    except TransportError as exc:
        raise BenchError(f"POST {url}: {exc.reason}") from None
    finally:
        transport.close()
    return time.perf_counter() - started


def users_bodies(key: str, cohort_id: str, members: int, first: int = 0) -> Iterator[bytes]:
    """Partner users bodies of at most 1,000 external ids, byte for byte what an exporter sends."""
    for start in range(first, first + members, BATCH):
        count = min(BATCH, first + members - start)
        yield json.dumps(synthetic.partner_users_body(DEFAULT_PARTNER_API_KEY, key, cohort_id, start, count),
                         separators=(",", ":")).encode()


# -- parts ----------------------------------------------------------------------------------------
@dataclass
class Braze:
    """The Braze side of a part: our node, or a vendor's receiver reached through its control plane."""

    url: str
    data_import_key: str
    node: Node | None

    def peak_rss_mb(self) -> float | None:
        return self.node.peak_rss_mb() if self.node else None


def _vendor_braze(url: str) -> Braze:
    client = BrazeClient(url, timeout=600)
    workspace = client.create_workspace("bench")
    key = client.create_data_import_key(workspace.workspace_id)
    return Braze(url, key.key, None)


def export_and_churn(options: BenchOptions) -> dict[str, Any]:
    """Parts 1 and 2 share the populated processes."""
    churn_half = max(1, int(options.members * options.churn / 2))
    results: dict[str, Any] = {}
    options.progress(f"starting the Braze and Mixpanel processes ({options.members:,} members)")
    with Node("braze", "--users", str(options.members + churn_half * CHURN_SYNCS)) as sink_node, \
            Node("mixpanel", "--members", str(options.members)) as mixpanel_node:
        braze = (_vendor_braze(options.braze_url) if options.braze_url
                 else Braze(sink_node.url, sink_node.info["data_import_key"], sink_node))
        mixpanel = MixpanelClient(mixpanel_node.url, timeout=3600)
        pid, cohort_id = mixpanel_node.info["project_id"], mixpanel_node.info["cohort_id"]
        connection_id = mixpanel.create_connection(pid, braze.data_import_key, braze.url).connection_id
        if "export" in options.only:
            results["export"] = _one_time_export(options, mixpanel, pid, cohort_id, connection_id, braze, sink_node)
        if "churn" in options.only:
            results["churn_sync"] = _churn_sync(options, mixpanel, Targets(BrazeClient(braze.url), mixpanel),
                                                pid, cohort_id, connection_id, churn_half)
        results["peak_rss_mb_by_side"] = {"braze": braze.peak_rss_mb(), "mixpanel": mixpanel_node.peak_rss_mb()}
    return results


def _one_time_export(options: BenchOptions, mixpanel: MixpanelClient, pid: Any, cohort_id: Any,
                     connection_id: Any, braze: Braze, sink_node: Node) -> dict[str, Any]:
    options.progress("export: one-time export")
    seconds, reply = timed(lambda: mixpanel.create_export(pid, cohort_id, connection_id, mode="one_time"))
    sync = mixpanel.get_export(pid, reply.export_id)["syncs"][0]
    if sync.get("result") not in ("success", "ok", "succeeded"):
        raise BenchError(f"the one-time export did not succeed: {sync.get('result')} {sync.get('error', '')}")
    requests_made = int(sync["requests"]) if not isinstance(sync["requests"], list) else len(sync["requests"])
    options.progress(f"export: baseline ({requests_made} requests to the do-nothing route)")
    bodies = list(users_bodies(braze.data_import_key, str(cohort_id), options.members))
    bodies = _pad_to(bodies, requests_made)
    sink = sink_node.url + "/_bench/sink"
    baseline, floor = math.inf, math.inf
    for _ in range(BASELINE_RUNS):  # the fastest run: a hiccup must not flatter the ratio
        baseline = min(baseline, post_all(sink, bodies))
        floor = min(floor, post_all_like_the_exporter(sink, bodies))
    return {"members": options.members, "seconds": round(seconds, 4), "baseline_seconds": round(baseline, 4),
            "ratio": round(seconds / baseline, 2), "requests": requests_made,
            "floor_seconds": round(floor, 4), "floor_ratio": round(seconds / floor, 2),
            "members_per_second": round(options.members / seconds),
            "exported": sync.get("added"), "skipped": sync.get("skipped")}


def _pad_to(bodies: list[bytes], count: int) -> list[bytes]:
    """The baseline sends as many requests as the export made (name call included)."""
    name_call = json.dumps({"partner_api_key": DEFAULT_PARTNER_API_KEY, "cohort_id": "1", "name": "Bench members",
                            "created_at": "2026-01-01T00:00:00Z", "client_secret": "x" * 32}).encode()
    return [name_call] * max(0, count - len(bodies)) + bodies[:count]


def _churn_sync(options: BenchOptions, mixpanel: MixpanelClient, targets: Targets, pid: Any, cohort_id: Any,
                connection_id: Any, churn_half: int) -> dict[str, Any]:
    """``CHURN_SYNCS`` consecutive 15-minute syncs, each after another 1% of the cohort left and as
    many joined; ``seconds`` is the median sync, ``runs`` all of them."""
    options.progress("churn: dynamic export (first full sync)")
    first_seconds, reply = timed(lambda: mixpanel.create_export(pid, cohort_id, connection_id, mode="dynamic"))
    runs: list[float] = []
    for step in range(CHURN_SYNCS):
        leaving = [{"distinct_id": uid, "properties": props}
                   for uid, props in synthetic.member_profiles(step * churn_half, churn_half, member=False)]
        joining = [{"distinct_id": uid, "properties": props}
                   for uid, props in synthetic.member_profiles(options.members + step * churn_half, churn_half)]
        for chunk in _chunks(leaving + joining, 10_000):
            mixpanel.control("POST", f"/projects/{pid}/profiles", json={"profiles": chunk})
        options.progress(f"churn: 15-minute sync {step + 1} of {CHURN_SYNCS} with {churn_half:,} removes and "
                         f"{churn_half:,} adds")
        seconds, _ = timed(lambda: targets.advance("15m"))
        sync = mixpanel.get_export(pid, reply.export_id)["syncs"][-1]
        if sync.get("added") != churn_half or sync.get("removed") != churn_half:
            raise BenchError(f"churn sync sent {sync.get('added')} adds and {sync.get('removed')} removes, "
                             f"expected {churn_half} each")
        runs.append(round(seconds, 3))
    return {"seconds": statistics.median(runs), "runs": runs, "added": churn_half, "removed": churn_half,
            "first_sync_seconds": round(first_seconds, 3)}


def _chunks(items: list[Any], size: int) -> Iterator[list[Any]]:
    for start in range(0, len(items), size):
        yield items[start:start + size]


def evaluation(options: BenchOptions) -> dict[str, Any]:
    options.progress(f"evaluation: building {options.profiles:,} profiles and {options.events:,} events")
    return run_node_once("evaluate", "--profiles", str(options.profiles), "--events", str(options.events))


def throughput(options: BenchOptions) -> dict[str, Any]:
    """Partner users endpoint vs the sink route, same bodies, same client concurrency."""
    count = options.throughput_requests
    options.progress(f"throughput: {count} requests of {BATCH} identifiers, {options.throughput_clients} clients")
    with Node("braze", "--users", str(BATCH * 10)) as node:
        braze = _vendor_braze(options.braze_url) if options.braze_url else Braze(
            node.url, node.info["data_import_key"], node)
        bodies = [body for _ in range(math.ceil(count / 10))
                  for body in users_bodies(braze.data_import_key, "bench-throughput", BATCH * 10)][:count]
        post_all(braze.url + "/partners/mixpanel/cohorts/users", bodies[:10], options.throughput_clients)  # warm-up
        seconds = post_all(braze.url + "/partners/mixpanel/cohorts/users", bodies, options.throughput_clients)
        baseline = post_all(node.url + "/_bench/sink", bodies, options.throughput_clients)
    return {"requests": count, "requests_per_second": round(count / seconds, 1),
            "baseline_requests_per_second": round(count / baseline, 1), "ratio": round(baseline / seconds, 2)}


def suite(options: BenchOptions) -> dict[str, Any]:
    options.progress("suite: the conformance suite on the embedded mocks")
    with tempfile.TemporaryDirectory() as report_dir:
        seconds, done = timed(lambda: subprocess.run(
            [sys.executable, "-m", "harness.cli", "conform", "--report-dir", report_dir],
            capture_output=True, text=True))
    verdicts = [line for line in done.stdout.splitlines() if line.startswith(("PASSED", "FAILED"))]
    summary = verdicts[-1] if verdicts else done.stderr.strip()[-200:]
    return {"seconds": round(seconds, 2), "passed": done.returncode == 0, "summary": summary}


def run_bench(options: BenchOptions) -> dict[str, Any]:
    """Run the selected parts; the reply carries every figure and the overall peak memory."""
    unknown = set(options.only) - set(PARTS)
    if unknown:
        raise BenchError(f"unknown part(s) {', '.join(sorted(unknown))}; choose from {', '.join(PARTS)}")
    result: dict[str, Any] = {"options": {"members": options.members, "profiles": options.profiles,
                                          "events": options.events, "only": list(options.only),
                                          "braze_url": options.braze_url}}
    if {"export", "churn"} & set(options.only):
        result.update(export_and_churn(options))
    if "evaluation" in options.only:
        result["evaluation"] = evaluation(options)
    if "throughput" in options.only:
        result["throughput"] = throughput(options)
    if "suite" in options.only:
        result["suite"] = suite(options)
    if {"worlds", "replay"} & set(options.only):
        result.update(worlds(options))
    if {"ingest", "import"} & set(options.only):
        measured = ingestion(options)
        sides = measured.pop("peak_rss_mb_by_side")
        result.update(measured)
        result["peak_rss_mb_by_side"] = {**(result.get("peak_rss_mb_by_side") or {}), **sides}
    peaks = [v for v in (result.get("peak_rss_mb_by_side") or {}).values() if v]
    if "evaluation" in result:
        peaks.append(result["evaluation"]["peak_rss_mb"])
    result["peak_rss_mb"] = round(max(peaks), 1) if peaks else None
    result["targets"] = verdicts(result)
    return result


def worlds(options: BenchOptions) -> dict[str, Any]:
    """``generate`` then ``replay`` of one generated world, as the CLI does them (in this process);
    each timed when its part was chosen."""
    from harness.embedded import EmbeddedMocks
    from harness.worlds import FlowRun, diff_checkpoints, generate_world
    from harness.worlds.files import load_world_json, read_world, write_world

    users, events = options.world_users, options.world_events
    results: dict[str, Any] = {}
    options.progress(f"worlds: generate {users:,} users / {events:,} events")
    with tempfile.TemporaryDirectory() as folder:
        path = f"{folder}/world.json"
        def generate() -> dict[str, Any]:
            world = generate_world(7, users, events)
            write_world(path, world)
            return world

        generate_seconds, world = timed(generate)
        if "worlds" in options.only:
            floor = min(timed(lambda: json.dumps(world, ensure_ascii=False))[0] for _ in range(BASELINE_RUNS))
            results["generate"] = {"users": users, "events": events, "seconds": round(generate_seconds, 6),
                                   "floor_seconds": round(floor, 6), "floor_ratio": round(generate_seconds / floor, 2)}
        del world
        if "replay" not in options.only:
            return results
        options.progress("replay: the generated world on embedded mocks")

        def replay() -> list[str]:
            replayed = read_world(path)
            with EmbeddedMocks() as mocks:
                targets = mocks.targets()
                try:
                    observed = FlowRun(targets, replayed).run().checkpoints
                finally:
                    targets.close()
            return diff_checkpoints(replayed["expected"]["syncs"], observed)

        replay_seconds, differences = timed(replay)
        decode = min(timed(lambda: load_world_json(path))[0] for _ in range(BASELINE_RUNS))
    if differences:
        raise BenchError(f"the replay of the generated world differs from its expectation: {differences[0]}")
    results["replay"] = {"users": users, "events": events, "seconds": round(replay_seconds, 6),
                         "floor_seconds": round(decode, 6), "floor_ratio": round(replay_seconds / decode, 2)}
    return results


def bulk_bodies(field: str, items: Iterator[Any], size: int) -> Iterator[bytes]:
    """``{field: [...]}`` bodies of at most ``size`` items, compact JSON as a loader sends them."""
    chunk: list[Any] = []
    for item in items:
        chunk.append(item)
        if len(chunk) == size:
            yield json.dumps({field: chunk}, separators=(",", ":")).encode()
            chunk = []
    if chunk:
        yield json.dumps({field: chunk}, separators=(",", ":")).encode()


def decode_floor(bodies: list[bytes]) -> float:
    """Seconds to decode every body with the fastest JSON decoder shipped (the C one of ``json``);
    the fastest of ``BASELINE_RUNS``."""
    def decode_all() -> None:
        for body in bodies:
            json.loads(body)

    return min(timed(decode_all)[0] for _ in range(BASELINE_RUNS))


def ingestion(options: BenchOptions) -> dict[str, Any]:
    """The ingest and import parts, on one Mixpanel process (each in its own empty project)."""
    results: dict[str, Any] = {}
    with Node("mixpanel", "--members", "1") as node:
        mixpanel = MixpanelClient(node.url, timeout=3600)
        now_ms = int(parse_instant(mixpanel.get_clock()["now"]).timestamp() * 1000)
        if "ingest" in options.only:
            results["ingest"] = _ingest(options, mixpanel, node, now_ms)
        if "import" in options.only:
            results["import"] = _import(options, mixpanel, node, now_ms)
        results.setdefault("peak_rss_mb_by_side", {})["mixpanel_ingest"] = node.peak_rss_mb()
    return results


def _ingest(options: BenchOptions, mixpanel: MixpanelClient, node: Node, now_ms: int) -> dict[str, Any]:
    events, profiles = options.events, options.profiles
    options.progress(f"ingest: encoding {events:,} events and {profiles:,} profiles")
    event_bodies = list(bulk_bodies("events", synthetic.events(events, max(profiles, 1), now_ms), BULK_BATCH))
    profile_bodies = list(bulk_bodies("profiles", ({"distinct_id": uid, "properties": props}
                                                   for uid, props in synthetic.member_profiles(0, profiles)),
                                      BULK_BATCH))
    pid = mixpanel.create_project("bench ingest").project_id
    base = f"{node.url}/_harness/projects/{pid}"
    options.progress(f"ingest: loading them through the bulk endpoints ({len(event_bodies) + len(profile_bodies)} bodies)")
    events_seconds = post_all(base + "/events", event_bodies)
    profiles_seconds = post_all(base + "/profiles", profile_bodies)
    seconds = events_seconds + profiles_seconds
    stats = mixpanel.stats(pid)
    if stats.get("events_stored") != events or stats.get("profiles") != profiles:
        raise BenchError(f"ingest stored {stats.get('events_stored')} events and {stats.get('profiles')} profiles, "
                         f"expected {events} and {profiles}")
    options.progress("ingest: floor (decoding the same bodies)")
    floor = decode_floor(event_bodies + profile_bodies)
    return {"events": events, "profiles": profiles, "bodies": len(event_bodies) + len(profile_bodies),
            "seconds": round(seconds, 6), "floor_seconds": round(floor, 6), "floor_ratio": round(seconds / floor, 2),
            "events_seconds": round(events_seconds, 6), "profiles_seconds": round(profiles_seconds, 6),
            "events_per_second": round(events / events_seconds)}


def _import(options: BenchOptions, mixpanel: MixpanelClient, node: Node, now_ms: int) -> dict[str, Any]:
    count = options.import_requests
    options.progress(f"import: {count} requests of {IMPORT_BATCH} events to /import and to the do-nothing route")
    bodies = [json.dumps(chunk, separators=(",", ":")).encode()
              for chunk in _chunks(list(synthetic.events(count * IMPORT_BATCH, 100_000, now_ms, seed=11)), IMPORT_BATCH)]
    project = mixpanel.create_project("bench import")
    mixpanel.control("PATCH", "/limits", json={"import_requests_per_minute": max(900, count + 10)})
    account = project.service_account
    url = f"{node.url}/import?project_id={project.project_id}&strict=1"
    seconds = post_all(url, bodies, auth=(account["username"], account["secret"]))
    stored = mixpanel.stats(project.project_id).get("events_stored")
    if stored != count * IMPORT_BATCH:
        raise BenchError(f"/import stored {stored} events, expected {count * IMPORT_BATCH}")
    baseline = min(post_all(node.url + "/_bench/sink", bodies) for _ in range(BASELINE_RUNS))
    return {"requests": count, "events": count * IMPORT_BATCH, "seconds": round(seconds, 6),
            "baseline_seconds": round(baseline, 6), "ratio": round(seconds / baseline, 2),
            "events_per_second": round(count * IMPORT_BATCH / seconds)}
