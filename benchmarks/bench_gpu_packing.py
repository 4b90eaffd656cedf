"""GPU packing benchmark: how much GPU capacity each placement policy gets into use.

    .venv/bin/python -m benchmarks.bench_gpu_packing [--nodes 1500] [--demand 1.15]
                                                     [--seeds 3] [--variants all]

The fleet and arrivals are ``gpu_traces``' (variants base, shares, multi, cpu-heavy): ~1,500
nodes with 0-8 GPUs of several models, and pods drawn until the GPUs they ask for reach
``--demand`` times the fleet's GPU capacity (1.15 by default: demand above capacity on every
variant; each table's title prints the ratio). Pods arrive in order, in batches of
``--batch`` (one scheduling cycle each); a pod that fits nowhere when it arrives is dropped,
the same for every policy. Every policy sees the same nodes and the same arrivals in the
same run:

* **berth**: Berth's ``fragmentation-aware`` strategy, its workload mix learned from the
  arrivals so far (nothing about the trace is configured), with its admission under GPU
  scarcity (``admission.py``: large jobs wait when free GPUs run short; those still
  waiting after the last arrival are decided again, as the queue would once they starve);
* **best-fit**: the node the pod leaves least free on (normalised CPU, memory, GPU);
* **first-fit**: the first node in a fixed order that fits;
* **spread**: the node with the most free (least allocated);
* **random**: a random node that fits.

All take the same filters (model constraints, CPU, memory, whole devices, one device with
room for a share) and the baselines put a share on the fullest device that holds it.

Reported: pods placed, GPUs allocated (whole and shares, in GPUs), GPUs still free at the
end (with demand above capacity, free GPUs at the end are capacity nobody could use), the
share of GPU capacity allocated when the first GPU pod was turned away, placements/s, and
the pods each policy turned away by request kind. With demand above capacity, pods placed
and GPUs allocated pull apart: a policy that fragments the 8-GPU nodes turns the 8-GPU jobs
away and fits several small pods in their GPUs instead.
"""

from __future__ import annotations

import argparse
import random
import time
from collections.abc import Callable
from dataclasses import dataclass, field, replace

from benchmarks.gpu_traces import (
    KINDS,
    VARIANTS,
    gpus_asked,
    make_demand_pods,
    make_nodes,
    make_pods,
)
from berth.platform.resources.gpus import DEVICE_MILLI
from berth.scheduler.admission import HELD_BACK
from berth.scheduler.cycle import Cycle
from berth.scheduler.devices import best_fit_devices, fits_devices
from berth.scheduler.filters import run_filters
from berth.scheduler.mix import WorkloadMix
from berth.scheduler.scoring import FRAGMENTATION_AWARE
from berth.scheduler.snapshot import NodeGroup, Snapshot
from berth.scheduler.types import NodeView, PodRequest

# ---- policies -------------------------------------------------------------------------


@dataclass
class Outcome:
    policy: str
    placed: int
    gpus_allocated: float
    gpus_free: float
    at_first_failure: float  # share of GPU capacity allocated when a GPU pod first failed
    seconds: float
    turned_away: dict[str, int] = field(default_factory=dict)  # request kind -> pods
    late: int = 0  # held back on arrival, placed once the queue drained

    @property
    def rate(self) -> float:
        return self.placed / self.seconds if self.seconds else 0.0


def _fits_class(pod: PodRequest, key: tuple) -> bool:
    return (
        key[0] >= pod.cpu
        and key[1] >= pod.memory
        and key[3]
        and fits_devices(pod.gpu, pod.gpu_milli, key[5])
    )


def _scan(
    snapshot: Snapshot,
    pod: PodRequest,
    score: Callable[[NodeGroup, tuple, dict], float],
    pick: Callable[[dict], str] = lambda members: next(iter(members)),
) -> str | None:
    """The best node for ``pod`` by ``score`` over the free classes that fit (every node of
    a class is alike; ``pick`` chooses among them), the baselines' search."""
    best, best_score = None, float("-inf")
    for group in snapshot.groups:
        if snapshot.static_rejection(pod, group) is not None:
            continue
        for key, members in group.classes.items():
            if _fits_class(pod, key):
                s = score(group, key, members)
                if s > best_score:
                    best, best_score = members, s
    if best is None:
        return None
    return pick(best)


def _best_fit(pod: PodRequest):
    def score(group: NodeGroup, key: tuple, members: dict) -> float:
        node = group.sample
        left = (key[0] - pod.cpu) / node.alloc_cpu + (key[1] - pod.memory) / node.alloc_mem
        if node.alloc_gpu:
            left += (sum(key[5]) - pod.gpu * DEVICE_MILLI - pod.gpu_milli) / (
                node.alloc_gpu * DEVICE_MILLI
            )
        return -left

    return score


def _spread(pod: PodRequest):
    best_fit = _best_fit(pod)
    return lambda group, key, members: -best_fit(group, key, members)


