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

from berth.scheduler.types import PodRequest

_RESCALE_AT = 1e100


class Kind(NamedTuple):
    """One request shape and its share of the recent GPU arrivals (the shares sum to 1)."""

    cpu: int
    memory: int
    gpu: int
    milli: int
    share: float
    selector: tuple = ()       # the pod's nodeSelector and required node affinity:
    affinity: tuple | None = None   # a node they exclude is no use to this kind at all


class WorkloadMix:
    """``half_life``: after this many later arrivals an arrival counts half. ``max_kinds``:
    how many of the most frequent shapes a cycle scores against (the cost of a score grows
    with it; the rest are a small tail)."""

    def __init__(self, half_life: float = 2000.0, max_kinds: int = 16) -> None:
        self.max_kinds = max_kinds
        self._growth = 2.0 ** (1.0 / half_life)
        self._unit = 1.0
        self._weights: dict[tuple, float] = {}

    def observe(self, pod: PodRequest) -> None:
        if not pod.uses_gpu:
            return
        key = (pod.cpu, pod.memory, pod.gpu, pod.gpu_milli, pod.node_selector, pod.affinity)
        # Newer arrivals weigh more, by a growing unit: the same as decaying all the others.
        self._weights[key] = self._weights.get(key, 0.0) + self._unit
        self._unit *= self._growth
        if self._unit > _RESCALE_AT:
            self._rescale()

    def observe_all(self, pods) -> WorkloadMix:
        for pod in pods:
            self.observe(pod)
        return self

    def kinds(self) -> tuple[Kind, ...]:
        """The most frequent shapes now, their shares normalised to 1."""
        top = sorted(self._weights.items(), key=lambda kv: -kv[1])[:self.max_kinds]
        total = sum(w for _, w in top)
        if total <= 0:
            return ()
        return tuple(Kind(*key[:4], share=w / total, selector=key[4], affinity=key[5])
                     for key, w in top)

    def _rescale(self) -> None:
        unit = self._unit
        self._weights = {k: w / unit for k, w in self._weights.items() if w / unit > 1e-9}
        self._unit = 1.0


def mix_of(pods) -> tuple[Kind, ...]:
    """The mix of one batch, for callers without a history (tests, one-off batches)."""
    return WorkloadMix().observe_all(pods).kinds()
