"""Free classes of one node group kept in score order, so the best one that fits is found
without scoring them all.

With a linear packing curve (two shape points, as both built-in strategies have), a pod's
score on a node it fits is the score of an empty probe pod of the same kind (with or
without GPUs) on that node plus a constant for the group: the pod adds the same amounts to
every node of the group. So one order per group and kind serves every pod, and the best
class is the first in that order that fits. Spread, whose best classes are the emptiest,
usually stops at the first; pack skips the full ones at the head of the order.
"""

from __future__ import annotations

from bisect import insort

from berth.scheduler.scoring import Strategy, score_node
from berth.scheduler.snapshot import NodeGroup
from berth.scheduler.views import NodeView, PodRequest

_PROBES = (PodRequest("", "", ""), PodRequest("", "", "", gpu=1))


def is_linear(strategy: Strategy) -> bool:
    return len(strategy.shape) == 2


def probe_kind(pod: PodRequest) -> int:
    return 1 if pod.gpu else 0


class ClassRanking:
    __slots__ = ("group", "probe", "strategy", "_rank", "_order")

    def __init__(self, group: NodeGroup, kind: int, strategy: Strategy) -> None:
        self.group = group
        self.probe = _PROBES[kind]
        self.strategy = strategy
        self._rank: dict[tuple, float] = {}
        self._order: list[tuple[float, tuple]] = []
        for key, members in group.classes.items():
            self.add(key, members)

    def add(self, key: tuple, members: dict[str, NodeView]) -> None:
        """Rank a class that (re)appeared; a class ranked before keeps its place."""
        if key not in self._rank:
            rank = -score_node(self.probe, next(iter(members.values())), self.strategy)
            self._rank[key] = rank
            insort(self._order, (rank, key))

    def best_fit(self, pod: PodRequest) -> tuple | None:
        """The highest ranked live class that ``pod`` fits (no extended resources)."""
        order = self._order
        classes = self.group.classes
        cpu, memory, gpu = pod.cpu, pod.memory, pod.gpu
        i = 0
        while i < len(order):
            key = order[i][1]
            if key not in classes:
                # Emptied since it was ranked: drop it; it is re-added if it comes back.
                del order[i]
                del self._rank[key]
                continue
            if key[0] >= cpu and key[1] >= memory and key[2] >= gpu and key[3]:
                return key
            i += 1
        return None
