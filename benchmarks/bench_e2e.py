"""End-to-end benchmark: one-pod Jobs of ``true`` through a real ``berth up``, against raw Ray
tasks that run the same process.

    .venv/bin/python -m benchmarks e2e
    .venv/bin/python -m benchmarks.bench_e2e [--jobs 1000] [--solo 50] [--clients 4]
                                             [--cpu 100m] [--timeout 420] [--profile]
                                             [--database sqlite|postgresql]
                                             [--agent-launches-pods | --ray-task-pods]
                                             [--no-ray] [--long] [--dump FILE.json]

At Berth's current rate (about 3 Jobs/s here) the default 1,000 Jobs take about 5 minutes
alone and the whole benchmark about 6; ``--jobs 300`` runs in about 2.

**Berth.** ``berth up`` with workers (API, SQLite store, job controller, scheduler, a private
loopback Ray head with one node and its agent) on a free loopback port and a temporary data
directory. Jobs (``command: ["true"]``, ``restartPolicy: Never``, ``backoffLimit: 0``, a
``--cpu`` request) are POSTed over HTTP (httpx). Two watches (pods and jobs of the namespace)
stamp, on arrival, the first event of each stage of each job: the pod created, bound, seen
Running-or-finished (a pod of ``true`` usually goes from Pending straight to Succeeded in the
store: it exits between two status polls, so "Running" is the first of Running or a terminal
phase), seen finished, and the Job Complete. Pod timestamps in the API (``startedAt``) have
1 s resolution, hence the client-side stamps. The node agent's files add when it admitted the
pod, spawned the container and saw it exit (file birth times, this host's clock; see
``e2e_stats.node_stamps``); "submit -> container spawn" is the true start. First one probe
job (is the pod sandboxed: ``echo $$`` prints 2 inside bubblewrap's pid namespace) and
``--warm`` jobs, unmeasured; then ``--solo`` jobs one at a time (unloaded: each is submitted
once the previous Job is Complete); then ``--jobs`` submitted by ``--clients`` concurrent
requests (loaded). Jobs per second: loaded jobs Complete / (first submit -> last Complete).

**Raw Ray.** After Berth has stopped: a private Ray head of its own, and tasks of
``num_cpus`` = the pod's request that run ``true`` with ``subprocess.run``, plainly and inside
``bwrap --ro-bind / / --dev /dev --proc /proc`` (the fair comparison when pods are sandboxed).
Same counts: warm-up, one at a time, then all submitted at once. Latency: submit -> the
task's first line; rate: tasks / (first submit -> last result seen by the driver).

**Long runs.** While the loaded Jobs run, a separate process GETs one Job every 100 ms: the
API's read latency under load. The report compares the completion rate over the first and the
last 1,000 completions (a fifth of the run each when it has fewer than 2,000 Jobs): a store or
cache that slows down as objects pile up shows there. In a short run both windows are mostly
the pipeline filling and draining (the last Jobs finish in a burst as the controller catches
up), so read the ratio from long runs only: ``--long`` is the issue's 10,000 Jobs (about 15
minutes at 15 Jobs/s), which also prints the rate of every 1,000 completions.
``--database postgresql`` runs Berth on a fresh schema of the PostgreSQL at
``BERTH_TEST_PG_URL`` (the tests' server) instead of SQLite; it fails by name when that
server cannot be reached.
``--agent-launches-pods`` turns on the setting of that name: the node agent starts each pod
itself instead of as one Ray task (what ``berth up``'s embedded Ray does when it is unset);
``--ray-task-pods`` turns it off: each pod is one Ray task.

``--profile`` runs ``berth up`` under a sampling CPU profiler (``e2e_profile``) and prints
where its CPU went; that run's figures carry the profiler's overhead.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import math
import os
import shutil
import socket
import sys
import tempfile
import time
from dataclasses import dataclass, field
from pathlib import Path

import httpx

from benchmarks.e2e_berth import (
    JOBS,
    NAMESPACE,
    PODS,
    BerthUp,
    Tracker,
    change_log_compacted,
    node_capacity,
    pod_log,
    probe_gets,
    read_node_files,
    run_burst,
    run_one,
    start_berth,
    store_writes,
    watch,
)
from benchmarks.e2e_cpu import berth_cpu, cpu_delta
from benchmarks.e2e_profile import api_profile_path
from benchmarks.e2e_ray import Baseline, run_baselines
from benchmarks.e2e_report import report
from berth.platform.resources import quantity
from tests.support import make_pg_schema, pg_problem

TRUE = ["true"]
BWRAP_TRUE = ["bwrap", "--ro-bind", "/", "/", "--dev", "/dev", "--proc", "/proc", "true"]
# Kubernetes expands $(VAR) in commands and reads $$ as a literal $: this runs `echo $$`.
PROBE = ["sh", "-c", "echo $$$$"]


@dataclass
class BerthRun:
    nodes: list[tuple[str, dict, dict]]
    sandboxed: bool | None
    solo: list[dict]
    burst: list[dict]
    unfinished: list[str]
    failed: list[str]
    submit_s: float
    cpu: dict[str, float]
    events: int
    jobs_total: int
    gets: list[float] = field(default_factory=list)  # GET latencies during the loaded run
    profile: dict | None = None
    api_profile: dict | None = None  # the API process's (embedded berth up serves it apart)
    writes: list[tuple[str, str, int, int]] = field(default_factory=list)
    writes_compacted: int = 0  # the change log's compaction floor after the run (0: none)
    by_uid: dict[str, dict] = field(default_factory=dict)  # pod uid -> its job's record
    gc_pauses: dict[str, list[float]] = field(default_factory=dict)  # berth up's, by generation
    takes: list[tuple[float, float]] = field(default_factory=list)  # kubelet status answers

    def add_stamps(self, by_uid: dict[str, dict[str, float]]) -> None:
        """``berth up``'s own trace points (``e2e_trace``), per pod uid."""
        for uid, stamps in by_uid.items():
            record = self.by_uid.get(uid)
            if record is not None:
                record.update(stamps)


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


