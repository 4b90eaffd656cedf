"""The simulated kubelet: simulated nodes become Ready, their pods run at once and stay
running, and a deleted pod goes at once. Nodes without the label are not its business."""

from __future__ import annotations

import time

from berth.platform.resources import registry
from tests.integration.scheduler.sched_harness import pod_manifest, wait_for


def _conditions(obj: dict) -> dict:
    return {c["type"]: c for c in (obj.get("status") or {}).get("conditions") or []}


def test_a_simulated_node_without_conditions_becomes_ready(sim):
    sim.add_node("n")
    ready = _conditions(sim.client.get(registry.NODE, "", "n"))["Ready"]
    assert (ready["status"], ready["reason"]) == ("True", "KubeletReady")


def test_a_ready_condition_already_there_is_left_alone(sim):
    sim.add_node("down", ready="False")
    time.sleep(0.5)
    assert _conditions(sim.client.get(registry.NODE, "", "down"))["Ready"]["status"] == "False"


def test_pods_run_with_init_containers_done_and_stay_running(sim):
    sim.add_node("n")
    manifest = pod_manifest("p")
    manifest["spec"]["initContainers"] = [{"name": "setup", "image": "busybox"}]
    sim.client.create(registry.POD, manifest, "default")
    pod = sim.wait_running("p")
    [init] = pod["status"]["initContainerStatuses"]
    assert init["state"]["terminated"]["exitCode"] == 0
    assert _conditions(pod)["Initialized"]["status"] == "True"
    time.sleep(0.5)
    assert sim.pod("p")["status"]["phase"] == "Running"
    assert sim.pod("p")["metadata"]["resourceVersion"] == pod["metadata"]["resourceVersion"]


def test_a_deleted_pod_is_removed_at_once(sim):
    sim.add_node("n")
    sim.add_pod("p")
    sim.wait_running("p")
    marked = sim.client.delete(registry.POD, "default", "p")
    assert marked["metadata"].get("deletionTimestamp"), "a running pod is deleted gracefully"
    wait_for(
        lambda: sim.client.try_get(registry.POD, "default", "p") is None,
        timeout=5,
        what="pod removed",
    )


def test_pods_on_a_node_without_the_label_are_left_to_its_agent(sim):
    sim.client.create(
        registry.NODE,
        {
            "metadata": {"name": "real"},
            "status": {
                "conditions": [{"type": "Ready", "status": "True"}],
                "capacity": {"cpu": "8", "memory": "8Gi", "pods": "110"},
            },
        },
    )
    sim.add_pod("p")
    wait_for(lambda: sim.node_of("p") == "real", what="bound to the real node")
    time.sleep(0.5)
    assert sim.pod("p")["status"]["phase"] == "Pending"
