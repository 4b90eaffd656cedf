"""Pods that fit nowhere: the reason, as Kubernetes words it, on the pod and in an Event;
placement once the cluster changes; cordoned and not-ready nodes take no new pods."""

from __future__ import annotations

from berth.platform.resources import registry
from tests.integration.scheduler.sched_harness import wait_for

MIXED = (
    "0/3 nodes are available: 1 Insufficient cpu, "
    "1 node(s) didn't match Pod's node affinity/selector, 1 node(s) were unschedulable."
)
TOO_MANY_GPUS = (
    "0/2 nodes are available: 2 Insufficient nvidia.com/gpu. preemption: 0/2 "
    "nodes are available: 2 Preemption is not helpful for scheduling."
)


def test_reason_on_the_pod_and_in_one_event_then_binds_when_a_node_fits(sim):
    sim.add_node("cordoned", cpu="8", labels={"disk": "ssd"}, unschedulable=True)
    sim.add_node("busy", cpu="8", labels={"disk": "ssd"})
    sim.add_node("unlabelled", cpu="8")
    sim.add_pod("filler", cpu="6", node_name="busy")
    sim.wait_running("filler")
    sim.add_pod("p", cpu="4", selector={"disk": "ssd"})
    condition = sim.wait_unschedulable("p")
    assert condition["reason"] == "Unschedulable"
    assert condition["message"] == MIXED
    [event] = wait_for(lambda: sim.events_for("p", "FailedScheduling"), what="event")
    assert (event["type"], event["message"]) == ("Warning", MIXED)
    assert event["source"]["component"] == "default-scheduler"

    sim.add_node("fits", cpu="8", labels={"disk": "ssd"})
    assert sim.wait_running("p")["spec"]["nodeName"] == "fits"
    scheduled = {c["type"]: c for c in sim.pod("p")["status"]["conditions"]}["PodScheduled"]
    assert scheduled["status"] == "True" and "message" not in scheduled
    messages = [e["message"] for e in sim.events_for("p", "FailedScheduling")]
    # No event storm while waiting: one event per distinct reason (the new node may be seen
    # once before its kubelet marks it Ready, which is a reason of its own).
    assert MIXED in messages and len(messages) == len(set(messages)) <= 2, messages
    assert [e["message"] for e in sim.events_for("p", "Scheduled")] == [
        "Successfully assigned default/p to fits"
    ]


def test_a_request_larger_than_any_node_is_unresolvable(sim):
    sim.add_node("a", gpu=8)
    sim.add_node("b", gpu=8)
    sim.add_pod("huge", gpu=16)
    assert sim.wait_unschedulable("huge")["message"] == TOO_MANY_GPUS
    [event] = wait_for(lambda: sim.events_for("huge", "FailedScheduling"), what="event")
    assert event["message"] == TOO_MANY_GPUS


def test_cordon_stops_new_placements_and_uncordon_resumes_them(sim):
    sim.add_node("n", cpu="8")
    sim.add_pod("before", cpu="1")
    sim.wait_running("before")
    sim.client.guaranteed_update(
        registry.NODE, "", "n", lambda node: {**node, "spec": {"unschedulable": True}}
    )
    sim.add_pod("after", cpu="1")
    condition = sim.wait_unschedulable("after")
    assert condition["message"] == (
        "0/1 nodes are available: 1 node(s) were unschedulable. preemption: 0/1 nodes are "
        "available: 1 Preemption is not helpful for scheduling."
    )
    assert sim.pod("before")["status"]["phase"] == "Running", "cordon evicts nothing"
    sim.client.guaranteed_update(
        registry.NODE, "", "n", lambda node: {**node, "spec": {"unschedulable": False}}
    )
    assert sim.wait_running("after")["spec"]["nodeName"] == "n"


def test_a_node_that_is_not_ready_takes_no_pods(sim):
    sim.add_node("down", ready="False")
    sim.add_pod("p")
    assert sim.wait_unschedulable("p")["message"] == (
        "0/1 nodes are available: 1 node(s) had untolerated taint "
        "{node.kubernetes.io/not-ready: }. preemption: 0/1 nodes are available: 1 Preemption "
        "is not helpful for scheduling."
    )
    sim.client.guaranteed_update(
        registry.NODE,
        "",
        "down",
        lambda node: {
            **node,
            "status": {**node["status"], "conditions": [{"type": "Ready", "status": "True"}]},
        },
        subresource="status",
    )
    assert sim.wait_running("p")["spec"]["nodeName"] == "down"


def test_a_deleted_pod_frees_its_node_for_a_waiting_one(sim):
    sim.add_node("n", gpu=8)
    sim.add_pod("first", gpu=8)
    sim.wait_running("first")
    sim.add_pod("second", gpu=8)
    sim.wait_unschedulable("second")
    sim.client.delete(registry.POD, "default", "first")
    wait_for(
        lambda: sim.client.try_get(registry.POD, "default", "first") is None,
        what="first removed by the simulated kubelet",
    )
    assert sim.wait_running("second")["spec"]["nodeName"] == "n"
