"""Filters, one table each, with kube-scheduler's exact reason strings."""

from __future__ import annotations

import pytest

from berth.scheduler.filters import (
    Rejection,
    exceeds_allocatable,
    node_affinity,
    node_resources_fit,
    node_unschedulable,
    room_for,
    run_filters,
    static_rejection,
    taint_toleration,
)
from tests.unit.scheduler.sched_builders import a_node, a_pod, expr, taint, toleration

AFFINITY = "node(s) didn't match Pod's node affinity/selector"


@pytest.mark.parametrize(
    "node, pod, want",
    [
        (a_node(), a_pod(), None),
        (a_node(unschedulable=True), a_pod(), Rejection(("node(s) were unschedulable",), True)),
        (
            a_node(unschedulable=True),
            a_pod(
                tolerations=[
                    toleration("node.kubernetes.io/unschedulable", "Exists", effect="NoSchedule")
                ]
            ),
            None,
        ),
        (a_node(unschedulable=True), a_pod(tolerations=[toleration(operator="Exists")]), None),
    ],
)
def test_node_unschedulable(node, pod, want):
    assert node_unschedulable(pod, node) == want


@pytest.mark.parametrize(
    "node, pod, want",
    [
        (
            a_node(taints=[taint("gpu", "nvidia")]),
            a_pod(),
            Rejection(("node(s) had untolerated taint {gpu: nvidia}",), True),
        ),
        (
            a_node(taints=[taint("gpu", "nvidia", "NoExecute")]),
            a_pod(),
            Rejection(("node(s) had untolerated taint {gpu: nvidia}",), True),
        ),
        (a_node(taints=[taint("gpu", "nvidia", "PreferNoSchedule")]), a_pod(), None),
        (
            a_node(taints=[taint("gpu", "nvidia")]),
            a_pod(tolerations=[toleration("gpu", "Equal", "nvidia", "NoSchedule")]),
            None,
        ),
        (
            a_node(taints=[taint("gpu", "nvidia")]),
            a_pod(tolerations=[toleration("gpu", "Exists")]),
            None,
        ),
        (
            a_node(taints=[taint("gpu", "nvidia")]),
            a_pod(tolerations=[toleration("gpu", "Equal", "amd")]),
            Rejection(("node(s) had untolerated taint {gpu: nvidia}",), True),
        ),
        (
            a_node(ready="False"),
            a_pod(),
            Rejection(("node(s) had untolerated taint {node.kubernetes.io/not-ready: }",), True),
        ),
        (
            a_node(ready="Unknown"),
            a_pod(),
            Rejection(("node(s) had untolerated taint {node.kubernetes.io/unreachable: }",), True),
        ),
        (
            a_node(ready="False"),
            a_pod(tolerations=[toleration("node.kubernetes.io/not-ready", "Exists")]),
            None,
        ),
    ],
)
def test_taint_toleration(node, pod, want):
    assert taint_toleration(pod, node) == want


GPU_NODE = a_node(labels={"gpu": "nvidia", "zone": "a", "cores": "64"})


@pytest.mark.parametrize(
    "pod, fits",
    [
        (a_pod(), True),
        (a_pod(selector={"gpu": "nvidia"}), True),
        (a_pod(selector={"gpu": "nvidia", "zone": "b"}), False),
        (a_pod(terms=[{"matchExpressions": [expr("zone", "In", "a", "b")]}]), True),
        (a_pod(terms=[{"matchExpressions": [expr("zone", "NotIn", "a")]}]), False),
        (
            a_pod(
                terms=[
                    {"matchExpressions": [expr("zone", "In", "b")]},
                    {"matchExpressions": [expr("gpu", "Exists")]},
                ]
            ),
            True,
        ),
        (
            a_pod(terms=[{"matchExpressions": [expr("zone", "In", "a"), expr("tpu", "Exists")]}]),
            False,
        ),
        (a_pod(terms=[{"matchExpressions": [expr("cores", "Gt", "32")]}]), True),
        (a_pod(terms=[{"matchExpressions": [expr("cores", "Lt", "32")]}]), False),
        (a_pod(terms=[{"matchExpressions": [expr("tpu", "DoesNotExist")]}]), True),
        (a_pod(terms=[{}]), False),
        # nodeSelector AND affinity
        (
            a_pod(selector={"zone": "b"}, terms=[{"matchExpressions": [expr("gpu", "Exists")]}]),
            False,
        ),
        (a_pod(terms=[{"matchFields": [expr("metadata.name", "In", "n")]}]), True),
        (a_pod(terms=[{"matchFields": [expr("metadata.name", "In", "other")]}]), False),
        # A term that does not parse matches no node (component-helpers nodeaffinity); the
        # scheduler's own matcher used to take these requirements at face value.
        (a_pod(terms=[{"matchExpressions": [expr("tpu", "NotIn")]}]), False),
        (a_pod(terms=[{"matchExpressions": [expr("gpu", "Exists", "nvidia")]}]), False),
        (a_pod(terms=[{"matchExpressions": [expr("cores", "Gt", " 32")]}]), False),
        (a_pod(terms=[{"matchFields": [expr("metadata.uid", "DoesNotExist")]}]), False),
        (
            a_pod(
                terms=[
                    {"matchExpressions": [expr("tpu", "NotIn")]},
                    {"matchExpressions": [expr("gpu", "Exists")]},
                ]
            ),
            True,
        ),
    ],
)
def test_node_affinity(pod, fits):
    want = None if fits else Rejection((AFFINITY,), True)
    assert node_affinity(pod, GPU_NODE) == want


