"""A scheduler on a real store: informers, the scheduler loop and the simulated kubelet.

``SimCluster`` runs them as ``berth up`` would, on a Platform of its own (SQLite or
PostgreSQL), and can restart the scheduler side (a new hub, a new loop, a new kubelet) on the
same database. Builders make wire-shaped simulated Node and Pod manifests.
"""

from __future__ import annotations

from collections.abc import Callable

from berth.platform.cache.informers import InformerHub
from berth.platform.controllers.manager import ControllerManager
from berth.platform.resources import registry
from berth.platform.runtime import Platform
from berth.scheduler.loop import SchedulerLoop
from berth.workers.control.simulated import SIMULATED_LABEL, SimulatedKubelet
from tests.support import wait_for

NS = "default"


def node_manifest(
    name: str,
    *,
    cpu: str = "32",
    memory: str = "256Gi",
    gpu: int = 0,
    pods: str = "110",
    labels: dict | None = None,
    unschedulable: bool = False,
    ready: str | None = None,
) -> dict:
    """A simulated node as a person would ``kubectl apply`` it: capacity only. ``ready``
    sets a Ready condition (None: none, the simulated kubelet adds Ready=True)."""
    capacity = {"cpu": cpu, "memory": memory, "pods": pods}
    if gpu:
        capacity["nvidia.com/gpu"] = str(gpu)
    node = {
        "apiVersion": "v1",
        "kind": "Node",
        "metadata": {"name": name, "labels": {SIMULATED_LABEL: "true", **(labels or {})}},
        "spec": {"unschedulable": True} if unschedulable else {},
        "status": {"capacity": capacity},
    }
    if ready is not None:
        node["status"]["conditions"] = [{"type": "Ready", "status": ready}]
    return node


def pod_manifest(
    name: str,
    *,
    cpu: str | None = "1",
    memory: str | None = "1Gi",
    gpu: int = 0,
    selector: dict | None = None,
    node_name: str | None = None,
) -> dict:
    requests = {k: v for k, v in (("cpu", cpu), ("memory", memory)) if v is not None}
    resources: dict = {"requests": requests}
    if gpu:
        resources["limits"] = {"nvidia.com/gpu": str(gpu)}
    spec: dict = {
        "containers": [
            {
                "name": "main",
                "image": "busybox",
                "command": ["sleep", "infinity"],
                "resources": resources,
            }
        ]
    }
    if selector:
        spec["nodeSelector"] = selector
    if node_name:
        spec["nodeName"] = node_name
    return {
        "apiVersion": "v1",
        "kind": "Pod",
        "metadata": {"name": name, "namespace": NS},
        "spec": spec,
    }


class SimCluster:
    def __init__(
        self,
        platform: Platform,
        *,
        bind_workers: int = 4,
        kubelet_workers: int = 4,
        controllers: Callable[[Platform], list] = lambda platform: [],
    ) -> None:
        self.platform = platform
        self.controllers = controllers
        self.client = platform.client
        self.bind_workers = bind_workers
        self.kubelet_workers = kubelet_workers
        self.hub: InformerHub | None = None
        self.manager: ControllerManager | None = None
        self.loop: SchedulerLoop | None = None

    # -- lifecycle ------------------------------------------------------------------------
    def start(self) -> SimCluster:
        self.hub = InformerHub(self.client, self.platform.feed)
        self.manager = ControllerManager(self.hub)
        self.manager.add(SimulatedKubelet(self.client), workers=self.kubelet_workers)
        for reconciler in self.controllers(self.platform):
            self.manager.add(reconciler)
        self.loop = SchedulerLoop(
            self.client,
            self.hub,
            self.platform.recorder("default-scheduler"),
            self.platform.settings,
            bind_workers=self.bind_workers,
        )
        self.hub.start()
        self.manager.start()
        self.loop.start()
        if not self.hub.synced.wait(20):
            raise AssertionError("informers never synced")
        return self

    def stop(self) -> None:
        if self.loop is not None:
            self.loop.stop()
        if self.manager is not None:
            self.manager.stop()
        if self.hub is not None:
            self.hub.stop()
        self.loop = self.manager = self.hub = None

    def restart(self) -> SimCluster:
        self.stop()
        return self.start()

    # -- objects --------------------------------------------------------------------------
    def add_node(self, name: str, *, wait_ready: bool = True, **kwargs) -> dict:
        node = self.client.create(registry.NODE, node_manifest(name, **kwargs))
        if wait_ready and kwargs.get("ready") is None:
            wait_for(
                lambda: _is_ready(self.client.get(registry.NODE, "", name)),
                what=f"node {name} Ready",
            )
        return node

    def add_pod(self, name: str, **kwargs) -> dict:
        return self.client.create(registry.POD, pod_manifest(name, **kwargs), NS)

    def pod(self, name: str) -> dict:
        return self.client.get(registry.POD, NS, name)

    def node_of(self, name: str) -> str | None:
        return self.pod(name)["spec"].get("nodeName")

    def wait_running(self, name: str, timeout: float = 20.0) -> dict:
        return wait_for(lambda: _running(self.pod(name)), timeout, f"pod {name} Running")

    def wait_unschedulable(self, name: str, timeout: float = 20.0) -> dict:
        """The pod once it carries ``PodScheduled=False``; returns the condition."""
        return wait_for(
            lambda: _scheduled_false(self.pod(name)), timeout, f"pod {name} PodScheduled=False"
        )

    def events_for(self, name: str, reason: str | None = None) -> list[dict]:
        return [
            e
            for e in self.client.list(registry.EVENT, NS).items
            if e["involvedObject"].get("name") == name and (reason is None or e["reason"] == reason)
        ]


def _is_ready(node: dict) -> bool:
    return any(
        c.get("type") == "Ready" and c.get("status") == "True"
        for c in (node.get("status") or {}).get("conditions") or []
    )


def _running(pod: dict) -> dict | None:
    return pod if (pod.get("status") or {}).get("phase") == "Running" else None


def _scheduled_false(pod: dict) -> dict | None:
    for condition in (pod.get("status") or {}).get("conditions") or []:
        if condition.get("type") == "PodScheduled" and condition.get("status") == "False":
            return condition
    return None
