"""Each node's GPUs, device by device, as the node annotation ``berth.dev/gpu-allocation``.

A device plugin tells the kubelet which devices each container got; kubectl has no column
for that, but ``kubectl describe node`` prints the node's annotations, one line per line of a
multi-line value. So this reconciler, playing that part of the kubelet for real and simulated
nodes alike, writes on every node with GPUs one line per device::

    berth.dev/gpu-allocation:
      0 A100 1000/1000 team-a/train-0
      1 A100 750/1000 team-a/infer-1,team-b/notebook
      2 A100 0/1000 -

(device index, model from ``nvidia.com/gpu.product`` or ``-``, milli-GPUs allocated out of
1000, the pods on it). The devices are those the scheduler chose, read from each bound pod's
``berth.dev/gpu-devices`` annotation, and counted with the scheduler's own arithmetic
(``node_view``), so the annotation, the scheduler and the metrics agree.

Run it with ``ControllerManager.add(GpuAllocationReporter(client))``.
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Hashable, Iterable, Mapping
from typing import TYPE_CHECKING, Any, NamedTuple

from berth.platform.cache.informers import PODS_BY_NODE, Informer, InformerHub, node_name_of
from berth.platform.errors import Conflict, NotFound
from berth.platform.resources import registry
from berth.platform.resources.gpus import DEVICE_MILLI, GPU, asks_for_gpus
from berth.platform.resources.meta import dig
from berth.platform.resources.pods import is_terminal
from berth.scheduler.types import node_view, pod_request

if TYPE_CHECKING:
    from berth.platform.resources.types import Node, Pod

log = logging.getLogger(__name__)

ALLOCATION_ANNOTATION = "berth.dev/gpu-allocation"
PRODUCT_LABEL = "nvidia.com/gpu.product"


class DeviceUse(NamedTuple):
    index: int
    model: str
    used: int  # milli-GPUs allocated, 0..1000
    pods: tuple[str, ...]  # namespace/name of the pods on it


def device_allocation(node: Node, pods: Iterable[Pod]) -> list[DeviceUse]:
    """Every GPU device of ``node`` with what the live pods bound to it hold there."""
    live = [p for p in pods if not is_terminal(p)]
    requests = [pod_request(p, order=0.0) for p in live]
    view = node_view(node, requests)
    holders: dict[int, list[str]] = {i: [] for i in range(len(view.dev_free))}
    for request in requests:
        if request.uses_gpu:
            for device in view.devices_of(request.uid):
                holders[device].append(f"{request.namespace}/{request.name}")
    model = dig(node, "metadata", "labels", PRODUCT_LABEL) or "-"
    return [
        DeviceUse(i, model, DEVICE_MILLI - free, tuple(sorted(holders[i])))
        for i, free in enumerate(view.dev_free)
    ]


def format_allocation(devices: Iterable[DeviceUse]) -> str:
    return "\n".join(
        f"{d.index} {d.model} {d.used}/{DEVICE_MILLI} {','.join(d.pods) or '-'}" for d in devices
    )


def parse_allocation(value: str) -> list[DeviceUse]:
    """The annotation read back (tests, tools)."""
    out = []
    for line in value.splitlines():
        index, model, used, pods = line.split()
        out.append(
            DeviceUse(
                int(index),
                model,
                int(used.split("/")[0]),
                () if pods == "-" else tuple(pods.split(",")),
            )
        )
    return out


def reports_on(node: Mapping[str, Any]) -> bool:
    """A node with GPUs, or one still carrying the annotation (its GPUs went away)."""
    return GPU in (dig(node, "status", "capacity") or {}) or ALLOCATION_ANNOTATION in (
        dig(node, "metadata", "annotations") or {}
    )


def annotation_for(node: Node, pods: Iterable[Pod]) -> str | None:
    """The annotation's value for ``node``; None for a node without GPUs."""
    devices = device_allocation(node, pods)
    return format_allocation(devices) if devices else None


class GpuAllocationReporter:
    name = "gpu-allocation"

    def __init__(self, client) -> None:
        self.client = client
        self._nodes: Informer  # these are set by setup()
        self._pods: Informer

    def setup(self, hub: InformerHub, enqueue: Callable[[Hashable], None]) -> None:
        nodes = self._nodes = hub.informer(registry.NODE)
        pods = self._pods = hub.informer(registry.POD)
        pods.add_index(PODS_BY_NODE, node_name_of)

        # Only GPU nodes and GPU pods wake it: a CPU-only node's pods (the bulk of the pod
        # events in a busy cluster) never change a device's allocation.
        def on_node(_old: dict | None, new: dict | None) -> None:
            if new is not None and reports_on(new):
                enqueue(new["metadata"]["name"])

        def on_pod(old: dict | None, new: dict | None) -> None:
            for pod in (old, new):
                if (
                    pod is not None
                    and asks_for_gpus(pod)
                    and (node := dig(pod, "spec", "nodeName"))
                ):
                    enqueue(node)

        nodes.add_handler(on_node)
        pods.add_handler(on_pod)

    def reconcile(self, key: str) -> float | None:
        node = self._nodes.get("", key)
        if node is None:
            return None
        value = annotation_for(node, self._pods.by_index(PODS_BY_NODE, key))
        annotations = dig(node, "metadata", "annotations") or {}
        if annotations.get(ALLOCATION_ANNOTATION) == value:
            return None
        annotations = dict(annotations)
        if value is None:
            annotations.pop(ALLOCATION_ANNOTATION)
        else:
            annotations[ALLOCATION_ANNOTATION] = value
        try:
            self.client.update(
                registry.NODE,
                {**node, "metadata": {**node["metadata"], "annotations": annotations}},
                "",
                key,
            )
        except (Conflict, NotFound):
            pass  # a newer version (or the deletion) queues this key again
        return None
