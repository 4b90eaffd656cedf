"""Filters: may this pod run on this node? Pure functions over ``(PodRequest, NodeView)``.

Each returns ``None`` when the node passes, or a ``Rejection`` carrying kube-scheduler's own
reason strings, so the aggregated message reads exactly like Kubernetes'. A rejection is
*unresolvable* when no amount of waiting for pods on that node to finish would help (wrong
labels, a taint, a cordon, or a request larger than the whole node); kube-scheduler calls
that ``UnschedulableAndUnresolvable``.

They run in kube-scheduler's default order, and only the first rejection of a node counts:
NodeUnschedulable, TaintToleration, NodeAffinity, VolumeBinding (with VolumeRestrictions),
NodeResourcesFit. (kube-scheduler runs the volume plugins after NodeResourcesFit; here they
are static filters — what a pod's volumes allow of a node does not change as it fills — so a
node that fails both is reported for its volumes.)
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

from berth.platform.resources.gpus import DEVICE_MILLI, GPU_MILLI
from berth.platform.resources.nodeselectors import labels_match, terms_match
from berth.platform.resources.taints import (
    NO_SCHEDULE,
    UNSCHEDULABLE,
    Taint,
    first_untolerated,
    tolerates,
)
from berth.scheduler.views import CPU, GPU, MEMORY, NodeView, PodRequest

REASON_UNSCHEDULABLE = "node(s) were unschedulable"
REASON_AFFINITY = "node(s) didn't match Pod's node affinity/selector"
REASON_TOO_MANY_PODS = "Too many pods"
REASON_RESERVED = "node(s) were reserved for a pod that has waited longer"
REASON_VOLUME_AFFINITY = "node(s) had volume node affinity conflict"
REASON_NO_VOLUME = "node(s) didn't find available persistent volumes to bind"
REASON_VOLUME_MISSING = "node(s) unavailable due to one or more pvc(s) bound to non-existent pv(s)"
REASON_ONCE_POD = (
    "node has pod using PersistentVolumeClaim with the same name and ReadWriteOncePod access mode"
)
REASON_ONCE_ELSEWHERE = (
    "node(s) didn't have the pod's ReadWriteOnce volume, which is in use on another node"
)


def untolerated_taint_reason(taint: Taint) -> str:
    return f"node(s) had untolerated taint {{{taint.key}: {taint.value}}}"


def insufficient(resource: str) -> str:
    return f"Insufficient {resource}"


@dataclass(frozen=True, slots=True)
class Rejection:
    reasons: tuple[str, ...]
    unresolvable: bool


FilterResult = Rejection | None
Filter = Callable[[PodRequest, NodeView], FilterResult]

_UNSCHEDULABLE = Rejection((REASON_UNSCHEDULABLE,), True)
_AFFINITY = Rejection((REASON_AFFINITY,), True)
_CORDON_TAINT = Taint(UNSCHEDULABLE, "", NO_SCHEDULE)


def node_unschedulable(pod: PodRequest, node: NodeView) -> FilterResult:
    """A cordoned node takes only pods that tolerate ``node.kubernetes.io/unschedulable``."""
    if not node.unschedulable:
        return None
    if any(tolerates(t, _CORDON_TAINT) for t in pod.tolerations):
        return None
    return _UNSCHEDULABLE


def taint_toleration(pod: PodRequest, node: NodeView) -> FilterResult:
    """NoSchedule and NoExecute taints block unless tolerated; PreferNoSchedule only scores."""
    taint = first_untolerated(node.taints, pod.tolerations)
    if taint is None:
        return None
    return Rejection((untolerated_taint_reason(taint),), True)


def node_affinity(pod: PodRequest, node: NodeView) -> FilterResult:
    """``nodeSelector`` (all labels equal) AND required node affinity (terms ORed)."""
    if pod.node_selector and not labels_match(pod.node_selector, node.labels):
        return _AFFINITY
    if pod.affinity is not None and not terms_match(pod.affinity, node.labels, node.name):
        return _AFFINITY
    return None


def volume_binding(pod: PodRequest, node: NodeView) -> FilterResult:
    """The pod's claims: their bound volumes' node affinity, a volume to bind (or provision)
    for each claim that waits for its first consumer, ReadWriteOnce volumes in use on one
    node, ReadWriteOncePod volumes in use at all."""
    volumes = pod.volumes
    if volumes is None:
        return None
    if volumes.exclusive_conflict:
        return Rejection((REASON_ONCE_POD,), True)
    if volumes.missing_volume:
        return Rejection((REASON_VOLUME_MISSING,), True)
    if volumes.pinned_node and node.name != volumes.pinned_node:
        return Rejection((REASON_ONCE_ELSEWHERE,), True)
    for terms in volumes.affinity:
        if not terms_match(terms, node.labels, node.name):
            return Rejection((REASON_VOLUME_AFFINITY,), True)
    for options in volumes.unbound:
        if not any(
            terms is None or terms_match(terms, node.labels, node.name) for terms in options
        ):
            return Rejection((REASON_NO_VOLUME,), True)
    return None


def _resource_checks(pod: PodRequest, node: NodeView) -> list[tuple[str, int, int, int]]:
    """``(resource, request, allocatable, requested)`` for every resource the pod asks for."""
    checks = []
    if pod.cpu:
        checks.append((CPU, pod.cpu, node.alloc_cpu, node.req_cpu))
    if pod.memory:
        checks.append((MEMORY, pod.memory, node.alloc_mem, node.req_mem))
    if pod.gpu:
        # Whole GPUs: devices entirely free (a device that is shared is not).
        checks.append((GPU, pod.gpu, node.alloc_gpu, node.alloc_gpu - node.free_gpus))
    if pod.gpu_milli:
        # A share: one device with room for it. "Allocatable" is one device.
        room = max(node.dev_free) if node.dev_free else 0
        size = DEVICE_MILLI if node.dev_free else 0
        checks.append((GPU_MILLI, pod.gpu_milli, size, size - room))
    for name, amount in pod.extended:
        checks.append((name, amount, node.alloc_ext.get(name, 0), node.req_ext.get(name, 0)))
    return checks


def node_resources_fit(pod: PodRequest, node: NodeView) -> FilterResult:
    """Every requested resource must fit in what is left; each shortfall is its own reason.

    Unresolvable when the request exceeds the node's whole allocatable (or the node takes no
    pods at all), as kube-scheduler's NodeResourcesFit reports it.
    """
    reasons = []
    unresolvable = False
    if node.pod_count + 1 > node.max_pods:
        reasons.append(REASON_TOO_MANY_PODS)
        unresolvable = node.max_pods < 1
    for resource, want, alloc, used in _resource_checks(pod, node):
        if want > alloc - used:
            reasons.append(insufficient(resource))
            unresolvable = unresolvable or want > alloc
    return Rejection(tuple(reasons), unresolvable) if reasons else None


def room_for(pod: PodRequest, node: NodeView) -> int:
    """How many more pods like ``pod`` the resources left on ``node`` take: never fewer than
    fit (GPU shares are counted over every device), which is what a queue moving pods for
    freed room needs; static filters are not consulted."""
    room = node.max_pods - node.pod_count
    for resource, want, alloc, used in _resource_checks(pod, node):
        if resource == GPU_MILLI:
            room = min(room, sum(free // want for free in node.dev_free))
        else:
            room = min(room, (alloc - used) // want)
    return max(room, 0)


def exceeds_allocatable(pod: PodRequest, node: NodeView) -> FilterResult:
    """The part of ``node_resources_fit`` that holds even for an empty node."""
    reasons = tuple(
        insufficient(resource)
        for resource, want, alloc, _ in _resource_checks(pod, node)
        if want > alloc
    )
    if node.max_pods < 1:
        reasons = (REASON_TOO_MANY_PODS,) + reasons
    return Rejection(reasons, True) if reasons else None


STATIC_FILTERS: tuple[Filter, ...] = (
    node_unschedulable,
    taint_toleration,
    node_affinity,
    volume_binding,
)
"""Filters whose answer depends only on what never changes about a node."""

FILTERS: tuple[Filter, ...] = STATIC_FILTERS + (node_resources_fit,)


def run_filters(
    pod: PodRequest, node: NodeView, filters: tuple[Filter, ...] = FILTERS
) -> FilterResult:
    """The first rejection, as kube-scheduler stops at the first failing plugin."""
    for check in filters:
        rejection = check(pod, node)
        if rejection is not None:
            return rejection
    return None


def static_rejection(pod: PodRequest, node: NodeView) -> FilterResult:
    """Everything that would reject ``pod`` on ``node`` even if the node were empty."""
    return run_filters(pod, node, STATIC_FILTERS) or exceeds_allocatable(pod, node)