# ---- the Berth run --------------------------------------------------------------------------


async def _drive(berth: BerthUp, args: argparse.Namespace) -> BerthRun:
    tracker = Tracker()
    limits = httpx.Limits(max_connections=args.clients + 2)
    gets: list[float] = []
    async with (
        httpx.AsyncClient(base_url=berth.url, timeout=60, limits=limits) as client,
        httpx.AsyncClient(base_url=berth.url, timeout=60) as watcher,
    ):
        await client.post(
            "/api/v1/namespaces",
            json={"apiVersion": "v1", "kind": "Namespace", "metadata": {"name": NAMESPACE}},
        )
        watches = [
            asyncio.create_task(watch(watcher, PODS, tracker.on_pod, tracker)),
            asyncio.create_task(watch(watcher, JOBS, tracker.on_job, tracker)),
        ]
        try:
            await run_one(client, tracker, "probe", args.cpu, PROBE)
            pid = (await pod_log(client, "probe")).strip()
            sandboxed = int(pid) <= 2 if pid.isdigit() else None
            for i in range(args.warm):
                await run_one(client, tracker, f"warm-{i}", args.cpu, TRUE)
            solo = [f"solo-{i:04d}" for i in range(args.solo)]
            for name in solo:
                await run_one(client, tracker, name, args.cpu, TRUE)
            burst = [f"load-{i:05d}" for i in range(args.jobs)]
            cpu_before, started = berth_cpu(berth), time.monotonic()
            prober = asyncio.create_task(probe_gets(berth.port, f"{JOBS}/probe", gets))
            watches.append(prober)  # cancelled with the watches; a failed GET is raised
            unfinished = await run_burst(
                client, tracker, burst, args.cpu, TRUE, args.clients, args.timeout
            )
            cpu = cpu_delta(cpu_before, berth_cpu(berth))
            cpu["(wall seconds)"] = time.monotonic() - started
        finally:
            for task in watches:
                task.cancel()
            results = await asyncio.gather(*watches, return_exceptions=True)
        for result in results:
            if isinstance(result, Exception):
                raise result
    tracker.add_node_files(read_node_files(berth.data_dir))
    submits = [tracker.jobs[n] for n in burst]
    return BerthRun(
        nodes=[],
        sandboxed=sandboxed,
        solo=[tracker.jobs[n] for n in solo],
        burst=submits,
        unfinished=unfinished,
        failed=[n for n, o in tracker.outcomes.items() if o != "Complete"],
        submit_s=max(r["accepted"] for r in submits) - min(r["submitted"] for r in submits)
        if submits
        else math.nan,
        cpu=cpu,
        events=tracker.events,
        gets=gets,
        jobs_total=sum(1 for r in tracker.jobs.values() if "submitted" in r),
        by_uid={uid: tracker.jobs[name] for name, uid in tracker.uids.items()},
    )


def run_berth(args: argparse.Namespace, workdir: Path, database_url: str | None) -> BerthRun:
    data_dir = workdir / "berth"
    data_dir.mkdir()
    profile_path = workdir / "profile.json"
    trace_path = workdir / "trace.json"
    launcher = None
    if args.profile:
        launcher = [sys.executable, "-m", "benchmarks.e2e_profile", str(profile_path)]
    elif not args.no_trace:
        launcher = [sys.executable, "-m", "benchmarks.e2e_trace", str(trace_path)]
    started = time.monotonic()
    settings = {}
    if args.agent_launches_pods:
        settings["BERTH_AGENT_LAUNCHES_PODS"] = "true"
    elif args.ray_task_pods:
        settings["BERTH_AGENT_LAUNCHES_PODS"] = "false"
    berth = start_berth(
        data_dir, free_port(), launcher, database_url=database_url, settings=settings
    )
    print(f"berth up ready with a Ready node in {time.monotonic() - started:.1f} s", flush=True)
    try:
        nodes = node_capacity(berth.url)
        run = asyncio.run(_drive(berth, args))
        run.nodes = nodes
    finally:
        berth.stop()
    if trace_path.exists():
        trace = json.loads(trace_path.read_text())
        run.add_stamps(trace["stamps"])
        run.gc_pauses = trace["gc"]
        run.takes = [tuple(t) for t in trace["takes"]]
    run.writes = store_writes(data_dir, database_url)
    run.writes_compacted = change_log_compacted(data_dir, database_url)
    if args.profile and profile_path.exists():
        run.profile = json.loads(profile_path.read_text())
    if args.profile and api_profile_path(profile_path).exists():
        run.api_profile = json.loads(api_profile_path(profile_path).read_text())
    return run


