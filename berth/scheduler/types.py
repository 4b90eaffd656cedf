"""The scheduler's view of a Pod and of a Node, built once from wire objects
(``pod_request``, ``node_view``); the views themselves are in ``views.py``, whose names this
module also gives for the code that imports them from here.
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import TYPE_CHECKING

from berth.platform.resources import quantity
from berth.platform.resources.gpus import DEVICE_MILLI, DEVICES_ANNOTATION, GPU_MILLI
from berth.platform.resources.meta import dig, parse_time
from berth.platform.resources.nodeselectors import Term, parse_terms
from berth.platform.resources.pods import is_terminal
from berth.platform.resources.taints import (
    NO_SCHEDULE,
    NOT_READY,
    UNREACHABLE,
    Taint,
    taint_of,
    toleration_of,
)
from berth.scheduler import devices as dev
from berth.scheduler.views import (
    CPU,
    GPU,
    MEMORY,
    PODS,
    UNLIMITED_PODS,
    NodeView,
    PodRequest,
    VolumeConstraint,
)

if TYPE_CHECKING:
    from berth.platform.resources.types import Container, Node, Pod, PodSpec

__all__ = [
    "CPU",
    "GPU",
    "MEMORY",
    "PODS",
    "UNLIMITED_PODS",
    "NodeView",
    "PodRequest",
    "VolumeConstraint",
    "claim_names",
    "node_view",
    "pod_request",
    "pod_requests",
]


# ---- building from wire objects -------------------------------------------------------


def _amount(resource: str, value: str | int | float) -> int:
    return quantity.to_milli(value) if resource == CPU else quantity.to_int(value)


def _container_requests(container: Container) -> dict[str, int]:
    """Requests, each defaulting to the limit when only a limit is given."""
    resources = container.get("resources") or {}
    merged = dict(resources.get("limits") or {})
    merged.update(resources.get("requests") or {})
    return {name: _amount(name, value) for name, value in merged.items()}


def _add(into: dict[str, int], more: dict[str, int]) -> None:
    for key, value in more.items():
        into[key] = into.get(key, 0) + value


def _max(into: dict[str, int], more: dict[str, int]) -> None:
    for key, value in more.items():
        if value > into.get(key, 0):
            into[key] = value


def pod_requests(spec: PodSpec) -> dict[str, int]:
    """Kubernetes' effective pod request: ``max(sum(containers) + sidecars, max(init))``.

    Init containers run one at a time before the app containers, so only the largest counts;
    restartable init containers (sidecars, ``restartPolicy: Always``) keep running, so they
    add to everything that starts after them. ``spec.overhead`` is added on top.
    """
    total: dict[str, int] = {}
    for container in spec.get("containers") or []:
        _add(total, _container_requests(container))
    sidecars: dict[str, int] = {}
    init_peak: dict[str, int] = {}
    for container in spec.get("initContainers") or []:
        requests = _container_requests(container)
        if container.get("restartPolicy") == "Always":
            _add(total, requests)
            _add(sidecars, requests)
            _max(init_peak, sidecars)
        else:
            during = dict(sidecars)
            _add(during, requests)
            _max(init_peak, during)
    _max(total, init_peak)
    _add(
        total, {name: _amount(name, value) for name, value in (spec.get("overhead") or {}).items()}
    )
    return total


def _terms(spec: PodSpec) -> tuple[Term, ...] | None:
    required = dig(
        spec, "affinity", "nodeAffinity", "requiredDuringSchedulingIgnoredDuringExecution"
    )
    if required is None:
        return None
    return parse_terms(required)


def claim_names(spec: PodSpec) -> tuple[str, ...]:
    """The PersistentVolumeClaims the pod mounts, each once."""
    names = []
    for volume in spec.get("volumes") or ():
        claim = (volume.get("persistentVolumeClaim") or {}).get("claimName")
        if claim and claim not in names:
            names.append(claim)
    return tuple(names)


def pod_request(pod: Pod, order: float | None = None) -> PodRequest:
    """The scheduler's view of ``pod``; ``order`` defaults to its creation time."""
    metadata = pod.get("metadata") or {}
    spec = pod.get("spec") or {}
    requests = pod_requests(spec)
    if order is None:
        created = metadata.get("creationTimestamp")
        order = parse_time(created).timestamp() if created else 0.0
    extended = tuple(
        sorted((k, v) for k, v in requests.items() if k not in (CPU, MEMORY, GPU, GPU_MILLI) and v)
    )
    tolerations = tuple(toleration_of(t) for t in spec.get("tolerations") or ())
    return PodRequest(
        namespace=metadata.get("namespace") or "",
        name=metadata.get("name") or "",
        uid=metadata.get("uid") or "",
        cpu=requests.get(CPU, 0),
        memory=requests.get(MEMORY, 0),
        gpu=requests.get(GPU, 0),
        extended=extended,
        node_selector=tuple(sorted((spec.get("nodeSelector") or {}).items())),
        affinity=_terms(spec),
        tolerations=tolerations,
        priority=int(spec.get("priority") or 0),
        order=float(order),
        gpu_milli=requests.get(GPU_MILLI, 0),
        scheduler=spec.get("schedulerName") or "",
        devices=dev.parse_devices((metadata.get("annotations") or {}).get(DEVICES_ANNOTATION)),
        claims=claim_names(spec),
    )


