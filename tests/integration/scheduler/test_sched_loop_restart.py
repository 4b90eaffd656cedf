"""A restarted scheduler rebuilds its picture from the store: pods bound before count on their
nodes (nothing is booked twice), pending pods are placed, and reasons already written are
not written again."""

from __future__ import annotations

import time

from berth.platform.resources import registry
from tests.integration.scheduler.sched_harness import wait_for


def test_pods_bound_before_a_restart_still_count(sim):
    sim.add_node("n", cpu="4")
    for i in range(4):
        sim.add_pod(f"old-{i}", cpu="1")
    for i in range(4):
        sim.wait_running(f"old-{i}")
    sim.restart()
    sim.add_pod("new", cpu="1")
    message = sim.wait_unschedulable("new")["message"]
    assert message == "0/1 nodes are available: 1 Insufficient cpu."
    assert sim.node_of("new") is None
    sim.client.delete(registry.POD, "default", "old-0")
    assert sim.wait_running("new")["spec"]["nodeName"] == "n"


def test_pods_created_while_the_scheduler_was_down_are_placed_after(sim):
    sim.stop()
    sim.client.create(
        registry.NODE,
        {
            "metadata": {"name": "n", "labels": {"berth.dev/simulated": "true"}},
            "status": {"capacity": {"cpu": "2", "memory": "8Gi", "pods": "110"}},
        },
    )
    for i in range(3):
        sim.add_pod(f"p{i}", cpu="1")
    sim.start()
    wait_for(lambda: sum(1 for i in range(3) if sim.node_of(f"p{i}")) == 2, what="two bound")
    sim.wait_unschedulable("p2")
    time.sleep(0.5)
    assert sum(1 for i in range(3) if sim.node_of(f"p{i}")) == 2


def test_a_reason_already_written_is_not_reported_again_after_a_restart(sim):
    sim.add_node("n", cpu="1")
    sim.add_pod("p", cpu="2")
    sim.wait_unschedulable("p")
    wait_for(lambda: sim.events_for("p", "FailedScheduling"), what="event")
    sim.restart()
    wait_for(lambda: sim.loop.stats.unschedulable >= 1, what="a cycle after the restart")
    time.sleep(0.5)  # a report, had one been made, would be written by now
    assert len(sim.events_for("p", "FailedScheduling")) == 1
