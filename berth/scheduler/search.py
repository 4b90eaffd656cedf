"""Find the best feasible node for a pod without looking at every node.

The answer is exactly what filtering and scoring every node would give (ties aside):

1. Static filters run once per (pod class, node group) (``Snapshot.static_rejection``).
2. In the groups that pass, the best *free class* that fits is found: all nodes of a
   class fit and score alike, so one of them stands for it. With a linear curve (both
   built-in strategies) each group keeps its classes in score order (``ranking.py``) and
   the first that fits is the best; otherwise every class is scored. Equal scores go to the least loaded group (``NodeGroup.load``), so opening a fresh
   node spreads over zones and models instead of always landing in the first group.
3. The best class found is cached per pod class. Later, only classes that gained a node
   since then (the snapshot's log) can beat it; classes that lost nodes cannot get better.
   So a cached answer is refreshed by reading the log tail, and a full pass over the free
   classes is needed only when the cached class has emptied and nothing in the tail scores
   at least as well. Runs of identical pods (a Job's) thus cost O(1) each.

Pods whose affinity names nodes (``matchFields`` on ``metadata.name``) take ``scan_all``,
the plain filter-and-score loop over every node, which is also the reference the index is
tested against.
"""

from __future__ import annotations

from itertools import islice

from berth.scheduler.filters import node_resources_fit, run_filters
from berth.scheduler.ranking import ClassRanking, is_linear, probe_kind
from berth.scheduler.scoring import Strategy, score_node
from berth.scheduler.snapshot import NodeGroup, Snapshot
from berth.scheduler.types import NodeView, PodRequest

# Past this many log entries, a full pass is about as cheap as reading the tail.
_LOG_TAIL_LIMIT = 512
_NONE = float("-inf")


def _fits(pod: PodRequest, key: tuple, members: dict[str, NodeView]) -> bool:
    if key[0] < pod.cpu or key[1] < pod.memory or key[2] < pod.gpu or not key[3]:
        return False
    if pod.extended:
        return node_resources_fit(pod, next(iter(members.values()))) is None
    return True


class _Best:
    __slots__ = ("group", "key", "score", "pos")

    def __init__(self, group: NodeGroup, key: tuple, score: float, pos: int) -> None:
        self.group, self.key, self.score, self.pos = group, key, score, pos


class NodeFinder:
    """Best-node search over one snapshot for one cycle (its caches live as long)."""

    def __init__(self, snapshot: Snapshot, strategy: Strategy) -> None:
        self.snapshot = snapshot
        self.strategy = strategy
        self._groups: dict[tuple, tuple[list[NodeGroup], frozenset[int]]] = {}
        self._best: dict[tuple, _Best] = {}
        self._linear = is_linear(strategy)
        self._rankings: dict[tuple[int, int], ClassRanking] = {}
        self._ranked_upto = 0

    def _feasible(self, pod: PodRequest) -> tuple[list[NodeGroup], frozenset[int]]:
        entry = self._groups.get(pod.klass)
        if entry is None:
            groups = [g for g in self.snapshot.groups
                      if self.snapshot.static_rejection(pod, g) is None]
            entry = self._groups[pod.klass] = (groups, frozenset(g.gid for g in groups))
        return entry

    def find(self, pod: PodRequest) -> NodeView | None:
        """The best indexed node for ``pod``, or None when none fits."""
        if pod.uses_node_name:
            return scan_all(pod, self.snapshot, self.strategy)
        groups, gids = self._feasible(pod)
        if not groups:
            return None
        best = self._refresh(pod, gids)
        if best is None:
            best = self._full_pass(pod, groups)
            if best is None:
                return None
        self._best[pod.klass] = best
        return next(iter(best.group.classes[best.key].values()))

    def _refresh(self, pod: PodRequest, gids: frozenset[int]) -> _Best | None:
        """The cached best brought up to date from the log tail, or None if that can't be
        done without a full pass."""
        cached = self._best.get(pod.klass)
        log = self.snapshot.log
        end = len(log)
        if cached is None or end - cached.pos > _LOG_TAIL_LIMIT:
            return None
        strategy = self.strategy
        found: _Best | None = None
        found_score = _NONE
        for group, key in islice(log, cached.pos, end):
            if group.gid not in gids:
                continue
            members = group.classes.get(key)
            if not members or not _fits(pod, key, members):
                continue
            score = score_node(pod, next(iter(members.values())), strategy)
            if score > found_score:
                found, found_score = _Best(group, key, score, end), score
        if cached.key in cached.group.classes and cached.score >= found_score:
            cached.pos = end
            return cached
        if found is not None and found_score >= cached.score:
            return found
        return None

    def _full_pass(self, pod: PodRequest, groups: list[NodeGroup]) -> _Best | None:
        if self._linear and not pod.extended:
            return self._ranked_pass(pod, groups)
        strategy = self.strategy
        best: _Best | None = None
        best_score = _NONE
        cpu, memory, gpu, extended = pod.cpu, pod.memory, pod.gpu, pod.extended
        for group in groups:
            for key, members in group.classes.items():
                if key[0] < cpu or key[1] < memory or key[2] < gpu or not key[3]:
                    continue
                node = next(iter(members.values()))
                if extended and node_resources_fit(pod, node) is not None:
                    continue
                best, best_score = _better(best, best_score, group, key,
                                           score_node(pod, node, strategy))
        if best is not None:
            best.pos = len(self.snapshot.log)
        return best

    def _ranked_pass(self, pod: PodRequest, groups: list[NodeGroup]) -> _Best | None:
        """``_full_pass`` through each group's score order (see ``ranking.py``)."""
        self._sync_rankings()
        kind = probe_kind(pod)
        best: _Best | None = None
        best_score = _NONE
        for group in groups:
            ranking = self._rankings.get((group.gid, kind))
            if ranking is None:
                ranking = self._rankings[(group.gid, kind)] = ClassRanking(
                    group, kind, self.strategy)
            key = ranking.best_fit(pod)
            if key is not None:
                node = next(iter(group.classes[key].values()))
                best, best_score = _better(best, best_score, group, key,
                                           score_node(pod, node, self.strategy))
        if best is not None:
            best.pos = len(self.snapshot.log)
        return best

    def _sync_rankings(self) -> None:
        """Rank the classes that appeared since the last pass."""
        log = self.snapshot.log
        if self._rankings:
            for group, key in islice(log, self._ranked_upto, len(log)):
                members = group.classes.get(key)
                if members is None:
                    continue
                for kind in (0, 1):
                    ranking = self._rankings.get((group.gid, kind))
                    if ranking is not None:
                        ranking.add(key, members)
        self._ranked_upto = len(log)


def _better(best: _Best | None, best_score: float, group: NodeGroup, key: tuple,
            score: float) -> tuple[_Best | None, float]:
    """Keep the higher score; on a tie, the less loaded group."""
    if score > best_score or (score == best_score and best is not None
                              and group.load < best.group.load):
        return _Best(group, key, score, 0), score
    return best, best_score


def scan_all(pod: PodRequest, snapshot: Snapshot, strategy: Strategy) -> NodeView | None:
    """Filter and score every node that is not held; the highest score wins, the first
    node in snapshot order breaks ties."""
    best: NodeView | None = None
    best_score = _NONE
    for node in snapshot:
        if snapshot.is_held(node.name) or run_filters(pod, node) is not None:
            continue
        score = score_node(pod, node, strategy)
        if score > best_score:
            best, best_score = node, score
    return best
