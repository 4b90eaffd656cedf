"""Ray nodes as Kubernetes Node objects (pure: ray.nodes() entries are given)."""

from berth.platform.api.discovery import version_info
from berth.platform.version import KUBERNETES_VERSION
from berth.settings import Settings
from berth.workers.control.pool import agent_name, node_object, node_objects

NODE_ID = "3ebdac4a46e13c1509a38fb559c727b9a7a359da0492fa724fc2350f"


def ray_node(node_id=NODE_ID, alive=True, labels=None, named=None, **resources):
    """``named``: resources whose names are no Python identifiers (``accelerator_type:A100``)."""
    return {
        "NodeID": node_id,
        "Alive": alive,
        "NodeManagerAddress": "127.0.0.1",
        "NodeManagerHostname": "vm",
        "DeathReasonMessage": "",
        "Resources": {
            "CPU": 2.0,
            "memory": 17359247360.0,
            "object_store_memory": 7e9,
            "node:127.0.0.1": 1.0,
            "node:__internal_head__": 1.0,
            **resources,
            **(named or {}),
        },
        "Labels": {"ray.io/node-id": node_id, **(labels or {})},
    }


def test_capacity_labels_and_annotation():
    node = node_object(
        ray_node(GPU=4.0, foo=2.0, named={"accelerator_type:A100": 1.0}),
        Settings(node_labels={"gpu": "nvidia"}),
    )
    assert node["metadata"]["name"] == "ray-3ebdac4a46e1"
    assert node["status"]["capacity"] == {
        "cpu": "2",
        "memory": "16952390Ki",
        "pods": "110",
        "nvidia.com/gpu": "4",
        "berth.dev/gpu-milli": "4000",
        "ray.io/foo": "2",
    }
    assert node["status"]["allocatable"] == node["status"]["capacity"]
    labels = node["metadata"]["labels"]
    assert labels["kubernetes.io/hostname"] == "ray-3ebdac4a46e1"
    assert labels["nvidia.com/gpu.product"] == "A100" and labels["gpu"] == "nvidia"
    assert labels["ray.io/node-id"] == NODE_ID
    assert node["metadata"]["annotations"] == {"berth.dev/ray-node-id": NODE_ID}
    assert node["status"]["conditions"][0]["status"] == "True"
    assert node["status"]["addresses"][0] == {"type": "InternalIP", "address": "127.0.0.1"}


def test_node_name_label_wins_and_is_made_dns_safe():
    node = node_object(ray_node(labels={"ray.io/node-name": "GPU_Box.1"}), Settings())
    assert node["metadata"]["name"] == "gpu-box-1"


def test_dead_node_is_not_ready_and_tainted():
    node = node_object(
        ray_node(alive=False),
        Settings(node_taints=[{"key": "dedicated", "value": "batch", "effect": "NoSchedule"}]),
    )
    assert node["status"]["conditions"][0]["status"] == "Unknown"
    assert node["spec"]["taints"] == [
        {"key": "dedicated", "value": "batch", "effect": "NoSchedule"},
        {"key": "node.kubernetes.io/unreachable", "effect": "NoSchedule"},
    ]


def test_live_node_wins_a_shared_name():
    label = {"ray.io/node-name": "box"}
    nodes = node_objects(
        Settings(), [ray_node("a" * 56, True, label), ray_node("b" * 56, False, label)]
    )
    assert len(nodes) == 1
    assert nodes[0]["metadata"]["annotations"]["berth.dev/ray-node-id"] == "a" * 56


def test_agent_name_is_short_and_stable():
    assert agent_name(NODE_ID) == "berth-agent-3ebdac4a46e1"


def test_the_node_says_whether_its_agent_can_sandbox_pods():
    works = {
        "sandboxed": True,
        "runtimeVersion": "berth://bubblewrap-0.8.0",
        "path": "/usr/bin/bwrap",
        "problem": "",
    }
    node = node_object(ray_node(), Settings(), works)
    assert node["status"]["nodeInfo"]["containerRuntimeVersion"] == "berth://bubblewrap-0.8.0"
    sandbox = next(c for c in node["status"]["conditions"] if c["type"] == "SandboxReady")
    assert sandbox["status"] == "True"

    missing = {
        "sandboxed": False,
        "runtimeVersion": "berth://unsandboxed",
        "path": None,
        "problem": "bubblewrap (bwrap) is not installed on this node; install it",
    }
    node = node_object(ray_node(), Settings(), missing)
    assert node["status"]["nodeInfo"]["containerRuntimeVersion"] == "berth://unsandboxed"
    sandbox = next(c for c in node["status"]["conditions"] if c["type"] == "SandboxReady")
    assert (sandbox["status"], sandbox["reason"]) == ("False", "BubblewrapUnavailable")
    assert "bubblewrap (bwrap) is not installed" in sandbox["message"]
    assert node["status"]["conditions"][0]["type"] == "Ready"


def test_the_node_shows_the_facts_its_agent_read_on_its_host():
    facts = {
        "architecture": "arm64",
        "operatingSystem": "linux",
        "osImage": "Ubuntu 24.04 LTS",
        "kernelVersion": "6.8.0-1-aws",
    }
    runtime = {
        "sandboxed": True,
        "runtimeVersion": "berth://bubblewrap-0.9.0",
        "path": "/usr/bin/bwrap",
        "problem": "",
        "facts": facts,
    }
    node = node_object(ray_node(), Settings(), runtime)
    info = node["status"]["nodeInfo"]
    assert {k: info[k] for k in facts} == facts
    assert info["kubeletVersion"] == KUBERNETES_VERSION == version_info()["gitVersion"]
    labels = node["metadata"]["labels"]
    assert (labels["kubernetes.io/arch"], labels["beta.kubernetes.io/arch"]) == ("arm64", "arm64")
    assert (labels["kubernetes.io/os"], labels["beta.kubernetes.io/os"]) == ("linux", "linux")


def test_a_node_whose_agent_has_not_answered_claims_no_runtime():
    node = node_object(ray_node(), Settings())
    assert node["status"]["nodeInfo"]["containerRuntimeVersion"] == "berth://unknown"
    # Nor the control plane's host facts: they are the agent's to report.
    assert node["status"]["nodeInfo"]["architecture"] == node["status"]["nodeInfo"]["osImage"] == ""
    assert "kubernetes.io/arch" not in node["metadata"]["labels"]
    sandbox = next(c for c in node["status"]["conditions"] if c["type"] == "SandboxReady")
    assert sandbox["status"] == "Unknown"
