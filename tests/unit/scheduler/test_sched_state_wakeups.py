"""What a parked pod is woken by: every event that can make it fit wakes it, and room goes
to the pods that can use it (queueing hints), not merely to the first of their class."""

from __future__ import annotations

import pytest

from berth.scheduler.backfill import BackfillPolicy
from berth.scheduler.types import pod_request
from tests.unit.scheduler.sched_builders import node_obj, pod_obj
from tests.unit.scheduler.test_sched_state import bound, make_state, reserve_n_for_big, with_phase
from tests.unit.scheduler.test_sched_volumes import claim, pod_with, state_with, volume


def names(placed) -> list[tuple[str, str]]:
    return [(p.pod.name, p.node) for p in placed]


def created(pod: dict, second: int) -> dict:
    pod["metadata"]["creationTimestamp"] = f"2026-01-01T00:00:{second:02d}Z"
    return pod


def test_room_on_a_reserved_node_retries_the_pod_that_reserved_it():
    # The hang bench_e2e --long hit: the room went to the first parked pods, which the
    # reserved node turns away; the pod that reserved it was never retried.
    state, clock = make_state()
    state.on_node(None, node_obj("n", cpu="1", memory="64Gi"))
    running = [bound(pod_obj(f"r{i}", cpu="100m"), "n") for i in range(10)]
    for pod in running:
        state.on_pod(None, pod)
    waiting = [created(pod_obj(f"p{i}", cpu="100m"), i) for i in range(5)]
    for pod in waiting:
        state.on_pod(None, pod)
    state.reservations[waiting[3]["metadata"]["uid"]] = "n"
    placed, failed = state.cycle(now=clock())
    assert placed == [] and len(failed) == 5
    clock.now += 1
    state.on_pod(running[0], with_phase(running[0], "Succeeded"))
    placed, failed = state.cycle(now=clock())
    assert (names(placed), failed) == ([("p3", "n")], [])
    assert state.reservations == {}


@pytest.mark.parametrize("ends", ["its pod is deleted", "its pod is bound elsewhere"])
def test_a_reservation_that_ends_between_cycles_wakes_who_it_shut_out(ends):
    # No finished pod announces this room: the end of the reservation must.
    state, clock = make_state()
    big = reserve_n_for_big(state, clock)
    if ends == "its pod is deleted":
        state.on_pod(big, None)
    else:
        state.on_pod(big, bound(big, "m"))
    clock.now += 1
    placed, failed = state.cycle(now=clock())
    assert (names(placed), failed) == ([("small", "n")], [])


def test_a_reservation_that_ends_in_a_cycle_wakes_who_failed_while_it_held():
    state, clock = make_state()
    state.on_node(None, node_obj("n", cpu="4", labels={"pool": "a"}))
    state.on_pod(None, bound(pod_obj("x", cpu="1"), "n"))
    small = created(pod_obj("small", cpu="1", selector={"pool": "a"}), 0)
    big = created(pod_obj("big", cpu="4"), 1)
    state.on_pod(None, small)
    state.on_pod(None, big)
    state.reservations[big["metadata"]["uid"]] = "n"
    state.cycle(now=clock())
    state.on_node(None, node_obj("m", cpu="4"))  # wakes both; big goes there
    clock.now += 2
    placed, failed = state.cycle(now=clock())
    assert names(placed) == [("big", "m")]
    assert [f.pod.name for f in failed] == ["small"]  # tried while n was still held
    state.bind_succeeded(big["metadata"]["uid"])
    placed, failed = state.cycle(now=clock())
    assert (names(placed), failed) == ([("small", "n")], [])


def test_room_goes_only_to_pods_that_could_ever_run_on_the_node():
    state, clock = make_state()
    state.on_node(None, node_obj("a", cpu="1", labels={"pool": "a"}))
    state.on_node(None, node_obj("b", cpu="1", labels={"pool": "b"}))
    on_b = bound(pod_obj("x", cpu="1"), "b")
    state.on_pod(None, bound(pod_obj("y", cpu="1"), "a"))
    state.on_pod(None, on_b)
    state.on_pod(None, pod_obj("p", cpu="1", selector={"pool": "a"}))
    assert len(state.cycle(now=clock())[1]) == 1
    clock.now += 1
    state.on_pod(on_b, None)  # room on b, which p can never use
    assert state.cycle(now=clock()) == ([], [])
    assert state.queue.counts()["unschedulable"] == 1


