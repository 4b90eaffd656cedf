"""The pending queue: order, backoff, and what wakes an unschedulable pod."""

from __future__ import annotations

import pytest

from berth.scheduler.queue import ClusterEvent, SchedulingQueue
from berth.scheduler.views import PodRequest
from tests.unit.scheduler.sched_builders import a_pod


class FakeClock:
    def __init__(self) -> None:
        self.now = 1000.0

    def __call__(self) -> float:
        return self.now


@pytest.fixture
def clock():
    return FakeClock()


@pytest.fixture
def queue(clock):
    return SchedulingQueue(
        clock, initial_backoff_s=1.0, max_backoff_s=10.0, max_unschedulable_s=300.0
    )


def names(pods):
    return [p.name for p in pods]


def test_pops_by_priority_then_creation_order(queue):
    queue.add(a_pod("late", order=3))
    queue.add(a_pod("early", order=1))
    queue.add(a_pod("urgent", order=5, priority=100))
    queue.add(a_pod("middle", order=2))
    assert names(queue.pop_all(limit=2)) == ["urgent", "early"]
    assert names(queue.pop_all()) == ["middle", "late"]
    assert queue.pop_all() == []


def test_an_unschedulable_pod_waits_for_a_cluster_change(queue, clock):
    queue.add(a_pod("p"))
    queue.pop_all()
    queue.unschedulable("uid-p")
    clock.now += 60
    assert queue.pop_all() == []
    assert queue.counts()["unschedulable"] == 1
    assert queue.on_event(ClusterEvent.NODE_ADDED) == 1
    assert names(queue.pop_all()) == ["p"]  # its 1 s backoff is long over


@pytest.mark.parametrize(
    "event, unresolvable, moves",
    [
        (ClusterEvent.POD_DELETED, False, True),
        (ClusterEvent.POD_DELETED, True, False),  # freeing resources cannot help it
        (ClusterEvent.NODE_ADDED, True, True),
        (ClusterEvent.NODE_CHANGED, True, True),
        (ClusterEvent.NODE_CHANGED, False, True),
    ],
)
def test_which_events_wake_which_pods(queue, clock, event, unresolvable, moves):
    queue.add(a_pod("p"))
    queue.pop_all()
    queue.unschedulable("uid-p", unresolvable=unresolvable)
    clock.now += 60
    queue.on_event(event)
    assert names(queue.pop_all()) == (["p"] if moves else [])


def _fail_four_times(queue, clock):
    queue.add(a_pod("p"))
    for _ in range(3):  # three failures: 4 s backoff
        queue.pop_all()
        queue.unschedulable("uid-p")
        queue.on_event(ClusterEvent.NODE_ADDED)
        clock.now += 100
    queue.pop_all()
    queue.unschedulable("uid-p")
    queue.on_event(ClusterEvent.POD_DELETED)
    assert queue.counts()["backoff"] == 1


def test_a_woken_pod_serves_its_backoff_while_others_are_active(queue, clock):
    _fail_four_times(queue, clock)
    queue.add(a_pod("busy"))
    assert queue.next_wakeup() == clock.now + 8.0
    assert names(queue.pop_all()) == ["busy"]  # p waits: the cycle has other work


def test_a_woken_pod_skips_its_backoff_when_nothing_else_is_active(queue, clock):
    # Freed capacity is used at once (k8s KEP-5142: pop from backoff when active is empty).
    _fail_four_times(queue, clock)
    assert queue.next_wakeup() == clock.now
    assert names(queue.pop_all()) == ["p"]


def test_a_failed_bind_always_serves_its_backoff(queue, clock):
    queue.add(a_pod("p"))
    queue.pop_all()
    queue.unschedulable("uid-p", error=True)
    queue.on_event(ClusterEvent.POD_DELETED)
    assert queue.counts()["backoff"] == 1
    assert queue.next_wakeup() == clock.now + 1.0
    assert queue.pop_all() == []
    clock.now += 1.0
    assert names(queue.pop_all()) == ["p"]


def test_an_event_during_the_attempt_is_not_lost(queue, clock):
    queue.add(a_pod("p"))
    queue.pop_all()
    queue.on_event(ClusterEvent.POD_DELETED)  # while the cycle was running
    queue.unschedulable("uid-p")
    assert queue.counts() == {"active": 0, "backoff": 1, "unschedulable": 0, "flight": 0}
    clock.now += 1
    assert names(queue.pop_all()) == ["p"]


def test_a_pod_deletion_during_the_attempt_does_not_wake_an_unresolvable_pod(queue):
    queue.add(a_pod("p"))
    queue.pop_all()
    queue.on_event(ClusterEvent.POD_DELETED)
    queue.unschedulable("uid-p", unresolvable=True)
    assert queue.counts()["unschedulable"] == 1


def test_parked_pods_are_retried_after_a_while_anyway(queue, clock):
    queue.add(a_pod("p"))
    queue.pop_all()
    queue.unschedulable("uid-p", unresolvable=True)
    clock.now += 299
    assert queue.pop_all() == []
    clock.now += 1
    assert names(queue.pop_all()) == ["p"]


