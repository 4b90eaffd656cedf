"""The placement policies of the GPU packing benchmark (``bench_gpu_packing``): Berth's
fragmentation-aware strategy as its loop runs it, and the baselines (best-fit, first-fit,
spread, random) over the same snapshot index; each run gives an ``Outcome``."""

from __future__ import annotations

import random
import time
from collections.abc import Callable
from dataclasses import dataclass, field, replace

from berth.platform.resources.gpus import DEVICE_MILLI
from berth.scheduler.admission import HELD_BACK
from berth.scheduler.cycle import Cycle
from berth.scheduler.devices import best_fit_devices, fits_devices
from berth.scheduler.mix import WorkloadMix
from berth.scheduler.scoring import FRAGMENTATION_AWARE
from berth.scheduler.snapshot import NodeGroup, Snapshot
from berth.scheduler.types import NodeView, PodRequest


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
    """Berth as its loop runs it. A pod held back under scarcity (``admission.py``)
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
        # 2. frozen per cycle
        cycle = Cycle(snapshot, FRAGMENTATION_AWARE, kinds=mix.kinds(), medians=mix.medians())
        for pod in arrivals:  # 3. decide in arrival order
            decision = cycle.decide(pod)
            if decision.node is None and (decision.message or "").startswith(HELD_BACK):
                waiting.append(pod)
                continue
            placed += decision.node is not None
            _track(snapshot, capacity, pod, decision.node is not None, state)
    no_admission = replace(FRAGMENTATION_AWARE, admission_reserve=0.0, host_reserve=0.0)
    drain = Cycle(snapshot, no_admission, kinds=mix.kinds())
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
