"""Pod requests as Ray resources, and the node's admission check."""

import pytest

from berth.workers.node.admission import admit, ray_options, ray_resources


def pod(**limits):
    return {"spec": {"containers": [{"name": "c", "resources": {"limits": limits}}]}}


@pytest.mark.parametrize(
    "p, options",
    [
        (pod(), {"num_cpus": 0, "num_gpus": 0}),
        (pod(cpu="250m", memory="64Mi"), {"num_cpus": 0.25, "num_gpus": 0, "memory": 64 << 20}),
        (
            pod(**{"nvidia.com/gpu": "2", "ray.io/tpu": "1", "ephemeral-storage": "1Gi"}),
            {"num_cpus": 0, "num_gpus": 2.0, "resources": {"tpu": 1.0}},
        ),
    ],
)
def test_ray_options_are_exactly_the_requests(p, options):
    assert ray_options(p) == options


CAPACITY = {"CPU": 2.0, "GPU": 1.0, "memory": 8 << 30}


def test_a_pod_that_fits_the_node_is_admitted():
    requested = ray_resources(pod(cpu="2", **{"nvidia.com/gpu": 1}))
    assert admit(requested, CAPACITY, lambda: {"CPU": 2.0}) is None


@pytest.mark.parametrize(
    "p, reason, message",
    [
        (
            pod(**{"nvidia.com/gpu": "2"}),
            "OutOfnvidia.com/gpu",
            "Pod was rejected: Node didn't have enough resource: nvidia.com/gpu, requested: 2, "
            "used: 0, capacity: 1",
        ),
        (
            pod(cpu="2500m"),
            "OutOfcpu",
            "Pod was rejected: Node didn't have enough resource: cpu, requested: 2500m, used: 0, "
            "capacity: 2",
        ),
        (
            pod(**{"ray.io/tpu": "1"}),
            "OutOfray.io/tpu",
            "Pod was rejected: Node didn't have enough "
            "resource: ray.io/tpu, requested: 1, used: 0, "
            "capacity: 0",
        ),
    ],
)
def test_a_pod_larger_than_the_node_is_rejected_like_the_kubelet_does(p, reason, message):
    assert admit(ray_resources(p), CAPACITY, dict) == (reason, message)
