"""ClusterState under a backlog: pods finish, parked pods are woken, and no place stays idle.

A fake clock drives the state the way the loop and the nodes would: every ``STEP`` seconds
the pods whose run has ended finish, then one cycle runs; every placement binds at once and
runs for its pod's run time. The queue's periodic retry of parked pods is set far beyond
the runs, so only the events the state turns into wake-ups can keep the node busy.
"""

from __future__ import annotations

import copy
from dataclasses import dataclass, field

import pytest

from berth.scheduler.backfill import BackfillPolicy
from berth.scheduler.queue import SchedulingQueue
from berth.scheduler.state import ClusterState
from tests.unit.scheduler.sched_builders import node_obj, pod_obj

STEP = 0.05


class Clock:
    def __init__(self) -> None:
        self.now = 1000.0

    def __call__(self) -> float:
        return self.now


@dataclass(repr=False)
class Backlog:
    """Pods, their run times, and what the run saw: ``idle_s`` is the longest stretch with
    a place free on a node while pods waited."""

    state: ClusterState
    clock: Clock
    backfill: BackfillPolicy
    arrivals: list[tuple[float, dict, float]] = field(default_factory=list)  # (at, pod, run)
    objects: dict[str, dict] = field(default_factory=dict)
    runtime: dict[str, float] = field(default_factory=dict)
    running: dict[str, tuple[float, dict]] = field(default_factory=dict)  # uid -> (end, pod)
    finished: int = 0
    idle_s: float = 0.0

    def run(self, until: float, free_place) -> None:
        idle_since = None
        total = len(self.arrivals)
        self.arrivals.sort(key=lambda arrival: arrival[0])
        while self.clock.now < until and self.finished < total:
            while self.arrivals and self.arrivals[0][0] <= self.clock.now:
                _, pod, runtime = self.arrivals.pop(0)
                uid = pod["metadata"]["uid"]
                self.objects[uid], self.runtime[uid] = pod, runtime
                self.state.on_pod(None, pod)
            for uid, (end, pod) in list(self.running.items()):
                if end <= self.clock.now:
                    del self.running[uid]
                    done = copy.deepcopy(pod)
                    done["status"] = {"phase": "Succeeded"}
                    self.state.on_pod(pod, done)
                    self.finished += 1
            placed, _ = self.state.cycle(now=self.clock(), backfill=self.backfill)
            for placement in placed:
                uid = placement.pod.uid
                pod = copy.deepcopy(self.objects[uid])
                pod["spec"]["nodeName"] = placement.node
                self.state.bind_succeeded(uid)
                self.state.on_pod(self.objects[uid], pod)
                self.running[uid] = (self.clock.now + self.runtime[uid], pod)
            waiting = len(self.objects) - self.finished - len(self.running)
            if waiting and free_place(self.state):
                idle_since = self.clock.now if idle_since is None else idle_since
                self.idle_s = max(self.idle_s, self.clock.now - idle_since)
            else:
                idle_since = None
            self.clock.now += STEP


def created(pod: dict, second: int) -> dict:
    pod["metadata"]["creationTimestamp"] = f"2026-01-01T{second // 3600:02d}:"
    pod["metadata"]["creationTimestamp"] += f"{second // 60 % 60:02d}:{second % 60:02d}Z"
    return pod


@pytest.mark.parametrize(
    "pods, per_second, per_creation_second, reserve_after_s, runtime",
    [
        # The hang bench_e2e --long hit: one node of 20 places, pods arriving faster than
        # it runs them, waiting long enough to reserve the node. Creation times are whole
        # seconds, so pods tie in queue order, and ties go by when they last parked.
        (600, 60, 600, 2.0, lambda i: 1.0),
        (300, 100, 300, 0.5, lambda i: 0.3 + (i % 3) * 0.4),
        (600, 60, 40, 2.0, lambda i: 0.5 + (i % 7) * 0.2),
        (300, 40, 1, 2.0, lambda i: 1.0),
        (300, 1000, 300, 2.0, lambda i: 1.0),  # all at once
        (300, 40, 40, 1e9, lambda i: 1.0),  # no reservations at all
    ],
)
def test_one_node_works_through_a_backlog_without_idle_places(
    pods, per_second, per_creation_second, reserve_after_s, runtime
):
    clock = Clock()
    queue = SchedulingQueue(clock, max_unschedulable_s=1e9)
    state = ClusterState(queue)
    state.on_node(None, node_obj("n", cpu="2", memory="64Gi"))
    backlog = Backlog(state, clock, BackfillPolicy(reserve_after_s, 4))
    for i in range(pods):
        pod = created(pod_obj(f"p{i}", cpu="100m"), i // per_creation_second)
        backlog.arrivals.append((clock.now + i / per_second, pod, runtime(i)))

    def free_place(state: ClusterState) -> bool:
        return state.snapshot.node("n").req_cpu < 2000

    backlog.run(until=clock.now + 600, free_place=free_place)
    assert backlog.finished == pods
    # A freed place is taken by the next cycle or the one after (a reservation's pod lands
    # first, then its node is open again); never left idle until a periodic retry.
    assert backlog.idle_s <= 2 * STEP + 1e-9
