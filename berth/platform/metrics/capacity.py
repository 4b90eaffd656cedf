"""Pure views of the cluster for the state collector: what is requested on each node, the GPUs
no pending pod could use, and why pods are Pending.

Everything here is computed from wire objects (Nodes and Pods as the informers hold them)
with the scheduler's own pure functions (``node_view``, ``pod_request``, ``run_filters``), so
the numbers are the scheduler's arithmetic, not a second copy of it.
"""

from __future__ import annotations

import re
from collections import Counter
from collections.abc import Iterable
from typing import TYPE_CHECKING, NamedTuple

from berth.platform.resources.gpus import DEVICE_MILLI
from berth.platform.resources.meta import dig
from berth.platform.resources.pods import is_terminal_phase
from berth.scheduler.filters import run_filters
from berth.scheduler.state import unschedulable_message, wants_scheduling
from berth.scheduler.types import NodeView, PodRequest, node_view, pod_request

if TYPE_CHECKING:
    from berth.platform.resources.types import Node, Pod

_AVAILABLE = re.compile(r"nodes are available: (?P<reasons>.*?)\.(?: preemption:|$)")
_COUNTED = re.compile(r"^\d+ (?P<reason>.+)$")
_TAINT = re.compile(r"^node\(s\) had untolerated taint .*$")
# The label the job controller puts on every pod of a Job (Kubernetes' own name).
CONTROLLER_UID = "batch.kubernetes.io/controller-uid"


class NodeUsage(NamedTuple):
    name: str
    ready: bool
    view: NodeView  # allocatable and requested (CPU millicores, memory bytes, GPUs)


class PodTally(NamedTuple):
    """Everything the collector needs from the pods, gathered in one pass."""

    phases: Counter  # (namespace, phase) -> pods
    running_jobs: set[str]  # controller uids of Jobs with a Running pod
    on_node: dict[str, list[PodRequest]]  # node -> requests of its live pods
    pending: list[PodRequest]  # pods the scheduler still has to place
    reasons: Counter  # unschedulable reason -> pending pods


class RequestCache:
    """Each pod's ``PodRequest``, parsed once per pod (requests do not change after
    creation); entries of pods no longer listed are dropped at every ``tally``."""

    def __init__(self) -> None:
        self._by_uid: dict[str, PodRequest] = {}
        self._fresh: dict[str, PodRequest] = {}

    def get(self, pod: Pod, uid: str) -> PodRequest:
        request = self._by_uid.get(uid) or pod_request(pod, order=0.0)
        self._fresh[uid] = request
        return request

    def tally(self, pods: Iterable[Pod]) -> PodTally:
        self._fresh = {}
        tally = tally_pods(pods, self.get)
        self._by_uid = self._fresh
        return tally


def _parse(pod: Pod, uid: str) -> PodRequest:
    return pod_request(pod, order=0.0)


def tally_pods(pods: Iterable[Pod], request_of=_parse) -> PodTally:
    """Phases per namespace, Jobs with a Running pod, requests per node, pending requests and
    why they wait. ``request_of(pod, uid)`` parses (or remembers) a pod's requests."""
    phases: Counter = Counter()
    running: set[str] = set()
    on_node: dict[str, list[PodRequest]] = {}
    pending: list[PodRequest] = []
    reasons: Counter = Counter()
    for pod in pods:
        md = pod.get("metadata") or {}
        spec = pod.get("spec") or {}
        phase = (pod.get("status") or {}).get("phase") or "Pending"
        phases[(md.get("namespace", ""), phase)] += 1
        if phase == "Running":
            job = (md.get("labels") or {}).get(CONTROLLER_UID)
            if job:
                running.add(job)
        if is_terminal_phase(phase):
            continue
        node = spec.get("nodeName")
        if node:
            on_node.setdefault(node, []).append(request_of(pod, md.get("uid", "")))
        elif wants_scheduling(pod):
            pending.append(request_of(pod, md.get("uid", "")))
            if phase == "Pending":
                for reason in set(unschedulable_reasons(unschedulable_message(pod))):
                    reasons[reason] += 1
    return PodTally(phases, running, on_node, pending, reasons)


def node_usages(nodes: Iterable[Node], on_node: dict[str, list[PodRequest]]) -> list[NodeUsage]:
    """Every node with the requests of the live pods bound to it counted."""
    out = []
    for node in nodes:
        name = dig(node, "metadata", "name", default="")
        view = node_view(node, on_node.get(name, ()))
        out.append(NodeUsage(name, view.ready, view))
    return out


def requested_gpus(node: NodeView) -> float:
    """GPUs requested on ``node``: whole GPUs plus the shares (``berth.dev/gpu-milli``)."""
    return node.req_gpus


def free_gpu_capacity(node: NodeView) -> float:
    """The GPU capacity left on ``node``, device by device (a device half used by shares
    leaves 0.5)."""
    if len(node.dev_free) != node.alloc_gpu:
        return float(max(node.alloc_gpu - node.req_gpu, 0))
    return sum(node.dev_free) / DEVICE_MILLI


def device_allocated(node: NodeView) -> list[float]:
    """GPUs allocated on each of ``node``'s devices (1.0 a whole GPU, 0.25 a share of 250)."""
    return [(DEVICE_MILLI - free) / DEVICE_MILLI for free in node.dev_free]


def fragmented_gpus(node: NodeView, pending: Iterable[PodRequest]) -> float:
    """Free GPU capacity on ``node`` that no pending GPU request (whole or share) could use.

    The free GPUs count as fragmented when at least one pending pod asks for GPUs and none of
    those pods passes the scheduler's filters on this node (too few GPUs left, or too little
    CPU or memory beside them, or a selector or taint that keeps it away). With no GPU pod
    pending, idle GPUs are idle, not fragmented: 0.
    """
    free = free_gpu_capacity(node)
    if free <= 0:
        return 0
    wanting = [pod for pod in pending if pod.uses_gpu]
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