def _first_fit(order: dict[str, int]):
    """The lowest-numbered node: each class scores by its first member."""
    return lambda pod: lambda group, key, members: -min(order[m] for m in members)


def _random(rng: random.Random):
    # A class wins with probability in proportion to its size: a uniformly random node.
    return lambda pod: lambda group, key, members: rng.random() ** (1.0 / len(members))


def request_kind(pod: PodRequest) -> str:
    if pod.gpu:
        return f"{pod.gpu}-gpu"
    return "share" if pod.gpu_milli else "cpu"


def _track(snapshot: Snapshot, capacity: float, pod: PodRequest, placed: bool, state: dict) -> None:
    """Note the allocation when a GPU pod that an empty node of its models would take is
    first turned away (pods no node could ever take say nothing about packing), and count
    the pods turned away by kind."""
    if not placed:
        away = state.setdefault("away", {})
        away[request_kind(pod)] = away.get(request_kind(pod), 0) + 1
    if (
        not placed
        and pod.uses_gpu
        and state["first"] is None
        and any(snapshot.static_rejection(pod, g) is None for g in snapshot.groups)
    ):
        state["first"] = allocated(snapshot) / capacity


def allocated(snapshot: Snapshot) -> float:
    return (
        sum(n.alloc_gpu * DEVICE_MILLI - sum(max(f, 0) for f in n.dev_free) for n in snapshot)
        / DEVICE_MILLI
    )


def run_baseline(
    name: str,
    nodes: list[NodeView],
    pods: list[PodRequest],
    scorer: Callable[[PodRequest], Callable],
) -> Outcome:
    snapshot = Snapshot(nodes)
    capacity = sum(n.alloc_gpu for n in snapshot)
    order = {n.name: i for i, n in enumerate(nodes)}
    pick = (
        (lambda members: min(members, key=order.__getitem__))
        if name == "first-fit"
        else (lambda members: next(iter(members)))
    )
    state: dict = {"first": None}
    placed = 0
    started = time.perf_counter()
    for pod in pods:
        name_ = _scan(snapshot, pod, scorer(pod), pick)
        if name_ is not None:
            node = snapshot.node(name_)
            snapshot.assume(pod, name_, best_fit_devices(pod.gpu, pod.gpu_milli, node.dev_free))
            placed += 1
        _track(snapshot, capacity, pod, name_ is not None, state)
    return _outcome(name, snapshot, capacity, placed, state, time.perf_counter() - started)


def run_berth(nodes: list[NodeView], pods: list[PodRequest], batch: int) -> Outcome:
    """Berth as its loop runs it. A pod held back under GPU scarcity (``admission.py``)
    fits but waits; once it has waited long enough it reserves a node and runs
    (``backfill.py``). Here it is decided again after the last arrival with admission off:
    what the queue does when it drains. (Every pod the baselines turn away fits nowhere,
    and nodes only fill here, so a retry would place none of theirs.)"""
    snapshot = Snapshot(nodes)
    capacity = sum(n.alloc_gpu for n in snapshot)
    state: dict = {"first": None}
    mix = WorkloadMix()
    placed = 0
    waiting: list[PodRequest] = []
    started = time.perf_counter()
    for start in range(0, len(pods), batch):
        arrivals = pods[start : start + batch]
        mix.observe_all(arrivals)  # 1. arrivals update the mix
        cycle = Cycle(snapshot, FRAGMENTATION_AWARE, kinds=mix.kinds())  # 2. frozen per cycle
        for pod in arrivals:  # 3. decide in arrival order
            decision = cycle.decide(pod)
            if decision.node is None and (decision.message or "").startswith(HELD_BACK):
                waiting.append(pod)
                continue
            placed += decision.node is not None
            _track(snapshot, capacity, pod, decision.node is not None, state)
    drain = Cycle(snapshot, replace(FRAGMENTATION_AWARE, admission_reserve=0.0), kinds=mix.kinds())
    late = 0
    for pod in waiting:
        ok = drain.decide(pod).node is not None
        late += ok
        _track(snapshot, capacity, pod, ok, state)
    outcome = _outcome(
        "berth", snapshot, capacity, placed + late, state, time.perf_counter() - started
    )
    outcome.late = late
    return outcome


def _outcome(
    name: str, snapshot: Snapshot, capacity: float, placed: int, state: dict, seconds: float
) -> Outcome:
    used = allocated(snapshot)
    first = state["first"] if state["first"] is not None else used / capacity
    return Outcome(name, placed, used, capacity - used, first, seconds, dict(state.get("away", {})))


# ---- report ---------------------------------------------------------------------------


