"""The workload mix, learned online: a decaying histogram of the GPU request shapes that
arrived recently.

Fragmentation is only defined against the work that will come (a free half GPU is waste if
every pod wants a whole one, and room if most want a quarter), so the fragmentation scorer
needs the mix of request shapes. Nobody configures it: every pod that enters the queue is
counted once, older arrivals fade with a half-life counted in arrivals, and a cycle scores
against a frozen copy (``kinds()``), so every score within one cycle is consistent.

Only GPU shapes are kinds: a pod without GPUs can use no free GPU anywhere, so it would add
the same amount to every node's fragmentation and change no choice. Every arrival, with GPUs
or without, counts in the CPU and memory demand (``medians``), which admission weighs when
CPU or memory is what runs short (``admission.py``).
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import NamedTuple

from berth.scheduler.views import PodRequest

_RESCALE_AT = 1e100


class Kind(NamedTuple):
    """One request shape and its share of the recent GPU arrivals (the shares sum to 1)."""

    cpu: int
    memory: int
    gpu: int
    milli: int
    share: float
    selector: tuple = ()  # the pod's nodeSelector and required node affinity:
    affinity: tuple | None = None  # a node they exclude is no use to this kind at all


class Medians(NamedTuple):
    """The middle of the recent demand for CPU (millicores) and memory (bytes), in the sense
    of ``weighted_median``; 0 where nothing arrived."""

    cpu: float = 0.0
    memory: float = 0.0


NO_MEDIANS = Medians()  # nothing arrived: admission by CPU or memory is off


def weighted_median(weights: Iterable[tuple[float, float]]) -> float:
    """The request size at the middle of the demand: requests up to this size ask for at
    least half of the amount asked for. ``weights``: (size, how many asked for it); 0 when
    nothing was asked for."""
    sizes = sorted(weights)
    total = sum(size * weight for size, weight in sizes)
    if total <= 0:
        return 0.0
    seen = 0.0
    for size, weight in sizes:
        seen += size * weight
        if seen >= total / 2:
            return size
    return sizes[-1][0]


class WorkloadMix:
    """``half_life``: after this many later arrivals an arrival counts half."""

    def __init__(self, half_life: float = 2000.0) -> None:
        self._growth = 2.0 ** (1.0 / half_life)
        self._unit = 1.0
        self._weights: dict[tuple, tuple[float, float, float]] = {}  # weight, cpu, memory
        # Every arrival's CPU and memory request -> weight, on a clock of its own (the GPU
        # kinds' half-life counts GPU arrivals only).
        self._host_unit = 1.0
        self._cpu: dict[int, float] = {}
        self._memory: dict[int, float] = {}

    def observe(self, pod: PodRequest) -> None:
        self._observe_host(pod)
        if not pod.uses_gpu:
            return
        # Shapes are told apart by what they ask of GPUs and which nodes they may use; their
        # CPU and memory are averaged (weighted like the arrivals), so a few kinds stand for
        # the whole mix however varied the CPU and memory requests are.
        key = (pod.gpu, pod.gpu_milli, pod.node_selector, pod.affinity)
        unit = self._unit
        weight, cpu, memory = self._weights.get(key, (0.0, 0.0, 0.0))
        self._weights[key] = (weight + unit, cpu + unit * pod.cpu, memory + unit * pod.memory)
        self._unit *= self._growth
        if self._unit > _RESCALE_AT:
            self._rescale()

    def _observe_host(self, pod: PodRequest) -> None:
        unit = self._host_unit
        self._cpu[pod.cpu] = self._cpu.get(pod.cpu, 0.0) + unit
        self._memory[pod.memory] = self._memory.get(pod.memory, 0.0) + unit
        self._host_unit *= self._growth
        if self._host_unit > _RESCALE_AT:
            self._cpu = _faded(self._cpu, self._host_unit)
            self._memory = _faded(self._memory, self._host_unit)
            self._host_unit = 1.0

    def observe_all(self, pods) -> WorkloadMix:
        for pod in pods:
            self.observe(pod)
        return self

    def kinds(self) -> tuple[Kind, ...]:
        """Every shape seen (and not faded away), most frequent first, shares summing to 1."""
        top = sorted(self._weights.items(), key=lambda kv: -kv[1][0])
        total = sum(w for _, (w, _, _) in top)
        if total <= 0:
            return ()
        return tuple(
            Kind(
                round(cpu / w),
                round(memory / w),
                gpu,
                milli,
                share=w / total,
                selector=selector,
                affinity=affinity,
            )
            for (gpu, milli, selector, affinity), (w, cpu, memory) in top
        )

    def medians(self) -> Medians:
        """The middle of the recent CPU and memory demand of every arrival, GPU or not."""
        return Medians(weighted_median(self._cpu.items()), weighted_median(self._memory.items()))

    def _rescale(self) -> None:
        unit = self._unit
        self._weights = {
            k: (w / unit, c / unit, m / unit)
            for k, (w, c, m) in self._weights.items()
            if w / unit > 1e-9
        }
        self._unit = 1.0


def _faded(weights: dict[int, float], unit: float) -> dict[int, float]:
    """``weights`` divided by ``unit``, less those faded to nothing."""
    return {k: w / unit for k, w in weights.items() if w / unit > 1e-9}


def top_kinds(kinds: tuple[Kind, ...], count: int) -> tuple[Kind, ...]:
    """The ``count`` most frequent kinds, their shares normalised again: what a score is
    computed against (its cost grows with the number of kinds; the rest is a thin tail)."""
    top = sorted(kinds, key=lambda k: -k.share)[:count]
    total = sum(k.share for k in top)
    return tuple(k._replace(share=k.share / total) for k in top) if total > 0 else ()


def mix_of(pods) -> tuple[Kind, ...]:
    """The mix of one batch, for callers without a history (tests, one-off batches)."""
    return WorkloadMix().observe_all(pods).kinds()
