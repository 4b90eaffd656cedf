"""Admission under scarcity: large jobs wait when the scarcest resource runs short, small
ones fill."""

from __future__ import annotations

from dataclasses import replace

import pytest

from berth.scheduler.admission import (
    CPU,
    GPUS,
    MEMORY,
    Level,
    held,
    held_back_message,
    holds_back,
    median_request,
    pressure_on,
    scarcest,
)
from berth.scheduler.backfill import BackfillPolicy
from berth.scheduler.cycle import Cycle
from berth.scheduler.mix import Kind, Medians, WorkloadMix, weighted_median
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
    assert holds_back(gpu, median_request(MIX), 100, requested, reserve) is held


def test_a_pod_that_asks_for_none_of_the_resource_is_never_held_back():
    assert not holds_back(0, 1.0, 100, 100.0, 0.5)


@pytest.mark.parametrize(
    "levels, scarce",
    [
        # (resource, capacity, requested): the least free share wins
        (((GPUS, 100, 90), (CPU, 1000, 500), (MEMORY, 10, 1)), GPUS),
        (((GPUS, 100, 60), (CPU, 1000, 700), (MEMORY, 10, 1)), CPU),
        (((GPUS, 100, 10), (CPU, 1000, 100), (MEMORY, 10, 9.5)), MEMORY),
        (((GPUS, 0, 0), (CPU, 1000, 100), (MEMORY, 10, 0)), CPU),  # no GPUs: not GPUs
        (((GPUS, 0, 0), (CPU, 0, 0), (MEMORY, 0, 0)), None),
    ],
)
def test_the_scarcest_resource_has_the_least_free_share(levels, scarce):
    level = scarcest([Level(*lv) for lv in levels])
    assert (level.resource if level else None) == scarce


HOST = replace(FRAGMENTATION_AWARE, admission_reserve=0.2, host_reserve=0.5)
MEDIANS = Medians(cpu=16000, memory=64 * GI)


@pytest.mark.parametrize(
    "pod, levels, held_",
    [
        # CPU is scarcest (30% free < 50%): a 32-CPU pod waits, a 16-CPU pod (the median) not
        (PodRequest("ns", "p", "u", cpu=32000), (60, 70_000, 0), True),
        (PodRequest("ns", "p", "u", cpu=16000), (60, 70_000, 0), False),
        # ... and an 8-GPU job that asks for 32 CPUs too waits for CPU, not GPUs
        (PodRequest("ns", "p", "u", cpu=32000, gpu=8), (60, 70_000, 0), True),
        # GPUs scarcest (10% free): the 32-CPU pod without GPUs is placed
        (PodRequest("ns", "p", "u", cpu=32000), (90, 60_000, 0), False),
        # memory scarcest (30% free < 50%): a 128 GiB pod waits
        (PodRequest("ns", "p", "u", cpu=1000, memory=128 * GI), (10, 10_000, 700), True),
    ],
)
def test_the_scarcest_resource_holds_back_pods_large_in_it(pod, levels, held_):
    gpus, cpus, gib = levels
    cluster = (
        Level(GPUS, 100, gpus),
        Level(CPU, 100_000, cpus),
        Level(MEMORY, 1000 * GI, gib * GI),
    )
    pressure = pressure_on(pod, cluster, 1.0, MEDIANS, HOST)
    assert pressure is not None
    assert held(pressure) is held_


def test_a_cluster_without_gpus_holds_nothing_back():
    cluster = (Level(GPUS, 0, 0), Level(CPU, 100_000, 90_000), Level(MEMORY, 1000 * GI, 0))
    assert pressure_on(PodRequest("ns", "p", "u", cpu=32000), cluster, 0.0, MEDIANS, HOST) is None


def test_without_reserves_there_is_no_admission():
    cluster = (Level(GPUS, 100, 99), Level(CPU, 100, 99), Level(MEMORY, 100, 99))
    pod = PodRequest("ns", "p", "u", cpu=32000, gpu=8)
    assert pressure_on(pod, cluster, 1.0, MEDIANS, PACK) is None


def test_the_message_names_the_scarce_resource_in_its_units():
    cluster = (Level(GPUS, 100, 0), Level(CPU, 100_000, 60_000), Level(MEMORY, GI, 0))
    pressure = pressure_on(PodRequest("ns", "p", "u", cpu=32000), cluster, 1.0, MEDIANS, HOST)
    assert pressure is not None
    assert held_back_message(pressure) == (
        "held back: asks for 32 CPUs, more than the recent median request (16), while less "
        "than 50% of the cluster's CPU is free"
    )


