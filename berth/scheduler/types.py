"""What the scheduler sees of a Pod and of a Node, built once from wire objects.

Units are integers the way kube-scheduler keeps them: CPU in millicores, memory and
ephemeral storage in bytes, GPUs and other extended resources as counts. GPUs are also kept
device by device (``devices.py``): whole GPUs (``nvidia.com/gpu``) take free devices, shares
(``berth.dev/gpu-milli``) take part of one.
"""

from __future__ import annotations

import sys
from collections.abc import Iterable
from dataclasses import dataclass, field
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
    Toleration,
    taint_of,
    toleration_of,
)
from berth.scheduler import devices as dev

if TYPE_CHECKING:
    from berth.platform.resources.types import Container, Node, Pod, PodSpec

CPU = "cpu"
MEMORY = "memory"
GPU = "nvidia.com/gpu"
PODS = "pods"
UNLIMITED_PODS = sys.maxsize


@dataclass(frozen=True, slots=True)
class VolumeConstraint:
    """What the pod's PersistentVolumeClaims ask of a node, worked out from the claims and
    volumes just before the pod is decided (see ``volumes.py``).

    ``error``: no node can take the pod (a claim missing, or unbound in Immediate mode), the
    message kube-scheduler's VolumeBinding PreFilter gives. ``affinity``: the node affinity of
    each bound volume, every one of which must match. ``unbound``: for each claim that waits
    for its first consumer, the node selectors of the volumes that could serve it (None: any
    node, as when the class provisions). ``pinned_node``: a ReadWriteOnce claim is in use by
    a pod on that node. ``exclusive_conflict``: a ReadWriteOncePod claim is in use by another
    pod. ``missing_volume``: a claim is bound to a volume that does not exist. ``select``:
    the claims to mark with the chosen node (``volume.kubernetes.io/selected-node``).
    """

    error: str = ""
    affinity: tuple[tuple[Term, ...], ...] = ()
    unbound: tuple[tuple[tuple[Term, ...] | None, ...], ...] = ()
    pinned_node: str = ""
    exclusive_conflict: bool = False
    missing_volume: bool = False
    select: tuple[str, ...] = ()

    @property
    def uses_node_name(self) -> bool:
        terms = [t for ts in self.affinity for t in ts]
        terms += [t for options in self.unbound for ts in options if ts for t in ts]
        return bool(self.pinned_node) or any(term.fields for term in terms)


@dataclass(frozen=True, slots=True)
class PodRequest:
    """A pending pod as the scheduler needs it.

    ``klass`` is the equivalence class: two pods with the same class pass and fail the same
    filters and score the same on every node, so one decision's work serves the other.
    ``gpu_milli``: a share of one GPU device (1..1000). ``scheduler``: the pod's
    ``schedulerName`` (its scoring profile). ``devices``: for a bound pod, the devices its
    annotation names (empty for pending pods).
    """

    namespace: str
    name: str
    uid: str
    cpu: int = 0
    memory: int = 0
    gpu: int = 0
    extended: tuple[tuple[str, int], ...] = ()
    node_selector: tuple[tuple[str, str], ...] = ()
    affinity: tuple[Term, ...] | None = None
    tolerations: tuple[Toleration, ...] = ()
    priority: int = 0
    order: float = 0.0
    gpu_milli: int = 0
    scheduler: str = ""
    devices: tuple[int, ...] = ()
    claims: tuple[str, ...] = ()
    volumes: VolumeConstraint | None = None
    constraints: tuple = field(init=False, repr=False, compare=False)
    klass: tuple = field(init=False, repr=False, compare=False)

    def __post_init__(self) -> None:
        constraints = (self.node_selector, self.affinity, self.tolerations, self.volumes)
        object.__setattr__(self, "constraints", constraints)
        object.__setattr__(
            self,
            "klass",
            (
                self.cpu,
                self.memory,
                self.gpu,
                self.extended,
                constraints,
                self.gpu_milli,
                self.scheduler,
            ),
        )

    @property
    def uses_gpu(self) -> bool:
        return bool(self.gpu or self.gpu_milli)

    @property
    def gpus(self) -> float:
        """GPUs asked for: whole ones plus the share (``gpu_milli`` / 1000)."""
        return self.gpu + self.gpu_milli / DEVICE_MILLI

    @property
    def uses_node_name(self) -> bool:
        """Affinity on ``metadata.name`` differs per node, so such pods skip group caches."""
        if self.volumes is not None and self.volumes.uses_node_name:
            return True
        return bool(self.affinity) and any(term.fields for term in self.affinity)


