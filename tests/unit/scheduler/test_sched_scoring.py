"""Scorers: the packing curve as data, GPU awareness, PreferNoSchedule."""

from __future__ import annotations

import pytest

from berth.scheduler.scoring import (
    LEAST_ALLOCATED,
    MOST_ALLOCATED,
    PACK,
    SPREAD,
    Strategy,
    allocation_score,
    curve,
    gpu_placement_score,
    score_node,
    strategy_named,
    taint_score,
)
from berth.scheduler.types import NodeView, PodRequest
from tests.unit.scheduler.sched_builders import a_node, a_pod, taint, toleration


@pytest.mark.parametrize(
    "shape, utilization, want",
    [
        (MOST_ALLOCATED, 0, 0),
        (MOST_ALLOCATED, 50, 50),
        (MOST_ALLOCATED, 100, 100),
        (LEAST_ALLOCATED, 0, 100),
        (LEAST_ALLOCATED, 25, 75),
        (LEAST_ALLOCATED, 100, 0),
        (((0, 0), (50, 10), (100, 0)), 25, 50),
        (((0, 0), (50, 10), (100, 0)), 75, 50),
        (((20, 0), (80, 10)), 10, 0),
        (((20, 0), (80, 10)), 90, 100),
    ],
)
def test_curve(shape, utilization, want):
    assert curve(shape, utilization) == pytest.approx(want)


CPU_ONLY = Strategy("cpu", MOST_ALLOCATED, resource_weights=(("cpu", 1.0),))


@pytest.mark.parametrize(
    "used_cpu, pod_cpu, strategy, want",
    [
        (0, 1000, CPU_ONLY, 25.0),
        (2000, 1000, CPU_ONLY, 75.0),
        (3000, 2000, CPU_ONLY, 100.0),  # requested clamped to capacity
        (0, 1000, Strategy("s", LEAST_ALLOCATED, resource_weights=(("cpu", 1.0),)), 75.0),
    ],
)
def test_allocation_score_cpu(used_cpu, pod_cpu, strategy, want):
    node = NodeView("n", cpu=4000, memory=0)
    node.req_cpu = used_cpu
    assert allocation_score(PodRequest("", "", "", cpu=pod_cpu), node, strategy) == want


def test_zero_capacity_scores_zero():
    empty = NodeView("n")
    assert allocation_score(PodRequest("", "", "", cpu=1), empty, PACK) == 0.0


def test_allocation_score_weights_and_gpu_only_for_gpu_pods():
    node = NodeView("n", cpu=4000, memory=4, gpu=4)
    cpu_pod = PodRequest("", "", "", cpu=4000)  # cpu 100, memory 0
    assert allocation_score(cpu_pod, node, PACK) == pytest.approx(50.0)
    gpu_pod = PodRequest("", "", "", gpu=4)  # cpu 0, mem 0, gpu 100 (weight 3)
    assert allocation_score(gpu_pod, node, PACK) == pytest.approx(300 / 5)


def test_pack_prefers_the_fuller_node_and_spread_the_emptier():
    pod = a_pod(cpu="1", memory="1Gi")
    full = a_node("full", cpu="8", memory="32Gi", running=(a_pod(cpu="6", memory="24Gi"),))
    empty = a_node("empty", cpu="8", memory="32Gi")
    assert score_node(pod, full, PACK) > score_node(pod, empty, PACK)
    assert score_node(pod, full, SPREAD) < score_node(pod, empty, SPREAD)


@pytest.mark.parametrize(
    "pod_gpu, node_gpu, used, want",
    [
        (1, 8, 7, 100.0),  # fills the node's last GPU
        (1, 8, 0, 12.5),  # would break up a whole node
        (2, 4, 0, 50.0),
        (1, 0, 0, 0.0),
        (0, 0, 0, 100.0),  # a CPU pod on a CPU node: full marks
        (0, 8, 0, 0.0),  # on a GPU node with idle GPUs: none
        (0, 8, 8, 50.0),  # beside busy GPUs: at most half
    ],
)
def test_gpu_placement_score(pod_gpu, node_gpu, used, want):
    node = NodeView("n", cpu=8000, memory=8, gpu=node_gpu)
    if used:  # through add, so the node's devices are taken as well as its count
        node.add(PodRequest("", "", "running", gpu=used))
    assert gpu_placement_score(PodRequest("", "", "", gpu=pod_gpu), node) == want


def test_a_gpu_pod_prefers_the_node_its_gpus_fill_best_under_both_strategies():
    pod = a_pod(cpu="1", gpu=1)
    last_gpu = a_node("last", cpu="64", gpu=8, running=(a_pod(cpu="60", gpu=7),))
    whole = a_node("whole", cpu="64", gpu=8)
    for strategy in (PACK, SPREAD):
        assert score_node(pod, last_gpu, strategy) > score_node(pod, whole, strategy)


def test_a_cpu_pod_prefers_a_cpu_node_even_a_busy_one():
    pod = a_pod(cpu="1")
    cpu_node = a_node("cpu", cpu="8", running=(a_pod(cpu="6"),))
    gpu_node = a_node("gpu", cpu="8", gpu=8)
    for strategy in (PACK, SPREAD):
        assert score_node(pod, cpu_node, strategy) > score_node(pod, gpu_node, strategy)


def test_prefer_no_schedule_lowers_the_score_unless_tolerated():
    tainted = a_node("t", taints=[taint("soft", "x", "PreferNoSchedule")])
    plain = a_node("p")
    assert taint_score(a_pod(), tainted) < taint_score(a_pod(), plain) == 100.0
    tolerant = a_pod(tolerations=[toleration("soft", "Exists")])
    assert taint_score(tolerant, tainted) == 100.0
    assert score_node(a_pod(), tainted) < score_node(a_pod(), plain)


def test_strategy_named():
    assert strategy_named("pack") is PACK
    assert strategy_named("spread") is SPREAD
    with pytest.raises(ValueError, match="unknown scheduler strategy 'tight'"):
        strategy_named("tight")
