"""One scheduling cycle: pending pods in queue order → filter → score → bind, or a reason.

Pure: it works on a ``Snapshot`` and returns ``Decision``s; binding them (writing
``spec.nodeName``) and recording the reasons is the caller's job. The snapshot is updated
with every placement (``assume``), so it stays true for the next cycle too.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, MutableMapping, Sequence
from typing import NamedTuple

from berth.scheduler.backfill import BackfillPolicy, choose_reservation, could_ever_fit, is_starving
from berth.scheduler.devices import best_fit_devices
from berth.scheduler.explain import explain
from berth.scheduler.filters import node_resources_fit
from berth.scheduler.fragmentation import best_delta
from berth.scheduler.mix import NO_MEDIANS, Kind, Medians, mix_of
from berth.scheduler.profiles import strategy_for
from berth.scheduler.scoring import PACK, Strategy, strategy_named
from berth.scheduler.search import NodeFinder
from berth.scheduler.snapshot import Snapshot
from berth.scheduler.views import NodeView, PodRequest


class Decision(NamedTuple):
    """``node`` is where to bind ``uid`` (and ``devices``, the GPU devices it gets there);
    or None, with kube-scheduler's ``message`` and whether the pod is ``unresolvable`` (no
    node could take it even if all pods finished)."""

    uid: str
    node: str | None
    message: str | None = None
    unresolvable: bool = False
    devices: tuple[int, ...] = ()


def queue_order(pod: PodRequest) -> tuple[int, float]:
    """Higher priority first, then first come first served."""
    return (-pod.priority, pod.order)


def choose_devices(
    pod: PodRequest, node: NodeView, strategy: Strategy, kinds: Sequence[Kind]
) -> tuple[int, ...] | None:
    """The GPU devices ``pod`` takes on ``node``: where fragmentation grows least under the
    fragmentation-aware strategy, else the best fit. ``()`` for a pod without GPUs."""
    if not (pod.uses_gpu and node.dev_free):
        return ()
    if strategy.fragmentation_weight and kinds:
        best = best_delta(pod, node, kinds)
        if best is not None:
            return best[1]
    return best_fit_devices(pod.gpu, pod.gpu_milli, node.dev_free)


class Cycle:
    """Decides pods one at a time against a snapshot; caches live for this cycle only.

    ``reservations`` (pod uid → node name) carries the backfill reservations from cycle to
    cycle (see ``backfill.py``); it is updated in place. ``waiting_since`` (pod uid → time
    it first failed) and ``now`` come from the queue and its clock.

    ``strategy`` is the default; a pod whose ``schedulerName`` names a profile
    (``profiles.py``) is scored by that profile's. ``kinds`` is the workload mix the
    fragmentation scorer uses, frozen for the cycle; ``medians`` the recent CPU and memory
    demand, for admission (``admission.py``).
    """

    def __init__(
        self,
        snapshot: Snapshot,
        strategy: Strategy | str = PACK,
        *,
        now: float = 0.0,
        waiting_since: Mapping[str, float] | None = None,
        reservations: MutableMapping[str, str] | None = None,
        backfill: BackfillPolicy = BackfillPolicy(),
        kinds: Sequence[Kind] = (),
        medians: Medians = NO_MEDIANS,
    ) -> None:
        self.snapshot = snapshot
        self.strategy = strategy_named(strategy) if isinstance(strategy, str) else strategy
        self.now = now
        self.waiting_since = waiting_since if waiting_since is not None else {}
        self.reservations = reservations if reservations is not None else {}
        self.backfill = backfill
        self.kinds = tuple(kinds)
        self.medians = medians
        snapshot.clear_log()
        self._finders: dict[str, NodeFinder] = {}
        self.finder = self._finder(self.strategy)
        self._failed: dict[tuple, Decision] = {}
        self._no_room: set[tuple] = set()  # pod classes with no node left to reserve
        for uid, name in list(self.reservations.items()):
            if name in snapshot:
                snapshot.hold(name)
            else:
                del self.reservations[uid]
        # The snapshot outlives cycles: a reservation that ended between them (its pod
        # deleted, or bound by someone else) must not keep its node out of the index.
        for name in snapshot.held - set(self.reservations.values()):
            snapshot.release(name)

    def decide(self, pod: PodRequest) -> Decision:
        # 1. A pod with a reservation tries its own node first.
        own = self.reservations.get(pod.uid)
        if own is not None:
            node = self.snapshot.node(own)
            if not could_ever_fit(pod, node):
                self._end_reservation(pod.uid)
                own = None
            elif node_resources_fit(pod, node) is None:
                return self._bind(pod, own)
        # 2. Pods like one that already failed this cycle fail the same way: nodes only
        #    fill up within a cycle.
        elif pod.klass in self._failed:
            decision = self._failed[pod.klass]._replace(uid=pod.uid)
            if not decision.unresolvable:
                self._maybe_reserve(pod)
            return decision
        # 3. Filter and score: the best node among those not held.
        finder = self._finder(strategy_for(pod.scheduler, self.strategy))
        node = finder.find(pod)
        if node is not None:
            held = finder.held_back(pod)  # GPUs short: a large job waits (admission.py)
            if held is None:
                return self._bind(pod, node.name)
            if own is None:
                self._maybe_reserve(pod)  # it waits, but does not starve
            return Decision(pod.uid, None, held)
        # 4. Nowhere: say why, and let a starving pod reserve a node.
        why = explain(pod, self.snapshot, own_node=own)
        decision = Decision(pod.uid, None, why.message, why.unresolvable)
        if why.unresolvable:
            if own is not None:
                self._end_reservation(pod.uid)
        elif own is None:
            self._maybe_reserve(pod)
        if own is None:
            self._failed[pod.klass] = decision
        return decision

    def _maybe_reserve(self, pod: PodRequest) -> None:
        if (
            len(self.reservations) >= self.backfill.max_reservations
            or pod.klass in self._no_room
            or not is_starving(pod, self.waiting_since, self.now, self.backfill)
        ):
            return
        name = choose_reservation(pod, self.snapshot)
        if name is None:
            self._no_room.add(pod.klass)
            return
        self.snapshot.hold(name)
        self.reservations[pod.uid] = name

    def _finder(self, strategy: Strategy) -> NodeFinder:
        finder = self._finders.get(strategy.name)
        if finder is None:
            finder = self._finders[strategy.name] = NodeFinder(
                self.snapshot, strategy, self.kinds, self.medians
            )
        return finder

    def _bind(self, pod: PodRequest, name: str) -> Decision:
        finder = self._finder(strategy_for(pod.scheduler, self.strategy))
        devices = finder.devices(pod, self.snapshot.node(name))
        devices = self.snapshot.assume(pod, name, devices)
        if pod.uid in self.reservations:
            self._end_reservation(pod.uid)
        return Decision(pod.uid, name, devices=devices)

    def _end_reservation(self, uid: str) -> None:
        name = self.reservations.pop(uid)
        if name not in self.reservations.values():
            self.snapshot.release(name)
            # The node is back in the index: earlier failures may now fit on it.
            self._failed.clear()
            self._no_room.clear()


def schedule_batch(
    queue: Iterable[PodRequest],
    snapshot: Snapshot,
    strategy: Strategy | str = PACK,
    *,
    now: float = 0.0,
    waiting_since: Mapping[str, float] | None = None,
    reservations: MutableMapping[str, str] | None = None,
    backfill: BackfillPolicy = BackfillPolicy(),
    kinds: Sequence[Kind] | None = None,
) -> list[Decision]:
    """Decide every pod of ``queue``, in queue order (priority, then creation order).

    A pod that does not fit does not stop the pods behind it; see ``backfill.py`` for how a
    pod that keeps losing to smaller ones eventually gets its node. ``kinds``: the workload
    mix (``mix.py``); by default the mix of this batch.
    """
    pods = sorted(queue, key=queue_order)
    cycle = Cycle(
        snapshot,
        strategy,
        now=now,
        waiting_since=waiting_since,
        reservations=reservations,
        backfill=backfill,
        kinds=mix_of(pods) if kinds is None else kinds,
    )
    return [cycle.decide(pod) for pod in pods]
