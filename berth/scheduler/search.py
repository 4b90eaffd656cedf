"""Find the best feasible node for a pod without looking at every node.

The answer is exactly what filtering and scoring every node would give (ties aside):

1. Static filters run once per (pod class, node group) (``Snapshot.static_rejection``).
2. In the groups that pass, the best *free class* that fits is found: all nodes of a
   class fit and score alike, so one of them stands for it. With a linear curve (both
   built-in strategies) each group keeps its classes in score order (``ranking.py``) and
   the first that fits is the best; otherwise every class is scored. Equal scores go to the
   least loaded group (``NodeGroup.load``), so opening a fresh node spreads over zones and
   models instead of always landing in the first group.
3. The best class found is cached per pod class. Later, only classes that gained a node
   since then (the snapshot's log) can beat it; classes that lost nodes cannot get better.
   So a cached answer is refreshed by reading the log tail. Runs of identical pods (a
   Job's) thus cost O(1) each.
4. When the cached class has emptied (under the fragmentation-aware strategy the best
   class is often one node, which the placement itself moves) and nothing in the tail
   beats it, a pass that scored every class also kept the 32 best (``candidates.py``) and
   the score every other class stays under: the best live one of those, if it beats
   that floor alone, is what a new pass would find. Only then, or on a tie, or after a
   ranked pass (which knows one class per group), does a full pass run again.

Pods whose affinity names nodes (``matchFields`` on ``metadata.name``) take ``scan_all``,
the plain filter-and-score loop over every node, which is also the reference the index is
tested against.
"""

from __future__ import annotations

from collections.abc import Sequence
from functools import partial

from berth.scheduler.admission import (
    CPU,
    GPUS,
    MEMORY,
    Level,
    held,
    held_back_message,
    median_request,
    pressure_on,
)
from berth.scheduler.candidates import NONE, Best, Candidates, better, refresh
from berth.scheduler.devices import best_fit_devices
from berth.scheduler.filters import node_resources_fit, run_filters
from berth.scheduler.fragmentation import (
    FragmentationMemo,
    best_delta,
    free_gpus,
    gpus_taken,
    model_pressure,
    usable_kinds,
)
from berth.scheduler.mix import NO_MEDIANS, Kind, Medians, top_kinds
from berth.scheduler.ranking import ClassRanking, best_in_order, is_linear, probe_kind
from berth.scheduler.scoring import MAX_SCORE, Strategy, score_node, taint_score
from berth.scheduler.snapshot import NodeGroup, Snapshot
from berth.scheduler.views import NodeView, PodRequest

# Past this many log entries, a full pass is about as cheap as reading the tail.
_LOG_TAIL_LIMIT = 512
_SCORE_CACHE_LIMIT = 100_000
# How many of the best classes a full pass keeps for the next pods of the class.
_CANDIDATES_KEPT = 32
INF = float("inf")
# Points (times the fragmentation weight) per GPU taken per unit of model pressure.
PRESSURE_WEIGHT = 1.0
# How many of the most frequent kinds of the mix a fragmentation score is computed against.
SCORED_KINDS = 16


