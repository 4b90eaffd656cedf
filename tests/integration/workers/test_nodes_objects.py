"""Ray's nodes as Node objects: registered with capacity and labels, kept Ready, and what
people change (cordon, labels, taints) left alone; NoExecute taints evict pods."""

import time

import pytest

from berth.platform.resources import registry
from berth.platform.resources.meta import dig
from berth.platform.version import KUBERNETES_VERSION
from berth.workers.control.pool import NODE_ID_ANNOTATION
from berth.workers.node import nodefacts
from tests.integration.workers.kubelet_support import (
    Harness,
    bound_pod,
    condition,
    find_condition,
    node_name,
    sh,
    wait_for,
)

pytestmark = pytest.mark.integration


@pytest.fixture
def berth(ray_env, tmp_path):
    harness = Harness(ray_env, tmp_path, node_labels={"team": "ml"})
    yield harness
    harness.close()


def node(berth, name):
    return berth.client.try_get(registry.NODE, "", name)


def test_every_ray_node_is_a_ready_node_with_its_capacity_and_labels(berth, ray_env):
    names = {node_name(i): i for i in (ray_env.head_id, ray_env.b_id, ray_env.c_id)}
    wait_for(lambda: all(node(berth, n) for n in names))
    b = node(berth, node_name(ray_env.b_id))
    assert b["metadata"]["annotations"][NODE_ID_ANNOTATION] == ray_env.b_id
    capacity = b["status"]["capacity"]
    assert (capacity["cpu"], capacity["nvidia.com/gpu"], capacity["ray.io/widget"]) == (
        "2",
        "2",
        "2",
    )
    labels = b["metadata"]["labels"]
    assert (labels["zone"], labels["team"], labels["kubernetes.io/hostname"]) == (
        "b",
        "ml",
        node_name(ray_env.b_id),
    )
    assert labels["nvidia.com/gpu.count"] == "2"
    for name in names:
        ready = condition(node(berth, name), "Ready")
        assert ready["status"] == "True" and ready["lastHeartbeatTime"]
        assert not dig(node(berth, name), "spec", "taints")


def test_each_node_shows_the_host_facts_its_agent_reported(berth, ray_env):
    name = node_name(ray_env.b_id)

    def reported():
        obj = node(berth, name)
        sandbox = find_condition(obj, "SandboxReady") if obj else None
        return obj if sandbox and sandbox["status"] != "Unknown" else None

    info = wait_for(reported, timeout=30)["status"]["nodeInfo"]
    # Every Ray node of this test runs on this host, so the agent read what we read here.
    here = nodefacts.read()
    assert {k: info[k] for k in here} == here and here["architecture"] and here["osImage"]
    assert info["kubeletVersion"] == KUBERNETES_VERSION
    labels = node(berth, name)["metadata"]["labels"]
    assert labels["kubernetes.io/arch"] == here["architecture"]
    assert labels["kubernetes.io/os"] == here["operatingSystem"]


def test_cordon_labels_and_taints_people_add_are_kept(berth, ray_env):
    name = node_name(ray_env.c_id)
    wait_for(lambda: node(berth, name))

    def change(obj):
        obj["spec"]["unschedulable"] = True
        obj["metadata"]["labels"]["owner"] = "me"
        obj["spec"]["taints"] = [{"key": "dedicated", "value": "x", "effect": "NoSchedule"}]
        return obj

    berth.client.guaranteed_update(registry.NODE, "", name, change)
    before = node(berth, name)["metadata"]["resourceVersion"]
    time.sleep(1.5)  # several node sync periods: nothing of ours changed, nothing is written
    after = node(berth, name)
    assert after["metadata"]["resourceVersion"] == before
    assert after["spec"]["unschedulable"] is True
    assert after["metadata"]["labels"]["owner"] == "me"
    assert after["metadata"]["labels"]["zone"] == "c"
    assert after["spec"]["taints"] == [{"key": "dedicated", "value": "x", "effect": "NoSchedule"}]


def test_a_deleted_node_registers_again(berth, ray_env):
    name = node_name(ray_env.c_id)
    first = wait_for(lambda: node(berth, name))
    berth.client.delete(registry.NODE, "", name)
    again = wait_for(lambda: node(berth, name), timeout=10)
    assert again["metadata"]["uid"] != first["metadata"]["uid"]


def test_a_simulated_node_is_left_alone(berth):
    berth.create(
        {
            "metadata": {"name": "kwok-1", "labels": {"berth.dev/simulated": "true"}},
            "status": {"capacity": {"cpu": "8"}, "allocatable": {"cpu": "8"}},
        },
        registry.NODE,
    )
    pod = berth.create(bound_pod("sim", "kwok-1", sh("true")))
    wait_for(lambda: node(berth, berth.head))
    time.sleep(1.5)  # orphan grace is 1 s; a pod on a simulated node is not an orphan
    sim = node(berth, "kwok-1")
    assert NODE_ID_ANNOTATION not in (sim["metadata"].get("annotations") or {})
    assert not sim["status"].get("conditions")
    assert berth.get("sim")["status"]["phase"] == "Pending"
    assert len(berth.versions(pod)) == 1


def test_a_noexecute_taint_evicts_pods_that_do_not_tolerate_it(berth):
    tolerant = bound_pod(
        "tolerant",
        berth.head,
        sh("exec sleep 300"),
        tolerations=[{"key": "maintenance", "operator": "Exists", "effect": "NoExecute"}],
    )
    berth.create(tolerant)
    evicted = berth.create(bound_pod("evicted", berth.head, sh("exec sleep 300")))
    berth.wait_phase("tolerant", "Running")
    berth.wait_phase("evicted", "Running")

    def taint(obj):
        obj["spec"]["taints"] = [{"key": "maintenance", "effect": "NoExecute"}]
        return obj

    berth.client.guaranteed_update(registry.NODE, "", berth.head, taint)
    try:
        berth.wait_gone("evicted", timeout=15)
        last = berth.versions(evicted)[-1]
        disruption = condition(last, "DisruptionTarget")
        assert (disruption["status"], disruption["reason"]) == ("True", "DeletionByTaintManager")
        assert last["status"]["phase"] == "Failed"  # its agent stopped it, then it went
        assert berth.get("tolerant")["status"]["phase"] == "Running"
    finally:

        def untaint(obj):
            obj["spec"].pop("taints", None)
            return obj

        berth.client.guaranteed_update(registry.NODE, "", berth.head, untaint)
