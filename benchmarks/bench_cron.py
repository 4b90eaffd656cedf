"""CronJob firing lateness: Job creation time minus scheduled time, 1,000 CronJobs due at once.

    .venv/bin/python -m benchmarks.bench_cron [--cronjobs N] [--databases sqlite,postgresql]
                                              [--rounds R]

For each database, two stores side by side in the same minute (sharing this machine's CPUs),
each controller in a process of its own, as two control planes would be (in one process the
two would also share one interpreter lock, and each would slow the other by more than the
CPUs they share):

* **berth**: the CronJob controller as ``berth up`` runs it (informers, the shared runner with
  4 workers, APScheduler triggers, lease-fenced writes), in this process.
* **k8s-poll-10s**: Kubernetes' original CronJob controller loop, modelled honestly over the
  same store and the same decision and Job-building code: every 10 s (at a phase drawn at
  random, as a real controller's start time is) list every CronJob and every Job, decide each
  CronJob, create the Jobs due and write their status, one after another; in a child process.

N CronJobs with ``* * * * *`` are made before a minute turns; lateness is measured when each
run's Job create has returned (through the controller's observer hook), for the runs of that
minute. Each round waits for the next minute: the default (1,000 CronJobs, one round per
database) takes 3-6 minutes on a 2-core machine; ``--cronjobs 200 --databases sqlite`` is a
quick look. A baseline that has not made every run ``--wait`` seconds after the minute is
reported as such (a poll loop that cannot keep up); Berth falling short fails the benchmark.
"""

from __future__ import annotations

import argparse
import multiprocessing
import random
import statistics
import tempfile
import threading
import time
from datetime import datetime, timedelta
from pathlib import Path

from sqlalchemy.exc import OperationalError

from berth.platform.cache.informers import InformerHub
from berth.platform.controllers.cronjob.controller import PREPARE_LEAD, CronJobController
from berth.platform.controllers.cronjob.decide import Decision, decide
from berth.platform.controllers.cronjob.jobs import build_job, owned_by
from berth.platform.controllers.manager import ControllerManager
from berth.platform.resources import registry
from berth.platform.resources.meta import rfc3339, utcnow
from berth.platform.runtime import open_platform
from berth.platform.store.client import Client
from berth.platform.store.lease import Fence, FencedDatabase, LeaseStore
from berth.settings import Settings
from tests.support import make_pg_schema, pg_problem

NS = "default"
POLL_S = 10.0


def cronjob(i: int) -> dict:
    return {
        "apiVersion": "batch/v1",
        "kind": "CronJob",
        "metadata": {"name": f"cj-{i:05d}", "namespace": NS},
        "spec": {
            "schedule": "* * * * *",
            "jobTemplate": {
                "spec": {
                    "template": {
                        "spec": {
                            "restartPolicy": "Never",
                            "containers": [{"name": "c", "image": "busybox", "command": ["true"]}],
                        }
                    }
                }
            },
        },
    }


class Recorder:
    """Lateness of the runs due at ``target``, in seconds, one per CronJob."""

    def __init__(self):
        self.target: datetime | None = None
        self.late: dict[str, float] = {}
        self.lock = threading.Lock()

    def made(self, name: str, scheduled: datetime) -> None:
        at = utcnow()
        if scheduled == self.target:
            with self.lock:
                self.late.setdefault(name, (at - scheduled).total_seconds())


class BerthSide:
    def __init__(self, platform, recorder: Recorder):
        leases = LeaseStore(platform.db)
        term = leases.create("bench", "bench", 60.0, utcnow())
        if term is None:
            raise SystemExit("the bench lease exists already: the database is not fresh")
        client = Client(FencedDatabase(platform.db, Fence("bench", "bench", term.token)))
        self.hub = InformerHub(platform.client, platform.feed)
        self.manager = ControllerManager(self.hub)
        controller = CronJobController(client, platform.recorder("cronjob-controller"))

        def observe(cj: dict, d: Decision, made: str | None) -> None:
            if made and d.create_for is not None:
                recorder.made(cj["metadata"]["name"], d.create_for)

        controller.observers.append(observe)
        self.manager.add(controller, workers=4)
        self.hub.start()
        self.manager.start()
        self.hub.synced.wait(60)

    def stop(self):
        self.manager.stop()
        self.hub.stop()