class NodeFinder:
    """Best-node search over one snapshot for one cycle (its caches live as long).

    ``kinds``: the workload mix the fragmentation scorer uses, frozen for the cycle, so a
    class's score stays a function of its free amounts and every cache here stays true.
    ``medians``: the recent CPU and memory demand, for admission."""

    def __init__(
        self,
        snapshot: Snapshot,
        strategy: Strategy,
        kinds: Sequence[Kind] = (),
        medians: Medians = NO_MEDIANS,
    ) -> None:
        self.snapshot = snapshot
        self.strategy = strategy
        self.kinds = top_kinds(tuple(kinds), SCORED_KINDS)
        self.median_request = median_request(kinds)
        self.medians = medians
        self._ids: dict[tuple, int] = {}  # pod class -> a small int, hashed once per find
        self._groups: dict[int, tuple[list[NodeGroup], frozenset[int]]] = {}
        self._candidates: dict[int, Candidates] = {}
        self._ceilings_of: dict[int, dict[int, float]] = {}  # pod class id -> ``_ceilings``
        self._linear = is_linear(strategy)
        self._fragments = strategy.fragmentation_weight > 0
        self._rankings: dict[tuple[int, int], ClassRanking] = {}
        self._ranked_upto = 0
        # pod class id -> group id -> free class -> score
        self._scores: dict[int, dict[int, dict[tuple, float]]] = {}
        self._scored = 0
        self._before: dict[tuple, float] = {}  # (group, class) -> its fragmentation
        self._pressure: dict[int, float] = {}
        self._kinds_for: dict[int, tuple[Kind, ...]] = {}  # group -> kinds it admits
        self._memos: dict[int, FragmentationMemo] = {}  # group -> fragmentation, remembered
        # Kinds whose affinity names nodes are admitted node by node, not by group.
        self._by_name = any(
            k.affinity is not None and any(term.fields for term in k.affinity) for k in self.kinds
        )
        if self._fragments and kinds:
            groups = [g for g in snapshot.groups if g.sample.alloc_gpu > 0]
            # Against the GPUs still free: a model running out draws more protection.
            values = model_pressure(kinds, [(g.sample, free_gpus(g)) for g in groups])
            self._pressure = {g.gid: v for g, v in zip(groups, values, strict=True) if v}

    def held_back(self, pod: PodRequest) -> str | None:
        """Why ``pod`` waits although a node fits it (``admission.py``), else None."""
        snap, strategy, medians = self.snapshot, self.strategy, self.medians
        if (
            pod.gpus <= self.median_request
            and (pod.cpu <= medians.cpu or not medians.cpu)
            and (pod.memory <= medians.memory or not medians.memory)
        ):
            return None  # large in no resource (0: no median known): never held back
        levels = (
            Level(GPUS, snap.gpu_capacity, snap.gpu_requested),
            Level(CPU, snap.cpu_capacity, snap.cpu_requested),
            Level(MEMORY, snap.mem_capacity, snap.mem_requested),
        )
        pressure = pressure_on(pod, levels, self.median_request, medians, strategy)
        if pressure is not None and held(pressure):
            return held_back_message(pressure)
        return None

    def _usable(self, group: NodeGroup) -> tuple[Kind, ...]:
        kinds = self._kinds_for.get(group.gid)
        if kinds is None:
            kinds = self._kinds_for[group.gid] = usable_kinds(group.sample, self.kinds)
        return kinds

    def _memo(self, group: NodeGroup) -> FragmentationMemo:
        memo = self._memos.get(group.gid)
        if memo is None:
            memo = self._memos[group.gid] = FragmentationMemo(self._usable(group))
        return memo

    def _fragmentation(self, group: NodeGroup, key: tuple, node: NodeView) -> float:
        """The node's own fragmentation, the same for every pod: once per free class."""
        before = self._before.get((group.gid, key))
        if before is None:
            before = self._before[(group.gid, key)] = self._memo(group)(
                key[0], key[1], node.dev_free
            )
        return before

    def score(
        self,
        pod: PodRequest,
        group: NodeGroup,
        key: tuple,
        node: NodeView,
        table: dict[tuple, float] | None = None,
    ) -> float:
        """``score_node`` of ``pod`` on a node of free class ``key`` of ``group``, cached:
        within one cycle it depends on nothing else. ``table``: this pod class's scores on
        this group (``_table``), when the caller has it."""
        if table is None:
            table = self._table(self._id(pod.klass), group.gid)
        score = table.get(key)
        if score is None:
            if self._scored >= _SCORE_CACHE_LIMIT:
                self._scored = 0
                for tables in self._scores.values():
                    for by_key in tables.values():
                        by_key.clear()
                self._before.clear()
            self._scored += 1
            before = measure = None
            if self._fragments and node.dev_free:
                before = self._fragmentation(group, key, node)
                measure = self._memo(group)
            kinds = self._usable(group)
            score = score_node(
                pod, node, self.strategy, kinds, admitted=True, before=before, measure=measure
            )
            pressure = self._pressure.get(group.gid)
            if pressure:
                # GPUs that constrained kinds can find few of are kept for them.
                score -= (
                    self.strategy.fragmentation_weight
                    * PRESSURE_WEIGHT
                    * pressure
                    * gpus_taken(pod, node)
                )
            table[key] = score
        return score

    def devices(self, pod: PodRequest, node: NodeView) -> tuple[int, ...] | None:
        """The GPU devices ``pod`` takes on ``node``: where fragmentation grows least under a
        fragmentation-aware strategy, else the best fit; ``()`` for a pod without GPUs.
        (What ``cycle.choose_devices`` gives, with this finder's caches.)"""
        if not (pod.uses_gpu and node.dev_free):
            return ()
        if self._fragments and self.kinds:
            group = self.snapshot.group_of(node.name)
            key = self.snapshot.key_of(node.name)
            if self._by_name:
                kinds, before = usable_kinds(node, self.kinds), None
            else:
                kinds = self._usable(group)
                before = None if key is None else self._fragmentation(group, key, node)
            measure = None if self._by_name else self._memo(group)
            best = best_delta(pod, node, kinds, admitted=True, before=before, measure=measure)
            if best is not None:
                return best[1]
        return best_fit_devices(pod.gpu, pod.gpu_milli, node.dev_free)

    def _id(self, klass: tuple) -> int:
        kid = self._ids.get(klass)
        if kid is None:
            kid = self._ids[klass] = len(self._ids)
        return kid

    def _table(self, kid: int, gid: int) -> dict[tuple, float]:
        tables = self._scores.get(kid)
        if tables is None:
            tables = self._scores[kid] = {}
        table = tables.get(gid)
        if table is None:
            table = tables[gid] = {}
        return table

    def _rankable(self, pod: PodRequest, group: NodeGroup) -> bool:
        """Can this group's classes be taken in probe order (see ``ranking.py``)? Yes when
        the score is linear in the free amounts: no GPUs on the node, or no share and no
        fragmentation scorer."""
        if not self._linear or pod.extended:
            return False
        if group.sample.alloc_gpu <= 0 or not pod.uses_gpu:
            # A pod without GPUs takes GPU nodes in probe order too: the order keeps it off
            # idle GPUs (``gpu_placement_score``); the fragmentation it causes there still
            # counts when the best class of each group is compared. (Scoring every class
            # with the fragmentation scorer instead strands more: it sees only a kind's
            # average CPU crossed, so CPU pods nibble at idle 8-GPU nodes until the 8-GPU
            # jobs no longer fit; on the cpu-heavy benchmark 22 CPU pods and 15 4/8-GPU
            # jobs more failed.)
            return True
        return not (self._fragments or pod.gpu_milli)

    def _feasible(self, pod: PodRequest, kid: int) -> tuple[list[NodeGroup], frozenset[int]]:
        entry = self._groups.get(kid)
        if entry is None:
            groups = self.snapshot.admitting_groups(pod)
            entry = self._groups[kid] = (groups, frozenset(g.gid for g in groups))
        return entry

    def find(self, pod: PodRequest) -> NodeView | None:
        """The best indexed node for ``pod``, or None when none fits."""
        if pod.uses_node_name:
            return scan_all(pod, self.snapshot, self.strategy, self.kinds)
        kid = self._id(pod.klass)
        groups, gids = self._feasible(pod, kid)
        if not groups:
            return None
        best = self._refresh(pod, kid, gids)
        if best is None:
            best = self._full_pass(pod, kid, groups)
            if best is None:
                return None
        return next(iter(best.group.classes[best.key].values()))

    def _refresh(self, pod: PodRequest, kid: int, gids: frozenset[int]) -> Best | None:
        """The best class from the cached candidates and the log tail, or None if that
        can't be told without a full pass (``candidates.refresh``)."""
        cached = self._candidates.get(kid)
        log = self.snapshot.log
        if cached is None or len(log) - cached.pos > _LOG_TAIL_LIMIT:
            return None
        tables = self._scores.get(kid)
        if tables is None:
            tables = self._scores[kid] = {}

        def score_of(group: NodeGroup, key: tuple, node: NodeView, table: dict) -> float:
            return self.score(pod, group, key, node, table)

        return refresh(cached, log, pod, gids, tables, score_of, self._ceilings(pod, kid))

    def _ceilings(self, pod: PodRequest, kid: int) -> dict[int, float]:
        """Group id -> ``_ceiling`` of the groups where it is finite, for ``pod``'s class
        (groups added since are missing: no bound is used for them)."""
        ceilings = self._ceilings_of.get(kid)
        if ceilings is None:
            ceilings = {}
            for group in self.snapshot.groups:
                ceiling = self._ceiling(pod, group)
                if ceiling != INF:
                    ceilings[group.gid] = ceiling
            self._ceilings_of[kid] = ceilings
        return ceilings

    def _full_pass(self, pod: PodRequest, kid: int, groups: list[NodeGroup]) -> Best | None:
        ranked = [g for g in groups if self._rankable(pod, g)]
        best, best_score = self._ranked_pass(pod, kid, ranked) if ranked else (None, NONE)
        # Every fitting class scored, in order: all of them when no group was ranked or
        # skipped, so the next best ones can be kept for later pods of the class. (Score,
        # group, class) tuples: only those kept become ``Best``s.
        found: list[tuple[float, NodeGroup, tuple]] | None = None if ranked else []
        skip = {g.gid for g in ranked}
        cpu, memory, gpu, milli = pod.cpu, pod.memory, pod.gpu, pod.gpu_milli
        extended = pod.extended
        for group in groups:
            if group.gid in skip:
                continue
            if best is not None and best_score >= self._ceiling(pod, group):
                found = None
                continue
            table = self._table(kid, group.gid)
            for key, members in group.classes.items():
                if key[0] < cpu or key[1] < memory or key[2] < gpu or not key[3]:
                    continue
                if milli and (not key[5] or key[5][-1] < milli):
                    continue
                score = table.get(key)
                if score is None or extended:
                    node = next(iter(members.values()))
                    if extended and node_resources_fit(pod, node) is not None:
                        continue
                    score = self.score(pod, group, key, node, table)
                if found is not None:
                    found.append((score, group, key))
                # ``better``, inline: this runs for every class of the groups passed.
                if score > best_score or (
                    score == best_score and best is not None and group.load < best.group.load
                ):
                    best, best_score = Best(group, key, score), score
        if best is None:
            return None
        pos = len(self.snapshot.log)
        if found is None:
            # Ranked groups give only their first class, in an order that stands in for the
            # score (``_rankable``): nothing is known of the others, so no fall back.
            entries, floor = [best], float("inf")
        elif len(found) <= _CANDIDATES_KEPT:
            entries, floor = [Best(g, k, s) for s, g, k in found], NONE
        else:
            floor = sorted((s for s, _, _ in found), reverse=True)[_CANDIDATES_KEPT]
            entries = [Best(g, k, s) for s, g, k in found if s > floor] or [best]
        self._candidates[kid] = Candidates(entries, floor, pos, best)
        return best

    def _ceiling(self, pod: PodRequest, group: NodeGroup) -> float:
        """The most a pod without GPUs can score on a node of a GPU group (fragmentation can
        only rise when it takes CPU and memory there): a CPU node that scores as much wins
        without looking at the group's classes. Infinite where no such bound holds."""
        if pod.uses_gpu or group.sample.alloc_gpu <= 0:
            return INF
        strategy = self.strategy
        return (
            strategy.allocation_weight * MAX_SCORE
            + strategy.gpu_weight * MAX_SCORE * 0.5
            + strategy.taint_weight * taint_score(pod, group.sample)
        )

    def _ranked_pass(
        self, pod: PodRequest, kid: int, groups: list[NodeGroup]
    ) -> tuple[Best | None, float]:
        """The best of ``groups`` through each group's score order (see ``ranking.py``).

        Groups with a finite ``_ceiling`` (GPU groups, for a pod without GPUs) are looked at
        after the others, and skipped when what those found already beats the ceiling: no
        class of theirs can be the best, so leaving them out changes nothing. The best is
        then chosen in ``groups``' order, so ties break as if every group were looked at."""
        self._sync_rankings()
        kind = probe_kind(pod)
        ceilings = [self._ceiling(pod, group) for group in groups]
        found: list[tuple[tuple, float] | None] = [None] * len(groups)
        lower = NONE  # the best score found so far: the final best scores at least this
        for bounded in (False, True):
            for i, group in enumerate(groups):
                ceiling = ceilings[i]
                if (ceiling != INF) is not bounded or (bounded and ceiling < lower):
                    continue
                ranking = self._rankings.get((group.gid, kind))
                if ranking is None:
                    ranking = self._rankings[(group.gid, kind)] = ClassRanking(
                        group, kind, self.strategy
                    )
                found[i] = result = self._best_ranked(pod, kid, group, ranking)
                if result is not None and result[1] > lower:
                    lower = result[1]
        best: Best | None = None
        best_score = NONE
        for group, result in zip(groups, found, strict=True):
            if result is not None:
                best, best_score = better(best, best_score, group, *result)
        return best, best_score

    def _best_ranked(
        self, pod: PodRequest, kid: int, group: NodeGroup, ranking: ClassRanking
    ) -> tuple[tuple, float] | None:
        """The best class of ``group`` for ``pod`` and its score (``ranking.best_in_order``)."""
        score_of = partial(self.score, pod, group, table=self._table(kid, group.gid))
        return best_in_order(
            ranking, pod, score_of, self.strategy, self._fragments, self._charge(pod, group)
        )

    def _charge(self, pod: PodRequest, group: NodeGroup) -> float:
        """What ``score`` takes off every class of ``group`` for the GPUs ``pod`` takes
        there under model pressure: the same on all of them (``gpus_taken`` reads only
        what the group's nodes share)."""
        pressure = self._pressure.get(group.gid)
        if not pressure:
            return 0.0
        return (
            self.strategy.fragmentation_weight
            * PRESSURE_WEIGHT
            * pressure
            * gpus_taken(pod, group.sample)
        )

    def _sync_rankings(self) -> None:
        """Rank the classes that appeared since the last pass."""
        log = self.snapshot.log
        if self._rankings:
            for group, key, _ in log[self._ranked_upto :]:
                members = group.classes.get(key)
                if members is None:
                    continue
                for kind in (0, 1):
                    ranking = self._rankings.get((group.gid, kind))
                    if ranking is not None:
                        ranking.add(key, members)
        self._ranked_upto = len(log)


def scan_all(
    pod: PodRequest, snapshot: Snapshot, strategy: Strategy, kinds: Sequence[Kind] = ()
) -> NodeView | None:
    """Filter and score every node that is not held; the highest score wins, the first
    node in snapshot order breaks ties."""
    best: NodeView | None = None
    best_score = NONE
    for node in snapshot:
        if snapshot.is_held(node.name) or run_filters(pod, node) is not None:
            continue
        score = score_node(pod, node, strategy, kinds)
        if score > best_score:
            best, best_score = node, score
    return best
