"""The control plane's CPU per Job, without Ray, HTTP or sandboxes: what ``bench_e2e`` cannot
separate from the noise of everything else on the machine.

    .venv/bin/python -m benchmarks.bench_controlplane [--jobs 1000] [--clients 4]
                                                      [--database sqlite|postgresql]
                                                      [--profile OUT.json]

In this process: the store (SQLite in a temporary directory, or a fresh schema of the
PostgreSQL at ``BERTH_TEST_PG_URL``), its change feed, the informers, the controllers
``berth up`` runs for Jobs (job controller with 4 workers, garbage collector, TTL) and the
scheduler, all as ``berth.server.ControlSide`` wires them, and one Node of 2 CPUs. In place of
the node agent and kubelet, a fake kubelet thread ends every pod bound to the node with
``Succeeded`` (one status write per pod, in a group commit per batch, as the kubelet's status
thread writes an agent's answer). ``--clients`` threads create the one-pod Jobs through the
object client (what the API's handler calls), as fast as they can; the run ends when every Job
is Complete (seen by the informers).

Reported: Jobs/s (not comparable with ``bench_e2e``: nothing runs), CPU seconds of this
process per Job by thread (from ``/proc/self/task``), of the whole process, and the store's
writes per Job by resource and type. The client threads are the API's share (creating the
Job) and show as ``submit``. ``--profile`` runs the sampling profiler of ``e2e_profile`` and
writes its report as JSON.
"""

from __future__ import annotations

import argparse
import cProfile
import json
import pstats
import queue
import shutil
import tempfile
import threading
import time
from collections import Counter
from pathlib import Path

from sqlalchemy import text

from benchmarks.controlplane_floor import per_job, store_floor
from benchmarks.e2e_profile import Sampler, _group
from berth.platform.cache.informers import InformerHub
from berth.platform.controllers.garbage_collector import GarbageCollector
from berth.platform.controllers.job.controller import JobController
from berth.platform.controllers.manager import ControllerManager
from berth.platform.controllers.ttl import TTLAfterFinishedController
from berth.platform.resources import registry
from berth.platform.resources.meta import rfc3339
from berth.platform.runtime import Platform, open_platform
from berth.scheduler.loop import SchedulerLoop
from berth.settings import Settings
from tests.support import make_pg_schema, pg_problem

NAMESPACE = "bench"
NODE = "node-1"
_KUBELET_BATCH = 64


def job_manifest(name: str) -> dict:
    return {
        "apiVersion": "batch/v1",
        "kind": "Job",
        "metadata": {"name": name, "namespace": NAMESPACE},
        "spec": {
            "backoffLimit": 0,
            "template": {
                "spec": {
                    "restartPolicy": "Never",
                    "containers": [
                        {
                            "name": "c",
                            "image": "busybox",
                            "command": ["true"],
                            "resources": {"requests": {"cpu": "100m"}},
                        }
                    ],
                }
            },
        },
    }


def node_manifest() -> dict:
    capacity = {"cpu": "2", "memory": "16Gi", "pods": "110"}
    return {
        "apiVersion": "v1",
        "kind": "Node",
        "metadata": {"name": NODE, "labels": {"kubernetes.io/hostname": NODE}},
        "status": {
            "capacity": capacity,
            "allocatable": capacity,
            "conditions": [{"type": "Ready", "status": "True", "reason": "KubeletReady"}],
        },
    }


class FakeKubelet:
    """Ends every pod bound to the node with ``Succeeded``: one status write per pod, a group
    commit per batch of pods."""

    def __init__(self, platform: Platform, hub: InformerHub):
        self.client = platform.client
        self.pods = hub.informer(registry.POD)
        self.pods.add_handler(self._on_pod)
        self._queue: queue.Queue[dict | None] = queue.Queue()
        self._thread = threading.Thread(target=self._run, name="fake-kubelet", daemon=True)

    def start(self) -> None:
        self._thread.start()

    def stop(self) -> None:
        self._queue.put(None)
        self._thread.join(timeout=10)

    def _on_pod(self, old: dict | None, new: dict | None) -> None:
        if new is None or not (new.get("spec") or {}).get("nodeName"):
            return
        if old is not None and (old.get("spec") or {}).get("nodeName"):
            return  # seen bound before
        if (new.get("status") or {}).get("phase") in ("Succeeded", "Failed"):
            return
        self._queue.put(new)

    def _run(self) -> None:
        while True:
            pods = [self._queue.get()]
            while len(pods) < _KUBELET_BATCH:
                try:
                    pods.append(self._queue.get_nowait())
                except queue.Empty:
                    break
            ready = [p for p in pods if p is not None]
            if len(ready) < len(pods):
                return
            with self.client.batch():
                for pod in ready:
                    self._finish(pod)

    def _finish(self, pod: dict) -> None:
        now = rfc3339(self.client.clock())
        names = [c["name"] for c in pod["spec"]["containers"]]
        status = {
            **(pod.get("status") or {}),
            "phase": "Succeeded",
            "startTime": now,
            "conditions": [
                {"type": t, "status": s, "lastTransitionTime": now}
                for t, s in (
                    ("PodScheduled", "True"),
                    ("Initialized", "True"),
                    ("ContainersReady", "False"),
                    ("Ready", "False"),
                )
            ],
            "containerStatuses": [
                {
                    "name": n,
                    "ready": False,
                    "restartCount": 0,
                    "image": "busybox",
                    "imageID": "",
                    "started": False,
                    "state": {
                        "terminated": {
                            "exitCode": 0,
                            "reason": "Completed",
                            "startedAt": now,
                            "finishedAt": now,
                        }
                    },
                }
                for n in names
            ],
        }
        md = pod["metadata"]
        self.client.update(
            registry.POD,
            {**pod, "status": status},
            md["namespace"],
            md["name"],
            subresource="status",
        )