def test_room_freed_on_any_node_retries_a_held_back_job():
    # Admission holds a large GPU job back while free GPUs run short (admission.py): GPUs
    # freed on nodes the job does not fit on still end the hold, on a node it does fit.
    state, clock = make_state()
    for i in range(10):
        state.on_node(None, node_obj(f"n{i}", cpu="96", memory="512Gi", gpu=8))
    running = [bound(pod_obj(f"r{i}{h}", gpu=4), f"n{i}") for i in range(8) for h in "ab"]
    for pod in running:
        state.on_pod(None, pod)
    for i in range(10):  # recent arrivals asked for 1 GPU: 8 GPUs is a large job
        state.mix.observe(pod_request(pod_obj(f"one{i}", gpu=1)))
    big = pod_obj("big", gpu=8)
    state.on_pod(None, big)
    placed, failed = state.cycle(now=clock(), strategy="fragmentation-aware")
    assert placed == [] and failed[0].message.startswith("held back")
    clock.now += 1
    for gone in (running[0], running[2]):  # 4 GPUs each on n0 and n1: 24 of 80 free
        state.on_pod(gone, with_phase(gone, "Succeeded"))
    placed, failed = state.cycle(now=clock(), strategy="fragmentation-aware")
    assert [p.pod.name for p in placed] == ["big"] and failed == []
    assert placed[0].node in {"n8", "n9"}


@pytest.mark.parametrize("leaves", ["finishes", "has its bind taken back"])
def test_a_pod_that_leaves_a_read_write_once_pod_claim_wakes_the_next_user(leaves):
    state = state_with(
        claims=[claim("solo", volume="v", modes=("ReadWriteOncePod",))],
        volumes=[volume("v", phase="Bound")],
        clock=lambda: 100.0,
    )
    first, second = pod_with("a", "solo"), pod_with("b", "solo")
    state.on_pod(None, first)
    state.on_pod(None, second)
    placed, failed = state.cycle(now=100.0)
    assert [p.pod.name for p in placed] == ["a"] and [f.pod.name for f in failed] == ["b"]
    if leaves == "finishes":
        state.bind_succeeded(placed[0].pod.uid)
        state.on_pod(first, bound(first, placed[0].node))
        state.on_pod(bound(first, placed[0].node), None)
    else:
        state.bind_failed(placed[0].pod.uid, current=None)  # deleted meanwhile
    placed, failed = state.cycle(now=100.0)
    assert ([p.pod.name for p in placed], failed) == (["b"], [])


def test_a_held_back_job_that_reserves_a_node_it_fits_on_runs_without_another_event():
    state, clock = make_state()
    for i in range(10):
        state.on_node(None, node_obj(f"n{i}", cpu="96", memory="512Gi", gpu=8))
    for i in range(8):
        state.on_pod(None, bound(pod_obj(f"r{i}", gpu=8), f"n{i}"))
    for i in range(10):  # recent arrivals asked for 1 GPU: 8 GPUs is a large job
        state.mix.observe(pod_request(pod_obj(f"one{i}", gpu=1)))
    state.on_pod(None, pod_obj("big", gpu=8))
    policy = BackfillPolicy(reserve_after_s=60)

    def cycle():
        return state.cycle(now=clock(), strategy="fragmentation-aware", backfill=policy)

    placed, failed = cycle()
    assert placed == [] and failed[0].message.startswith("held back")
    clock.now += 61
    state.on_node(None, node_obj("n0", cpu="96", memory="512Gi", gpu=8, labels={"x": "y"}))
    placed, failed = cycle()  # held back again, and starving: it reserves a node it fits on
    assert placed == [] and failed[0].message.startswith("held back")
    [reserved] = state.reservations.values()
    assert reserved in {"n8", "n9"}
    placed, failed = cycle()
    assert ([(p.pod.name, p.node) for p in placed], failed) == ([("big", reserved)], [])
    assert state.reservations == {}
