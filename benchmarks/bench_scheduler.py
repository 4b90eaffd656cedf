"""Scheduler benchmark: throughput, decision latency and packing quality.

    .venv/bin/python -m benchmarks.bench_scheduler [--seed N] [--nodes N] [--pods N]

Generated traces, each run under Berth's "pack" (the default), Berth's "spread", Berth's
"fragmentation-aware", and a plain first-fit baseline, all in the same process on the same
trace:

* **mixed**: 5,000 nodes of four shapes (CPU-only and 4/8-GPU nodes, zones, a GPU taint)
  and 50,000 pending pods from Jobs of mixed CPU/memory/GPU requests, some with node
  selectors, a few that can never fit. Measures placements/s and p50/p99 decision latency.
* **GPU sharing**: ``--gpu-pods`` pods of ``gpu_traces``' base mix (GPU shares,
  1/2/4/8-GPU jobs, CPU pods, a quarter pinned to GPU models) on ``--nodes`` nodes of its
  fleet, every pod a shape of its own: placements/s where the fragmentation scorer works.
* **homogeneous**: 1,000 identical 8-GPU nodes and 6,000 pods that all fit, where the lower
  bound ``max over resources of ceil(total demand / node capacity)`` is meaningful; once
  on an empty cluster and once on a cluster already running work on 40% of its nodes (as a
  scheduler usually finds it).
"""

from __future__ import annotations

import argparse
import os
import random
import time
from collections.abc import Callable
from dataclasses import dataclass
from math import ceil

from benchmarks import gpu_traces
from benchmarks.sched_traces import (
    homogeneous_nodes,
    homogeneous_pods,
    mixed_nodes,
    mixed_pods,
    preloaded_nodes,
)
from berth.scheduler.cycle import Cycle, queue_order
from berth.scheduler.filters import run_filters
from berth.scheduler.mix import WorkloadMix
from berth.scheduler.scoring import FRAGMENTATION_AWARE, PACK, SPREAD
from berth.scheduler.snapshot import Snapshot
from berth.scheduler.types import NodeView, PodRequest

# ---- placement under each strategy ----------------------------------------------------


@dataclass
class Result:
    name: str
    placed: int
    failed: int
    seconds: float
    latencies: list[float]  # wall time of each decision
    cpu_times: list[float]  # CPU time of each decision: the same without other processes
    nodes_used: int
    lower_bound: int
    idle_cpu: float  # share of the CPU on nodes in use that nothing requests
    whole_gpu_nodes: int  # nodes with 8 GPUs, all free: room for the largest GPU pods

    @property
    def rate(self) -> float:
        return self.placed / self.seconds if self.seconds else 0.0

    @property
    def cpu_rate(self) -> float:
        """Placements per second of the decisions' own CPU time: what the rate would be on
        a machine nothing else runs on (wall time on a shared machine includes waiting for
        a core)."""
        spent = sum(self.cpu_times)
        return self.placed / spent if spent else 0.0


def percentile(values: list[float], q: float) -> float:
    """In milliseconds."""
    if not values:
        return 0.0
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(q * len(ordered)))] * 1000.0


def measure(
    name: str, snapshot: Snapshot, pods: list[PodRequest], decide: Callable[[PodRequest], bool]
) -> Result:
    """Run ``decide`` (True when placed) over ``pods`` in queue order, timing each call."""
    latencies, cpu_times = [], []
    placed = failed = 0
    wall, cpu = time.perf_counter, time.thread_time
    started = wall()
    for pod in sorted(pods, key=queue_order):
        t0, c0 = wall(), cpu()
        ok = decide(pod)
        cpu_times.append(cpu() - c0)
        latencies.append(wall() - t0)
        placed += ok
        failed += not ok
    seconds = wall() - started
    used = [n for n in snapshot if n.pod_count]  # pods already running count too
    capacity = sum(n.alloc_cpu for n in used)
    idle = 1.0 - sum(n.req_cpu for n in used) / capacity if capacity else 0.0
    whole = sum(1 for n in snapshot if n.alloc_gpu == 8 and n.req_gpu == 0)
    return Result(
        name,
        placed,
        failed,
        seconds,
        latencies,
        cpu_times,
        len(used),
        lower_bound(snapshot),
        idle,
        whole,
    )


def run_berth(name: str, nodes: list[NodeView], pods: list[PodRequest], strategy) -> Result:
    snapshot = Snapshot(nodes)
    # The mix of the whole trace, as the loop's would be once these pods had arrived.
    cycle = Cycle(snapshot, strategy, kinds=WorkloadMix().observe_all(pods).kinds())
    return measure(name, snapshot, pods, lambda pod: cycle.decide(pod).node is not None)


def run_first_fit(nodes: list[NodeView], pods: list[PodRequest]) -> Result:
    """Each pod on the first node (in a fixed order) that passes every filter.

    Per pod class it remembers where the last search stopped: within one batch nodes only
    fill up, so nodes before that point cannot fit that class again."""
    snapshot = Snapshot(nodes)
    order = list(snapshot)
    start: dict[tuple, int] = {}

    def decide(pod: PodRequest) -> bool:
        i = start.get(pod.klass, 0)
        while i < len(order) and run_filters(pod, order[i]) is not None:
            i += 1
        start[pod.klass] = i
        if i == len(order):
            return False
        snapshot.assume(pod, order[i].name)
        return True

    return measure("first-fit", snapshot, pods, decide)


