"""Pure views of the cluster for the state collector: what is requested on each node, the GPUs
no pending pod could use, and why pods are Pending.

Everything here is computed from wire objects (Nodes and Pods as the informers hold them)
with the scheduler's own pure functions (``node_view``, ``pod_request``, ``run_filters``), so
the numbers are the scheduler's arithmetic, not a second copy of it.
"""

from __future__ import annotations

import re
from collections import Counter
from typing import Iterable, NamedTuple

from berth.platform.resources.meta import dig
from berth.scheduler.filters import run_filters
from berth.scheduler.state import unschedulable_message, wants_scheduling
from berth.scheduler.types import NodeView, PodRequest, node_view, pod_request

_AVAILABLE = re.compile(r"nodes are available: (?P<reasons>.*?)\.(?: preemption:|$)")
_COUNTED = re.compile(r"^\d+ (?P<reason>.+)$")
_TAINT = re.compile(r"^node\(s\) had untolerated taint .*$")


class NodeUsage(NamedTuple):
    name: str
    ready: bool
    view: NodeView   # allocatable and requested (CPU millicores, memory bytes, GPUs)


def node_usages(nodes: Iterable[dict], pods: Iterable[dict]) -> list[NodeUsage]:
    """Every node with the requests of the live pods bound to it counted."""
    by_node: dict[str, list[dict]] = {}
    for pod in pods:
        name = dig(pod, "spec", "nodeName")
        if name:
            by_node.setdefault(name, []).append(pod)
    out = []
    for node in nodes:
        name = dig(node, "metadata", "name", default="")
        view = node_view(node, by_node.get(name, ()))
        out.append(NodeUsage(name, view.ready, view))
    return out


def pending_requests(pods: Iterable[dict]) -> list[PodRequest]:
    """The pods the scheduler still has to place."""
    return [pod_request(pod, order=0.0) for pod in pods if wants_scheduling(pod)]


def fragmented_gpus(node: NodeView, pending: Iterable[PodRequest]) -> int:
    """Free GPUs on ``node`` that no pending GPU request could use.

    The free GPUs count as fragmented when at least one pending pod asks for GPUs and none of
    those pods passes the scheduler's filters on this node (too few GPUs left, or too little
    CPU or memory beside them, or a selector or taint that keeps it away). With no GPU pod
    pending, idle GPUs are idle, not fragmented: 0.
    """
    free = node.alloc_gpu - node.req_gpu
    if free <= 0:
        return 0
    wanting = [pod for pod in pending if pod.gpu > 0]
    if not wanting:
        return 0
    if any(run_filters(pod, node) is None for pod in wanting):
        return 0
    return free


def unschedulable_reasons(message: str | None) -> list[str]:
    """The reasons of a kube-scheduler FitError message, without their node counts.

    ``0/3 nodes are available: 2 Insufficient nvidia.com/gpu, 1 node(s) didn't match Pod's
    node affinity/selector.`` → ``["Insufficient nvidia.com/gpu", "node(s) didn't match Pod's
    node affinity/selector"]``. Taint keys and values are dropped (they are unbounded).
    """
    if not message:
        return []
    match = _AVAILABLE.search(message)
    if match is None:
        return []
    reasons = []
    for entry in match.group("reasons").split(", "):
        counted = _COUNTED.match(entry.strip())
        reason = counted.group("reason") if counted else entry.strip()
        if _TAINT.match(reason):
            reason = "node(s) had untolerated taint"
        if reason:
            reasons.append(reason)
    return reasons


def unschedulable_counts(pods: Iterable[dict]) -> Counter[str]:
    """Pending pods per reason the scheduler gave (a pod with two reasons counts in both)."""
    counts: Counter[str] = Counter()
    for pod in pods:
        if dig(pod, "status", "phase") not in (None, "Pending") or not wants_scheduling(pod):
            continue
        message = unschedulable_message(pod)
        for reason in set(unschedulable_reasons(message)):
            counts[reason] += 1
    return counts