def test_an_updated_pod_is_retried_at_once(queue, clock):
    queue.add(a_pod("p", cpu="8"))
    queue.pop_all()
    queue.unschedulable("uid-p")
    queue.add(a_pod("p", cpu="1"))
    (pod,) = queue.pop_all()
    assert pod.cpu == 1000


def test_waiting_since_is_the_first_failure_and_ends_with_the_pod(queue, clock):
    queue.add(a_pod("p"))
    queue.add(a_pod("q"))
    queue.pop_all()
    queue.unschedulable("uid-p")
    first = clock.now
    clock.now += 50
    queue.on_event(ClusterEvent.NODE_ADDED)
    queue.pop_all()
    queue.unschedulable("uid-p")
    assert queue.waiting_since() == {"uid-p": first}
    queue.done("uid-q")
    queue.delete("uid-p")
    assert queue.waiting_since() == {}
    assert len(queue) == 0


def test_deleted_pods_are_never_popped(queue):
    queue.add(a_pod("p"))
    queue.add(a_pod("q", order=1))
    queue.delete("uid-p")
    assert names(queue.pop_all()) == ["q"]
    queue.unschedulable("uid-gone")  # unknown uids are ignored
    assert queue.counts()["flight"] == 1


def park(queue, *pods):
    for pod in pods:
        queue.add(pod)
    queue.pop_all()
    for pod in pods:
        queue.unschedulable(pod.uid)


def test_room_freed_moves_that_many_pods_of_each_class_first_in_queue_order(queue, clock):
    small = [a_pod(f"s{i}", cpu="100m", order=10 - i) for i in range(5)]
    big = [a_pod(f"b{i}", cpu="2", order=20 + i) for i in range(3)]
    park(queue, *small, *big)
    clock.now += 60
    room = {small[0].klass: 2, big[0].klass: 0}
    assert queue.on_event(ClusterEvent.POD_DELETED, lambda pod: room[pod.klass]) == 2
    assert names(queue.pop_all()) == ["s4", "s3"]  # the two first of their class
    assert queue.counts()["unschedulable"] == 6
    assert queue.on_event(ClusterEvent.NODE_ADDED) == 6  # a node: every one of them
    assert len(queue.pop_all()) == 6


def test_room_freed_does_not_move_pods_it_cannot_help(queue, clock):
    pod = a_pod("p")
    park(queue, pod)
    queue.pop_all()
    queue.unschedulable(pod.uid, unresolvable=True)
    clock.now += 60
    assert queue.on_event(ClusterEvent.POD_DELETED, lambda _: 10) == 0


def test_a_pod_moved_for_room_and_deleted_hands_its_turn_to_the_next(queue, clock):
    pods = [a_pod(f"p{i}", order=i) for i in range(3)]
    park(queue, *pods)
    clock.now += 60
    assert queue.on_event(ClusterEvent.POD_DELETED, lambda _: 1) == 1
    queue.delete(pods[0].uid)  # gone before it was tried
    assert names(queue.pop_all()) == ["p1"]
    queue.delete(pods[1].uid)  # tried already: the room was its to use, nothing moves
    assert queue.counts()["unschedulable"] == 1


def test_a_pod_moved_for_room_goes_before_pods_that_arrived_since(queue, clock):
    old = a_pod("old", order=1)
    park(queue, old)
    clock.now += 0.1  # well inside its backoff
    queue.add(a_pod("new", order=2))
    assert queue.on_event(ClusterEvent.POD_DELETED, lambda _: 1) == 1
    assert names(queue.pop_all(limit=1)) == ["old"]


@pytest.mark.parametrize(
    "where, moved",
    [("parked", 1), ("parked unresolvable", 0), ("active", 0), ("in flight", 0)],
)
def test_retry_moves_only_the_named_pods_it_can_help(queue, clock, where, moved):
    first, named = a_pod("first", order=1), a_pod("named", order=2)
    park(queue, first)
    queue.add(named)
    if where != "active":
        queue.pop_all()
    if where.startswith("parked"):
        queue.unschedulable(named.uid, unresolvable=where.endswith("unresolvable"))
    clock.now += 0.1  # inside its backoff: room goes straight to use
    assert queue.retry([named.uid, "uid-unknown"], ClusterEvent.POD_DELETED) == moved
    assert queue.counts()["unschedulable"] == 1 + (where == "parked unresolvable")
    if moved:
        assert names(queue.pop_all()) == ["named"]  # not "first", though it is ahead


def test_pods_with_claims_are_moved_for_room_by_their_claims_too(queue, clock):
    # A queued pod's class does not see its volumes, which may send pods with other claims
    # to other nodes: the first pod of the class may not be able to use the room.
    pods = [
        PodRequest("ns", f"p{i}", f"u{i}", cpu=100, order=i, claims=(claim,))
        for i, claim in enumerate(["a", "a", "b"])
    ]
    park(queue, *pods)
    assert len({p.klass for p in pods}) == 1
    clock.now += 0.1
    assert queue.on_event(ClusterEvent.POD_DELETED, lambda _: 1) == 2
    assert names(queue.pop_all()) == ["p0", "p2"]
