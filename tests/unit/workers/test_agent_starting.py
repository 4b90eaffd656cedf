"""The statuses a node agent passes on without ending a status long poll by themselves."""

import pytest

from berth.workers.node.admission import ray_resources
from berth.workers.node.launcher import runs_here
from berth.workers.starting import starting
from berth.workers.status import waiting_status

POD = {
    "metadata": {"name": "p", "namespace": "ns", "uid": "u"},
    "spec": {"restartPolicy": "Never", "containers": [{"name": "c", "image": "busybox"}]},
}


def with_state(state: dict, phase: str = "Pending", **extra) -> dict:
    return {
        "phase": phase,
        **extra,
        "containerStatuses": [{"name": "c", "state": state, "ready": False, "restartCount": 0}],
    }


@pytest.mark.parametrize(
    "status, quiet",
    [
        (waiting_status(POD, "127.0.0.1", "2025-01-01T00:00:00Z"), True),
        (with_state({"waiting": {"reason": "ContainerCreating"}}), True),
        (with_state({"waiting": {"reason": "PodInitializing"}}), True),
        (with_state({"running": {"startedAt": "2025-01-01T00:00:00Z"}}, "Running"), False),
        (with_state({"terminated": {"exitCode": 0}}, "Succeeded"), False),
        (with_state({"waiting": {"reason": "CrashLoopBackOff", "message": "back-off"}}), False),
        (
            with_state(
                {"waiting": {"reason": "ContainerCreating", "message": "MountVolume.SetUp failed"}}
            ),
            False,
        ),
        (
            waiting_status(
                POD,
                "127.0.0.1",
                "2025-01-01T00:00:00Z",
                "ContainerCreating",
                'configmap "x" not found',
            ),
            False,
        ),
        (with_state({"waiting": {"reason": "ContainerCreating"}}, reason="Evicted"), False),
    ],
)
def test_only_a_normal_start_is_quiet(status, quiet):
    assert starting(status) is quiet


def _asking(requests: dict) -> dict:
    return {"spec": {"containers": [{"name": "c", "resources": {"requests": requests}}]}}


@pytest.mark.parametrize(
    "requests, here",
    [
        ({}, True),
        ({"cpu": "100m"}, True),
        ({"cpu": "2", "memory": "1Gi"}, True),
        ({"cpu": "1", "nvidia.com/gpu": "1"}, False),  # Ray assigns its GPU
        ({"berth.dev/gpu-milli": "250"}, False),  # a GPU share: a fraction of one
    ],
)
def test_only_pods_asking_ray_for_cpu_and_memory_run_in_the_agent(requests, here):
    assert runs_here(ray_resources(_asking(requests))) is here
