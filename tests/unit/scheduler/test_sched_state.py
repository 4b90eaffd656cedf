"""ClusterState: the loop's picture of the cluster, fed (old, new) pairs like the informers."""

from __future__ import annotations

import copy

import pytest

from berth.scheduler.queue import SchedulingQueue
from berth.scheduler.state import ClusterState, unschedulable_message, wants_scheduling
from tests.unit.scheduler.sched_builders import node_obj, pod_obj


class Clock:
    def __init__(self) -> None:
        self.now = 100.0

    def __call__(self) -> float:
        return self.now


def make_state() -> tuple[ClusterState, Clock]:
    clock = Clock()
    # No periodic retry of parked pods: only the events the state sees may wake them.
    return ClusterState(SchedulingQueue(clock, max_unschedulable_s=1e9)), clock


def bound(pod: dict, node: str) -> dict:
    out = copy.deepcopy(pod)
    out["spec"]["nodeName"] = node
    return out


def with_phase(pod: dict, phase: str) -> dict:
    out = copy.deepcopy(pod)
    out.setdefault("status", {})["phase"] = phase
    return out


def requested_cpu(state: ClusterState, node: str) -> int:
    return state.snapshot.node(node).req_cpu


@pytest.mark.parametrize(
    "change, expected",
    [
        ({}, True),
        ({"spec": {"schedulerName": "default-scheduler"}}, True),
        ({"spec": {"schedulerName": "other"}}, False),
        ({"spec": {"schedulerName": "binpack"}}, True),
        ({"spec": {"schedulerName": "spread"}}, True),
        ({"spec": {"schedulerName": "fragmentation-aware"}}, True),
        ({"spec": {"nodeName": "n"}}, False),
        ({"spec": {"schedulingGates": [{"name": "wait"}]}}, False),
        ({"metadata": {"deletionTimestamp": "2026-01-01T00:00:00Z"}}, False),
        ({"status": {"phase": "Failed"}}, False),
        ({"status": {"phase": "Succeeded"}}, False),
    ],
)
def test_wants_scheduling(change, expected):
    pod = pod_obj("p")
    for part, fields in change.items():
        pod.setdefault(part, {}).update(fields)
    assert wants_scheduling(pod) is expected


def test_unschedulable_message_reads_only_a_false_unschedulable_condition():
    pod = pod_obj("p")
    assert unschedulable_message(pod) is None
    pod["status"] = {
        "conditions": [
            {
                "type": "PodScheduled",
                "status": "False",
                "reason": "Unschedulable",
                "message": "0/1 nodes",
            }
        ]
    }
    assert unschedulable_message(pod) == "0/1 nodes"
    pod["status"]["conditions"][0]["status"] = "True"
    assert unschedulable_message(pod) is None


def test_a_pod_bound_in_the_store_counts_on_its_node_even_before_the_node_is_seen():
    state, _ = make_state()
    state.on_pod(None, bound(pod_obj("p", cpu="2"), "n"))
    state.on_node(None, node_obj("n", cpu="8"))
    assert requested_cpu(state, "n") == 2000


def test_a_placement_confirmed_by_the_store_is_counted_once():
    state, clock = make_state()
    state.on_node(None, node_obj("n", cpu="8"))
    pod = pod_obj("p", cpu="2")
    state.on_pod(None, pod)
    placed, failed = state.cycle(now=clock())
    assert [(p.pod.name, p.node) for p in placed] == [("p", "n")] and failed == []
    assert requested_cpu(state, "n") == 2000 and state.in_flight == 1
    state.on_pod(pod, bound(pod, "n"))
    state.bind_succeeded(pod["metadata"]["uid"])
    assert requested_cpu(state, "n") == 2000 and state.in_flight == 0
    assert state.cycle(now=clock()) == ([], [])


def test_a_stale_pending_version_during_the_bind_does_not_queue_the_pod_again():
    state, clock = make_state()
    state.on_node(None, node_obj("n", cpu="8"))
    pod = pod_obj("p", cpu="2")
    state.on_pod(None, pod)
    state.cycle(now=clock())
    state.bind_succeeded(pod["metadata"]["uid"])
    state.on_pod(pod, with_phase(pod, "Pending"))  # an older write, seen late
    assert state.cycle(now=clock()) == ([], [])
    assert requested_cpu(state, "n") == 2000


def test_a_failed_bind_gives_the_room_back_and_tries_again_after_backoff():
    state, clock = make_state()
    state.on_node(None, node_obj("n", cpu="8"))
    pod = pod_obj("p", cpu="2")
    state.on_pod(None, pod)
    state.cycle(now=clock())
    state.bind_failed(pod["metadata"]["uid"], current=pod)
    assert requested_cpu(state, "n") == 0
    assert state.cycle(now=clock()) == ([], [])
    clock.now = state.next_wakeup()
    placed, _ = state.cycle(now=clock())
    assert [p.node for p in placed] == ["n"]


