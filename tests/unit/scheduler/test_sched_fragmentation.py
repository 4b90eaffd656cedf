"""Fragmentation-aware placement (FGD): the measure, the mix, and the choices it makes."""

from __future__ import annotations

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from berth.platform.resources.nodeselectors import parse_term
from berth.scheduler.cycle import schedule_batch
from berth.scheduler.fragmentation import (
    FragmentationMemo,
    best_delta,
    dead_room,
    fragmentation,
    free_gpus,
    model_pressure,
    waste,
)
from berth.scheduler.mix import Kind, WorkloadMix
from berth.scheduler.snapshot import Snapshot
from berth.scheduler.types import NodeView, PodRequest
from tests.unit.scheduler.sched_builders import a_node, a_pod, expr

GI = 2**30
ONE_GPU = Kind(1000, GI, 1, 0, 1.0)
HALF = Kind(1000, GI, 0, 500, 1.0)


@pytest.mark.parametrize(
    "cpu_free, free, kind, want",
    [
        (8000, [1000, 1000], ONE_GPU, 0.0),  # fits, no piece too small
        (8000, [1000, 300], ONE_GPU, 0.3),  # the shared device is no use to a whole GPU
        (0, [1000, 1000], ONE_GPU, 2.0),  # no CPU left: every free GPU is stranded
        (8000, [300, 200], HALF, 0.5),  # no device has room for a half
        (8000, [1000, 300], HALF, 0.3),  # the 300 piece is too small for a half
        (8000, [0, 0], ONE_GPU, 0.0),  # nothing free, nothing wasted
    ],
)
def test_fragmentation_of_one_node_for_one_kind(cpu_free, free, kind, want):
    assert fragmentation(cpu_free, 8 * GI, free, [kind]) == pytest.approx(want)


def test_fragmentation_is_the_expectation_over_the_mix():
    mix = [ONE_GPU._replace(share=0.25), HALF._replace(share=0.75)]
    assert fragmentation(8000, 8 * GI, [1000, 300], mix) == pytest.approx(0.3)
    assert fragmentation(8000, 8 * GI, [400, 300], mix) == pytest.approx(0.25 * 0.7 + 0.75 * 0.7)


def test_the_mix_is_learned_from_arrivals_and_forgets_old_ones():
    mix = WorkloadMix(half_life=10)
    for _ in range(50):
        mix.observe(PodRequest("", "", "", gpu=1))
    mix.observe(PodRequest("", "", "", cpu=500))  # no GPU: not part of the mix
    for _ in range(50):
        mix.observe(PodRequest("", "", "", gpu_milli=250))
    kinds = {(k.gpu, k.milli): k.share for k in mix.kinds()}
    assert set(kinds) == {(1, 0), (0, 250)}
    assert kinds[(0, 250)] > 0.9 and sum(kinds.values()) == pytest.approx(1.0)


def test_a_share_goes_to_the_device_that_leaves_least_waste():
    node = NodeView("n", cpu=8000, memory=8 * GI, gpu=2)
    node.add(PodRequest("", "", "a", gpu_milli=500), (0,))
    # With halves arriving, a second half on device 0 wastes nothing; on device 1 it would
    # leave device 0's half and device 1's half: still usable. With whole GPUs arriving,
    # device 1 must stay whole.
    delta, devices = best_delta(PodRequest("", "", "b", gpu_milli=500), node, [ONE_GPU])
    assert devices == (0,) and delta < 0


# The benchmark's share sizes, equally frequent, and whole GPUs as often as all of them.
SHARES = [Kind(4000, GI, 0, m, 0.1) for m in (100, 250, 300, 500, 700)] + [
    ONE_GPU._replace(share=0.5)
]


@pytest.mark.parametrize(
    "free, kinds, want",
    [
        ([50, 1000], SHARES, 0.05),  # no share is as small as 50
        ([150], SHARES, 0.05),  # 100 fits, 50 of it is dead
        ([350, 450, 950], SHARES, 0.0),  # 250 + 100, 250 + 2 x 100, 700 + 250
        ([1000, 0], SHARES, 0.0),  # a whole free device is no dead room
        ([300], [HALF, ONE_GPU], 0.3),  # only halves share: 300 is dead
        ([300], [ONE_GPU], 0.3),  # nothing shares: every partial piece is dead
        ([750], [Kind(1, 1, 0, 250, 0.5), Kind(1, 1, 0, 300, 0.5)], 0.0),  # 250 x 3
        ([850], [Kind(1, 1, 0, 300, 0.5), Kind(1, 1, 0, 400, 0.5)], 0.05),  # 400 + 400
    ],
)
def test_dead_room_is_what_no_combination_of_the_shares_fills(free, kinds, want):
    assert dead_room(free, kinds) == pytest.approx(want)


