"""A Ray node that dies takes its pods with it: they fail with ``DisruptionTarget`` (so a Job's
``podFailurePolicy`` can match) and are deleted; a toleration with ``tolerationSeconds``
delays that. Ray declares a killed node dead after its health checks (~13 s with the
session cluster's defaults)."""

import time

import pytest

from berth.platform.resources import registry
from berth.platform.resources.meta import dig
from tests.integration.workers.kubelet_support import (
    Harness,
    bound_pod,
    condition,
    find_condition,
    node_name,
    sh,
    terminated,
    wait_for,
)

pytestmark = pytest.mark.integration


@pytest.fixture
def berth(ray_env, tmp_path):
    harness = Harness(ray_env, tmp_path)
    yield harness
    harness.close()


@pytest.fixture
def doomed(ray_env):
    """A Ray node of its own, killed by the test."""
    common = {
        "temp_dir": str(ray_env.temp),
        "include_dashboard": False,
        "node_ip_address": "127.0.0.1",
        "object_store_memory": 80 << 20,
    }
    node = ray_env.cluster.add_node(num_cpus=1, labels={"zone": "doomed"}, **common)
    ray_env.cluster.wait_for_nodes()
    yield node
    if node in ray_env.cluster.worker_nodes:
        ray_env.cluster.remove_node(node, allow_graceful=False)


def test_a_lost_node_fails_its_pods_with_a_disruption_condition(berth, ray_env, doomed):
    name = node_name(doomed.node_id)
    wait_for(
        lambda: find_condition(berth.client.try_get(registry.NODE, "", name) or {}, "Ready"),
        timeout=20,
    )
    lost = berth.create(bound_pod("lost", name, sh("exec sleep 300")))
    lingers = berth.create(
        bound_pod(
            "lingers",
            name,
            sh("exec sleep 300"),
            tolerations=[
                {
                    "key": "node.kubernetes.io/unreachable",
                    "operator": "Exists",
                    "effect": "NoExecute",
                    "tolerationSeconds": 2,
                }
            ],
        )
    )
    berth.wait_phase("lost", "Running")
    berth.wait_phase("lingers", "Running")

    ray_env.cluster.remove_node(doomed, allow_graceful=False)
    failed = berth.wait_seen(lost, "Failed", timeout=60)
    failed_at = time.monotonic()
    disruption = condition(failed, "DisruptionTarget")
    assert (disruption["status"], disruption["reason"], disruption["message"]) == (
        "True",
        "DeletionByTaintManager",
        "Taint manager: deleting due to NoExecute taint",
    )
    assert terminated(failed)["reason"] == "ContainerStatusUnknown"
    assert condition(failed, "Ready")["status"] == "False"
    berth.wait_gone("lost", timeout=10)

    node = berth.client.get(registry.NODE, "", name)
    assert condition(node, "Ready")["status"] == "Unknown"
    taints = {(t["key"], t["effect"]): t for t in node["spec"]["taints"]}
    assert taints[("node.kubernetes.io/unreachable", "NoExecute")]["timeAdded"]
    assert ("node.kubernetes.io/unreachable", "NoSchedule") in taints

    # Tolerated for 2 s from the taint's timeAdded (whole seconds): later than the other.
    assert berth.get("lingers")["status"]["phase"] == "Running"
    late = berth.wait_seen(lingers, "Failed", timeout=10)
    assert time.monotonic() - failed_at > 0.8
    assert condition(late, "DisruptionTarget")["status"] == "True"
    berth.wait_gone("lingers", timeout=10)
    assert name not in berth.service.kubelet.agents
    assert dig(late, "spec", "nodeName") == name


def test_a_node_ray_no_longer_lists_fails_its_pods_and_goes(berth):
    # What a restart onto a new Ray head leaves behind: a Node of a Ray node that is no more.
    berth.create(
        {
            "metadata": {
                "name": "ray-0123456789ab",
                "annotations": {"berth.dev/ray-node-id": "0123456789ab" * 4},
            },
            "status": {"conditions": [{"type": "Ready", "status": "True"}]},
        },
        registry.NODE,
    )
    pod = berth.create(bound_pod("stranded", "ray-0123456789ab", sh("true")))

    def running(obj):
        obj["status"] = {**obj["status"], "phase": "Running", "hostIP": "10.0.0.9"}
        return obj

    berth.client.guaranteed_update(
        registry.POD, "default", "stranded", running, subresource="status"
    )
    failed = berth.wait_seen(pod, "Failed", timeout=10)
    assert condition(failed, "DisruptionTarget")["reason"] == "DeletionByTaintManager"
    berth.wait_gone("stranded", timeout=10)
    wait_for(
        lambda: berth.client.try_get(registry.NODE, "", "ray-0123456789ab") is None, timeout=10
    )
