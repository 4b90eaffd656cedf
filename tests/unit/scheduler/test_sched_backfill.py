"""Backfill: small pods pass a big one that does not fit, but the big one never starves."""

from __future__ import annotations

from berth.scheduler.backfill import BackfillPolicy, choose_reservation, shortfall
from berth.scheduler.cycle import schedule_batch
from berth.scheduler.snapshot import Snapshot
from berth.scheduler.types import PodRequest
from tests.unit.scheduler.sched_builders import a_node, a_pod

RESERVED = "node(s) were reserved for a pod that has waited longer"


class FakeClock:
    def __init__(self) -> None:
        self.now = 0.0

    def __call__(self) -> float:
        return self.now


def simulate(policy: BackfillPolicy, ticks: int) -> tuple[int | None, list[int]]:
    """Two busy 8-GPU nodes; an 8-GPU pod waits while 1-GPU pods keep arriving (6 a
    second, each running 3 seconds), more than enough to keep both nodes busy forever.
    Returns the tick the big pod was placed at (None if never) and how many small pods
    were placed per tick."""
    clock = FakeClock()
    snap = Snapshot([a_node("n1", cpu="64", gpu=8), a_node("n2", cpu="64", gpu=8)])
    pending: dict[str, PodRequest] = {"uid-big": a_pod("big", gpu=8, order=0)}
    running: list[tuple[float, PodRequest, str]] = []
    for i in range(16):  # already running, finishing a few at a time
        pod = a_pod(f"r{i}", gpu=1)
        node = "n1" if i % 2 else "n2"
        snap.assume(pod, node)
        running.append((1.0 + i // 6, pod, node))
    waiting_since: dict[str, float] = {}
    reservations: dict[str, str] = {}
    placed_big_at = None
    small_placed = []
    seq = 0
    for tick in range(ticks):
        clock.now = float(tick)
        for ends, pod, node in [r for r in running if r[0] <= clock.now]:
            snap.forget(pod, node)
            running.remove((ends, pod, node))
        for _ in range(6):
            seq += 1
            pending[f"uid-s{seq}"] = a_pod(f"s{seq}", gpu=1, order=seq)
        decisions = schedule_batch(
            list(pending.values()),
            snap,
            now=clock.now,
            waiting_since=waiting_since,
            reservations=reservations,
            backfill=policy,
        )
        placed_small = 0
        for d in decisions:
            if d.node is None:
                waiting_since.setdefault(d.uid, clock.now)
                continue
            pod = pending.pop(d.uid)
            waiting_since.pop(d.uid, None)
            running.append((clock.now + 3, pod, d.node))
            if d.uid == "uid-big":
                placed_big_at = tick
            else:
                placed_small += 1
        small_placed.append(placed_small)
    return placed_big_at, small_placed


def test_without_reservations_the_big_pod_starves():
    placed_at, small = simulate(BackfillPolicy(max_reservations=0), ticks=60)
    assert placed_at is None
    assert all(n > 0 for n in small[1:])  # the small ones kept flowing past it


def test_with_reservations_the_big_pod_lands_soon_after_it_starts_starving():
    placed_at, small = simulate(BackfillPolicy(reserve_after_s=10, max_reservations=1), ticks=60)
    assert placed_at is not None
    # starving from t=10, the reserved node drains within the small pods' 3 s run time
    assert 10 <= placed_at <= 14
    # no head-of-line blocking: small pods pass it whenever GPUs free up (none do at t=0),
    # and keep using the node that is not reserved
    assert all(n > 0 for n in small[1:])


def test_a_starving_pod_reserves_the_node_closest_to_fitting_it():
    snap = Snapshot(
        [
            a_node("mostly-busy", gpu=8, running=(a_pod(gpu=6),)),
            a_node("mostly-free", gpu=8, running=(a_pod(gpu=2),)),
            a_node("cpu-only"),
        ]
    )
    big = a_pod("big", gpu=8)
    assert shortfall(big, snap.node("mostly-free")) == 0.25
    assert choose_reservation(big, snap) == "mostly-free"
    reservations: dict[str, str] = {}
    decisions = schedule_batch(
        [big, a_pod("small", gpu=1, order=1)],
        snap,
        now=100.0,
        waiting_since={"uid-big": 0.0},
        reservations=reservations,
    )
    assert reservations == {"uid-big": "mostly-free"}
    # the reservation is made when the big pod fails, so the small pod behind it in the
    # same cycle already keeps off the reserved node
    assert [d.node for d in decisions] == [None, "mostly-busy"]


def test_a_reserved_node_is_closed_to_other_pods_and_says_so():
    snap = Snapshot(
        [
            a_node("r", gpu=8, running=(a_pod(gpu=2),)),
            a_node("full", gpu=8, running=(a_pod(gpu=8),)),
        ]
    )
    reservations = {"uid-big": "r"}
    decisions = schedule_batch([a_pod("small", gpu=1)], snap, reservations=reservations)
    assert decisions[0].node is None
    assert decisions[0].message == (
        f"0/2 nodes are available: 1 Insufficient nvidia.com/gpu, 1 {RESERVED}."
    )
    assert decisions[0].unresolvable is False


def test_the_reservation_ends_when_its_pod_lands():
    snap = Snapshot([a_node("r", gpu=8, running=(a_pod(gpu=2),)), a_node("other", gpu=8)])
    reservations = {"uid-big": "r", "uid-gone": "vanished-node"}
    decisions = schedule_batch(
        [a_pod("big", gpu=8, order=0), a_pod("small", gpu=1, order=1)],
        snap,
        reservations=reservations,
    )
    assert [d.node for d in decisions] == ["other", "r"]  # r reopened at once
    assert reservations == {}
    assert snap.held == frozenset()


def test_a_pod_lands_on_its_reserved_node_once_it_has_drained():
    snap = Snapshot([a_node("r", gpu=8), a_node("busy", gpu=8, running=(a_pod(gpu=1),))])
    snap.hold("busy")  # not ours: held for someone else
    reservations = {"uid-big": "r", "uid-other": "busy"}
    (decision,) = schedule_batch([a_pod("big", gpu=8)], snap, reservations=reservations)
    assert decision.node == "r"
    assert reservations == {"uid-other": "busy"}


def test_the_reservation_ends_when_the_pod_can_no_longer_ever_fit_there():
    snap = Snapshot([a_node("r", gpu=4)])  # the node shrank below the request
    reservations = {"uid-big": "r"}
    (decision,) = schedule_batch(
        [a_pod("big", gpu=8)],
        snap,
        now=100.0,
        waiting_since={"uid-big": 0.0},
        reservations=reservations,
    )
    assert decision.unresolvable is True
    assert reservations == {}
    assert snap.held == frozenset()


def test_reservations_are_capped_and_go_in_queue_order():
    snap = Snapshot([a_node(f"n{i}", gpu=8, running=(a_pod(gpu=4),)) for i in range(3)])
    pods = [a_pod(f"big{i}", gpu=8, order=i) for i in range(3)]
    reservations: dict[str, str] = {}
    schedule_batch(
        pods,
        snap,
        now=100.0,
        waiting_since={p.uid: 0.0 for p in pods},
        reservations=reservations,
        backfill=BackfillPolicy(reserve_after_s=60, max_reservations=2),
    )
    assert sorted(reservations) == ["uid-big0", "uid-big1"]
    assert len(set(reservations.values())) == 2


def test_pods_that_have_not_waited_long_enough_reserve_nothing():
    snap = Snapshot([a_node("n", gpu=8, running=(a_pod(gpu=4),))])
    reservations: dict[str, str] = {}
    schedule_batch(
        [a_pod("big", gpu=8)],
        snap,
        now=30.0,
        waiting_since={"uid-big": 0.0},
        reservations=reservations,
        backfill=BackfillPolicy(reserve_after_s=60),
    )
    assert reservations == {}


def test_unresolvable_pods_reserve_nothing():
    snap = Snapshot([a_node("n", gpu=8)])
    reservations: dict[str, str] = {}
    schedule_batch(
        [a_pod("huge", gpu=16)],
        snap,
        now=1000.0,
        waiting_since={"uid-huge": 0.0},
        reservations=reservations,
    )
    assert reservations == {}