def test_a_failed_bind_for_a_pod_gone_meanwhile_is_not_retried():
    state, clock = make_state()
    state.on_node(None, node_obj("n", cpu="8"))
    pod = pod_obj("p", cpu="2")
    state.on_pod(None, pod)
    state.cycle(now=clock())
    state.bind_failed(pod["metadata"]["uid"], current=None)
    assert requested_cpu(state, "n") == 0
    assert state.cycle(now=clock()) == ([], [])


def test_a_pod_someone_else_bound_elsewhere_counts_where_the_store_says():
    state, clock = make_state()
    state.on_node(None, node_obj("a", cpu="8", labels={"zone": "a"}))
    state.on_node(None, node_obj("b", cpu="8", labels={"zone": "b"}))
    pod = pod_obj("p", cpu="2")
    state.on_pod(None, pod)
    [placement] = state.cycle(now=clock())[0]
    other = "b" if placement.node == "a" else "a"
    state.on_pod(pod, bound(pod, other))
    state.bind_failed(pod["metadata"]["uid"], current=bound(pod, other))
    assert requested_cpu(state, placement.node) == 0
    assert requested_cpu(state, other) == 2000


@pytest.mark.parametrize("ending", ["deleted", "Succeeded", "Failed"])
def test_a_pod_that_ends_frees_its_node_for_a_waiting_one(ending):
    state, clock = make_state()
    state.on_node(None, node_obj("n", cpu="4"))
    running = bound(pod_obj("running", cpu="4"), "n")
    state.on_pod(None, running)
    waiting = pod_obj("waiting", cpu="4")
    state.on_pod(None, waiting)
    _, [failure] = state.cycle(now=clock())
    assert failure.message == "0/1 nodes are available: 1 Insufficient cpu." and failure.report
    state.on_pod(running, None if ending == "deleted" else with_phase(running, ending))
    clock.now += 60  # past any backoff
    placed, _ = state.cycle(now=clock())
    assert [p.pod.name for p in placed] == ["waiting"]


def test_a_heartbeat_wakes_nobody_but_a_label_change_does():
    state, clock = make_state()
    node = node_obj("n", cpu="8")
    state.on_node(None, node)
    state.on_pod(None, pod_obj("p", selector={"disk": "ssd"}))
    state.cycle(now=clock())
    beat = copy.deepcopy(node)
    beat["status"]["conditions"][0]["lastHeartbeatTime"] = "2026-01-01T00:00:00Z"
    state.on_node(node, beat)
    assert state.queue.counts()["unschedulable"] == 1
    labelled = copy.deepcopy(beat)
    labelled["metadata"]["labels"] = {"disk": "ssd"}
    state.on_node(beat, labelled)
    clock.now += 60
    assert [p.node for p in state.cycle(now=clock())[0]] == ["n"]


def test_a_reason_is_reported_once_until_it_changes():
    state, clock = make_state()
    state.on_node(None, node_obj("n", cpu="4"))
    others = [bound(pod_obj(f"o{i}", cpu=cpu), "n") for i, cpu in enumerate(("2", "1", "1"))]
    for other in others:
        state.on_pod(None, other)
    state.on_pod(None, pod_obj("p", cpu="2"))
    assert [f.report for f in state.cycle(now=clock())[1]] == [True]
    state.on_pod(others[2], None)  # 1 CPU free, still too little: the pod stays parked
    assert state.cycle(now=clock()) == ([], [])
    state.on_node(None, node_obj("n", cpu="4", labels={"zone": "a"}))  # wakes it
    clock.now += 60
    [failure] = state.cycle(now=clock())[1]
    assert (failure.message, failure.report) == (
        "0/1 nodes are available: 1 Insufficient cpu.",
        False,
    )
    state.on_node(None, node_obj("m", cpu="1"))  # a new node: the message changes
    clock.now += 60
    [failure] = state.cycle(now=clock())[1]
    assert failure.report and failure.message.startswith("0/2 nodes are available")


def test_a_reason_already_on_the_pod_is_not_reported_again():
    state, clock = make_state()
    state.on_node(None, node_obj("n", cpu="4"))
    state.on_pod(None, bound(pod_obj("other", cpu="3"), "n"))
    pod = pod_obj("p", cpu="2")
    pod["status"] = {
        "conditions": [
            {
                "type": "PodScheduled",
                "status": "False",
                "reason": "Unschedulable",
                "message": "0/1 nodes are available: 1 Insufficient cpu.",
            }
        ]
    }
    state.on_pod(None, pod)
    assert [f.report for f in state.cycle(now=clock())[1]] == [False]


def test_our_own_status_write_does_not_retry_the_pod_at_once():
    state, clock = make_state()
    state.on_node(None, node_obj("n", cpu="1"))
    pod = pod_obj("p", cpu="2")
    state.on_pod(None, pod)
    state.cycle(now=clock())
    written = copy.deepcopy(pod)
    written["status"] = {"conditions": [{"type": "PodScheduled", "status": "False"}]}
    state.on_pod(pod, written)
    assert state.cycle(now=clock()) == ([], [])