class NodeView:
    """A node's allocatable, what is already requested on it, and its static properties.

    Only the requested amounts change (``add``/``remove``); everything else is fixed, and
    ``static_key`` names it so nodes that differ only by load can share filter results.
    ``dev_free`` is the free milli-GPUs of each of its ``alloc_gpu`` devices; ``req_gpu``
    counts whole GPUs requested, ``req_milli`` the shares.
    """

    __slots__ = (
        "name",
        "alloc_cpu",
        "alloc_mem",
        "alloc_gpu",
        "alloc_ext",
        "max_pods",
        "req_cpu",
        "req_mem",
        "req_gpu",
        "req_milli",
        "req_ext",
        "pod_count",
        "labels",
        "taints",
        "unschedulable",
        "ready",
        "static_key",
        "dev_free",
        "_placed",
    )

    def __init__(
        self,
        name: str,
        *,
        cpu: int = 0,
        memory: int = 0,
        gpu: int = 0,
        extended: dict[str, int] | None = None,
        max_pods: int = UNLIMITED_PODS,
        labels: dict[str, str] | None = None,
        taints: tuple[Taint, ...] = (),
        unschedulable: bool = False,
        ready: bool = True,
    ) -> None:
        self.name = name
        self.alloc_cpu, self.alloc_mem, self.alloc_gpu = cpu, memory, gpu
        self.alloc_ext = dict(extended or {})
        self.max_pods = max_pods
        self.req_cpu = self.req_mem = self.req_gpu = self.req_milli = self.pod_count = 0
        self.req_ext: dict[str, int] = {}
        self.dev_free = [DEVICE_MILLI] * max(gpu, 0)
        self._placed: dict[str, list[tuple[int, ...]]] = {}
        self.labels = dict(labels or {})
        self.taints = tuple(taints)
        self.unschedulable = unschedulable
        self.ready = ready
        self.static_key = (
            cpu,
            memory,
            gpu,
            tuple(sorted(self.alloc_ext.items())),
            max_pods,
            tuple(sorted(self.labels.items())),
            self.taints,
            unschedulable,
        )

    def add(self, pod: PodRequest, devices: tuple[int, ...] | None = None) -> tuple[int, ...]:
        """Count ``pod`` here; a GPU pod on ``devices`` (else those it names, else the best
        fit). Returns the devices it was counted on."""
        self.req_cpu += pod.cpu
        self.req_mem += pod.memory
        self.req_gpu += pod.gpu
        self.req_milli += pod.gpu_milli
        self.pod_count += 1
        for key, value in pod.extended:
            self.req_ext[key] = self.req_ext.get(key, 0) + value
        if not (pod.uses_gpu and self.dev_free):
            return ()
        gpu, milli = pod.gpu, pod.gpu_milli
        chosen = devices if devices is not None else pod.devices
        if not dev.valid_devices(chosen, gpu, milli, len(self.dev_free)):
            chosen = dev.forced_devices(gpu, milli, self.dev_free)
        dev.take(self.dev_free, chosen, gpu, milli)
        self._placed.setdefault(pod.uid, []).append(chosen)
        return chosen

    def remove(self, pod: PodRequest) -> None:
        self.req_cpu -= pod.cpu
        self.req_mem -= pod.memory
        self.req_gpu -= pod.gpu
        self.req_milli -= pod.gpu_milli
        self.pod_count -= 1
        for key, value in pod.extended:
            self.req_ext[key] = self.req_ext.get(key, 0) - value
        placed = self._placed.get(pod.uid)
        if placed:
            dev.give_back(self.dev_free, placed.pop(), pod.gpu, pod.gpu_milli)
            if not placed:
                del self._placed[pod.uid]

    def devices_of(self, uid: str) -> tuple[int, ...]:
        placed = self._placed.get(uid)
        return placed[-1] if placed else ()

    @property
    def req_gpus(self) -> float:
        """GPUs requested here: whole ones plus the shares."""
        return self.req_gpu + self.req_milli / DEVICE_MILLI

    @property
    def free_gpus(self) -> int:
        """Whole devices free (what ``nvidia.com/gpu`` requests can take)."""
        if len(self.dev_free) != self.alloc_gpu:
            return self.alloc_gpu - self.req_gpu
        return dev.whole_free(self.dev_free)

    def free_key(self) -> tuple:
        """Free amounts; nodes of one static group with equal keys are interchangeable.
        ``[2]`` is the whole GPUs free, ``[5]`` each device's free share, sorted."""
        ext = tuple((k, v - self.req_ext.get(k, 0)) for k, v in sorted(self.alloc_ext.items()))
        return (
            self.alloc_cpu - self.req_cpu,
            self.alloc_mem - self.req_mem,
            self.free_gpus,
            self.pod_count < self.max_pods,
            ext,
            tuple(sorted(self.dev_free)),
        )

    def allocatable(self, resource: str) -> int:
        return _pick(resource, self.alloc_cpu, self.alloc_mem, self.alloc_gpu, self.alloc_ext)

    def requested(self, resource: str) -> int:
        return _pick(resource, self.req_cpu, self.req_mem, self.req_gpu, self.req_ext)

    def __repr__(self) -> str:
        return (
            f"NodeView({self.name!r}, cpu={self.req_cpu}/{self.alloc_cpu}, "
            f"memory={self.req_mem}/{self.alloc_mem}, gpu={self.req_gpu}/{self.alloc_gpu}, "
            f"devices={self.dev_free})"
        )


def _pick(resource: str, cpu: int, mem: int, gpu: int, ext: dict[str, int]) -> int:
    if resource == CPU:
        return cpu
    if resource == MEMORY:
        return mem
    if resource == GPU:
        return gpu
    return ext.get(resource, 0)


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
