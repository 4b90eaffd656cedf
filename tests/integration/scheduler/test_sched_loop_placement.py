"""The scheduler loop on a real store places pods where they fit, and the simulated kubelet
runs them: resources, GPU fragments, nodeSelector, no head-of-line blocking."""

from __future__ import annotations

from tests.integration.scheduler.sched_harness import wait_for


def test_pod_binds_to_the_node_that_fits_and_runs(sim):
    sim.add_node("small", cpu="2", memory="4Gi")
    sim.add_node("big", cpu="16", memory="64Gi")
    sim.add_pod("p", cpu="4", memory="8Gi")
    pod = sim.wait_running("p")
    assert pod["spec"]["nodeName"] == "big"
    conditions = {c["type"]: c["status"] for c in pod["status"]["conditions"]}
    assert {
        k: conditions[k] for k in ("PodScheduled", "Initialized", "ContainersReady", "Ready")
    } == dict.fromkeys(("PodScheduled", "Initialized", "ContainersReady", "Ready"), "True")
    [container] = pod["status"]["containerStatuses"]
    assert container["ready"] is True and container["started"] is True
    assert container["state"]["running"]["startedAt"]
    [event] = sim.events_for("p", "Scheduled")
    assert event["type"] == "Normal"
    assert event["message"] == "Successfully assigned default/p to big"
    assert event["source"]["component"] == "default-scheduler"


def test_one_gpu_pod_takes_the_last_free_gpu_not_a_whole_free_node(sim):
    sim.add_node("whole", gpu=8)
    sim.add_node("fragmented", gpu=8)
    sim.add_pod("seven", cpu="1", gpu=7, node_name="fragmented")  # placed by hand
    sim.wait_running("seven")
    sim.add_pod("one", cpu="1", gpu=1)
    assert sim.wait_running("one")["spec"]["nodeName"] == "fragmented"
    sim.add_pod("eight", cpu="1", gpu=8)
    assert sim.wait_running("eight")["spec"]["nodeName"] == "whole"


def test_node_selector_binds_only_to_a_matching_node(sim):
    for i in range(3):
        sim.add_node(f"plain-{i}", gpu=8)
    sim.add_node("labelled", gpu=8, labels={"gpu": "nvidia"})
    for i in range(4):
        sim.add_pod(f"gpu-{i}", gpu=1, selector={"gpu": "nvidia"})
    for i in range(4):
        assert sim.wait_running(f"gpu-{i}")["spec"]["nodeName"] == "labelled"


def test_a_pod_too_big_for_now_does_not_block_smaller_pods_behind_it(sim):
    sim.add_node("n", cpu="8", memory="32Gi")
    sim.add_pod("filler", cpu="6")
    sim.wait_running("filler")
    sim.add_pod("big", cpu="4")  # first in line, does not fit yet
    sim.add_pod("small-1", cpu="1")
    sim.add_pod("small-2", cpu="1")
    for name in ("small-1", "small-2"):
        assert sim.wait_running(name)["spec"]["nodeName"] == "n"
    condition = sim.wait_unschedulable("big")
    assert condition["message"] == "0/1 nodes are available: 1 Insufficient cpu."
    assert sim.node_of("big") is None


def test_pods_fill_a_node_to_its_pod_limit_and_no_further(sim):
    sim.add_node("n", pods="3")
    for i in range(5):
        sim.add_pod(f"p{i}", cpu="100m")
    wait_for(lambda: sum(1 for i in range(5) if sim.node_of(f"p{i}")) == 3, what="3 bound")
    sim.wait_unschedulable("p4")
    assert sum(1 for i in range(5) if sim.node_of(f"p{i}")) == 3