class Completion:
    """Counts the Jobs the informers see Complete; ``wait`` returns when all are."""

    def __init__(self, hub: InformerHub, expected: int):
        self.expected = expected
        self.done: set[str] = set()
        self._all = threading.Event()
        hub.informer(registry.JOB).add_handler(self._on_job)

    def _on_job(self, old: dict | None, new: dict | None) -> None:
        if new is None:
            return
        for c in (new.get("status") or {}).get("conditions") or []:
            if c.get("type") == "Complete" and c.get("status") == "True":
                self.done.add(new["metadata"]["name"])
        if len(self.done) >= self.expected:
            self._all.set()

    def wait(self, timeout: float) -> bool:
        return self._all.wait(timeout)


def thread_cpu() -> dict[int, tuple[str, float]]:
    """CPU seconds of each live thread of this process, by native id, with its group name."""
    out = {}
    for thread in threading.enumerate():
        if thread.native_id is None:
            continue
        try:
            with open(f"/proc/self/task/{thread.native_id}/schedstat") as handle:
                out[thread.native_id] = (_group(thread.name), int(handle.read().split()[0]) / 1e9)
        except (OSError, ValueError, IndexError):
            continue
    return out


def submit(platform: Platform, names: list[str], cpu: list[float]) -> None:
    started = time.thread_time()
    for name in names:
        platform.client.create(registry.JOB, job_manifest(name), NAMESPACE)
    cpu.append(time.thread_time() - started)


def store_writes(platform: Platform) -> list[tuple[str, str, int]]:
    """Change-log rows of the namespace by resource and type; Events also by reason."""
    counts: Counter[tuple[str, str]] = Counter()
    with platform.db.engine.connect() as conn:
        rows = conn.execute(
            text("SELECT resource, type, data FROM changes WHERE namespace = :ns"),
            {"ns": NAMESPACE},
        ).all()
    for resource, kind, data in rows:
        if resource == registry.EVENT.key:
            kind = f"{kind} {json.loads(data).get('reason')}"
        counts[(resource, kind)] += 1
    return [(resource, kind, n) for (resource, kind), n in counts.most_common()]


def run(args: argparse.Namespace, workdir: Path, database_url: str | None) -> dict:
    settings = Settings(data_dir=workdir, database_url=database_url, workers=False)
    platform = open_platform(settings)
    client = platform.client
    client.create(registry.NAMESPACE, {"metadata": {"name": NAMESPACE}})
    client.create(registry.NODE, node_manifest())
    hub = InformerHub(client, platform.feed)
    manager = ControllerManager(hub)
    manager.add(GarbageCollector(client), workers=2)
    manager.add(JobController(client, platform.recorder("job-controller")), workers=4)
    manager.add(TTLAfterFinishedController(client))
    scheduler = SchedulerLoop(client, hub, platform.recorder("default-scheduler"), settings)
    kubelet = FakeKubelet(platform, hub)
    completion = Completion(hub, args.jobs)
    hub.start()
    manager.start()
    scheduler.start()
    kubelet.start()
    if not hub.synced.wait(30):
        raise RuntimeError("the informers never synced")
    sampler = Sampler() if args.profile else None
    try:
        names = [f"job-{i:05d}" for i in range(args.jobs)]
        submit_cpu: list[float] = []
        clients = [
            threading.Thread(
                target=submit,
                args=(platform, names[i :: args.clients], submit_cpu),
                name=f"submit-{i}",
            )
            for i in range(args.clients)
        ]
        before, cpu0, started = thread_cpu(), time.process_time(), time.monotonic()
        if sampler:
            sampler.start()
        for thread in clients:
            thread.start()
        # The submit threads end before the run does: read their CPU as they finish.
        for thread in clients:
            thread.join()
        if not completion.wait(args.timeout):
            raise RuntimeError(f"only {len(completion.done)} of {args.jobs} Jobs Complete")
        wall, cpu = time.monotonic() - started, time.process_time() - cpu0
        after = thread_cpu()
        if sampler:
            sampler.stop()
    finally:
        kubelet.stop()
        scheduler.stop()
        manager.stop()
        hub.stop()
    by_thread: Counter[str] = Counter({"submit (the API's share)": sum(submit_cpu)})
    for tid, (group, seconds) in after.items():
        by_thread[group] += seconds - before.get(tid, (group, 0.0))[1]  # pyright: ignore[reportArgumentType]
    writes = store_writes(platform)
    counts = per_job(writes, args.jobs)
    # The baseline, in the same store once the control plane has stopped.
    floor = store_floor(platform, NAMESPACE, NODE, job_manifest, counts, args.jobs)
    platform.close()
    return {
        "jobs": args.jobs,
        "wall_s": wall,
        "process_cpu_s": cpu,
        "threads": by_thread.most_common(),
        "writes": writes,
        "floor": (counts, floor),
        "profile": sampler.report() if sampler else None,
    }


