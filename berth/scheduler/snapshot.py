"""A snapshot of every node, indexed so a scheduling decision never scans all of them.

Nodes that share every static property (allocatable, labels, taints, cordon) form a
*group*: a pod passes or fails the static filters on the whole group at once. Inside a
group, nodes with the same free amounts form a *free class*: they fit and score alike for
every pod. A decision therefore looks at a few groups and their free classes, not at
thousands of nodes.

Every time a node enters a free class (after a placement, a removal, a new node, a released
reservation) the group, the class and its members are appended to ``log``, so a cached "best
class for this kind of pod" can be brought up to date by reading only what changed since
(see ``search.py``). A class keeps one members dict for as long as the log does (an emptied
class that comes back gets its dict back), so an entry whose members are empty is a class
no longer live, told without hashing its key: most of a log tail is such entries.

Placing a pod (``assume``) and taking it back (``forget``) are O(1).
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator
from typing import TYPE_CHECKING

from berth.scheduler.filters import (
    STATIC_FILTERS,
    FilterResult,
    exceeds_allocatable,
    run_filters,
)
from berth.scheduler.types import NodeView, PodRequest, node_view

if TYPE_CHECKING:
    from berth.platform.resources.types import Node, Pod

_STATIC_CACHE_LIMIT = 200_000


class NodeGroup:
    """Nodes alike in everything but their load. ``classes`` maps free amounts (see
    ``NodeView.free_key``) to the indexed nodes that have them; ``size`` also counts held
    nodes, which are out of the index."""

    __slots__ = ("gid", "key", "classes", "emptied", "size", "sample", "requested", "_scale")

    def __init__(self, gid: int, sample: NodeView) -> None:
        self.gid = gid
        self.key = sample.static_key
        self.classes: dict[tuple, dict[str, NodeView]] = {}
        # Classes emptied since the log was cleared -> their (empty) members dict.
        self.emptied: dict[tuple, dict[str, NodeView]] = {}
        self.size = 0
        self.sample = sample
        # Sum over its nodes of requested/allocatable of CPU, memory and GPUs.
        self.requested = 0.0
        self._scale = tuple(
            1.0 / a if a > 0 else 0.0
            for a in (sample.alloc_cpu, sample.alloc_mem, sample.alloc_gpu)
        )

    def share(self, cpu: int, memory: int, gpu: float) -> float:
        return cpu * self._scale[0] + memory * self._scale[1] + gpu * self._scale[2]

    @property
    def load(self) -> float:
        """Average share of a node's resources requested: used to open nodes in the least
        loaded group first when everything else ties, so pods that may only go to one
        group (a zone, a GPU model) still find room there."""
        return self.requested / self.size if self.size else 0.0

    def __repr__(self) -> str:
        return f"NodeGroup({self.gid}, size={self.size}, classes={len(self.classes)})"


class Snapshot:
    def __init__(self, nodes: Iterable[NodeView] = ()) -> None:
        self._nodes: dict[str, NodeView] = {}
        self._group_of: dict[str, NodeGroup] = {}
        self._key_of: dict[str, tuple] = {}
        self._groups: dict[tuple, NodeGroup] = {}
        self._held: set[str] = set()
        # pod class -> group id -> its static rejection; and pod constraints -> group id ->
        # the static filters' answer, which pod classes differing only in requests share.
        self._static: dict[tuple, dict[int, FilterResult]] = {}
        self._constrained: dict[tuple, dict[int, FilterResult]] = {}
        self._static_count = 0  # rejections remembered in ``_static``
        self._next_gid = 0
        self.log: list[tuple[NodeGroup, tuple, dict[str, NodeView]]] = []
        # GPUs, CPU and memory of every node and those requested on them (GPUs whole and
        # shares), kept as pods come and go: what admission (``admission.py``) weighs
        # without a pass over nodes.
        self.gpu_capacity = 0
        self.gpu_requested = 0.0
        self.cpu_capacity = 0
        self.cpu_requested = 0
        self.mem_capacity = 0
        self.mem_requested = 0
        for node in nodes:
            self.add_node(node)

    # ---- nodes --------------------------------------------------------------------------

    def add_node(self, node: NodeView) -> None:
        """Add ``node``, or replace the node of that name (its new view carries its load)."""
        if node.name in self._nodes:
            self.remove_node(node.name)
        group = self._groups.get(node.static_key)
        if group is None:
            self._next_gid += 1
            group = self._groups[node.static_key] = NodeGroup(self._next_gid, node)
        group.size += 1
        group.requested += group.share(node.req_cpu, node.req_mem, node.req_gpus)
        self._count_node(node, 1)
        self._nodes[node.name] = node
        self._group_of[node.name] = group
        self._index(node)

    def remove_node(self, name: str) -> None:
        node = self._nodes.pop(name)
        group = self._group_of.pop(name)
        if name in self._held:
            self._held.discard(name)
        else:
            self._unindex(node, group)
        group.size -= 1
        group.requested -= group.share(node.req_cpu, node.req_mem, node.req_gpus)
        self._count_node(node, -1)
        # The sample may be the removed node: it still stands for the group's static
        # properties, which is all it is used for.
        if group.size == 0:
            del self._groups[group.key]

    def _count_node(self, node: NodeView, sign: int) -> None:
        self.gpu_capacity += sign * node.alloc_gpu
        self.gpu_requested += sign * node.req_gpus
        self.cpu_capacity += sign * node.alloc_cpu
        self.cpu_requested += sign * node.req_cpu
        self.mem_capacity += sign * node.alloc_mem
        self.mem_requested += sign * node.req_mem

    def _count_pod(self, pod: PodRequest, sign: int) -> None:
        self.gpu_requested += sign * pod.gpus
        self.cpu_requested += sign * pod.cpu
        self.mem_requested += sign * pod.memory

    def node(self, name: str) -> NodeView:
        return self._nodes[name]

    def __contains__(self, name: object) -> bool:
        return name in self._nodes

    def __len__(self) -> int:
        return len(self._nodes)

    def __iter__(self) -> Iterator[NodeView]:
        return iter(self._nodes.values())

    @property
    def groups(self) -> Iterable[NodeGroup]:
        return self._groups.values()

    def group_of(self, name: str) -> NodeGroup:
        return self._group_of[name]

    def key_of(self, name: str) -> tuple | None:
        """The free class node ``name`` is indexed under; None while it is held."""
        return self._key_of.get(name)

    # ---- placements ---------------------------------------------------------------------

    def assume(
        self, pod: PodRequest, name: str, devices: tuple[int, ...] | None = None
    ) -> tuple[int, ...]:
        """Count ``pod`` on node ``name`` (a placement the caller is about to bind), a GPU
        pod on ``devices`` (default: those it names, else the best fit); returns them."""
        node = self._nodes[name]
        group = self._group_of[name]
        indexed = name not in self._held
        if indexed:
            self._unindex(node, group)
        chosen = node.add(pod, devices)
        group.requested += group.share(pod.cpu, pod.memory, pod.gpus)
        self._count_pod(pod, 1)
        if indexed:
            self._index(node)
        return chosen

    def forget(self, pod: PodRequest, name: str) -> None:
        """Undo ``assume``, or account for a pod that finished or was deleted."""
        node = self._nodes[name]
        group = self._group_of[name]
        indexed = name not in self._held
        if indexed:
            self._unindex(node, group)
        node.remove(pod)
        group.requested -= group.share(pod.cpu, pod.memory, pod.gpus)
        self._count_pod(pod, -1)
        if indexed:
            self._index(node)

    # ---- reservations -------------------------------------------------------------------

    def hold(self, name: str) -> None:
        """Take ``name`` out of the index: ordinary searches no longer see it."""
        if name not in self._held:
            self._unindex(self._nodes[name], self._group_of[name])
            self._held.add(name)

    def release(self, name: str) -> None:
        if name in self._held:
            self._held.discard(name)
            self._index(self._nodes[name])

    @property
    def held(self) -> frozenset[str]:
        return frozenset(self._held)

    def is_held(self, name: str) -> bool:
        return name in self._held

    # ---- cached static filtering --------------------------------------------------------

    def static_rejection(self, pod: PodRequest, group: NodeGroup) -> FilterResult:
        """``filters.static_rejection`` for the whole group, computed once per pod class
        (its static filters once per pod constraints: they read nothing else of the pod).

        Not valid for pods whose affinity names nodes (``PodRequest.uses_node_name``)."""
        by_group = self._rejections(pod)
        try:
            return by_group[group.gid]
        except KeyError:
            return self._reject(pod, group, by_group, self._constraint_rejections(pod))

    def admitting_groups(self, pod: PodRequest) -> list[NodeGroup]:
        """The groups ``static_rejection`` passes ``pod`` on, in ``groups`` order (its class
        and constraints hashed once, not once per group: they hold affinity terms)."""
        by_group = self._rejections(pod)
        constrained: dict[int, FilterResult] | None = None
        admitting = []
        for group in self._groups.values():
            try:
                rejection = by_group[group.gid]
            except KeyError:
                if constrained is None:
                    constrained = self._constraint_rejections(pod)
                rejection = self._reject(pod, group, by_group, constrained)
            if rejection is None:
                admitting.append(group)
        return admitting

    def _rejections(self, pod: PodRequest) -> dict[int, FilterResult]:
        """Group id -> ``static_rejection`` for the pod's class, as far as known."""
        by_group = self._static.get(pod.klass)
        if by_group is None:
            if self._static_count >= _STATIC_CACHE_LIMIT:
                self._static.clear()
                self._constrained.clear()
                self._static_count = 0
            by_group = self._static[pod.klass] = {}
        return by_group

    def _constraint_rejections(self, pod: PodRequest) -> dict[int, FilterResult]:
        """Group id -> the static filters' answer for the pod's constraints, as far as known."""
        constrained = self._constrained.get(pod.constraints)
        if constrained is None:
            constrained = self._constrained[pod.constraints] = {}
        return constrained

    def _reject(
        self,
        pod: PodRequest,
        group: NodeGroup,
        by_group: dict[int, FilterResult],
        constrained: dict[int, FilterResult],
    ) -> FilterResult:
        try:
            rejection = constrained[group.gid]
        except KeyError:
            rejection = constrained[group.gid] = run_filters(pod, group.sample, STATIC_FILTERS)
        result = by_group[group.gid] = rejection or exceeds_allocatable(pod, group.sample)
        self._static_count += 1
        return result

    def clear_log(self) -> None:
        """Forget the change log; caches built on it (one cycle's) must go with it."""
        self.log.clear()
        for group in self._groups.values():
            group.emptied.clear()

    # ---- index --------------------------------------------------------------------------

    def _index(self, node: NodeView) -> None:
        group = self._group_of[node.name]
        key = node.free_key()
        members = group.classes.get(key)
        if members is None:
            members = group.emptied.pop(key, None)
            if members is None:
                members = {}
            group.classes[key] = members
        members[node.name] = node
        self._key_of[node.name] = key
        self.log.append((group, key, members))

    def _unindex(self, node: NodeView, group: NodeGroup) -> None:
        key = self._key_of.pop(node.name)
        members = group.classes[key]
        del members[node.name]
        if not members:
            del group.classes[key]
            group.emptied[key] = members


def snapshot_from_objects(nodes: Iterable[Node], pods: Iterable[Pod]) -> Snapshot:
    """A snapshot of ``nodes`` with every bound, non-terminal pod counted on its node."""
    by_node: dict[str, list[Pod]] = {}
    for pod in pods:
        name = (pod.get("spec") or {}).get("nodeName")
        if name:
            by_node.setdefault(name, []).append(pod)
    return Snapshot(
        node_view(node, by_node.get((node.get("metadata") or {}).get("name", ""), ()))
        for node in nodes
    )
