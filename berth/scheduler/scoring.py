"""Scorers: how good is this (feasible) node for this pod? Pure functions, 0..100 each.

The packing curve is data: a list of ``(utilization %, score 0..10)`` shape points as in
kube-scheduler's RequestedToCapacityRatio, so "most allocated" (pack) and "least allocated"
(spread) are one function with different points.

A second scorer keeps GPUs whole: a GPU pod prefers the node its GPUs fill best (one free
GPU beats a node with eight free), and a pod without GPUs prefers nodes without GPUs, so
CPU work does not strand the CPU and memory that GPU pods on those nodes will need. It
applies under both strategies ("spread" spreads CPU and memory, never GPU fragments).

A third, under the "fragmentation-aware" strategy only, scores a placement by how little it
raises the node's expected GPU fragmentation given the recent workload mix
(``fragmentation.py``); it is zero on nodes without GPUs, where that strategy packs.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

from berth.platform.resources.gpus import DEVICE_MILLI
from berth.platform.resources.taints import PREFER_NO_SCHEDULE, tolerates
from berth.scheduler.fragmentation import Measure, best_delta
from berth.scheduler.mix import Kind
from berth.scheduler.views import CPU, GPU, MEMORY, NodeView, PodRequest

Shape = tuple[tuple[float, float], ...]

MOST_ALLOCATED: Shape = ((0, 0), (100, 10))
LEAST_ALLOCATED: Shape = ((0, 10), (100, 0))
MAX_SCORE = 100.0


@dataclass(frozen=True)
class Strategy:
    """Scoring configuration.

    ``shape``: utilization → score points of the allocation scorer. ``resource_weights``:
    how much each resource counts in it. ``allocation_weight`` and ``gpu_weight``: the
    weights of those two scorers in the total; the GPU scorer's is high so keeping GPUs
    whole wins over a slightly tighter CPU/memory fit. ``taint_weight``: how strongly
    ``PreferNoSchedule`` taints push pods away. ``fragmentation_weight``: points per GPU
    of expected fragmentation a placement avoids (0: the scorer is off).
    ``admission_reserve``: share of the cluster's GPUs below which jobs asking for more
    GPUs than the mix's median request wait, while GPUs are the scarcest resource
    (``admission.py``; 0: never). ``host_reserve``: the same for CPU and memory, while one
    of them is the scarcest.
    """

    name: str
    shape: Shape
    resource_weights: tuple[tuple[str, float], ...] = ((CPU, 1.0), (MEMORY, 1.0), (GPU, 3.0))
    allocation_weight: float = 1.0
    gpu_weight: float = 10.0
    taint_weight: float = 5.0
    fragmentation_weight: float = 0.0
    admission_reserve: float = 0.0
    host_reserve: float = 0.0


PACK = Strategy("pack", MOST_ALLOCATED)
SPREAD = Strategy("spread", LEAST_ALLOCATED, resource_weights=((CPU, 1.0), (MEMORY, 1.0)))
# Fragmentation first: one GPU of expected fragmentation outweighs every other scorer.
FRAGMENTATION_AWARE = Strategy(
    "fragmentation-aware",
    MOST_ALLOCATED,
    fragmentation_weight=5000.0,
    admission_reserve=0.2,
    host_reserve=0.5,
)
STRATEGIES = {PACK.name: PACK, SPREAD.name: SPREAD, FRAGMENTATION_AWARE.name: FRAGMENTATION_AWARE}


def strategy_named(name: str) -> Strategy:
    try:
        return STRATEGIES[name]
    except KeyError:
        raise ValueError(
            f"unknown scheduler strategy {name!r}; expected one of {sorted(STRATEGIES)}"
        ) from None


def curve(shape: Shape, utilization: float) -> float:
    """Piecewise-linear interpolation of ``shape`` at ``utilization`` (0..100), scaled to
    0..100; flat outside the first and last points."""
    x0, y0 = shape[0]
    if utilization <= x0:
        return y0 * 10.0
    for x1, y1 in shape[1:]:
        if utilization <= x1:
            return (y0 + (y1 - y0) * (utilization - x0) / (x1 - x0)) * 10.0
        x0, y0 = x1, y1
    return y0 * 10.0


def _pod_amount(pod: PodRequest, resource: str) -> int:
    if resource == CPU:
        return pod.cpu
    if resource == MEMORY:
        return pod.memory
    if resource == GPU:
        return pod.gpu
    return dict(pod.extended).get(resource, 0)


def allocation_score(pod: PodRequest, node: NodeView, strategy: Strategy = PACK) -> float:
    """Weighted mean of ``curve(requested-after-placement / capacity)`` over resources.

    A resource the node has none of is left out (zero capacity scores zero); requested is
    clamped to capacity. Resources other than CPU and memory (GPUs, extended resources)
    count only for pods that ask for them, as in Kubernetes, so a CPU pod's score on a GPU
    node is not dragged by the node's idle GPUs.
    """
    total = weights = 0.0
    shape = strategy.shape
    for resource, weight in strategy.resource_weights:
        # CPU, memory and GPUs read directly: this runs for every class scored.
        if resource == CPU:
            want, capacity, requested = pod.cpu, node.alloc_cpu, node.req_cpu
        elif resource == MEMORY:
            want, capacity, requested = pod.memory, node.alloc_mem, node.req_mem
        elif resource == GPU:
            want = pod.gpu
            if not want:
                continue
            capacity, requested = node.alloc_gpu, node.req_gpu
        else:
            want = _pod_amount(pod, resource)
            if not want:
                continue
            capacity, requested = node.allocatable(resource), node.requested(resource)
        if capacity <= 0:
            continue
        requested = min(requested + want, capacity)
        total += weight * curve(shape, requested * 100.0 / capacity)
        weights += weight
    return total / weights if weights else 0.0


def gpu_placement_score(pod: PodRequest, node: NodeView) -> float:
    """Keep GPUs whole and keep GPU nodes for GPU work.

    A GPU pod scores how full the node's GPUs are after placement (best fit: one free GPU
    beats breaking up a node with eight). A pod without GPUs scores full marks on a node
    without GPUs; on a GPU node at most half, and only as far as the node's GPUs are already
    taken, so it uses leftover CPU beside busy GPUs before it takes CPU from idle ones.
    """
    if node.alloc_gpu <= 0:
        return 0.0 if pod.uses_gpu else MAX_SCORE
    capacity = node.alloc_gpu * DEVICE_MILLI
    free = sum(node.dev_free)
    if pod.uses_gpu:
        left = free - pod.gpu * DEVICE_MILLI - pod.gpu_milli
        return MAX_SCORE * (1.0 - max(left, 0) / capacity)
    busy = min(max(capacity - free, 0), capacity) / capacity
    return MAX_SCORE * 0.5 * busy


def taint_score(pod: PodRequest, node: NodeView) -> float:
    """Fewer untolerated ``PreferNoSchedule`` taints score higher."""
    if not node.taints:
        return MAX_SCORE
    count = sum(
        1
        for taint in node.taints
        if taint.effect == PREFER_NO_SCHEDULE
        and not any(tolerates(t, taint) for t in pod.tolerations)
    )
    return MAX_SCORE / (1 + count)


def fragmentation_score(
    pod: PodRequest,
    node: NodeView,
    kinds: Sequence[Kind],
    *,
    admitted: bool = False,
    before: float | None = None,
    measure: Measure | None = None,
) -> float:
    """Minus the rise in the node's expected fragmentation (GPUs), on its best devices;
    0 on a node without GPUs. ``admitted``, ``before``, ``measure``: see
    ``fragmentation.best_delta``."""
    if not node.dev_free or not kinds:
        return 0.0
    best = best_delta(pod, node, kinds, admitted=admitted, before=before, measure=measure)
    return -best[0] if best is not None else 0.0


def score_node(
    pod: PodRequest,
    node: NodeView,
    strategy: Strategy = PACK,
    kinds: Sequence[Kind] = (),
    *,
    admitted: bool = False,
    before: float | None = None,
    measure: Measure | None = None,
) -> float:
    """The total the scheduler maximises: weighted sum of the scorers. ``kinds``: the
    workload mix, for the fragmentation scorer (``admitted``: already filtered for the
    node's labels; ``before``: the node's fragmentation against them, if known;
    ``measure``: their fragmentation, remembered)."""
    score = (
        strategy.allocation_weight * allocation_score(pod, node, strategy)
        + strategy.gpu_weight * gpu_placement_score(pod, node)
        + strategy.taint_weight * taint_score(pod, node)
    )
    if strategy.fragmentation_weight and node.dev_free:
        score += strategy.fragmentation_weight * fragmentation_score(
            pod, node, kinds, admitted=admitted, before=before, measure=measure
        )
    return score
