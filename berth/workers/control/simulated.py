"""Simulated nodes, like KWOK: Nodes that exist only in the store, with a kubelet that pretends.

A Node registered through the API with the label ``berth.dev/simulated: "true"`` runs no
agent. Its capacity is whatever the manifest says (``status.capacity`` / ``allocatable``),
and the scheduler places pods on it like on any other node. This reconciler plays its
kubelet:

* a simulated Node with no ``Ready`` condition gets ``Ready=True`` (as KWOK's node stage
  does), so a bare manifest is schedulable at once; and a ``nodeInfo`` if it has none. A
  ``Ready`` condition already there is left alone: writing ``Ready=False`` through the
  status subresource is how a test takes a simulated node out of service;
* a pod bound to a simulated node is Running at once (every init container completed,
  every container running and ready) and stays Running until it is deleted;
* a pod on a simulated node that is being deleted is removed at once (grace period 0), as a
  kubelet confirms a deletion once its containers have stopped.

Run it with ``ControllerManager.add(SimulatedKubelet(client), workers=...)``.
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Hashable
from datetime import datetime
from typing import TypeGuard

from berth.platform.cache.informers import PODS_BY_NODE, Informer, InformerHub, node_name_of
from berth.platform.errors import Conflict, NotFound
from berth.platform.resources import registry
from berth.platform.resources.meta import dig, rfc3339, utcnow
from berth.platform.store.client import Client
from berth.platform.version import KUBERNETES_VERSION
from berth.workers.status import ContainerState, PodView, pod_status, qos_class

log = logging.getLogger(__name__)

SIMULATED_LABEL = "berth.dev/simulated"
_POD, _NODE = "pod", "node"
NODE_INFO = {
    "kubeletVersion": KUBERNETES_VERSION,
    "containerRuntimeVersion": "simulated",
    "operatingSystem": "linux",
    "architecture": "amd64",
    "osImage": "simulated",
    "kernelVersion": "simulated",
}


def is_simulated(node: dict | None) -> TypeGuard[dict]:
    return node is not None and dig(node, "metadata", "labels", SIMULATED_LABEL) == "true"


def node_status(node: dict, now: str) -> dict | None:
    """The node's status with what a kubelet would have reported: ``Ready=True`` when there
    is no Ready condition, ``nodeInfo`` when there is none. None: nothing to add."""
    status = dict(node.get("status") or {})
    conditions = list(status.get("conditions") or [])
    changed = False
    if not any(c.get("type") == "Ready" for c in conditions):
        conditions.append(
            {
                "type": "Ready",
                "status": "True",
                "reason": "KubeletReady",
                "message": "kubelet is posting ready status (simulated)",
                "lastHeartbeatTime": now,
                "lastTransitionTime": now,
            }
        )
        status["conditions"] = conditions
        changed = True
    if not status.get("nodeInfo"):
        status["nodeInfo"] = dict(NODE_INFO)
        changed = True
    return status if changed else None


def internal_ip(node: dict) -> str | None:
    for address in dig(node, "status", "addresses", default=()):
        if address.get("type") == "InternalIP" and address.get("address"):
            return address["address"]
    return None


def running_status(pod: dict, node: dict, now: str) -> dict:
    """The status a kubelet reports once every container of ``pod`` has started."""
    spec = pod.get("spec") or {}
    status = pod.get("status") or {}
    container_id = f"simulated://{dig(pod, 'metadata', 'uid', default='')}"
    init = []
    for container in spec.get("initContainers") or []:
        state = ContainerState(container["name"], image=container.get("image", ""))
        state.set_terminated(0, "Completed", None, now, started_at=now)
        state.container_id = f"{container_id}/{container['name']}"
        init.append(state)
    regular = []
    for container in spec.get("containers") or []:
        state = ContainerState(container["name"], image=container.get("image", ""))
        state.set_running(now, f"{container_id}/{container['name']}")
        regular.append(state)
    ip = internal_ip(node)
    view = PodView(
        spec.get("restartPolicy") or "Always",
        ip or "",
        start_time=status.get("startTime") or now,
        sandbox_ready=True,
        conditions=status.get("conditions") or [],
        qos=status.get("qosClass") or qos_class(pod),
    )
    out = pod_status(view, init, regular, now)
    if ip is None:
        # A simulated node without an address has no network to give its pods.
        for key in ("hostIP", "hostIPs", "podIP", "podIPs"):
            out.pop(key, None)
    return out


class SimulatedKubelet:
    name = "simulated-kubelet"

    def __init__(self, client: Client, clock: Callable[[], datetime] = utcnow) -> None:
        self.client = client
        self.clock = clock
        self._nodes: Informer  # set by setup()
        self._pods: Informer  # set by setup()

    def setup(self, hub: InformerHub, enqueue: Callable[[Hashable], None]) -> None:
        nodes = self._nodes = hub.informer(registry.NODE)
        pods = self._pods = hub.informer(registry.POD)
        pods.add_index(PODS_BY_NODE, node_name_of)

        def on_node(old: dict | None, new: dict | None) -> None:
            if not is_simulated(new):
                return
            name = new["metadata"]["name"]
            enqueue((_NODE, name))
            if not is_simulated(old):
                # Pods listed before their node (a restart) are looked at now.
                for pod in pods.by_index(PODS_BY_NODE, name):
                    enqueue((_POD, pod["metadata"]["namespace"], pod["metadata"]["name"]))

        def on_pod(_old: dict | None, new: dict | None) -> None:
            if new is None:
                return
            node = dig(new, "spec", "nodeName")
            if node and is_simulated(nodes.get("", node)):
                enqueue((_POD, new["metadata"]["namespace"], new["metadata"]["name"]))

        nodes.add_handler(on_node)
        pods.add_handler(on_pod)

    def reconcile(self, key: tuple) -> float | None:
        try:
            if key[0] == _NODE:
                self._sync_node(key[1])
            else:
                self._sync_pod(key[1], key[2])
        except Conflict:
            pass  # a newer version exists; its change queues this key again
        return None

    def _sync_node(self, name: str) -> None:
        node = self._nodes.get("", name)
        if not is_simulated(node):
            return
        status = node_status(node, rfc3339(self.clock()))
        if status is not None:
            self.client.update(
                registry.NODE, {**node, "status": status}, "", name, subresource="status"
            )

    def _sync_pod(self, namespace: str, name: str) -> None:
        pod = self._pods.get(namespace, name)
        if pod is None:
            return
        node = self._nodes.get("", dig(pod, "spec", "nodeName") or "")
        if not is_simulated(node):
            return
        if dig(pod, "metadata", "deletionTimestamp"):
            try:
                self.client.delete(
                    registry.POD,
                    namespace,
                    name,
                    grace_period_seconds=0,
                    preconditions={"uid": pod["metadata"]["uid"]},
                )
            except NotFound:
                pass
            return
        if dig(pod, "status", "phase") in ("Running", "Succeeded", "Failed"):
            return
        status = running_status(pod, node, rfc3339(self.clock()))
        self.client.update(
            registry.POD, {**pod, "status": status}, namespace, name, subresource="status"
        )
