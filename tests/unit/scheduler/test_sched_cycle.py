"""schedule_batch: placement, queue order, reasons, unresolvable pods, strategies."""

from __future__ import annotations

import pytest

from berth.scheduler.cycle import Decision, schedule_batch
from berth.scheduler.snapshot import Snapshot
from tests.unit.scheduler.sched_builders import a_node, a_pod, expr, taint, toleration

NOT_HELPFUL = "Preemption is not helpful for scheduling."


def placements(decisions: list[Decision]) -> dict[str, str | None]:
    return {d.uid: d.node for d in decisions}


@pytest.mark.parametrize("strategy", ["pack", "spread"])
def test_a_one_gpu_pod_takes_the_last_free_gpu_not_a_whole_node(strategy):
    snap = Snapshot(
        [
            a_node("whole", cpu="64", gpu=8),
            a_node("last", cpu="64", gpu=8, running=(a_pod(cpu="8", gpu=7),)),
        ]
    )
    decisions = schedule_batch(
        [a_pod("one", gpu=1, order=1), a_pod("eight", gpu=8, order=2)], snap, strategy
    )
    assert placements(decisions) == {"uid-one": "last", "uid-eight": "whole"}


@pytest.mark.parametrize("strategy", ["pack", "spread"])
def test_a_cpu_pod_avoids_gpu_nodes_while_a_cpu_node_fits(strategy):
    snap = Snapshot([a_node("gpu", cpu="64", gpu=8), a_node("cpu", cpu="4")])
    decisions = schedule_batch(
        [a_pod("small", cpu="3", order=1), a_pod("big", cpu="8", order=2)], snap, strategy
    )
    assert placements(decisions) == {"uid-small": "cpu", "uid-big": "gpu"}


def test_pack_fills_one_node_and_spread_uses_them_all():
    pods = [a_pod(f"p{i}", cpu="1", order=i) for i in range(3)]
    nodes = lambda: Snapshot([a_node(f"n{i}", cpu="4") for i in range(3)])  # noqa: E731
    assert set(placements(schedule_batch(pods, nodes(), "pack")).values()) == {"n0"}
    assert set(placements(schedule_batch(pods, nodes(), "spread")).values()) == {"n0", "n1", "n2"}


def test_spread_moves_on_to_the_next_emptiest_node():
    snap = Snapshot(
        [
            a_node("empty", cpu="8", memory="8Gi"),
            a_node("quarter", cpu="8", memory="8Gi", running=(a_pod(cpu="2"),)),
            a_node("half", cpu="8", memory="8Gi", running=(a_pod(cpu="4"),)),
        ]
    )
    pods = [a_pod(f"p{i}", cpu="4", memory=None, order=i) for i in range(2)]
    assert [d.node for d in schedule_batch(pods, snap, "spread")] == ["empty", "quarter"]


def test_equal_nodes_open_in_the_least_loaded_group():
    snap = Snapshot(
        [
            a_node("a1", labels={"zone": "a"}, cpu="4", running=(a_pod(cpu="4"),)),
            a_node("a2", labels={"zone": "a"}, cpu="4"),
            a_node("b1", labels={"zone": "b"}, cpu="4"),
        ]
    )
    assert schedule_batch([a_pod(cpu="1")], snap)[0].node == "b1"


def test_placements_are_assumed_in_the_snapshot():
    snap = Snapshot([a_node("n", cpu="4")])
    decisions = schedule_batch([a_pod(f"p{i}", cpu="2", order=i) for i in range(3)], snap)
    assert [d.node for d in decisions] == ["n", "n", None]
    assert snap.node("n").req_cpu == 4000


def test_higher_priority_first_then_first_come_first_served():
    snap = Snapshot([a_node("n", cpu="2")])
    pods = [
        a_pod("old", cpu="2", order=1),
        a_pod("new", cpu="2", order=2),
        a_pod("urgent", cpu="2", order=3, priority=10),
    ]
    decisions = schedule_batch(pods, snap)
    assert [d.uid for d in decisions] == ["uid-urgent", "uid-old", "uid-new"]
    assert placements(decisions) == {"uid-urgent": "n", "uid-old": None, "uid-new": None}
    snap = Snapshot([a_node("n", cpu="2")])
    assert placements(schedule_batch(pods[:2], snap))["uid-old"] == "n"


def test_a_pod_that_does_not_fit_does_not_block_the_pods_behind_it():
    snap = Snapshot([a_node("n", cpu="4", gpu=4, running=(a_pod(cpu="1", gpu=2),))])
    pods = [a_pod("big", gpu=4, order=1, priority=5)] + [
        a_pod(f"small{i}", cpu="1", gpu=1, order=2 + i) for i in range(2)
    ]
    decisions = schedule_batch(pods, snap)
    assert placements(decisions) == {"uid-big": None, "uid-small0": "n", "uid-small1": "n"}
    assert decisions[0].unresolvable is False


def test_the_message_counts_each_nodes_reasons_like_kubernetes():
    snap = Snapshot(
        [
            a_node("g1", gpu=8, running=(a_pod(gpu=8),), labels={"gpu": "nvidia"}),
            a_node("g2", gpu=4, running=(a_pod(gpu=2),), labels={"gpu": "nvidia"}),
            a_node("cpu", labels={}),
        ]
    )
    (decision,) = schedule_batch([a_pod(gpu=4, selector={"gpu": "nvidia"})], snap)
    assert decision == Decision(
        "uid-p",
        None,
        "0/3 nodes are available: 1 node(s) didn't match Pod's node affinity/selector, "
        "2 Insufficient nvidia.com/gpu.",
        False,
    )


