"""What the scheduler sees of a Pod and of a Node: ``PodRequest`` and ``NodeView`` (built from
wire objects in ``types.py``).

Units are integers the way kube-scheduler keeps them: CPU in millicores, memory and
ephemeral storage in bytes, GPUs and other extended resources as counts. GPUs are also kept
device by device (``devices.py``): whole GPUs (``nvidia.com/gpu``) take free devices, shares
(``berth.dev/gpu-milli``) take part of one.
"""

from __future__ import annotations

import sys
from dataclasses import dataclass, field

from berth.platform.resources.gpus import DEVICE_MILLI
from berth.platform.resources.nodeselectors import Term
from berth.platform.resources.taints import Taint, Toleration
from berth.scheduler import devices as dev

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
