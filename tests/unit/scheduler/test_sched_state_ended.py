"""ClusterState.pod_ended: the kubelet's word that a pod ended on its node frees its place
before the store shows it, and nothing the store says later counts it twice or again."""

from __future__ import annotations

import copy

import pytest

from berth.scheduler.queue import SchedulingQueue
from berth.scheduler.state import ClusterState
from tests.unit.scheduler.sched_builders import node_obj, pod_obj


class Clock:
    def __init__(self) -> None:
        self.now = 100.0

    def __call__(self) -> float:
        return self.now


def bound(pod: dict, node: str, phase: str | None = None) -> dict:
    out = copy.deepcopy(pod)
    out["spec"]["nodeName"] = node
    if phase:
        out["status"] = {"phase": phase}
    return out


def uid(pod: dict) -> str:
    return pod["metadata"]["uid"]


def full_node() -> tuple[ClusterState, Clock, dict, dict]:
    """A node of 4 CPUs held by one bound pod, and a pod of 4 CPUs waiting for it."""
    clock = Clock()
    state = ClusterState(SchedulingQueue(clock))
    state.on_node(None, node_obj("n", cpu="4"))
    running = bound(pod_obj("running", cpu="4"), "n", "Running")
    state.on_pod(None, running)
    waiting = pod_obj("waiting", cpu="4")
    state.on_pod(None, waiting)
    assert state.cycle(now=clock())[0] == []
    return state, clock, running, waiting


def placed(state: ClusterState, clock: Clock) -> list[str]:
    clock.now += 60  # past any backoff
    return [p.pod.name for p in state.cycle(now=clock())[0]]


@pytest.mark.parametrize(
    "late",
    [
        [],
        ["Running"],  # a status written before the end, seen after it
        ["Running", "Succeeded"],  # then the end itself
        ["Failed"],
        ["deleted"],
    ],
)
def test_an_ended_pod_frees_its_place_at_once_and_never_counts_again(late):
    state, clock, running, _ = full_node()
    state.pod_ended(uid(running))
    old = running
    for what in late:
        new = None if what == "deleted" else bound(running, "n", what)
        state.on_pod(old, new)
        old = new
    assert placed(state, clock) == ["waiting"]
    assert state.snapshot.node("n").req_cpu == 4000


def test_the_store_showing_the_end_later_does_not_free_the_place_twice():
    clock = Clock()
    state = ClusterState(SchedulingQueue(clock))
    state.on_node(None, node_obj("n", cpu="4"))
    a, b = bound(pod_obj("a", cpu="2"), "n"), bound(pod_obj("b", cpu="2"), "n")
    state.on_pod(None, a)
    state.on_pod(None, b)
    state.pod_ended(uid(a))
    state.on_pod(a, bound(a, "n", "Succeeded"))
    assert state.snapshot.node("n").req_cpu == 2000


def test_an_end_heard_before_the_bind_outcome_frees_the_place_all_the_same():
    clock = Clock()
    state = ClusterState(SchedulingQueue(clock))
    state.on_node(None, node_obj("n", cpu="4"))
    first, second = pod_obj("first", cpu="4"), pod_obj("second", cpu="4")
    state.on_pod(None, first)
    state.on_pod(None, second)
    assert [p.pod.name for p in state.cycle(now=clock())[0]] == ["first"]
    state.pod_ended(uid(first))
    state.bind_succeeded(uid(first))
    state.on_pod(first, bound(first, "n"))  # the bind, seen late
    assert placed(state, clock) == ["second"]
    assert state.in_flight == 1


def test_the_end_of_a_pod_the_scheduler_never_counted_changes_nothing():
    state, clock, _, _ = full_node()
    state.pod_ended("uid-of-someone-else")
    assert placed(state, clock) == []
    assert state.snapshot.node("n").req_cpu == 4000