def lower_bound(snapshot: Snapshot) -> int:
    """Fewest nodes that could hold what was placed: for each resource, how many of the
    largest nodes it takes to cover the demand; the maximum over resources."""
    bound = 0
    for alloc, req in (
        (lambda n: n.alloc_cpu, lambda n: n.req_cpu),
        (lambda n: n.alloc_mem, lambda n: n.req_mem),
        (lambda n: n.alloc_gpu, lambda n: n.req_gpu),
    ):
        demand = sum(req(n) for n in snapshot)
        if not demand:
            continue
        capacities = sorted((alloc(n) for n in snapshot), reverse=True)
        if len(set(capacities)) == 1:
            bound = max(bound, ceil(demand / capacities[0]))
            continue
        covered = k = 0
        while covered < demand and k < len(capacities):
            covered += capacities[k]
            k += 1
        bound = max(bound, k)
    return bound


# ---- report ---------------------------------------------------------------------------


def table(title: str, results: list[Result]) -> str:
    speed = (
        f"{'strategy':<10} {'placed':>7} {'failed':>7} {'seconds':>8} {'placed/s':>9} "
        f"{'/cpu-s':>7} "
        f"{'p50 ms':>7} {'p99 ms':>7} {'max ms':>7} {'p99 cpu ms':>10} | "
        f"{'nodes used':>10} {'lower bound':>11} {'ratio':>6} {'idle cpu':>8} "
        f"{'free 8-GPU':>10}"
    )
    lines = [title, speed, "-" * len(speed)]
    for r in results:
        ratio = r.nodes_used / r.lower_bound if r.lower_bound else 0.0
        lines.append(
            f"{r.name:<10} {r.placed:>7} {r.failed:>7} {r.seconds:>8.2f} {r.rate:>9.0f} "
            f"{r.cpu_rate:>7.0f} "
            f"{percentile(r.latencies, 0.50):>7.3f} {percentile(r.latencies, 0.99):>7.3f} "
            f"{percentile(r.latencies, 1.0):>7.2f} {percentile(r.cpu_times, 0.99):>10.3f} | "
            f"{r.nodes_used:>10} {r.lower_bound:>11} {ratio:>6.3f} {r.idle_cpu:>8.1%} "
            f"{r.whole_gpu_nodes:>10}"
        )
    return "\n".join(lines)


def run_trace(
    title: str, make_nodes: Callable[[], list[NodeView]], pods: list[PodRequest]
) -> list[Result]:
    results = [
        run_berth("pack", make_nodes(), pods, PACK),
        run_berth("spread", make_nodes(), pods, SPREAD),
        run_berth("frag-aware", make_nodes(), pods, FRAGMENTATION_AWARE),
        run_first_fit(make_nodes(), pods),
    ]
    print(table(title, results))
    print()
    return results


LEGEND = """\
placed/s    placements per second of wall time over the whole batch, failed decisions included
/cpu-s      placements per second of the decisions' own CPU time (thread time): the rate
            without waiting for a core on a shared machine (the load average is printed)
p50/p99/max wall time of one decision (filter, score, bind in the snapshot, or explain why
            not); "p99 cpu" is the CPU time the decision took, which other processes on a
            busy machine do not inflate
nodes used  nodes running at least one pod afterwards (pods already running included)
lower bound fewest nodes that could hold the placed demand: per resource, how many of the
            largest nodes cover it, the maximum over CPU, memory and GPUs (loose when nodes differ)
idle cpu    share of the CPU of nodes in use that no pod requests
free 8-GPU  8-GPU nodes left with every GPU free, for pods that need a whole node"""


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=(__doc__ or "").split("\n")[0])
    parser.add_argument("--seed", type=int, default=7)
    parser.add_argument("--nodes", type=int, default=5000)
    parser.add_argument("--pods", type=int, default=50_000)
    parser.add_argument(
        "--gpu-pods", type=int, default=10_000, help="pods of the GPU sharing trace (0: skip it)"
    )
    parser.add_argument("--homogeneous-nodes", type=int, default=1000)
    parser.add_argument("--homogeneous-pods", type=int, default=6000)
    args = parser.parse_args(argv)
    rng = random.Random(args.seed)
    pods = mixed_pods(args.pods, rng)
    print(f"load average {' '.join(f'{x:.2f}' for x in os.getloadavg())} on {os.cpu_count()} cores")
    print(
        f"seed {args.seed}: mixed trace {args.nodes} nodes, {len(pods)} pending pods; "
        f"homogeneous trace {args.homogeneous_nodes} nodes, {args.homogeneous_pods} pods\n"
    )
    run_trace(
        f"mixed trace ({args.nodes} nodes, {len(pods)} pods)", lambda: mixed_nodes(args.nodes), pods
    )
    if args.gpu_pods:
        # Every pod its own shape (shares, 1-8 GPUs, GPU models), one at a time: the worst
        # case for the class caches, and where the fragmentation scorer does its work.
        gpods = sorted(
            gpu_traces.make_pods(args.gpu_pods, random.Random(args.seed), "base"), key=queue_order
        )
        run_trace(
            f"GPU sharing trace ({args.nodes} nodes of 0-8 GPUs as in "
            f"gpu_traces, {len(gpods)} pods)",
            lambda: gpu_traces.make_nodes(args.nodes, random.Random(args.seed)),
            gpods,
        )
    hpods = homogeneous_pods(args.homogeneous_pods, rng)
    shape = f"{args.homogeneous_nodes} x 64 cpu / 256Gi / 8 gpu, {len(hpods)} pods"
    run_trace(
        f"homogeneous trace, empty cluster ({shape})",
        lambda: homogeneous_nodes(args.homogeneous_nodes),
        hpods,
    )
    preload_seed = rng.random()
    run_trace(
        f"homogeneous trace, 40% of nodes already running work ({shape})",
        lambda: preloaded_nodes(args.homogeneous_nodes, random.Random(preload_seed)),
        hpods,
    )
    print(LEGEND)


if __name__ == "__main__":
    main()
