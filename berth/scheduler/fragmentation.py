"""Fragmentation-aware scoring (FGD: Weng et al., USENIX ATC 2023), as pure functions.

For one node and one kind of request (``mix.Kind``), the *fragment* is the free GPU the
request could not use there: all of the node's free GPU when the request does not fit at all
(not enough CPU, memory, whole devices or room on any one device), otherwise the free pieces
smaller than what it needs per device (a share of 300 cannot use a device with 200 free; a
whole-GPU request cannot use any shared device). A node's fragmentation is the expectation
over the workload mix: ``sum(kind.share * fragment(node, kind))``, in GPUs.

A placement is scored by how much it *raises* its node's fragmentation (``delta``): the
scheduler takes the node, and the device within it, where fragmentation grows the least — a
greedy step down the fragmentation gradient. That keeps whole nodes for whole-node requests
(breaking an empty 8-GPU node costs the 8-GPU kind everything left on it), packs shares onto
devices already shared, and keeps pods without GPUs from eating the CPU and memory that
would let a node's GPUs be used.

Kinds constrained to GPU models count only on nodes they admit. What they need beyond that is
*room on their models*: ``model_pressure`` says how much the constrained part of the mix leans
on each node shape, and the search charges a placement for the GPUs it takes there, so work
that may run anywhere leaves the scarce models to the work that may not.
"""

from __future__ import annotations

from bisect import bisect_right
from collections.abc import Callable, Sequence

from berth.platform.resources.gpus import DEVICE_MILLI
from berth.platform.resources.nodeselectors import labels_match, terms_match
from berth.scheduler.devices import take
from berth.scheduler.mix import Kind
from berth.scheduler.snapshot import NodeGroup
from berth.scheduler.views import NodeView, PodRequest


def admits(kind: Kind, node: NodeView) -> bool:
    return not (
        (kind.selector and not labels_match(kind.selector, node.labels))
        or (kind.affinity is not None and not terms_match(kind.affinity, node.labels, node.name))
    )


def model_pressure(kinds: Sequence[Kind], supply: Sequence[tuple[NodeView, float]]) -> list[float]:
    """How much the constrained part of the mix leans on each node shape: for every kind
    that may only use some nodes (a GPU model), its share times how scarce those nodes' GPUs
    are (all free GPUs / the free GPUs it may use), summed over the kinds that may use the
    shape. ``supply``: a sample node of each shape and how many GPUs the shape has free (the
    search passes what is free when the cycle starts: a model that runs out draws more
    protection as it does, where counting all GPUs protected the large pools too little)."""
    total = sum(gpus for _, gpus in supply) or 1
    pressure = [0.0] * len(supply)
    for kind in kinds:
        if not kind.selector and kind.affinity is None:
            continue
        admitted = [i for i, (sample, _) in enumerate(supply) if admits(kind, sample)]
        reachable = sum(supply[i][1] for i in admitted)
        for i in admitted:
            pressure[i] += kind.share * total / reachable if reachable else 0.0
    return pressure


def free_gpus(group: NodeGroup) -> float:
    """The free GPU capacity (whole and partial devices) of the group's indexed nodes that
    still has its CPU and memory beside it: on each node at most as many GPUs as its free
    CPU and memory would give at the node's own CPU and memory per GPU (GPUs whose CPU is
    gone are no room for the work that needs that model)."""
    sample = group.sample
    per_cpu = sample.alloc_gpu * DEVICE_MILLI / sample.alloc_cpu if sample.alloc_cpu else 0.0
    per_mem = sample.alloc_gpu * DEVICE_MILLI / sample.alloc_mem if sample.alloc_mem else 0.0
    total = 0.0
    for key, members in group.classes.items():
        total += min(sum(key[5]), key[0] * per_cpu, key[1] * per_mem) * len(members)
    return total / DEVICE_MILLI


def gpus_taken(pod: PodRequest, node: NodeView) -> float:
    """The GPUs ``pod`` takes on ``node``: its own, or for a pod without GPUs the node's
    GPUs in proportion to the CPU or memory it takes (what it may strand)."""
    if pod.uses_gpu:
        return pod.gpu + pod.gpu_milli / DEVICE_MILLI
    share = max(
        pod.cpu / node.alloc_cpu if node.alloc_cpu else 0.0,
        pod.memory / node.alloc_mem if node.alloc_mem else 0.0,
    )
    return share * node.alloc_gpu


def usable_kinds(node: NodeView, kinds: Sequence[Kind]) -> tuple[Kind, ...]:
    """The kinds whose node selector and affinity admit ``node`` (a GPU model constraint).

    Kinds that may not use the node are left out rather than counting every free GPU here as
    their fragment (FGD's "no access" case): that rule rewards filling the nodes that some
    constrained kind cannot use, which are exactly the scarce models other constrained kinds
    need; on the benchmark it placed fewer pods. Scarce models are protected by
    ``model_pressure`` instead."""
    return tuple(k for k in kinds if admits(k, node))


