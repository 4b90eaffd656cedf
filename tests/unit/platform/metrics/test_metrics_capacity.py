import pytest

from berth.platform.metrics.capacity import (
    CONTROLLER_UID,
    RequestCache,
    fragmented_gpus,
    free_gpu_capacity,
    node_usages,
    requested_gpus,
    tally_pods,
    unschedulable_reasons,
)
from tests.unit.platform.metrics.builders import a_node, a_pod

GPU_MESSAGE = (
    "0/3 nodes are available: 1 node(s) didn't match Pod's node affinity/selector, "
    "2 Insufficient nvidia.com/gpu. preemption: 0/3 nodes are available: "
    "3 Preemption is not helpful for scheduling."
)


@pytest.mark.parametrize(
    "message, reasons",
    [
        (None, []),
        ("", []),
        (
            "0/0 nodes are available: no nodes available to schedule pods.",
            ["no nodes available to schedule pods"],
        ),
        ("0/2 nodes are available: 2 Insufficient cpu.", ["Insufficient cpu"]),
        (
            GPU_MESSAGE,
            ["node(s) didn't match Pod's node affinity/selector", "Insufficient nvidia.com/gpu"],
        ),
        (
            "0/1 nodes are available: 1 node(s) had untolerated taint {team: a-very-secret-name}.",
            ["node(s) had untolerated taint"],
        ),
        ("something else entirely", []),
    ],
)
def test_reasons_drop_counts_and_taint_names(message, reasons):
    assert unschedulable_reasons(message) == reasons


def test_unschedulable_reasons_count_only_pending_unbound_pods():
    pods = [
        a_pod("a", message=GPU_MESSAGE),
        a_pod("b", message=GPU_MESSAGE),
        a_pod("c", message="0/2 nodes are available: 2 Insufficient cpu."),
        a_pod("bound", node="n1", message="0/2 nodes are available: 2 Insufficient cpu."),
        a_pod("waiting"),
    ]
    tally = tally_pods(pods)
    assert tally.reasons == {
        "Insufficient nvidia.com/gpu": 2,
        "Insufficient cpu": 1,
        "node(s) didn't match Pod's node affinity/selector": 2,
    }
    assert [p.name for p in tally.pending] == ["a", "b", "c", "waiting"]


def test_tally_phases_and_jobs_with_a_running_pod():
    job = {CONTROLLER_UID: "job-1"}
    tally = tally_pods(
        [
            a_pod("a", node="n1", phase="Running", labels=job),
            a_pod("b", node="n1", phase="Succeeded", labels={CONTROLLER_UID: "job-2"}),
            a_pod("c", namespace="ml"),
        ]
    )
    assert tally.phases == {
        ("default", "Running"): 1,
        ("default", "Succeeded"): 1,
        ("ml", "Pending"): 1,
    }
    assert tally.running_jobs == {"job-1"}
    assert [p.name for p in tally.on_node["n1"]] == ["a"]


def test_request_cache_parses_each_pod_once_and_forgets_gone_pods():
    cache = RequestCache()
    pod = a_pod("a", node="n1", phase="Running", cpu="2")
    first = cache.tally([pod]).on_node["n1"][0]
    assert cache.tally([pod]).on_node["n1"][0] is first
    cache.tally([])
    assert cache.tally([pod]).on_node["n1"][0] is not first


def test_node_usages_count_live_pods_only():
    nodes = [a_node("n1", gpus=8), a_node("n2", ready="False")]
    pods = [
        a_pod("a", node="n1", phase="Running", cpu="500m", gpus=2),
        a_pod("b", node="n1", phase="Succeeded", cpu="4", gpus=4),
        a_pod("c", node="n2", phase="Running", cpu="2"),
    ]
    usage = {u.name: u for u in node_usages(nodes, tally_pods(pods).on_node)}
    assert (usage["n1"].view.req_cpu, usage["n1"].view.req_gpu) == (500, 2)
    assert (usage["n1"].view.alloc_cpu, usage["n1"].view.alloc_gpu) == (8000, 8)
    assert usage["n1"].ready and not usage["n2"].ready
    assert usage["n2"].view.req_cpu == 2000


@pytest.mark.parametrize(
    "used, pending_gpus, fragmented",
    [
        (6, [4], 2),  # 2 free, the pending pod wants 4: both stranded
        (6, [4, 1], 0),  # a 1-GPU pod could use them
        (6, [], 0),  # nothing waits for GPUs: idle, not fragmented
        (8, [4], 0),  # nothing free
        (0, [16], 8),  # a request no node of this size can ever hold
    ],
)
def test_fragmented_gpus(used, pending_gpus, fragmented):
    pods = [a_pod("run", node="n1", phase="Running", gpus=used)] if used else []
    pods += [a_pod(f"p{i}", gpus=g) for i, g in enumerate(pending_gpus)]
    tally = tally_pods(pods)
    node = node_usages([a_node("n1", gpus=8)], tally.on_node)[0]
    pending = tally.pending
    assert fragmented_gpus(node.view, pending) == fragmented


def test_free_gpus_behind_too_little_cpu_are_fragmented():
    tally = tally_pods(
        [a_pod("run", node="n1", phase="Running", cpu="4", gpus=2), a_pod("p", cpu="1", gpus=1)]
    )
    node = node_usages([a_node("n1", cpu="4", gpus=8)], tally.on_node)[0]
    pending = tally.pending
    assert fragmented_gpus(node.view, pending) == 6


def test_gpu_shares_count_as_requested_and_leave_the_rest_of_their_device_free():
    tally = tally_pods(
        [
            a_pod("a", node="n1", phase="Running", gpu_milli=500, devices="0"),
            a_pod("b", node="n1", phase="Running", gpu_milli=250, devices="0"),
            a_pod("p", gpus=2),
        ]
    )
    node = node_usages([a_node("n1", gpus=2)], tally.on_node)[0]
    assert requested_gpus(node.view) == 0.75
    assert free_gpu_capacity(node.view) == 1.25
    # the whole-GPU pod wants 2 and only 1 device is whole: all 1.25 are stranded
    assert fragmented_gpus(node.view, tally.pending) == 1.25


def test_a_pending_share_can_use_a_partly_used_device():
    tally = tally_pods(
        [
            a_pod("a", node="n1", phase="Running", gpu_milli=500, devices="0"),
            a_pod("p", gpu_milli=400),
        ]
    )
    node = node_usages([a_node("n1", gpus=1)], tally.on_node)[0]
    assert fragmented_gpus(node.view, tally.pending) == 0