@pytest.mark.parametrize(
    "node, pod, reasons, unresolvable",
    [
        (a_node(cpu="4", memory="8Gi"), a_pod(cpu="4", memory="8Gi"), None, False),
        (
            a_node(cpu="4", memory="8Gi", running=(a_pod(cpu="1", memory="1Gi"),)),
            a_pod(cpu="4", memory="1Gi"),
            ("Insufficient cpu",),
            False,
        ),
        (
            a_node(cpu="4", memory="8Gi", running=(a_pod(cpu="1", memory="4Gi"),)),
            a_pod(cpu="4", memory="6Gi"),
            ("Insufficient cpu", "Insufficient memory"),
            False,
        ),
        (a_node(cpu="4", memory="8Gi"), a_pod(cpu="5"), ("Insufficient cpu",), True),
        (
            a_node(gpu=8, running=(a_pod(gpu=7),)),
            a_pod(gpu=2),
            ("Insufficient nvidia.com/gpu",),
            False,
        ),
        (a_node(gpu=8), a_pod(gpu=16), ("Insufficient nvidia.com/gpu",), True),
        (a_node(), a_pod(gpu=1), ("Insufficient nvidia.com/gpu",), True),
        (a_node(pods="1", running=(a_pod(cpu="1"),)), a_pod(), ("Too many pods",), False),
        (a_node(pods="0"), a_pod(), ("Too many pods",), True),
        (
            a_node(extended={"example.com/fpga": "1"}),
            a_pod(extended={"example.com/fpga": "2"}),
            ("Insufficient example.com/fpga",),
            True,
        ),
        (
            a_node(extended={"example.com/fpga": "2"}),
            a_pod(extended={"example.com/fpga": "2"}),
            None,
            False,
        ),
        (a_node(cpu="1", memory="1Gi"), a_pod(cpu=None, memory=None), None, False),
    ],
)
def test_node_resources_fit(node, pod, reasons, unresolvable):
    want = None if reasons is None else Rejection(reasons, unresolvable)
    assert node_resources_fit(pod, node) == want


def test_filters_stop_at_the_first_rejection_in_kubernetes_order():
    node = a_node(unschedulable=True, taints=[taint("k", "v")], labels={"zone": "a"}, cpu="1")
    pod = a_pod(cpu="2", selector={"zone": "b"})
    assert run_filters(pod, node).reasons == ("node(s) were unschedulable",)
    node = a_node(taints=[taint("k", "v")], labels={"zone": "a"}, cpu="1")
    assert run_filters(pod, node).reasons == ("node(s) had untolerated taint {k: v}",)
    node = a_node(labels={"zone": "a"}, cpu="1")
    assert run_filters(pod, node).reasons == (AFFINITY,)
    node = a_node(labels={"zone": "b"}, cpu="1")
    assert run_filters(pod, node).reasons == ("Insufficient cpu",)


def test_static_rejection_ignores_load_but_not_size():
    busy = a_node(cpu="4", running=(a_pod(cpu="4"),))
    assert static_rejection(a_pod(cpu="2"), busy) is None
    assert static_rejection(a_pod(cpu="8"), busy) == Rejection(("Insufficient cpu",), True)
    assert exceeds_allocatable(a_pod(cpu="2"), busy) is None


@pytest.mark.parametrize(
    "node, pod, room",
    [
        (a_node(cpu="2", running=(a_pod(cpu="1900m"),)), a_pod(cpu="100m"), 1),
        (a_node(cpu="2"), a_pod(cpu="100m", memory=None), 20),
        (a_node(cpu="8", memory="1Gi"), a_pod(cpu="100m", memory="256Mi"), 4),  # memory
        (a_node(pods="3", running=(a_pod(),)), a_pod(cpu=None, memory=None), 2),
        (a_node(cpu="1", running=(a_pod(cpu="1"),)), a_pod(cpu="100m"), 0),
        (a_node(gpu=8, running=(a_pod(gpu=3),)), a_pod(gpu=2), 2),
        (a_node(gpu=8), a_pod(gpu=16), 0),
        (a_node(extended={"example.com/fpga": "5"}), a_pod(extended={"example.com/fpga": "2"}), 2),
    ],
)
def test_room_for_counts_the_pods_like_this_one_that_fit(node, pod, room):
    assert room_for(pod, node) == room
    # never fewer than fit: one more than the room does not fit
    assert (node_resources_fit(pod, node) is None) == (room > 0)
