"""The worker pool: Ray's nodes as Kubernetes Nodes, and one agent on each live node.

``node_objects`` and ``node_object`` need only what ``ray.nodes()`` returns (``node_object`` is
pure, for tests); ``ensure_agents`` needs a connected Ray driver. Neither needs the store.
"""

from __future__ import annotations

import re
from typing import Any

import ray
from ray.util.scheduling_strategies import NodeAffinitySchedulingStrategy

from berth.platform.resources import quantity
from berth.platform.resources.gpus import DEVICE_MILLI, GPU_MILLI
from berth.platform.resources.taints import NO_SCHEDULE, UNREACHABLE
from berth.platform.version import KUBERNETES_VERSION
from berth.settings import Settings
from berth.workers.control.local_ray import start_local_ray, stop_local_ray  # noqa: F401  (re-export)
from berth.workers.node.agent import NodeAgentActor
from berth.workers.node.restarts import RESTART_BACKOFF_BASE_S, RESTART_BACKOFF_CAP_S
from berth.workers.node.sandboxcheck import UNKNOWN_RUNTIME

AGENT_NAMESPACE = "berth"
AGENT_MAX_CONCURRENCY = 64
NODE_ID_ANNOTATION = "berth.dev/ray-node-id"
_NODE_NAME_LABEL = "ray.io/node-name"
_SKIP_RESOURCES = ("CPU", "GPU", "memory", "object_store_memory")
_LABEL_VALUE = re.compile(r"^(([A-Za-z0-9][-A-Za-z0-9_.]*)?[A-Za-z0-9])?$")
_DNS_LABEL = re.compile(r"[^a-z0-9-]+")


def agent_name(node_id: str) -> str:
    return f"berth-agent-{node_id[:12]}"


def alive_nodes() -> list[dict]:
    return [n for n in ray.nodes() if n.get("Alive")]


def ensure_agents(
    root: str,
    *,
    hide: list[str] | None = None,
    backoff_base: float = RESTART_BACKOFF_BASE_S,
    backoff_cap: float = RESTART_BACKOFF_CAP_S,
    bwrap: str | None = "auto",
    nodes: list[dict] | None = None,
    launch_here: bool = False,
) -> dict[str, Any]:
    """One agent per live node (created if missing, found if running); by node id.

    ``root``: directory on each node for logs and pod state (a per-node folder is made under
    it). ``hide``: host paths no container may see (the data directory, Ray's temp dir).
    ``launch_here``: the agents run CPU-only pods themselves (``agent_launches_pods``)."""
    handles = {}
    for node in nodes if nodes is not None else alive_nodes():
        node_id = node["NodeID"]
        handles[node_id] = NodeAgentActor.options(
            name=agent_name(node_id),
            namespace=AGENT_NAMESPACE,
            lifetime="detached",
            get_if_exists=True,
            num_cpus=0,
            max_concurrency=AGENT_MAX_CONCURRENCY,
            max_restarts=0,
            scheduling_strategy=NodeAffinitySchedulingStrategy(node_id, soft=False),
        ).remote(
            node_id,
            root,
            hide=hide,
            backoff_base=backoff_base,
            backoff_cap=backoff_cap,
            bwrap=bwrap,
            launch_here=launch_here,
        )
    return handles


def node_name(ray_node: dict) -> str:
    """Stable and DNS-safe: the ``ray.io/node-name`` label if set, else ``ray-<id[:12]>``."""
    given = (ray_node.get("Labels") or {}).get(_NODE_NAME_LABEL)
    if given:
        return _DNS_LABEL.sub("-", given.lower()).strip("-")[:63] or "ray"
    return f"ray-{ray_node['NodeID'][:12]}"


def _amount(value: float) -> str:
    return str(int(value)) if float(value).is_integer() else str(value)


def _capacity(resources: dict[str, float]) -> dict[str, str]:
    out = {
        "cpu": quantity.format_milli(int(round(resources.get("CPU", 0) * 1000))),
        "memory": quantity.format_bytes(int(resources.get("memory", 0))),
        "pods": "110",
    }
    if resources.get("GPU"):
        out["nvidia.com/gpu"] = _amount(resources["GPU"])
        # Shares of a GPU, 1000 per device (see berth/scheduler/devices.py).
        out[GPU_MILLI] = str(int(resources["GPU"]) * DEVICE_MILLI)
    for name, value in sorted(resources.items()):
        if name in _SKIP_RESOURCES or name.startswith(("node:", "accelerator_type:")):
            continue
        out[f"ray.io/{name}"] = _amount(value)
    return out


def _accelerator(ray_node: dict) -> str | None:
    for name in ray_node.get("Resources") or {}:
        if name.startswith("accelerator_type:"):
            return name.split(":", 1)[1]
    return (ray_node.get("Labels") or {}).get("ray.io/accelerator-type")


