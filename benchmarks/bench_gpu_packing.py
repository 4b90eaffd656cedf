"""GPU packing benchmark: how much GPU capacity each placement policy gets into use.

    .venv/bin/python -m benchmarks.bench_gpu_packing [--nodes 1500] [--demand 1.15]
                                                     [--seeds 3] [--first-seed 1]
                                                     [--variants all]

The fleet and arrivals are ``gpu_traces``' (variants base, shares, multi, cpu-heavy): ~1,500
nodes with 0-8 GPUs of several models, and pods drawn until the GPUs they ask for reach
``--demand`` times the fleet's GPU capacity (1.15 by default: demand above capacity on every
variant; each table's title prints the ratio). Pods arrive in order, in batches of
``--batch`` (one scheduling cycle each); a pod that fits nowhere when it arrives is dropped,
the same for every policy. Every policy sees the same nodes and the same arrivals in the
same run:

* **berth**: Berth's ``fragmentation-aware`` strategy, its workload mix learned from the
  arrivals so far (nothing about the trace is configured), with its admission under
  scarcity (``admission.py``: pods large in the scarcest resource, GPUs, CPU or memory,
  wait while it runs short; those still waiting after the last arrival are decided again,
  as the queue would once they starve);
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

from benchmarks.gpu_policies import (
    Outcome,
    _best_fit,
    _first_fit,
    _random,
    _spread,
    run_baseline,
    run_berth,
)
from benchmarks.gpu_traces import (
    KINDS,
    VARIANTS,
    gpus_asked,
    make_demand_pods,
    make_nodes,
    make_pods,
)
from berth.platform.resources.gpus import DEVICE_MILLI
from berth.scheduler.filters import run_filters
from berth.scheduler.types import NodeView, PodRequest

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
        "--first-seed",
        type=int,
        default=1,
        help="the seeds run are --first-seed .. --first-seed + --seeds - 1 (6 with --seeds 5: "
        "seeds the policy was not tuned on)",
    )
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
        for seed in range(args.first_seed, args.first_seed + args.seeds):
            outcomes = run_variant(variant, seed, args)
            berth, others = outcomes[0], outcomes[1:]
            total += 1
            wins += all(
                berth.gpus_allocated > o.gpus_allocated for o in others
            ) and berth.placed >= max(o.placed for o in others)
    print(f"berth met both targets on {wins} of {total} runs")


if __name__ == "__main__":
    main()
