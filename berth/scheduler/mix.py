"""The workload mix, learned online: a decaying histogram of the GPU request shapes that
arrived recently.

Fragmentation is only defined against the work that will come (a free half GPU is waste if
every pod wants a whole one, and room if most want a quarter), so the fragmentation scorer
needs the mix of request shapes. Nobody configures it: every pod that enters the queue is
counted once, older arrivals fade with a half-life counted in arrivals, and a cycle scores
against a frozen copy (``kinds()``), so every score within one cycle is consistent.

Only GPU shapes are kept: a pod without GPUs can use no free GPU anywhere, so it would add
the same amount to every node's fragmentation and change no choice.
"""

from __future__ import annotations

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


class WorkloadMix:
    """``half_life``: after this many later arrivals an arrival counts half."""

    def __init__(self, half_life: float = 2000.0) -> None:
        self._growth = 2.0 ** (1.0 / half_life)
        self._unit = 1.0
        self._weights: dict[tuple, tuple[float, float, float]] = {}  # weight, cpu, memory

    def observe(self, pod: PodRequest) -> None:
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

    def _rescale(self) -> None:
        unit = self._unit
        self._weights = {
            k: (w / unit, c / unit, m / unit)
            for k, (w, c, m) in self._weights.items()
            if w / unit > 1e-9
        }
        self._unit = 1.0


def top_kinds(kinds: tuple[Kind, ...], count: int) -> tuple[Kind, ...]:
    """The ``count`` most frequent kinds, their shares normalised again: what a score is
    computed against (its cost grows with the number of kinds; the rest is a thin tail)."""
    top = sorted(kinds, key=lambda k: -k.share)[:count]
    total = sum(k.share for k in top)
    return tuple(k._replace(share=k.share / total) for k in top) if total > 0 else ()


def mix_of(pods) -> tuple[Kind, ...]:
    """The mix of one batch, for callers without a history (tests, one-off batches)."""
    return WorkloadMix().observe_all(pods).kinds()
