"""Builders for scheduler tests: wire-shaped Pod and Node dicts, and the views made from them.

``a_pod("p", cpu="500m", gpu=1, selector={"gpu": "nvidia"})`` is a ``PodRequest`` built by
``pod_request`` from a real Pod dict; ``a_node("n1", cpu="8", gpu=8)`` a ``NodeView`` built by
``node_view`` from a real Node dict. Imported by the test files next to it.
"""

from __future__ import annotations

from berth.scheduler.types import NodeView, PodRequest, node_view, pod_request


def pod_obj(
    name: str = "p",
    *,
    cpu: str | None = "100m",
    memory: str | None = "128Mi",
    gpu: int = 0,
    extended: dict | None = None,
    selector: dict | None = None,
    terms: list | None = None,
    tolerations: list | None = None,
    priority: int = 0,
    uid: str | None = None,
    namespace: str = "default",
) -> dict:
    requests: dict = {}
    if cpu is not None:
        requests["cpu"] = cpu
    if memory is not None:
        requests["memory"] = memory
    requests.update(extended or {})
    limits = {"nvidia.com/gpu": str(gpu)} if gpu else {}
    spec: dict = {
        "containers": [
            {
                "name": "main",
                "image": "busybox",
                "resources": {"requests": requests, "limits": limits},
            }
        ]
    }
    if selector:
        spec["nodeSelector"] = selector
    if terms is not None:
        spec["affinity"] = {
            "nodeAffinity": {
                "requiredDuringSchedulingIgnoredDuringExecution": {"nodeSelectorTerms": terms}
            }
        }
    if tolerations:
        spec["tolerations"] = tolerations
    if priority:
        spec["priority"] = priority
    return {
        "apiVersion": "v1",
        "kind": "Pod",
        "metadata": {"name": name, "namespace": namespace, "uid": uid or f"uid-{name}"},
        "spec": spec,
    }


def a_pod(name: str = "p", *, order: float = 0.0, **kwargs) -> PodRequest:
    return pod_request(pod_obj(name, **kwargs), order=order)


def node_obj(
    name: str = "n",
    *,
    cpu: str = "8",
    memory: str = "32Gi",
    gpu: int = 0,
    pods: str | None = "110",
    labels: dict | None = None,
    taints: list | None = None,
    unschedulable: bool = False,
    ready: str | None = "True",
    extended: dict | None = None,
) -> dict:
    allocatable = {"cpu": cpu, "memory": memory}
    if gpu:
        allocatable["nvidia.com/gpu"] = str(gpu)
    if pods is not None:
        allocatable["pods"] = pods
    allocatable.update(extended or {})
    node: dict = {
        "apiVersion": "v1",
        "kind": "Node",
        "metadata": {"name": name, "labels": dict(labels or {})},
        "spec": {},
        "status": {"allocatable": allocatable, "capacity": dict(allocatable)},
    }
    if taints:
        node["spec"]["taints"] = taints
    if unschedulable:
        node["spec"]["unschedulable"] = True
    if ready is not None:
        node["status"]["conditions"] = [{"type": "Ready", "status": ready}]
    return node


def a_node(name: str = "n", *, running: tuple[PodRequest, ...] = (), **kwargs) -> NodeView:
    return node_view(node_obj(name, **kwargs), running)


def taint(key: str, value: str = "", effect: str = "NoSchedule") -> dict:
    return {"key": key, "value": value, "effect": effect}


def toleration(key: str = "", operator: str = "Equal", value: str = "", effect: str = "") -> dict:
    out = {"operator": operator}
    if key:
        out["key"] = key
    if value:
        out["value"] = value
    if effect:
        out["effect"] = effect
    return out


def expr(key: str, operator: str, *values: str) -> dict:
    out: dict = {"key": key, "operator": operator}
    if values:
        out["values"] = list(values)
    return out
