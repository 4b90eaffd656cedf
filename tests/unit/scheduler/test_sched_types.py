"""pod_request / node_view: what the scheduler reads from Pod and Node objects."""

from __future__ import annotations

import pytest

from berth.platform.resources.nodeselectors import parse_term
from berth.platform.resources.taints import Taint, Toleration
from berth.scheduler.types import UNLIMITED_PODS, node_view, pod_request, pod_requests
from tests.unit.scheduler.sched_builders import node_obj, pod_obj

GI = 2**30
MI = 2**20


def container(requests=None, limits=None, restart_policy=None):
    c = {"name": "c", "resources": {}}
    if requests:
        c["resources"]["requests"] = requests
    if limits:
        c["resources"]["limits"] = limits
    if restart_policy:
        c["restartPolicy"] = restart_policy
    return c


@pytest.mark.parametrize(
    "spec, want",
    [
        ({"containers": [container({"cpu": "500m", "memory": "1Gi"})]}, {"cpu": 500, "memory": GI}),
        (
            {"containers": [container({"cpu": "500m"}), container({"cpu": "1", "memory": "1Gi"})]},
            {"cpu": 1500, "memory": GI},
        ),
        # requests default from limits, per resource
        (
            {"containers": [container({"cpu": "250m"}, {"cpu": "1", "memory": "2Gi"})]},
            {"cpu": 250, "memory": 2 * GI},
        ),
        ({"containers": [container(None, {"nvidia.com/gpu": "2"})]}, {"nvidia.com/gpu": 2}),
        # init containers: the largest one counts if it beats the sum of app containers
        (
            {
                "containers": [container({"cpu": "1"}), container({"cpu": "1"})],
                "initContainers": [
                    container({"cpu": "3", "memory": "64Mi"}),
                    container({"cpu": "1"}),
                ],
            },
            {"cpu": 3000, "memory": 64 * MI},
        ),
        (
            {"containers": [container({"cpu": "2"})], "initContainers": [container({"cpu": "1"})]},
            {"cpu": 2000},
        ),
        # a sidecar (restartable init container) runs alongside everything after it
        (
            {
                "containers": [container({"cpu": "1"})],
                "initContainers": [
                    container({"cpu": "500m"}, restart_policy="Always"),
                    container({"cpu": "2"}),
                ],
            },
            {"cpu": 2500},
        ),
        (
            {
                "containers": [container({"cpu": "1"})],
                "initContainers": [container({"cpu": "500m"}, restart_policy="Always")],
            },
            {"cpu": 1500},
        ),
        # overhead is added on top
        ({"containers": [container({"cpu": "1"})], "overhead": {"cpu": "100m"}}, {"cpu": 1100}),
        ({"containers": [container({"cpu": "0.0001"})]}, {"cpu": 1}),
        (
            {"containers": [container({"example.com/fpga": "1", "ephemeral-storage": "1Gi"})]},
            {"example.com/fpga": 1, "ephemeral-storage": GI},
        ),
    ],
)
def test_pod_requests(spec, want):
    got = {k: v for k, v in pod_requests(spec).items() if v}
    assert got == want


def test_pod_request_fields():
    pod = pod_obj(
        "web",
        cpu="2",
        memory="4Gi",
        gpu=1,
        extended={"example.com/fpga": "1"},
        selector={"gpu": "nvidia"},
        priority=100,
        uid="u-1",
        namespace="ns",
        terms=[{"matchExpressions": [{"key": "zone", "operator": "In", "values": ["a", "b"]}]}],
        tolerations=[{"key": "k", "operator": "Exists", "effect": "NoSchedule"}],
    )
    req = pod_request(pod, order=7)
    assert (req.namespace, req.name, req.uid) == ("ns", "web", "u-1")
    assert (req.cpu, req.memory, req.gpu) == (2000, 4 * GI, 1)
    assert req.extended == (("example.com/fpga", 1),)
    assert req.node_selector == (("gpu", "nvidia"),)
    assert req.affinity == (
        parse_term({"matchExpressions": [{"key": "zone", "operator": "In", "values": ["a", "b"]}]}),
    )
    assert req.tolerations == (Toleration("k", "Exists", "", "NoSchedule"),)
    assert (req.priority, req.order) == (100, 7.0)


def test_order_defaults_to_creation_time():
    early = pod_obj("a")
    late = pod_obj("b")
    early["metadata"]["creationTimestamp"] = "2026-01-01T00:00:00Z"
    late["metadata"]["creationTimestamp"] = "2026-01-01T00:00:05Z"
    assert pod_request(late).order - pod_request(early).order == 5.0


def test_identical_pods_share_a_class_and_others_do_not():
    a = pod_request(pod_obj("a", cpu="1"))
    b = pod_request(pod_obj("b", cpu="1"))
    c = pod_request(pod_obj("c", cpu="1", selector={"zone": "a"}))
    assert a.klass == b.klass
    assert a.klass != c.klass


def test_node_view_counts_running_pods_but_not_finished_ones():
    running = pod_obj("r", cpu="1", memory="1Gi", gpu=2)
    done = pod_obj("d", cpu="4")
    done["status"] = {"phase": "Succeeded"}
    view = node_view(node_obj("n", cpu="8", memory="32Gi", gpu=8), [running, done])
    assert (view.alloc_cpu, view.alloc_mem, view.alloc_gpu) == (8000, 32 * GI, 8)
    assert (view.req_cpu, view.req_mem, view.req_gpu, view.pod_count) == (1000, GI, 2, 1)
    assert view.max_pods == 110
    assert view.ready


@pytest.mark.parametrize(
    "ready, want_taint",
    [
        ("True", None),
        ("False", Taint("node.kubernetes.io/not-ready", "", "NoSchedule")),
        ("Unknown", Taint("node.kubernetes.io/unreachable", "", "NoSchedule")),
        (None, Taint("node.kubernetes.io/not-ready", "", "NoSchedule")),
    ],
)
def test_a_node_that_is_not_ready_gets_the_lifecycle_taint(ready, want_taint):
    view = node_view(node_obj("n", ready=ready))
    assert view.ready is (want_taint is None)
    assert view.taints == ((want_taint,) if want_taint else ())


def test_node_view_static_properties():
    view = node_view(
        node_obj(
            "n",
            pods=None,
            labels={"zone": "a"},
            unschedulable=True,
            taints=[{"key": "k", "value": "v", "effect": "NoExecute"}],
            extended={"example.com/fpga": "2"},
        )
    )
    assert view.max_pods == UNLIMITED_PODS
    assert view.labels == {"zone": "a"}
    assert view.unschedulable
    assert view.taints == (Taint("k", "v", "NoExecute"),)
    assert view.alloc_ext == {"example.com/fpga": 2}


def test_nodes_alike_but_for_load_share_a_static_key():
    a = node_view(node_obj("a", labels={"zone": "x"}), [pod_obj("p", cpu="1")])
    b = node_view(node_obj("b", labels={"zone": "x"}))
    c = node_view(node_obj("c", labels={"zone": "y"}))
    assert a.static_key == b.static_key != c.static_key
    assert a.free_key() != b.free_key()