class PollSide:
    """Kubernetes' 10 s list-everything loop over the same store and decision code."""

    def __init__(self, platform, recorder: Recorder, phase: float):
        self.client, self.recorder = platform.client, recorder
        self.events = platform.recorder("cronjob-controller")
        self.stop_flag = threading.Event()
        self.phase = phase
        self.thread = threading.Thread(target=self._run, daemon=True, name="poll-10s")
        self.thread.start()

    def _run(self):
        next_tick = time.monotonic() + self.phase
        while not self.stop_flag.wait(max(0.0, next_tick - time.monotonic())):
            next_tick += POLL_S
            self.sync_all()

    def sync_all(self):
        cronjobs = self.client.list(registry.CRON_JOB, NS).items
        jobs = self.client.list(registry.JOB, NS).items
        for cj in cronjobs:
            if self.stop_flag.is_set():
                return
            children = [j for j in jobs if owned_by(j, cj)]
            decision = decide(cj, children, utcnow())
            if decision.create_for is None:
                continue
            job = self.client.create(registry.JOB, build_job(cj, decision.create_for))
            self.recorder.made(cj["metadata"]["name"], decision.create_for)
            self.events.normal(cj, "SuccessfulCreate", f"Created job {job['metadata']['name']}")
            status = dict(decision.status, lastScheduleTime=rfc3339(decision.create_for))
            self.client.update_status(registry.CRON_JOB, dict(cj, status=status))

    def stop(self):
        self.stop_flag.set()
        self.thread.join(timeout=30)


def percentile(values: list[float], q: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(round(q * (len(ordered) - 1))))]


def poll_process(url: str, data: str, n: int, phase: float, wait_s: float, conn) -> None:
    """The baseline in a child process: runs the poll loop over the store at ``url`` from the
    moment it starts, told the minute to measure once running, and sends back the lateness of
    that minute's runs when all are made or ``wait_s`` after the minute."""
    platform = open_platform(Settings(data_dir=Path(data), database_url=url))
    try:
        recorder = Recorder()
        side = PollSide(platform, recorder, phase)
        conn.send("ready")
        target: datetime = conn.recv()
        recorder.target = target
        deadline = time.monotonic() + (target - utcnow()).total_seconds() + wait_s
        while time.monotonic() < deadline and len(recorder.late) < n:
            time.sleep(0.5)
        side.stop()
        conn.send(list(recorder.late.values()))
    finally:
        platform.close()


