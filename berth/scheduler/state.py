"""The scheduler's picture of the cluster, kept current from Node and Pod changes.

Pure: no I/O, no threads, no clock of its own. ``loop.py`` feeds it every (old, new) pair the
Node and Pod informers see and the outcome of every bind; it keeps the ``Snapshot`` (what is
requested on each node), the ``SchedulingQueue`` (pending pods) and the backfill reservations.

A pod is counted on a node exactly once: from the moment a cycle places it (the *assumption*,
before its bind is written) or from the moment the store shows it bound, whichever comes
first, until it is deleted or finishes, or its node's kubelet reports it ended
(``pod_ended``: before the store shows it). A bind that fails takes its assumption back. A
node that is not known yet (or was deleted) still collects the pods bound to it, so they count
as soon as it (re)appears.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import replace
from functools import partial
from typing import TYPE_CHECKING, NamedTuple

from berth.platform.resources.meta import changed, dig
from berth.platform.resources.pods import is_terminal
from berth.scheduler.admission import HELD_BACK
from berth.scheduler.backfill import BackfillPolicy
from berth.scheduler.cycle import Cycle, Decision, queue_order
from berth.scheduler.filters import room_for, static_rejection
from berth.scheduler.messages import prefilter_message
from berth.scheduler.mix import WorkloadMix
from berth.scheduler.profiles import DEFAULT_SCHEDULER, is_ours
from berth.scheduler.queue import ClusterEvent, SchedulingQueue
from berth.scheduler.scoring import PACK, Strategy
from berth.scheduler.snapshot import Snapshot
from berth.scheduler.types import NodeView, PodRequest, node_view, pod_request
from berth.scheduler.volumes import VolumeIndex

if TYPE_CHECKING:
    from berth.platform.resources.types import Node, Pod

SCHEDULER_NAME = DEFAULT_SCHEDULER
UNSCHEDULABLE = "Unschedulable"


def wants_scheduling(pod: Pod) -> bool:
    """A pod this scheduler should place: unbound, ours, alive, not gated."""
    spec = pod.get("spec") or {}
    return (
        not spec.get("nodeName")
        and is_ours(spec.get("schedulerName"))
        and not dig(pod, "metadata", "deletionTimestamp")
        and not spec.get("schedulingGates")
        and not is_terminal(pod)
    )


def unschedulable_message(pod: Pod) -> str | None:
    """The message of the pod's ``PodScheduled=False/Unschedulable`` condition, if any."""
    for condition in dig(pod, "status", "conditions", default=()):
        if condition.get("type") == "PodScheduled":
            if condition.get("status") == "False" and condition.get("reason") == UNSCHEDULABLE:
                return condition.get("message")
            return None
    return None


class Placement(NamedTuple):
    """``devices``: the GPU devices chosen on ``node`` (recorded on the pod at bind)."""

    pod: PodRequest
    node: str
    devices: tuple[int, ...] = ()


class Failure(NamedTuple):
    """``report``: the message differs from the last one written for this pod."""

    pod: PodRequest
    message: str
    report: bool


