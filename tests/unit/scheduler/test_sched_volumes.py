"""Pods with PersistentVolumeClaims: what their volumes allow, cycle by cycle (ClusterState
fed like the informers), with kube-scheduler's messages."""

from __future__ import annotations

from dataclasses import replace

import pytest

from berth.scheduler.filters import (
    REASON_NO_VOLUME,
    REASON_ONCE_ELSEWHERE,
    REASON_ONCE_POD,
    REASON_VOLUME_AFFINITY,
    volume_binding,
)
from berth.scheduler.queue import ClusterEvent, SchedulingQueue
from berth.scheduler.state import ClusterState
from berth.scheduler.types import pod_request
from berth.scheduler.volumes import VolumeIndex
from tests.unit.scheduler.sched_builders import a_node, node_obj, pod_obj


class Clock:
    def __init__(self) -> None:
        self.now = 100.0

    def __call__(self) -> float:
        return self.now


def claim(name, *, volume=None, cls=None, modes=("ReadWriteOnce",), deleting=False):
    spec = {"accessModes": list(modes), "resources": {"requests": {"storage": "1Gi"}}}
    if volume:
        spec["volumeName"] = volume
    if cls is not None:
        spec["storageClassName"] = cls
    md = {"name": name, "namespace": "default", "uid": f"uid-{name}"}
    if deleting:
        md["deletionTimestamp"] = "2026-01-01T00:00:00Z"
    return {"metadata": md, "spec": spec, "status": {"phase": "Bound" if volume else "Pending"}}


def volume(name, *, host=None, phase="Available", cls="", claim_ref=None):
    spec = {
        "capacity": {"storage": "1Gi"},
        "accessModes": ["ReadWriteOnce"],
        "storageClassName": cls,
        "hostPath": {"path": "/x"},
    }
    if host:
        spec["nodeAffinity"] = {
            "required": {
                "nodeSelectorTerms": [
                    {
                        "matchExpressions": [
                            {"key": "kubernetes.io/hostname", "operator": "In", "values": [host]}
                        ]
                    }
                ]
            }
        }
    if claim_ref:
        spec["claimRef"] = claim_ref
    return {"metadata": {"name": name}, "spec": spec, "status": {"phase": phase}}


def wffc(name="local", provisioner="berth.io/local-path"):
    return {
        "metadata": {"name": name},
        "provisioner": provisioner,
        "volumeBindingMode": "WaitForFirstConsumer",
    }


def pod_with(name, *claims, uid=None):
    pod = pod_obj(name, uid=uid)
    pod["spec"]["volumes"] = [
        {"name": f"v{i}", "persistentVolumeClaim": {"claimName": c}} for i, c in enumerate(claims)
    ]
    return pod


def state_with(*, nodes=("n1", "n2"), claims=(), volumes=(), classes=(), clock=None):
    state = ClusterState(SchedulingQueue(clock or Clock()))
    for name in nodes:
        state.on_node(None, node_obj(name, labels={"kubernetes.io/hostname": name}))
    for obj in claims:
        state.on_claim(None, obj)
    for obj in volumes:
        state.on_volume(None, obj)
    for obj in classes:
        state.on_class(None, obj)
    return state


def decide(state, *pods):
    for pod in pods:
        state.on_pod(None, pod)
    placed, failed = state.cycle(now=100.0)
    return ({p.pod.name: p.node for p in placed}, {f.pod.name: f.message for f in failed})


def test_a_missing_claim_is_a_prefilter_verdict():
    placed, failed = decide(state_with(), pod_with("p", "data"))
    assert placed == {}
    assert failed["p"] == (
        '0/2 nodes are available: persistentvolumeclaim "data" not found. '
        "preemption: 0/2 nodes are available: 2 Preemption is not helpful "
        "for scheduling."
    )


@pytest.mark.parametrize(
    "claims,expected",
    [
        ([claim("data")], "pod has unbound immediate PersistentVolumeClaims"),
        ([claim("data", cls="ghost")], "pod has unbound immediate PersistentVolumeClaims"),
        (
            [claim("data", volume="v", deleting=True)],
            'persistentvolumeclaim "data" is being deleted',
        ),
    ],
)
def test_claims_no_node_can_serve(claims, expected):
    _, failed = decide(
        state_with(claims=claims, volumes=[volume("v", phase="Bound")]), pod_with("p", "data")
    )
    assert failed["p"].startswith(f"0/2 nodes are available: {expected}.")