def one_round(database: str, n: int, rng: random.Random, wait_s: float) -> dict[str, list[float]]:
    drops, platforms, child = [], [], None
    try:
        urls = {}
        for mode in ("berth", "k8s-poll-10s"):
            data = Path(tempfile.mkdtemp(prefix=f"bench-cron-{mode}-"))
            if database == "sqlite":
                url = f"sqlite:///{data / 'berth.db'}"
            else:
                url, drop = make_pg_schema()
                drops.append(drop)
            urls[mode] = (url, data)
            platform = open_platform(Settings(data_dir=data, database_url=url))
            platforms.append(platform)
            for i in range(n):
                platform.client.create(registry.CRON_JOB, cronjob(i))
        platforms.pop().close()  # the baseline's: its process opens its own
        berth_platform = platforms[0]
        phase = rng.uniform(0, POLL_S)
        ours, theirs = multiprocessing.get_context("spawn").Pipe()
        url, data = urls["k8s-poll-10s"]
        child = multiprocessing.get_context("spawn").Process(
            target=poll_process, args=(url, str(data), n, phase, wait_s, theirs), daemon=True
        )
        child.start()
        if not ours.poll(120) or ours.recv() != "ready":
            raise SystemExit("the poll baseline's process did not start")
        recorder = Recorder()
        side = BerthSide(berth_platform, recorder)
        now = utcnow()
        target = now.replace(second=0, microsecond=0) + timedelta(minutes=1)
        # Far enough ahead that the controller is in its steady state at the minute, as one
        # that has been running is: its prepare trigger fires PREPARE_LEAD before it.
        if (target - now).total_seconds() < PREPARE_LEAD.total_seconds() + 5:
            target += timedelta(minutes=1)
        recorder.target = target
        ours.send(target)
        print(
            f"  {database}: {n} CronJobs each, due at {target:%H:%M:%S} (poll phase {phase:.1f} s)",
            flush=True,
        )
        deadline = time.monotonic() + (target - utcnow()).total_seconds() + wait_s
        while time.monotonic() < deadline and len(recorder.late) < n:
            time.sleep(0.5)
        side.stop()
        if not ours.poll(max(0.0, deadline - time.monotonic()) + 60):
            raise SystemExit("the poll baseline's process sent no figures")
        return {"berth": list(recorder.late.values()), "k8s-poll-10s": ours.recv()}
    finally:
        if child is not None:
            child.join(timeout=60)
            if child.is_alive():
                child.kill()
        for platform in platforms:
            platform.close()
        for drop in drops:
            _drop(drop)


def _drop(drop) -> None:
    """Drop a PostgreSQL schema; a connection still finishing its last write may deadlock
    the first try."""
    for attempt in range(5):
        try:
            drop()
            return
        except OperationalError:
            if attempt == 4:
                raise
            time.sleep(1)


def report(database: str, results: dict[str, list[float]], n: int) -> None:
    print(f"  {'store':<12}{'mode':<16}{'made':>7}{'p50 ms':>10}{'p99 ms':>10}{'max ms':>10}")
    for mode, late in results.items():
        if not late:
            print(f"  {database:<12}{mode:<16}{0:>7}{'-':>10}{'-':>10}{'-':>10}")
            continue
        print(
            f"  {database:<12}{mode:<16}{len(late):>7}"
            f"{statistics.median(late) * 1000:>10.0f}{percentile(late, 0.99) * 1000:>10.0f}"
            f"{max(late) * 1000:>10.0f}"
        )
    short = [f"{mode}: {len(late)} of {n}" for mode, late in results.items() if len(late) < n]
    if short:
        print(f"  {database}: runs not made within the wait: {', '.join(short)}")
    if len(results["berth"]) < n:
        raise SystemExit(f"{database}: Berth made only {len(results['berth'])} of {n} runs")


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=(__doc__ or "").split("\n")[0])
    parser.add_argument("--cronjobs", type=int, default=1000)
    parser.add_argument("--databases", default="sqlite,postgresql")
    parser.add_argument("--rounds", type=int, default=1)
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument(
        "--wait",
        type=float,
        default=180.0,
        help="Seconds after the due minute to wait for every run.",
    )
    args = parser.parse_args(argv)
    rng = random.Random(args.seed)
    databases = args.databases.split(",")
    if "postgresql" in databases and pg_problem():
        raise SystemExit(f"bench_cron needs PostgreSQL for the postgresql runs: {pg_problem()}")
    print(
        f"firing lateness (Job created minus scheduled time), {args.cronjobs} CronJobs due "
        f"in the same minute; baseline: Kubernetes' 10 s polling loop over the same store"
    )
    for database in databases:
        merged: dict[str, list[float]] = {}
        for _ in range(args.rounds):
            for mode, late in one_round(database, args.cronjobs, rng, args.wait).items():
                merged.setdefault(mode, []).extend(late)
        report(database, merged, args.cronjobs * args.rounds)


if __name__ == "__main__":
    main()