def fragmentation(
    cpu_free: int, mem_free: int, free: Sequence[int], kinds: Sequence[Kind]
) -> float:
    """Expected free GPU (in GPUs) the mix could not use on a node with these free amounts
    (``free``: each device's free milli-GPUs); ``kinds``: those the node admits."""
    total = 0
    whole = 0
    widest = 0
    for f in free:
        if f > 0:
            total += f
            if f >= DEVICE_MILLI:
                whole += 1
            if f > widest:
                widest = f
    if total <= 0:
        return 0.0
    expected = 0.0
    for kind in kinds:
        if cpu_free < kind.cpu or mem_free < kind.memory:
            expected += kind.share * total
        elif kind.gpu:
            if whole < kind.gpu:
                expected += kind.share * total
            else:
                expected += kind.share * (total - whole * DEVICE_MILLI)
        elif widest < kind.milli:
            expected += kind.share * total
        else:
            expected += kind.share * sum(f for f in free if 0 < f < kind.milli)
    return expected / DEVICE_MILLI


Measure = Callable[[int, int, Sequence[int]], float]
"""``fragmentation`` of free CPU, free memory and each device's free share, the kinds fixed."""

_MEMO_LIMIT = 200_000


class FragmentationMemo:
    """``fragmentation`` against fixed ``kinds``, remembered. Free CPU and memory enter it
    only through which kinds they cover (``cpu_free < kind.cpu``), so they are remembered
    as their rank among the kinds' requests: nodes of one shape that differ in free CPU but
    cover the same kinds share a value, and pods of different CPU requests that leave a
    node the same devices reuse it. The value is exactly ``fragmentation``'s."""

    __slots__ = ("kinds", "_cpus", "_mems", "_values")

    def __init__(self, kinds: Sequence[Kind]) -> None:
        self.kinds = tuple(kinds)
        self._cpus = sorted({k.cpu for k in self.kinds})
        self._mems = sorted({k.memory for k in self.kinds})
        self._values: dict[tuple, float] = {}

    def __call__(self, cpu_free: int, mem_free: int, free: Sequence[int]) -> float:
        key = (bisect_right(self._cpus, cpu_free), bisect_right(self._mems, mem_free), *free)
        value = self._values.get(key)
        if value is None:
            if len(self._values) >= _MEMO_LIMIT:
                self._values.clear()
            value = self._values[key] = fragmentation(cpu_free, mem_free, free, self.kinds)
        return value


def node_fragmentation(node: NodeView, kinds: Sequence[Kind]) -> float:
    return fragmentation(
        node.alloc_cpu - node.req_cpu,
        node.alloc_mem - node.req_mem,
        node.dev_free,
        usable_kinds(node, kinds),
    )


def device_options(pod: PodRequest, free: Sequence[int]) -> list[tuple[int, ...]]:
    """The distinct ways to place the pod's GPU request on these devices: devices with the
    same free amount are interchangeable, so each amount is tried once."""
    if pod.gpu:
        whole = [i for i, f in enumerate(free) if f >= DEVICE_MILLI]
        if len(whole) < pod.gpu:
            return []
        return [tuple(whole[: pod.gpu])]
    if pod.gpu_milli:
        seen: dict[int, int] = {}
        for i, f in enumerate(free):
            if f >= pod.gpu_milli and f not in seen:
                seen[f] = i
        return [(i,) for _, i in sorted(seen.items())]
    return [()]


def best_delta(
    pod: PodRequest,
    node: NodeView,
    kinds: Sequence[Kind],
    *,
    admitted: bool = False,
    before: float | None = None,
    measure: Measure | None = None,
) -> tuple[float, tuple[int, ...]] | None:
    """The least rise in the node's fragmentation ``pod`` can cause, and the devices that
    give it (ties: the device with the least room). None: its GPU request does not fit.
    ``admitted``: ``kinds`` are already those the node admits (``usable_kinds``).
    ``before``: the node's fragmentation, when the caller has it (``node_fragmentation``).
    ``measure``: ``fragmentation`` against those kinds, when the caller remembers it
    (``FragmentationMemo``)."""
    cpu_free = node.alloc_cpu - node.req_cpu
    mem_free = node.alloc_mem - node.req_mem
    free = node.dev_free
    if not admitted:
        kinds = usable_kinds(node, kinds)
    if measure is None:
        measure = lambda cpu, mem, devices: fragmentation(cpu, mem, devices, kinds)  # noqa: E731
    if before is None:
        before = measure(cpu_free, mem_free, free)
    cpu_after, mem_after = cpu_free - pod.cpu, mem_free - pod.memory
    best: tuple[float, tuple[int, ...]] | None = None
    for devices in device_options(pod, free):
        after = list(free)
        take(after, devices, pod.gpu, pod.gpu_milli)
        delta = measure(cpu_after, mem_after, after) - before
        if best is None or delta < best[0] - 1e-12:
            best = (delta, devices)
    return best
