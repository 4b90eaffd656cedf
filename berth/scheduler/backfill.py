"""Backfill with reservations: small pods may pass a big one, but not forever.

The rule (like Slurm's backfill or Kueue's, without run-time estimates):

* A pod that does not fit never blocks the pods behind it: each cycle places every pod that
  fits, in queue order (no head-of-line blocking).
* A pod that has been unschedulable for ``reserve_after_s`` seconds (its *waiting since*
  time comes from the queue) is *starving*. When a starving pod fails again and waiting can
  help (its rejection is resolvable), it reserves one node: the one, among those it could
  ever fit on, that is closest to fitting it now (smallest normalised shortfall; on a tie
  the one "pack" scores highest, leaving emptier nodes to others).
* A reserved node is closed to every other pod. Anything placed there could keep the big
  pod from ever fitting, because nothing is known about how long pods run; so the node
  only drains, and as soon as enough has finished the reserving pod lands on it (or on any
  other node that fits it first). The reservation then ends.
* At most ``max_reservations`` nodes are reserved at once; starving pods get them in queue
  order (priority, then age), so every pod's turn comes: no starvation.

A reservation ends when its pod is placed, becomes unresolvable, or its node can no longer
take it. The caller drops reservations of pods it deletes (``reservations.pop(uid)``).
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass

from berth.scheduler.filters import static_rejection
from berth.scheduler.scoring import PACK, score_node
from berth.scheduler.snapshot import Snapshot
from berth.scheduler.views import NodeView, PodRequest


@dataclass(frozen=True)
class BackfillPolicy:
    """``reserve_after_s``: how long a pod may stay unschedulable before it reserves a node.
    ``max_reservations``: how many nodes may be reserved at once (0 turns reservations off).
    """

    reserve_after_s: float = 60.0
    max_reservations: int = 4


def is_starving(
    pod: PodRequest, waiting_since: Mapping[str, float], now: float, policy: BackfillPolicy
) -> bool:
    since = waiting_since.get(pod.uid)
    return since is not None and now - since >= policy.reserve_after_s


def shortfall(pod: PodRequest, node: NodeView) -> float:
    """How far ``node`` is from fitting ``pod``: the missing share of each resource's
    allocatable, summed (0 when it fits now)."""
    missing = 0.0
    for want, alloc, used in (
        (pod.cpu, node.alloc_cpu, node.req_cpu),
        (pod.memory, node.alloc_mem, node.req_mem),
        (pod.gpu, node.alloc_gpu, node.req_gpu),
    ):
        if want > alloc - used and alloc > 0:
            missing += (want - (alloc - used)) / alloc
    for name, want in pod.extended:
        alloc = node.alloc_ext.get(name, 0)
        free = alloc - node.req_ext.get(name, 0)
        if want > free and alloc > 0:
            missing += (want - free) / alloc
    if node.pod_count >= node.max_pods:
        missing += 1.0 / max(node.max_pods, 1)
    return missing


def could_ever_fit(pod: PodRequest, node: NodeView) -> bool:
    """Would ``pod`` fit on ``node`` once every pod running there had finished?"""
    return static_rejection(pod, node) is None


def choose_reservation(pod: PodRequest, snapshot: Snapshot) -> str | None:
    """The node ``pod`` should reserve, among indexed nodes it could ever fit on."""
    best: tuple[float, float] | None = None
    chosen: str | None = None
    for node in _candidates(pod, snapshot):
        rank = (shortfall(pod, node), -score_node(pod, node, PACK))
        if best is None or rank < best:
            best, chosen = rank, node.name
    return chosen


def _candidates(pod: PodRequest, snapshot: Snapshot):
    if pod.uses_node_name:
        for node in snapshot:
            if not snapshot.is_held(node.name) and could_ever_fit(pod, node):
                yield node
        return
    for group in snapshot.groups:
        if snapshot.static_rejection(pod, group) is None:
            for members in group.classes.values():
                yield next(iter(members.values()))
