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
from collections.abc import Callable, Iterator

from berth.scheduler.scoring import Strategy, score_node
from berth.scheduler.snapshot import NodeGroup
from berth.scheduler.views import NodeView, PodRequest

# Points: far above the rounding of scores in the thousands, far below any real difference.
_ROUNDING = 1e-6
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
        return next(self.fits(pod), None)

    def rank(self, key: tuple) -> float:
        """Minus the probe's score on a node of class ``key``: lower ranks first."""
        return self._rank[key]

    def fits(self, pod: PodRequest) -> Iterator[tuple]:
        """The live classes ``pod`` fits, highest ranked first (classes emptied since they
        were ranked are dropped on the way; they are re-added if they come back)."""
        order = self._order
        classes = self.group.classes
        cpu, memory, gpu = pod.cpu, pod.memory, pod.gpu
        i = 0
        while i < len(order):
            key = order[i][1]
            if key not in classes:
                del order[i]
                del self._rank[key]
                continue
            if key[0] >= cpu and key[1] >= memory and key[2] >= gpu and key[3]:
                yield key
            i += 1


def best_in_order(
    ranking: ClassRanking,
    pod: PodRequest,
    score_of: Callable[[tuple, NodeView], float],
    strategy: Strategy,
    fragments: bool,
    charge: float = 0.0,
) -> tuple[tuple, float] | None:
    """The best class of ``ranking``'s group for ``pod`` and its score (``score_of``, the
    whole score). Without a fragmentation term the first class that fits is the best. With
    one (``fragments``), a pod without GPUs on a GPU node may raise the node's fragmentation
    (take the CPU or memory its GPUs need), which the order leaves out: its score there is
    the order's linear part less that rise (never negative). So the classes are scored in
    order until the linear part of the next can no longer beat the best score found: on a
    node whose GPUs nothing strands, that is the first. ``charge``: what ``score_of`` takes
    off every class of the group besides the fragmentation rise (model pressure): the
    linear part less it bounds the score tighter, so the scan stops sooner (with a margin
    for rounding, so it never stops before a class that would win)."""
    classes = ranking.group.classes
    best: tuple | None = None
    best_score = float("-inf")
    offset = None  # the pod's linear score less the probe's: the same on every class
    for key in ranking.fits(pod):
        if offset is not None:
            bound = offset - ranking.rank(key)
            if bound <= best_score or bound - charge < best_score - _ROUNDING:
                break
        node = next(iter(classes[key].values()))
        score = score_of(key, node)
        if score > best_score:
            best, best_score = key, score
        if not (fragments and node.dev_free):
            break  # no fragmentation term on this node: the order is the score's
        if offset is None:
            offset = score_node(pod, node, strategy) + ranking.rank(key)
    return None if best is None else (best, best_score)