# ---- the report -----------------------------------------------------------------------------


# ---- entry point ----------------------------------------------------------------------------


def parse(argv: list[str]) -> argparse.Namespace:
    parser = argparse.ArgumentParser(prog="bench_e2e", description=(__doc__ or "").split("\n")[0])
    parser.add_argument("--jobs", type=int, default=1000, help="loaded run: Jobs at once")
    parser.add_argument("--solo", type=int, default=50, help="unloaded run: Jobs one by one")
    parser.add_argument("--warm", type=int, default=5, help="unmeasured Jobs first")
    parser.add_argument("--clients", type=int, default=4, help="concurrent submit requests")
    parser.add_argument("--cpu", default="100m", help="each pod's (and task's) CPU request")
    parser.add_argument(
        "--timeout", type=float, default=420, help="seconds the loaded run may take"
    )
    parser.add_argument(
        "--database",
        choices=("sqlite", "postgresql"),
        default="sqlite",
        help="Berth's store: SQLite in the data directory, or a fresh schema "
        "of the PostgreSQL at BERTH_TEST_PG_URL",
    )
    parser.add_argument(
        "--agent-launches-pods",
        action="store_true",
        help="Berth setting agent_launches_pods on: the node agent starts the "
        "pods itself instead of one Ray task each (the default of berth up's embedded Ray)",
    )
    parser.add_argument(
        "--ray-task-pods",
        action="store_true",
        help="Berth setting agent_launches_pods off: each pod is one Ray task",
    )
    parser.add_argument("--no-ray", action="store_true", help="skip the raw Ray baseline")
    parser.add_argument(
        "--no-trace",
        action="store_true",
        help="run berth up without the trace points of one place's turnover (e2e_trace)",
    )
    parser.add_argument(
        "--long",
        action="store_true",
        help="the issue's long run: 10,000 Jobs (unless --jobs says otherwise), up to an "
        "hour, no raw Ray baseline; prints the rate per 1,000 completions",
    )
    parser.add_argument("--dump", type=Path, help="write every job's stage times here (JSON)")
    parser.add_argument(
        "--profile",
        action="store_true",
        help="run berth up under a sampling profiler and print its profile",
    )
    return parser.parse_args(argv)


def main(argv: list[str] | None = None) -> None:
    args = parse(sys.argv[1:] if argv is None else argv)
    if args.long:
        args.no_ray = True
        args.timeout = max(args.timeout, 3600)
        if "--jobs" not in (sys.argv[1:] if argv is None else argv):
            args.jobs = 10_000
    if args.database == "postgresql" and pg_problem():
        raise SystemExit(f"bench_e2e --database postgresql: {pg_problem()}")
    started = time.monotonic()
    print(f"load average before: {os.getloadavg()[0]:.1f} on {os.cpu_count()} cores", flush=True)
    workdir = Path(tempfile.mkdtemp(prefix="berth-e2e-", dir="/tmp"))
    database_url, drop = make_pg_schema() if args.database == "postgresql" else (None, None)
    try:
        run = run_berth(args, workdir, database_url)
        print(f"berth part done at {time.monotonic() - started:.0f} s", flush=True)
        baselines: list[Baseline] = []
        if not args.no_ray:
            variants = {"plain": TRUE}
            if run.sandboxed is not False and shutil.which("bwrap"):
                variants["bwrap"] = BWRAP_TRUE
            baselines = run_baselines(
                variants,
                workdir / "ray",
                burst=args.jobs,
                solo=args.solo,
                warm=max(args.warm, 100),
                cpus=quantity.to_milli(args.cpu) / 1000,
            )
        report(run, baselines, args)
        if args.dump:
            args.dump.write_text(
                json.dumps(
                    {
                        "solo": run.solo,
                        "burst": run.burst,
                        "cpu": run.cpu,
                        "profile": run.profile,
                        "api_profile": run.api_profile,
                        "ray": {
                            b.name: {
                                "solo": [vars(t) for t in b.solo],
                                "burst": [vars(t) for t in b.burst],
                            }
                            for b in baselines
                        },
                    }
                )
            )
    finally:
        shutil.rmtree(workdir, ignore_errors=True)
        if drop is not None:
            drop()
    print(
        f"\nwhole benchmark: {time.monotonic() - started:.0f} s; load average after: "
        f"{os.getloadavg()[0]:.1f}"
    )


if __name__ == "__main__":
    main()