def _ready_taint(node: Node) -> Taint | None:
    """The taint the node lifecycle controller would add for a node that is not Ready."""
    for condition in dig(node, "status", "conditions", default=()):
        if condition.get("type") == "Ready":
            status = condition.get("status")
            if status == "True":
                return None
            if status == "Unknown":
                return Taint(UNREACHABLE, "", NO_SCHEDULE)
            return Taint(NOT_READY, "", NO_SCHEDULE)
    return Taint(NOT_READY, "", NO_SCHEDULE)


def node_view(node: Node, pods_on_node: Iterable[Pod | PodRequest] = ()) -> NodeView:
    """The scheduler's view of ``node`` with ``pods_on_node`` counted as requested.

    Terminal pods (Succeeded/Failed) hold nothing and are skipped, as kube-scheduler does.
    A node that is not Ready gets the ``not-ready`` (or ``unreachable``) NoSchedule taint
    the node lifecycle controller would have added, so the same taint filter rejects it.
    """
    status = node.get("status") or {}
    alloc = dict(status.get("capacity") or {})
    alloc.update(status.get("allocatable") or {})
    amounts = {name: _amount(name, value) for name, value in alloc.items()}
    taints = [taint_of(t) for t in dig(node, "spec", "taints", default=())]
    ready_taint = _ready_taint(node)
    if ready_taint and not any(t.key == ready_taint.key for t in taints):
        taints.append(ready_taint)
    extended = {k: v for k, v in amounts.items() if k not in (CPU, MEMORY, GPU, PODS, GPU_MILLI)}
    # Devices: one per nvidia.com/gpu; a node that advertises only shares has one per 1000.
    gpus = amounts.get(GPU, 0) or amounts.get(GPU_MILLI, 0) // DEVICE_MILLI
    view = NodeView(
        dig(node, "metadata", "name", default=""),
        cpu=amounts.get(CPU, 0),
        memory=amounts.get(MEMORY, 0),
        gpu=gpus,
        extended=extended,
        max_pods=amounts.get(PODS, UNLIMITED_PODS),
        labels=dig(node, "metadata", "labels"),
        taints=tuple(taints),
        unschedulable=bool(dig(node, "spec", "unschedulable")),
        ready=ready_taint is None,
    )
    for pod in pods_on_node:
        if isinstance(pod, dict):
            if is_terminal(pod):
                continue
            pod = pod_request(pod, order=0.0)
        view.add(pod)
    return view