class ClusterState:
    def __init__(self, queue: SchedulingQueue) -> None:
        self.queue = queue
        self.snapshot = Snapshot()
        self.reservations: dict[str, str] = {}
        self._counted: dict[str, tuple[str, PodRequest]] = {}  # uid -> (node, request)
        self._on_node: dict[str, dict[str, PodRequest]] = {}  # node -> uid -> request
        self._assumed: dict[str, str] = {}  # uid -> node: placed, bind not yet seen
        self._pending: dict[str, PodRequest] = {}  # uid -> request, queued
        self._node_keys: dict[str, tuple] = {}
        self._reported: dict[str, str] = {}  # uid -> last unschedulable message written
        self._held_back: set[str] = set()  # pending pods admission held back (GPUs short)
        self.mix = WorkloadMix()  # recent arrivals, for the fragmentation scorer
        self.volumes = VolumeIndex()
        self._claim_users: dict[tuple[str, str], dict[str, str]] = {}  # claim -> uid -> node
        self._ended: set[str] = set()  # uids ended on their node, not yet terminal in the store

    # ---- what the informers saw ---------------------------------------------------------

    def on_node(self, old: Node | None, new: Node | None) -> None:
        if new is None:
            name = dig(changed(old, new), "metadata", "name")
            if name in self.snapshot:
                self.snapshot.remove_node(name)
                del self._node_keys[name]
            return
        name = new["metadata"]["name"]
        key = node_view(new).static_key
        known = name in self.snapshot
        if known and self._node_keys[name] == key:
            return  # a heartbeat or a status detail no filter reads: nothing to redo
        self.snapshot.add_node(node_view(new, self._on_node.get(name, {}).values()))
        self._node_keys[name] = key
        self.queue.on_event(ClusterEvent.NODE_CHANGED if known else ClusterEvent.NODE_ADDED)

    def on_pod(self, old: Pod | None, new: Pod | None) -> None:
        if old is not None and new is not None and _uid(old) != _uid(new):
            self.on_pod(old, None)  # deleted and created again under the same name
            old = None
        if new is None or is_terminal(new):
            self._gone(_uid(new if new is not None else old))
            return
        uid = _uid(new)
        if uid in self._ended:
            return  # its node saw it end; the store has not caught up yet
        node = dig(new, "spec", "nodeName")
        if node:
            self._bound_in_store(uid, node, new)
            return
        if uid in self._assumed:
            return  # our bind is in flight; this is an older version of the pod
        if not wants_scheduling(new):
            self._dequeue(uid)
            return
        if uid not in self._pending or (old is not None and old.get("spec") != new.get("spec")):
            request = pod_request(new)
            if uid not in self._pending:
                self.mix.observe(request)  # an arrival: counted once, however often retried
            self._pending[uid] = request
            self.queue.add(request)
        if uid not in self._reported:
            message = unschedulable_message(new)
            if message:
                self._reported[uid] = message

    def on_claim(self, old: dict | None, new: dict | None) -> None:
        self.volumes.on_claim(old, new)
        self.queue.on_event(ClusterEvent.VOLUME_CHANGED)

    def on_volume(self, old: dict | None, new: dict | None) -> None:
        self.volumes.on_volume(old, new)
        self.queue.on_event(ClusterEvent.VOLUME_CHANGED)

    def on_class(self, old: dict | None, new: dict | None) -> None:
        self.volumes.on_class(old, new)
        self.queue.on_event(ClusterEvent.VOLUME_CHANGED)

    # ---- one cycle ----------------------------------------------------------------------

    def cycle(
        self,
        *,
        now: float,
        strategy: Strategy | str = PACK,
        backfill: BackfillPolicy = BackfillPolicy(),
        limit: int | None = None,
    ) -> tuple[list[Placement], list[Failure]]:
        """Decide the active pods (at most ``limit``): placements to bind, failures to report.

        Placed pods are assumed on their node at once; call ``bind_succeeded`` or
        ``bind_failed`` when the write is done."""
        # 1. Take the active pods in queue order.
        pods = self.queue.pop_all(limit)
        if not pods:
            return [], []
        # 2. Filter, score and choose against the snapshot (which assumes each placement);
        #    a pod with claims first learns what its volumes allow, counting the placements
        #    made before it in this cycle.
        before = dict(self.reservations)
        cycle = Cycle(
            self.snapshot,
            strategy,
            now=now,
            waiting_since=self.queue.waiting_since(),
            reservations=self.reservations,
            backfill=backfill,
            kinds=self.mix.kinds(),
            medians=self.mix.medians(),
        )
        placed: list[Placement] = []
        failed: list[Failure] = []
        for pod in sorted(pods, key=queue_order):
            decision = None
            if pod.claims:
                volumes = self.volumes.constraint(pod, self._users)
                pod = replace(pod, volumes=volumes)
                if volumes.error:
                    decision = Decision(
                        pod.uid, None, prefilter_message(len(self.snapshot), volumes.error), True
                    )
            if decision is None:
                decision = cycle.decide(pod)
            # 3. A placed pod counts on its node until the store says otherwise.
            if decision.node is not None:
                self._count(pod.uid, decision.node, pod, in_snapshot=True)
                self._assumed[pod.uid] = decision.node
                self._held_back.discard(pod.uid)
                placed.append(Placement(pod, decision.node, decision.devices))
                continue
            # 4. An unplaced pod waits for the cluster to change; report only new reasons.
            self.queue.unschedulable(pod.uid, decision.unresolvable)
            message = decision.message or ""
            if message.startswith(HELD_BACK):
                self._held_back.add(pod.uid)
            else:
                self._held_back.discard(pod.uid)
            report = self._reported.get(pod.uid) != message
            if report:
                self._reported[pod.uid] = message
            failed.append(Failure(pod, message, report))
        # 5. A node whose reservation ended in this cycle is open to every pod again: the
        #    pods that failed while it was held (in this cycle or before) get its room. A
        #    pod that reserved a node may fit there already (admission held it back): it
        #    is tried again at once, on its own node.
        for name in set(before.values()) - set(self.reservations.values()):
            if name in self.snapshot:
                self._freed(name)
        new = [uid for uid, name in self.reservations.items() if before.get(uid) != name]
        if new:
            self.queue.retry(new, ClusterEvent.POD_DELETED)
        return placed, failed

    def pod_ended(self, uid: str) -> None:
        """The pod's node reported its end (the kubelet, before the status write): its
        place is free now. Until the store shows it terminal or deleted, its events no
        longer count it (a status written before the end, seen late, must not)."""
        self._gone(uid)
        self._ended.add(uid)

    def bind_succeeded(self, uid: str) -> None:
        self._dequeue(uid)
        self._reported.pop(uid, None)

    def bind_failed(self, uid: str, current: Pod | None) -> None:
        """Take back the assumption; ``current`` is the pod as the informer has it now."""
        node = self._assumed.pop(uid, None)
        if node is None:
            return  # the store already showed where it went, or it is gone
        _, pod = self._uncount(uid)
        if current is not None and _uid(current) == uid and wants_scheduling(current):
            # Back through backoff, as kube-scheduler does after a failed bind.
            self.queue.unschedulable(uid, error=True)
        else:
            self._dequeue(uid)
        self._freed(node, pod)  # what it would have used is free again

    # ---- reads --------------------------------------------------------------------------

    def next_wakeup(self) -> float | None:
        return self.queue.next_wakeup()

    def counted_on(self, node: str) -> Iterable[PodRequest]:
        return self._on_node.get(node, {}).values()

    @property
    def in_flight(self) -> int:
        """Placements whose bind has not been seen in the store yet."""
        return len(self._assumed)

    # ---- internals ----------------------------------------------------------------------

    def _bound_in_store(self, uid: str, node: str, pod: Pod) -> None:
        self._dequeue(uid)
        self._reported.pop(uid, None)
        assumed = self._assumed.pop(uid, None)
        counted = self._counted.get(uid)
        if counted is not None and counted[0] == node:
            return
        if counted is not None:
            # Someone else bound it while our bind was in flight: it is where the store says.
            self._uncount(uid)
            if assumed is not None:
                self._freed(*counted)
        self._count(uid, node, pod_request(pod, order=0.0), in_snapshot=False)

    def _gone(self, uid: str) -> None:
        self._assumed.pop(uid, None)
        if uid in self._counted:
            self._freed(*self._uncount(uid))
        self._dequeue(uid)
        self._reported.pop(uid, None)
        self._ended.discard(uid)

    def _freed(self, node: str, left: PodRequest | None = None) -> None:
        """Room opened on ``node``: the pod ``left`` went (finished, deleted, its bind taken
        back, or bound elsewhere), or, without one, the node's reservation ended. Retry
        the parked pods it may help, and only those (kube-scheduler's queueing hints):

        * a node reserved for a starving pod takes no other: that pod alone is retried;
        * else as many parked pods of each class as the room takes, of the classes that
          could run there at all (every parked pod when the node is unknown);
        * room freed anywhere may end admission's hold on large jobs (``admission.py``:
          it weighs the whole cluster's free share, so the node does not matter);
        * a pod with claims may have freed a ReadWriteOnce(Pod) volume.
        """
        if left is not None and left.claims:
            self.queue.on_event(ClusterEvent.VOLUME_CHANGED)
        if left is not None and self._held_back:
            self.queue.retry(list(self._held_back), ClusterEvent.POD_DELETED)
        holders = [uid for uid, name in self.reservations.items() if name == node]
        if holders:
            self.queue.retry(holders, ClusterEvent.POD_DELETED)
            return
        view = self.snapshot.node(node) if node in self.snapshot else None
        self.queue.on_event(
            ClusterEvent.POD_DELETED, None if view is None else partial(_room, view)
        )

    def _dequeue(self, uid: str) -> None:
        if self._pending.pop(uid, None) is not None:
            self.queue.delete(uid)
        self._held_back.discard(uid)
        reserved = self.reservations.pop(uid, None)
        if reserved is not None:
            self._freed(reserved)  # open to every pod again

    def _users(self, namespace: str, claim: str) -> list[tuple[str, str]]:
        return list(self._claim_users.get((namespace, claim), {}).items())

    def _count(self, uid: str, node: str, pod: PodRequest, *, in_snapshot: bool) -> None:
        self._counted[uid] = (node, pod)
        self._on_node.setdefault(node, {})[uid] = pod
        for claim in pod.claims:
            self._claim_users.setdefault((pod.namespace, claim), {})[uid] = node
        if not in_snapshot and node in self.snapshot:
            self.snapshot.assume(pod, node)

    def _uncount(self, uid: str) -> tuple[str, PodRequest]:
        node, pod = self._counted.pop(uid)
        for claim in pod.claims:
            users = self._claim_users.get((pod.namespace, claim), {})
            users.pop(uid, None)
            if not users:
                self._claim_users.pop((pod.namespace, claim), None)
        pods = self._on_node[node]
        del pods[uid]
        if not pods:
            del self._on_node[node]
        if node in self.snapshot:
            self.snapshot.forget(pod, node)
        return node, pod


def _room(view: NodeView, pod: PodRequest) -> int:
    """How many pods like ``pod`` the room left on ``view`` takes; none if it never could."""
    return room_for(pod, view) if static_rejection(pod, view) is None else 0


def _uid(pod: Pod | None) -> str:
    return dig(pod, "metadata", "uid", default="") if pod is not None else ""