@pytest.mark.parametrize(
    "weights, median",
    [
        (((2, 10), (32, 1)), 32),  # ten 2s ask for 20, one 32 for 32: the middle is in 32
        (((2, 20), (32, 1)), 2),  # forty: half of 72 is reached within the 2s
        ((), 0.0),
    ],
)
def test_the_weighted_median_splits_the_demand_in_half(weights, median):
    assert weighted_median(weights) == median


def test_the_mix_learns_cpu_and_memory_medians_from_every_arrival():
    pods = [PodRequest("ns", f"c{i}", f"c{i}", cpu=2000, memory=4 * GI) for i in range(30)]
    pods += [
        PodRequest("ns", f"g{i}", f"g{i}", cpu=32000, memory=128 * GI, gpu=1) for i in range(3)
    ]
    medians = WorkloadMix().observe_all(pods).medians()
    # 60 CPUs asked by the 2-CPU pods against 96 by the GPU pods: the middle is at 32
    assert medians == Medians(cpu=32000, memory=128 * GI)
    assert WorkloadMix().observe_all(pods[:30]).medians() == Medians(2000, 4 * GI)


def _cluster() -> Snapshot:
    # Ten 8-GPU nodes, eight of them full: 16 of 80 GPUs free (20%).
    full = tuple(a_pod(f"r{i}", gpu=8) for i in range(8))
    return Snapshot(
        [
            a_node(f"n{i}", cpu="96", memory="512Gi", gpu=8, running=(full[i],) if i < 8 else ())
            for i in range(10)
        ]
    )


def test_the_snapshot_keeps_what_is_requested_as_pods_come_and_go():
    snap = _cluster()
    used_cpu, used_mem = snap.cpu_requested, snap.mem_requested
    assert (snap.gpu_capacity, snap.gpu_requested) == (80, 64.0)
    assert (snap.cpu_capacity, snap.mem_capacity) == (960_000, 5120 * GI)
    share = PodRequest("ns", "s", "us", cpu=3000, memory=GI, gpu_milli=250)
    snap.assume(share, "n8")
    assert snap.gpu_requested == pytest.approx(64.25)
    assert (snap.cpu_requested, snap.mem_requested) == (used_cpu + 3000, used_mem + GI)
    snap.forget(share, "n8")
    assert (snap.cpu_requested, snap.mem_requested) == (used_cpu, used_mem)
    removed = snap.node("n0")
    snap.remove_node("n0")
    assert (snap.gpu_capacity, snap.gpu_requested) == (72, 56.0)
    assert snap.cpu_capacity == 864_000
    assert snap.cpu_requested == used_cpu - removed.req_cpu


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


def _cpu_bound(gpu: int = 8) -> Snapshot:
    # Ten 32-CPU nodes with 8 GPUs, seven of them with every CPU taken: 30% of the CPU free,
    # all the GPUs.
    full = tuple(a_pod(f"r{i}", cpu="32", memory="1Gi") for i in range(7))
    return Snapshot(
        [
            a_node(f"n{i}", cpu="32", memory="256Gi", gpu=gpu, running=(full[i],) if i < 7 else ())
            for i in range(10)
        ]
    )


def test_when_cpu_runs_short_a_pod_large_in_cpu_waits_and_small_ones_fill():
    snap = _cpu_bound()
    medians = Medians(cpu=4000, memory=GI)
    cycle = Cycle(snap, FRAGMENTATION_AWARE, medians=medians)
    big = cycle.decide(a_pod("big", cpu="16", memory="1Gi"))
    assert big.node is None and not big.unresolvable
    assert big.message is not None and big.message.startswith("held back: asks for 16 CPUs")
    small = [cycle.decide(a_pod(f"s{i}", cpu="4", memory="1Gi", order=i)) for i in range(24)]
    assert all(d.node is not None for d in small)
    # Without the learned medians (nothing arrived yet) the large pod is placed, and on a
    # cluster without GPUs too.
    placed = Cycle(_cpu_bound(), FRAGMENTATION_AWARE).decide(a_pod("big", cpu="16"))
    assert placed.node is not None
    no_gpus = Cycle(_cpu_bound(gpu=0), FRAGMENTATION_AWARE, medians=medians)
    assert no_gpus.decide(a_pod("big", cpu="16", memory="1Gi")).node is not None