def table(title: str, outcomes: list[Outcome], capacity: int) -> str:
    head = (
        f"{'policy':<10} {'placed':>7} {'GPUs alloc':>10} {'alloc %':>8} {'GPUs free':>9} "
        f"{'at 1st fail':>11} {'placed/s':>9}"
    )
    lines = [title, head, "-" * len(head)]
    for o in outcomes:
        lines.append(
            f"{o.policy:<10} {o.placed:>7} {o.gpus_allocated:>10.1f} "
            f"{o.gpus_allocated / capacity:>8.1%} {o.gpus_free:>9.1f} "
            f"{o.at_first_failure:>11.1%} {o.rate:>9.0f}"
        )
    lines.append(f"{'turned away':<12}" + "".join(f"{kind:>7}" for kind in KINDS))
    for o in outcomes:
        lines.append(
            f"{o.policy:<12}" + "".join(f"{o.turned_away.get(kind, 0):>7}" for kind in KINDS)
        )
    return "\n".join(lines)


def ceiling(nodes: list[NodeView], pods: list[PodRequest]) -> tuple[int, float]:
    """The pods some node of the fleet could take were it empty, and the GPUs they ask for:
    no policy places or allocates more (pods pinned to a model whose nodes are too small
    are turned away by all). Where demand is below capacity, a policy that places every
    such pod is at this ceiling on both counts, and no other can beat it on either."""
    shapes: dict[tuple, NodeView] = {}
    for node in nodes:
        shapes.setdefault(node.static_key, node)
    empty = [
        NodeView(
            "empty",
            cpu=n.alloc_cpu,
            memory=n.alloc_mem,
            gpu=n.alloc_gpu,
            max_pods=n.max_pods,
            labels=n.labels,
            taints=n.taints,
        )
        for n in shapes.values()
    ]
    fit = [p for p in pods if any(run_filters(p, n) is None for n in empty)]
    return len(fit), sum(p.gpu + p.gpu_milli / DEVICE_MILLI for p in fit)


def run_variant(variant: str, seed: int, args) -> list[Outcome]:
    rng = random.Random(seed)
    make = lambda: make_nodes(args.nodes, random.Random(seed))  # noqa: E731 (same every time)
    if args.demand:
        pods = make_demand_pods(make(), rng, variant, args.demand)
    else:
        pods = make_pods(args.pods, rng, variant)
    capacity = sum(n.alloc_gpu for n in make())
    demand = sum(gpus_asked(p) for p in pods)
    nodes = make()
    order = {n.name: i for i, n in enumerate(nodes)}
    outcomes = [
        run_berth(make(), pods, args.batch),
        run_baseline("best-fit", make(), pods, _best_fit),
        run_baseline("first-fit", nodes, pods, _first_fit(order)),
        run_baseline("spread", make(), pods, _spread),
        run_baseline("random", make(), pods, _random(random.Random(seed))),
    ]
    print(
        table(
            f"variant {variant}, seed {seed}: {args.nodes} nodes, {capacity} GPUs, "
            f"{len(pods)} pods asking for {demand:.0f} GPUs "
            f"(demand/capacity {demand / capacity:.2f})",
            outcomes,
            capacity,
        )
    )
    print(f"berth placed {outcomes[0].late} of its pods late (held back, run once drained)")
    most, asked = ceiling(make(), pods)
    print(f"ceiling: {most} pods could fit an empty node of the fleet, asking {asked:.1f} GPUs")
    berth, others = outcomes[0], outcomes[1:]
    more_gpus = all(berth.gpus_allocated > o.gpus_allocated for o in others)
    most_pods = berth.placed >= max(o.placed for o in others)
    print(
        f"berth allocates more GPUs than every baseline: {'yes' if more_gpus else 'NO'}; "
        f"places at least as many pods as the best: {'yes' if most_pods else 'NO'}\n"
    )
    return outcomes


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=(__doc__ or "").split("\n")[0])
    parser.add_argument("--nodes", type=int, default=1500)
    parser.add_argument(
        "--demand",
        type=float,
        default=1.15,
        help="draw pods until the GPUs they ask for reach this multiple of the fleet's GPU "
        "capacity (0: draw --pods pods instead)",
    )
    parser.add_argument("--pods", type=int, default=8000, help="pods, with --demand 0")
    parser.add_argument("--batch", type=int, default=200, help="arrivals per cycle")
    parser.add_argument("--seeds", type=int, default=1, help="seeds per variant")
    parser.add_argument(
        "--variants",
        default="base,multi",
        help=f"comma-separated, from {', '.join(VARIANTS)}, or all "
        "(the default two keep `make bench` short)",
    )
    args = parser.parse_args(argv)
    variants = list(VARIANTS) if args.variants == "all" else args.variants.split(",")
    wins = total = 0
    for variant in variants:
        for seed in range(1, args.seeds + 1):
            outcomes = run_variant(variant, seed, args)
            berth, others = outcomes[0], outcomes[1:]
            total += 1
            wins += all(
                berth.gpus_allocated > o.gpus_allocated for o in others
            ) and berth.placed >= max(o.placed for o in others)
    print(f"berth met both targets on {wins} of {total} runs")


if __name__ == "__main__":
    main()