def test_the_message_names_taints_cordons_and_not_ready_nodes():
    snap = Snapshot(
        [
            a_node("tainted", taints=[taint("dedicated", "infra")]),
            a_node("cordoned", unschedulable=True),
            a_node("down", ready="False"),
            a_node("busy", cpu="1", memory="1Gi", running=(a_pod(cpu="1", memory="1Gi"),)),
        ]
    )
    (decision,) = schedule_batch([a_pod(cpu="1", memory="1Gi")], snap)
    assert decision.message == (
        "0/4 nodes are available: 1 Insufficient cpu, 1 Insufficient memory, "
        "1 node(s) had untolerated taint {dedicated: infra}, "
        "1 node(s) had untolerated taint {node.kubernetes.io/not-ready: }, "
        "1 node(s) were unschedulable."
    )
    assert decision.unresolvable is False


@pytest.mark.parametrize(
    "pod, message",
    [
        (
            a_pod(gpu=16),
            "0/3 nodes are available: 3 Insufficient nvidia.com/gpu. preemption: 0/3 nodes are "
            "available: 3 " + NOT_HELPFUL,
        ),
        (
            a_pod(cpu="1", selector={"zone": "mars"}),
            "0/3 nodes are available: 3 node(s) didn't match Pod's node affinity/selector. "
            "preemption: 0/3 nodes are available: 3 " + NOT_HELPFUL,
        ),
        (
            a_pod(cpu="100", gpu=1),
            "0/3 nodes are available: 1 Insufficient nvidia.com/gpu, 3 Insufficient cpu. "
            "preemption: 0/3 nodes are available: 3 " + NOT_HELPFUL,
        ),
    ],
)
def test_a_pod_no_node_could_ever_hold_is_unresolvable(pod, message):
    snap = Snapshot(
        [a_node("a", gpu=8, cpu="64"), a_node("b", gpu=8, cpu="64"), a_node("c", cpu="64")]
    )
    (decision,) = schedule_batch([pod], snap)
    assert decision.node is None
    assert decision.unresolvable is True
    assert decision.message == message


def test_waiting_can_help_if_one_node_could_take_the_pod_once_emptier():
    snap = Snapshot([a_node("busy", gpu=8, running=(a_pod(gpu=8),)), a_node("cpu")])
    (decision,) = schedule_batch([a_pod(gpu=2)], snap)
    assert decision.unresolvable is False
    assert decision.message == "0/2 nodes are available: 2 Insufficient nvidia.com/gpu."


def test_no_nodes_at_all():
    (decision,) = schedule_batch([a_pod()], Snapshot())
    assert decision == Decision(
        "uid-p", None, "0/0 nodes are available: no nodes available to schedule pods.", True
    )


def test_identical_pods_that_fail_get_the_same_reason_under_their_own_uid():
    snap = Snapshot([a_node("n", cpu="1")])
    decisions = schedule_batch([a_pod("a", cpu="2", order=1), a_pod("b", cpu="2", order=2)], snap)
    assert [d.uid for d in decisions] == ["uid-a", "uid-b"]
    assert decisions[0].message == decisions[1].message
    assert decisions[0].message.startswith("0/1 nodes are available: 1 Insufficient cpu.")


def test_tolerations_and_affinity_lead_to_the_right_node():
    snap = Snapshot(
        [
            a_node(
                "gpu",
                gpu=8,
                taints=[taint("nvidia.com/gpu", "present")],
                labels={"accelerator": "h100"},
            ),
            a_node("plain"),
        ]
    )
    pods = [
        a_pod(
            "tolerant",
            gpu=1,
            order=1,
            tolerations=[toleration("nvidia.com/gpu", "Exists")],
            terms=[{"matchExpressions": [expr("accelerator", "In", "h100", "a100")]}],
        ),
        a_pod("intolerant", gpu=1, order=2),
    ]
    decisions = schedule_batch(pods, snap)
    assert placements(decisions) == {"uid-tolerant": "gpu", "uid-intolerant": None}
    assert decisions[1].message == (
        "0/2 nodes are available: 1 Insufficient nvidia.com/gpu, 1 node(s) had untolerated "
        "taint {nvidia.com/gpu: present}. preemption: 0/2 nodes are available: 2 " + NOT_HELPFUL
    )


def test_affinity_on_the_node_name_is_honoured():
    snap = Snapshot([a_node("a"), a_node("b")])
    pod = a_pod(terms=[{"matchFields": [expr("metadata.name", "In", "b")]}])
    assert schedule_batch([pod], snap)[0].node == "b"
    snap = Snapshot([a_node("a"), a_node("b", cpu="1", running=(a_pod(cpu="1"),))])
    (decision,) = schedule_batch([pod], snap)
    assert decision.message == (
        "0/2 nodes are available: 1 Insufficient cpu, 1 node(s) "
        "didn't match Pod's node affinity/selector."
    )


def test_extended_resources_are_filtered_and_counted():
    snap = Snapshot([a_node("fpga", extended={"example.com/fpga": "2"}), a_node("plain")])
    pods = [a_pod(f"p{i}", extended={"example.com/fpga": "1"}, order=i) for i in range(3)]
    decisions = schedule_batch(pods, snap)
    assert [d.node for d in decisions] == ["fpga", "fpga", None]
    assert decisions[2].message == "0/2 nodes are available: 2 Insufficient example.com/fpga."