def test_waste_counts_dead_room_on_top_of_fragmentation():
    frag = fragmentation(8000, 8 * GI, [50, 1000], SHARES)
    assert waste(8000, 8 * GI, [50, 1000], SHARES) > frag + 0.05
    assert waste(8000, 8 * GI, [100, 1000], SHARES) == fragmentation(
        8000, 8 * GI, [100, 1000], SHARES
    )


def test_a_quarter_share_pairs_with_the_device_an_odd_quarter_left_open():
    """Device 0 holds a 700 (300 free), device 1 a 250 and a 400 (350 free). A 250 on
    device 0 leaves 50 no share can use; on device 1 it leaves 100, room for a 100. FGD's
    measure alone prefers device 0 (the 300 there counted as a fragment for every larger
    kind); counting the dead 50 sends it to device 1."""
    node = NodeView("n", cpu=64000, memory=64 * GI, gpu=2)
    node.add(PodRequest("", "", "a", gpu_milli=700), (0,))
    node.add(PodRequest("", "", "b", gpu_milli=250), (1,))
    node.add(PodRequest("", "", "c", gpu_milli=400), (1,))
    assert node.dev_free == [300, 350]
    best = best_delta(PodRequest("", "", "d", gpu_milli=250), node, SHARES)
    assert best is not None and best[1] == (1,)


def test_an_eight_gpu_node_stays_whole_for_eight_gpu_jobs():
    snap = Snapshot(
        [
            a_node("eight", cpu="96", memory="512Gi", gpu=8),
            a_node("four", cpu="64", memory="256Gi", gpu=4, running=(a_pod("r", gpu=2),)),
        ]
    )
    pods = [a_pod("one", gpu=1, order=0)] + [a_pod(f"big{i}", gpu=8, order=i + 1) for i in range(3)]
    decisions = schedule_batch(
        pods[:1],
        snap,
        "fragmentation-aware",
        kinds=[Kind(100, 128 * 2**20, 8, 0, 0.5), Kind(100, 128 * 2**20, 1, 0, 0.5)],
    )
    assert decisions[0].node == "four"


def test_cpu_pods_do_not_strand_a_gpu_nodes_gpus_when_a_cpu_node_can_take_them():
    snap = Snapshot(
        [a_node("gpu", cpu="16", memory="64Gi", gpu=4), a_node("cpu", cpu="16", memory="64Gi")]
    )
    pods = [a_pod(f"c{i}", cpu="4", order=i) for i in range(4)]
    decisions = schedule_batch(pods, snap, "fragmentation-aware", kinds=[Kind(4000, GI, 1, 0, 1.0)])
    assert {d.node for d in decisions} == {"cpu"}


def test_a_gpu_model_constraint_is_honoured_with_shares():
    snap = Snapshot(
        [
            a_node("a100", gpu=2, labels={"nvidia.com/gpu.product": "A100"}),
            a_node("t4", gpu=2, labels={"nvidia.com/gpu.product": "T4"}),
        ]
    )
    pod = a_pod(
        "s",
        extended={"berth.dev/gpu-milli": "250"},
        terms=[{"matchExpressions": [expr("nvidia.com/gpu.product", "In", "T4", "L4")]}],
    )
    for profile in ("pack", "spread", "fragmentation-aware"):
        (decision,) = schedule_batch([pod], Snapshot([n for n in _copy(snap)]), profile)
        assert decision.node == "t4"


def _copy(snap: Snapshot):
    return [a_node(n.name, gpu=n.alloc_gpu, labels=n.labels) for n in snap]


def test_pods_choose_their_profile_by_scheduler_name():
    pods = [a_pod(f"p{i}", cpu="1", order=i) for i in range(3)]
    spread = [
        p.__class__(
            **{
                **{
                    f: getattr(p, f) for f in ("namespace", "name", "uid", "cpu", "memory", "order")
                },
                "scheduler": "spread",
            }
        )
        for p in pods
    ]
    nodes = lambda: Snapshot([a_node(f"n{i}", cpu="4") for i in range(3)])  # noqa: E731
    assert len({d.node for d in schedule_batch(pods, nodes(), "pack")}) == 1
    assert len({d.node for d in schedule_batch(spread, nodes(), "pack")}) == 3