def sandbox_condition(runtime: dict | None) -> dict:
    """The ``SandboxReady`` condition from what the node's agent found (None: not asked yet)."""
    if runtime is None:
        return {
            "type": "SandboxReady",
            "status": "Unknown",
            "reason": "AgentNotAnswered",
            "message": "The node agent has not reported its sandbox yet",
        }
    if runtime.get("sandboxed"):
        return {
            "type": "SandboxReady",
            "status": "True",
            "reason": "BubblewrapWorks",
            "message": f"Pods run in a bubblewrap sandbox ({runtime.get('path')})",
        }
    return {
        "type": "SandboxReady",
        "status": "False",
        "reason": "BubblewrapUnavailable",
        "message": f"{runtime.get('problem')}. Pods with volume mounts or their own "
        f"hostname fail here; other pods run unsandboxed",
    }


def _fact_labels(facts: dict) -> dict[str, str]:
    """``kubernetes.io/os`` and ``/arch`` (and their beta twins) for the facts a node's agent
    reported; none while they are unknown."""
    labels = {}
    for fact, key in (("operatingSystem", "os"), ("architecture", "arch")):
        if facts.get(fact):
            labels[f"kubernetes.io/{key}"] = labels[f"beta.kubernetes.io/{key}"] = facts[fact]
    return labels


def node_object(ray_node: dict, settings: Settings, runtime: dict | None = None) -> dict:
    """The Kubernetes ``Node`` of one entry of ``ray.nodes()``; ``runtime`` is what its agent
    reported: its sandbox (``SandboxRuntime.info()``) and, under ``facts``, its host
    (``nodefacts.read()``); None while unknown."""
    name = node_name(ray_node)
    resources = ray_node.get("Resources") or {}
    labels = {
        k: v
        for k, v in (ray_node.get("Labels") or {}).items()
        if isinstance(v, str) and len(v) <= 63 and _LABEL_VALUE.match(v)
    }
    facts = (runtime or {}).get("facts") or {}
    labels["kubernetes.io/hostname"] = name
    labels.update(_fact_labels(facts))
    accelerator = _accelerator(ray_node)
    if resources.get("GPU"):
        labels["nvidia.com/gpu.count"] = _amount(resources["GPU"])
        if accelerator:
            labels["nvidia.com/gpu.product"] = accelerator
    labels.update(settings.node_labels)
    alive = bool(ray_node.get("Alive"))
    ip = ray_node.get("NodeManagerAddress") or ""
    capacity = _capacity(resources)
    ready = {
        "type": "Ready",
        "status": "True" if alive else "Unknown",
        "reason": "KubeletReady" if alive else "NodeStatusUnknown",
        "message": "Berth agent on Ray node is ready"
        if alive
        else "Ray reports the node dead: " + (ray_node.get("DeathReasonMessage") or ""),
    }
    node = {
        "apiVersion": "v1",
        "kind": "Node",
        "metadata": {
            "name": name,
            "labels": labels,
            "annotations": {NODE_ID_ANNOTATION: ray_node["NodeID"]},
        },
        "spec": {"providerID": f"ray://{ray_node['NodeID']}"},
        "status": {
            "capacity": capacity,
            "allocatable": dict(capacity),
            "conditions": [ready, sandbox_condition(runtime if alive else None)],
            "addresses": [
                {"type": "InternalIP", "address": ip},
                {"type": "Hostname", "address": ray_node.get("NodeManagerHostname") or name},
            ],
            "nodeInfo": {
                "kubeletVersion": KUBERNETES_VERSION,
                "kubeProxyVersion": "",
                "containerRuntimeVersion": (runtime or {}).get("runtimeVersion", UNKNOWN_RUNTIME),
                "operatingSystem": facts.get("operatingSystem", ""),
                "architecture": facts.get("architecture", ""),
                "osImage": facts.get("osImage", ""),
                "kernelVersion": facts.get("kernelVersion", ""),
                "machineID": ray_node["NodeID"][:32],
                "systemUUID": ray_node["NodeID"][:32],
                "bootID": ray_node["NodeID"][:32],
            },
        },
    }
    taints = [dict(t) for t in settings.node_taints]
    if not alive:
        taints.append({"key": UNREACHABLE, "effect": NO_SCHEDULE})
    if taints:
        node["spec"]["taints"] = taints
    return node


def node_objects(
    settings: Settings, nodes: list[dict] | None = None, runtimes: dict[str, dict] | None = None
) -> list[dict]:
    """Every Ray node (alive or recently dead) as a ``Node``; dead ones are not Ready. Where a
    restarted node reuses a name, the live one wins. ``runtimes``: the agents' sandbox
    reports by Ray node id."""
    by_name: dict[str, dict] = {}
    for ray_node in sorted(
        nodes if nodes is not None else ray.nodes(), key=lambda n: bool(n.get("Alive"))
    ):
        obj = node_object(ray_node, settings, (runtimes or {}).get(ray_node["NodeID"]))
        by_name[obj["metadata"]["name"]] = obj
    return sorted(by_name.values(), key=lambda n: n["metadata"]["name"])