def profile_threads() -> list[cProfile.Profile]:
    """From now on every thread started runs under a cProfile of its own; the list fills as
    they end (deterministic, so slower, but it sees every thread, where cProfile alone sees
    the one that enabled it)."""
    profiles: list[cProfile.Profile] = []
    plain_run = threading.Thread.run

    def run(self: threading.Thread) -> None:
        profile = cProfile.Profile(time.thread_time)
        profile.enable()
        try:
            plain_run(self)
        finally:
            profile.disable()
            profiles.append(profile)

    threading.Thread.run = run
    return profiles


def report(result: dict) -> None:
    jobs = result["jobs"]
    print(
        f"{jobs} Jobs Complete in {result['wall_s']:.2f} s ({jobs / result['wall_s']:.0f} Jobs/s); "
        f"process CPU {result['process_cpu_s'] * 1000 / jobs:.2f} ms per Job"
    )
    print("CPU ms per Job by thread:")
    for name, seconds in result["threads"]:
        if seconds * 1000 / jobs >= 0.01:
            print(f"  {seconds * 1000 / jobs:7.2f}  {name}")
    counts, floor = result["floor"]
    cp_ms = (result["process_cpu_s"] / jobs - floor) * 1000
    ratio = result["process_cpu_s"] / jobs / floor
    print(
        f"baseline, the store alone making the same writes (per Job: 2 creates, "
        f"{counts['pod_status']} pod and {counts['job_status']} Job status writes, "
        f"{counts['events']} Events, a commit each): {floor * 1000:.2f} ms per Job; "
        f"the control plane spends {cp_ms:.2f} ms per Job above it ({ratio:.2f}x)"
    )
    total = sum(n for _, _, n in result["writes"])
    print(f"store writes per Job: {total / jobs:.2f}")
    for resource, kind, n in result["writes"]:
        print(f"  {n / jobs:5.2f}  {resource} {kind}")


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(prog="bench_controlplane", description=__doc__)
    parser.add_argument("--jobs", type=int, default=1000)
    parser.add_argument("--clients", type=int, default=4)
    parser.add_argument("--timeout", type=float, default=300)
    parser.add_argument("--database", choices=("sqlite", "postgresql"), default="sqlite")
    parser.add_argument("--profile", type=Path, help="write the sampling profile here (JSON)")
    parser.add_argument(
        "--cprofile",
        type=Path,
        help="run every thread under cProfile and write the merged stats here (pstats)",
    )
    args = parser.parse_args(argv)
    profiles = profile_threads() if args.cprofile else None
    if args.database == "postgresql" and pg_problem():
        raise SystemExit(f"bench_controlplane --database postgresql: {pg_problem()}")
    workdir = Path(tempfile.mkdtemp(prefix="berth-cp-", dir="/tmp"))
    database_url, drop = make_pg_schema() if args.database == "postgresql" else (None, None)
    try:
        result = run(args, workdir, database_url)
    finally:
        shutil.rmtree(workdir, ignore_errors=True)
        if drop is not None:
            drop()
    report(result)
    if args.cprofile and profiles:
        stats = pstats.Stats(profiles[0])
        for profile in profiles[1:]:
            stats.add(profile)
        stats.dump_stats(args.cprofile)
    if args.profile and result["profile"]:
        args.profile.write_text(json.dumps(result["profile"], indent=1))


if __name__ == "__main__":
    main()