def test_model_pressure_is_highest_on_the_scarce_model_constrained_kinds_need():
    t4 = NodeView("t4", gpu=2, labels={"nvidia.com/gpu.product": "T4"})
    a100 = NodeView("a100", gpu=8, labels={"nvidia.com/gpu.product": "A100"})
    only_t4 = (
        parse_term(
            {
                "matchExpressions": [
                    {"key": "nvidia.com/gpu.product", "operator": "In", "values": ["T4"]}
                ]
            }
        ),
    )
    kinds = [Kind(0, 0, 1, 0, 0.8), Kind(0, 0, 1, 0, 0.2, affinity=only_t4)]
    t4_pressure, a100_pressure = model_pressure(kinds, [(t4, 20), (a100, 800)])
    assert a100_pressure == 0.0 and t4_pressure == pytest.approx(0.2 * 820 / 20)


def test_anywhere_work_leaves_the_scarce_model_to_the_work_that_needs_it():
    snap = Snapshot(
        [
            a_node("t4", gpu=1, labels={"nvidia.com/gpu.product": "T4"}),
            a_node("a100", gpu=1, labels={"nvidia.com/gpu.product": "A100"}),
        ]
    )
    anywhere = a_pod("any", gpu=1, order=0)
    needs_t4 = a_pod(
        "t4-only",
        gpu=1,
        order=1,
        terms=[{"matchExpressions": [expr("nvidia.com/gpu.product", "In", "T4")]}],
    )
    decisions = schedule_batch([anywhere, needs_t4], snap, "fragmentation-aware")
    assert [d.node for d in decisions] == ["a100", "t4"]


def test_model_pressure_follows_the_gpus_still_free():
    """The A100s are the larger pool but nearly full; the T4s are idle: work that may run
    anywhere now leaves the last A100 to the A100-only kind."""
    product = "nvidia.com/gpu.product"
    busy = a_pod("busy", gpu=1)
    a100 = [
        a_node(f"a100-{i}", gpu=2, labels={product: "A100"}, running=(busy, busy) if i else (busy,))
        for i in range(4)
    ]
    t4 = [a_node(f"t4-{i}", gpu=2, labels={product: "T4"}) for i in range(2)]

    def only(model):
        return (
            parse_term(
                {"matchExpressions": [{"key": product, "operator": "In", "values": [model]}]}
            ),
        )

    kinds = [
        Kind(0, 0, 1, 0, 0.4),
        Kind(0, 0, 1, 0, 0.3, affinity=only("A100")),
        Kind(0, 0, 1, 0, 0.3, affinity=only("T4")),
    ]
    [decision] = schedule_batch(
        [a_pod("any", gpu=1)], Snapshot(a100 + t4), "fragmentation-aware", kinds=kinds
    )
    assert decision.node.startswith("t4-")


def test_free_gpus_whose_cpu_is_gone_are_no_supply():
    """Model pressure counts a node's free GPUs only as far as its free CPU and memory
    would carry them at the node's own CPU and memory per GPU."""
    cpu_hog = a_pod("hog", cpu="24", memory="8Gi")
    snap = Snapshot(
        [
            a_node("idle", cpu="32", memory="128Gi", gpu=2),
            a_node("stranded", cpu="32", memory="128Gi", gpu=2, running=(cpu_hog,)),
        ]
    )
    [group] = snap.groups
    assert free_gpus(group) == pytest.approx(2 + 2 * 8 / 32)


@settings(max_examples=200, deadline=None)
@given(
    cpu=st.integers(0, 20_000),
    mem=st.integers(0, 40),
    free=st.lists(st.sampled_from([0, 100, 300, 500, 700, 1000]), min_size=1, max_size=8),
    later=st.integers(0, 20_000),
)
def test_the_memo_gives_exactly_what_waste_gives(cpu, mem, free, later):
    """Remembered by the kinds free CPU and memory cover: a node with other free CPU that
    covers the same kinds reads the value back, and it is still exact."""
    mix = [
        Kind(2000, 8, 1, 0, 0.5),
        Kind(6000, 16, 0, 500, 0.3),
        Kind(12000, 32, 0, 250, 0.2),
    ]
    memo = FragmentationMemo(mix)
    assert memo(cpu, mem, free) == waste(cpu, mem, free, mix)
    assert memo(later, mem, free) == waste(later, mem, free, mix)