def test_a_claim_that_becomes_bound_lets_the_pod_through():
    clock = Clock()
    state = state_with(claims=[claim("data")], clock=clock)
    _, failed = decide(state, pod_with("p", "data"))
    assert "p" in failed
    state.on_volume(None, volume("v", phase="Bound"))
    state.on_claim(claim("data"), claim("data", volume="v"))
    clock.now = 200.0  # past the backoff of the failed try
    placed, _ = state.cycle(now=200.0)
    assert [p.pod.name for p in placed] == ["p"]


def test_a_local_volume_pins_its_pods_to_its_node():
    state = state_with(
        nodes=("n1", "n2", "n3"),
        claims=[claim("data", volume="v")],
        volumes=[volume("v", host="n2", phase="Bound")],
    )
    placed, _ = decide(state, pod_with("p", "data"))
    assert placed == {"p": "n2"}
    state = state_with(
        nodes=("n1",),
        claims=[claim("data", volume="v")],
        volumes=[volume("v", host="n2", phase="Bound")],
    )
    _, failed = decide(state, pod_with("p", "data"))
    assert failed["p"].startswith(f"0/1 nodes are available: 1 {REASON_VOLUME_AFFINITY}.")


def test_a_read_write_once_claim_in_use_brings_the_next_pod_to_the_same_node():
    state = state_with(
        nodes=("n1", "n2", "n3"),
        claims=[claim("data", volume="v")],
        volumes=[volume("v", phase="Bound")],
    )
    first, _ = decide(state, pod_with("a", "data"))
    second, _ = decide(state, pod_with("b", "data"), pod_with("c", "data"))
    assert set(second.values()) == set(first.values())


def test_read_write_once_pod_refuses_a_second_pod():
    state = state_with(
        claims=[claim("solo", volume="v", modes=("ReadWriteOncePod",))],
        volumes=[volume("v", phase="Bound")],
    )
    placed, failed = decide(state, pod_with("a", "solo"), pod_with("b", "solo"))
    assert list(placed) == ["a"]
    assert failed["b"].startswith(f"0/2 nodes are available: 2 {REASON_ONCE_POD}.")


def test_wait_for_first_consumer_chooses_a_node_and_names_the_claim_to_mark():
    state = state_with(claims=[claim("data", cls="local")], classes=[wffc()])
    state.on_pod(None, pod_with("p", "data"))
    placed, _ = state.cycle(now=100.0)
    assert placed[0].pod.volumes.select == ("data",)


def test_wait_for_first_consumer_without_a_provisioner_needs_a_reachable_volume():
    classes = [wffc("manual", "kubernetes.io/no-provisioner")]
    state = state_with(
        nodes=("n1", "n2"),
        claims=[claim("data", cls="manual")],
        volumes=[volume("v", host="n2", cls="manual")],
        classes=classes,
    )
    placed, _ = decide(state, pod_with("p", "data"))
    assert placed == {"p": "n2"}
    state = state_with(nodes=("n1",), claims=[claim("data", cls="manual")], classes=classes)
    _, failed = decide(state, pod_with("p", "data"))
    assert failed["p"].startswith(f"0/1 nodes are available: 1 {REASON_NO_VOLUME}.")


@pytest.mark.parametrize(
    "users,modes,node,expected",
    [
        ([], ("ReadWriteOnce",), "n1", None),
        ([("other", "n1")], ("ReadWriteOnce",), "n1", None),
        ([("other", "n1")], ("ReadWriteOnce",), "n2", REASON_ONCE_ELSEWHERE),
        ([("other", "n1")], ("ReadWriteOnce", "ReadWriteMany"), "n2", None),
        ([("other", "n1")], ("ReadWriteOncePod",), "n1", REASON_ONCE_POD),
        ([("uid-p", "n1")], ("ReadWriteOncePod",), "n2", None),  # itself does not count
    ],
)
def test_the_volume_filter(users, modes, node, expected):
    index = VolumeIndex()
    index.on_claim(None, claim("data", volume="v", modes=modes))
    index.on_volume(None, volume("v", phase="Bound"))
    pod = pod_request(pod_with("p", "data"))
    constraint = index.constraint(pod, lambda ns, name: users)
    rejection = volume_binding(
        replace(pod, volumes=constraint), a_node(node, labels={"kubernetes.io/hostname": node})
    )
    assert (rejection.reasons[0] if rejection else None) == expected


def test_a_volume_change_wakes_only_the_pods_with_claims():
    queue = SchedulingQueue(Clock())
    plain, user = pod_request(pod_obj("plain")), pod_request(pod_with("user", "data"))
    for pod in (plain, user):
        queue.add(pod)
    queue.pop_all()
    queue.unschedulable(plain.uid, unresolvable=True)
    queue.unschedulable(user.uid, unresolvable=True)
    assert queue.on_event(ClusterEvent.VOLUME_CHANGED) == 1
    assert queue.on_event(ClusterEvent.NODE_ADDED) == 1
