"""Admission under GPU scarcity: large jobs wait when free GPUs run short, small ones fill."""

from __future__ import annotations

from dataclasses import replace

import pytest

from berth.scheduler.admission import holds_back, median_request
from berth.scheduler.backfill import BackfillPolicy
from berth.scheduler.cycle import Cycle
from berth.scheduler.mix import Kind
from berth.scheduler.scoring import FRAGMENTATION_AWARE, PACK
from berth.scheduler.snapshot import Snapshot
from berth.scheduler.types import PodRequest
from tests.unit.scheduler.sched_builders import a_node, a_pod

GI = 2**30
MI = 2**20
# Mostly 1-GPU requests, a few 8-GPU jobs: 1-GPU requests ask for most of the GPUs.
MIX = (Kind(100, 128 * MI, 1, 0, 0.9), Kind(100, 128 * MI, 8, 0, 0.1))
FRAG = replace(FRAGMENTATION_AWARE, admission_reserve=0.15)


def test_admission_is_on_by_default_under_the_fragmentation_aware_strategy_only():
    assert FRAGMENTATION_AWARE.admission_reserve > 0
    assert PACK.admission_reserve == 0


def test_the_median_request_splits_the_gpu_demand_in_half():
    assert median_request(MIX) == 1
    # Ten 4-GPU jobs ask for more GPUs than sixty 250-milli shares and ten 1-GPU pods.
    mix = (Kind(1, 1, 0, 250, 0.6), Kind(1, 1, 1, 0, 0.1), Kind(1, 1, 4, 0, 0.1))
    assert median_request(mix) == 4
    assert median_request(mix[:2]) == 0.25
    assert median_request(()) == 0.0


@pytest.mark.parametrize(
    "gpu, requested, reserve, held",
    [
        (8, 80.0, 0.15, True),  # 100 GPUs, 20 free: after it 12 < 15
        (8, 70.0, 0.15, False),  # 30 free: 22 left after it, room enough
        (1, 98.0, 0.15, False),  # a small request is never held back
        (8, 80.0, 0.0, False),  # no reserve: never
        (8, 80.0, 0.05, False),  # a reserve of 5 GPUs could not hold the job itself
    ],
)
def test_a_large_job_waits_only_when_it_would_leave_the_reserve_short(
    gpu, requested, reserve, held
):
    pod = PodRequest("ns", "p", "u", gpu=gpu)
    assert holds_back(pod, median_request(MIX), 100, requested, reserve) is held


def test_a_pod_without_gpus_is_never_held_back():
    assert not holds_back(PodRequest("ns", "p", "u", cpu=1000), 1.0, 100, 100.0, 0.5)


def _cluster() -> Snapshot:
    # Ten 8-GPU nodes, eight of them full: 16 of 80 GPUs free (20%).
    full = tuple(a_pod(f"r{i}", gpu=8) for i in range(8))
    return Snapshot(
        [
            a_node(f"n{i}", cpu="96", memory="512Gi", gpu=8, running=(full[i],) if i < 8 else ())
            for i in range(10)
        ]
    )


def test_the_snapshot_keeps_the_gpus_requested_as_pods_come_and_go():
    snap = _cluster()
    assert (snap.gpu_capacity, snap.gpu_requested) == (80, 64.0)
    share = PodRequest("ns", "s", "us", gpu_milli=250)
    snap.assume(share, "n8")
    assert snap.gpu_requested == pytest.approx(64.25)
    snap.forget(share, "n8")
    snap.remove_node("n0")
    assert (snap.gpu_capacity, snap.gpu_requested) == (72, 56.0)


def test_under_the_fragmentation_aware_strategy_a_large_job_waits_and_small_ones_fill():
    snap = _cluster()
    cycle = Cycle(snap, FRAG, kinds=MIX)
    big = cycle.decide(a_pod("big", gpu=8))
    assert big.node is None and not big.unresolvable
    assert big.message is not None and big.message.startswith("held back: asks for 8 GPUs")
    small = [cycle.decide(a_pod(f"one{i}", gpu=1, order=i)) for i in range(16)]
    assert all(d.node is not None for d in small)
    assert snap.gpu_requested == 80.0


def test_other_strategies_place_the_large_job():
    decision = Cycle(_cluster(), PACK, kinds=MIX).decide(a_pod("big", gpu=8))
    assert decision.node in {"n8", "n9"}


def test_a_held_back_job_that_starves_reserves_a_node_and_then_runs():
    snap = _cluster()
    reservations: dict[str, str] = {}
    policy = BackfillPolicy(reserve_after_s=60.0)
    big = a_pod("big", gpu=8)
    first = Cycle(snap, FRAG, kinds=MIX, reservations=reservations)
    assert first.decide(big).node is None and not reservations
    later = Cycle(
        snap,
        FRAG,
        kinds=MIX,
        now=61.0,
        waiting_since={big.uid: 0.0},
        reservations=reservations,
        backfill=policy,
    )
    assert later.decide(big).node is None and big.uid in reservations
    reserved = reservations[big.uid]
    again = Cycle(snap, FRAG, kinds=MIX, reservations=reservations)
    assert again.decide(big).node == reserved and not reservations