def test_a_pod_created_again_under_the_same_name_is_a_new_pod():
    state, clock = make_state()
    state.on_node(None, node_obj("n", cpu="4"))
    old = bound(pod_obj("p", cpu="4", uid="old"), "n")
    state.on_pod(None, old)
    new = pod_obj("p", cpu="4", uid="new")
    state.on_pod(old, new)  # what an informer relist shows for delete + create
    assert [p.pod.uid for p in state.cycle(now=clock())[0]] == ["new"]


def test_a_deleted_pod_loses_its_reservation():
    state, clock = make_state()
    state.on_node(None, node_obj("n", cpu="4"))
    pod = pod_obj("p", cpu="8")
    state.on_pod(None, pod)
    state.reservations[pod["metadata"]["uid"]] = "n"
    state.on_pod(pod, None)
    assert state.reservations == {}


def test_a_removed_node_takes_its_counts_with_it_and_gets_them_back():
    state, _ = make_state()
    node = node_obj("n", cpu="8")
    state.on_node(None, node)
    state.on_pod(None, bound(pod_obj("p", cpu="2"), "n"))
    state.on_node(node, None)
    assert "n" not in state.snapshot
    state.on_node(None, node)
    assert requested_cpu(state, "n") == 2000


def test_a_placed_share_carries_its_device_and_arrivals_feed_the_mix():
    state = ClusterState(SchedulingQueue(lambda: 0.0))
    state.on_node(None, node_obj("n", gpu=2))
    pods = [pod_obj(f"s{i}", extended={"berth.dev/gpu-milli": "500"}) for i in range(3)]
    for pod in pods:
        state.on_pod(None, pod)
    assert [(k.milli, k.share) for k in state.mix.kinds()] == [(500, 1.0)]
    placed, failed = state.cycle(now=0.0)
    assert len(placed) == 3 and not failed
    devices = sorted(p.devices for p in placed)
    assert devices == [(0,), (0,), (1,)] or devices == [(0,), (1,), (1,)]


def reserve_n_for_big(state, clock) -> dict:
    """Node n (pool a, 4 CPUs, 1 taken) reserved for pod "big" (4 CPUs); pod "small" (1 CPU,
    pool a only) shut out by that reservation in a first cycle. Returns big."""
    state.on_node(None, node_obj("n", cpu="4", labels={"pool": "a"}))
    state.on_pod(None, bound(pod_obj("x", cpu="1"), "n"))
    small = pod_obj("small", cpu="1", selector={"pool": "a"})  # only n will do
    big = pod_obj("big", cpu="4")
    state.on_pod(None, small)
    state.on_pod(None, big)
    state.reservations[big["metadata"]["uid"]] = "n"
    placed, failed = state.cycle(now=clock())
    assert placed == [] and [f.pod.name for f in failed] == ["small", "big"]  # n is held
    return big


@pytest.mark.parametrize("ends", ["deleted", "bound elsewhere"])
def test_a_node_held_for_a_reservation_that_ended_between_cycles_is_open_again(ends):
    # The snapshot outlives cycles: a node held for a pod that went away between cycles
    # must not stay out of the index for good.
    state, clock = make_state()
    big = reserve_n_for_big(state, clock)
    if ends == "deleted":
        state.on_pod(big, None)
    else:
        state.on_pod(big, bound(big, "m"))  # someone else's bind, to a node not seen yet
    assert state.reservations == {}
    state.on_node(None, node_obj("other", cpu="1", labels={"pool": "b"}))  # wakes everyone
    clock.now += 60
    placed, failed = state.cycle(now=clock())
    assert [(p.pod.name, p.node) for p in placed] == [("small", "n")] and failed == []


def test_a_finished_pod_retries_only_as_many_parked_pods_as_its_room_takes():
    state, clock = make_state()
    state.on_node(None, node_obj("n", cpu="1", memory="64Gi"))
    pods = [pod_obj(f"p{i}", cpu="100m") for i in range(50)]
    for pod in pods:
        state.on_pod(None, pod)
    placed, failed = state.cycle(now=clock())
    assert (len(placed), len(failed)) == (10, 40)
    for placement in placed:
        state.bind_succeeded(placement.pod.uid)
    first = next(p for p in pods if p["metadata"]["uid"] == placed[0].pod.uid)
    clock.now += 1
    state.on_pod(bound(first, "n"), with_phase(bound(first, "n"), "Succeeded"))
    placed, failed = state.cycle(now=clock())
    assert (len(placed), failed) == (1, [])  # one place free: one pod tried, and it fits
    for placement in placed:
        state.bind_succeeded(placement.pod.uid)
    assert state.queue.counts()["unschedulable"] == 39
