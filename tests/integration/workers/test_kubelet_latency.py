"""Submit-to-Running latency of pods created already bound (no scheduler): the informer
event, the sync to the agent, the pod's Ray task, the sandbox, the status poll and the status
write. Prints the figures; asserts only a loose bound (the machine is shared)."""

import statistics
import time

import pytest

from berth.platform.resources.meta import dig
from tests.integration.workers.kubelet_support import Harness, bound_pod, sh, wait_for

pytestmark = pytest.mark.integration
PODS = 20


def running_at(berth, pod):
    return next(
        (
            t
            for t, v in berth.seen[pod["metadata"]["uid"]]
            if dig(v, "status", "phase") == "Running"
        ),
        None,
    )


def accepted_at(berth, pod):
    """When the agent's first status (Pending, ContainerCreating) came back."""
    return next(
        (t for t, v in berth.seen[pod["metadata"]["uid"]] if dig(v, "status", "containerStatuses")),
        None,
    )


def test_bound_pods_reach_running_quickly(ray_env, tmp_path):
    berth = Harness(ray_env, tmp_path)
    try:
        wait_for(lambda: berth.head in berth.service.kubelet.agents)
        one_by_one, accepted = [], []
        for i in range(PODS):
            started = time.monotonic()
            pod = berth.create(bound_pod(f"lat-{i}", berth.head, sh("exec sleep 3")))
            one_by_one.append(wait_for(lambda pod=pod: running_at(berth, pod), 10) - started)
            accepted.append((accepted_at(berth, pod) or started) - started)
        started = time.monotonic()
        burst = [
            berth.create(bound_pod(f"burst-{i}", berth.head, sh("exec sleep 3")))
            for i in range(PODS)
        ]
        burst_times = [wait_for(lambda p=p: running_at(berth, p), 30) - started for p in burst]
    finally:
        berth.close()
    p50 = statistics.median(one_by_one)
    print(
        f"\nbound pod submit->agent's first status: p50 {statistics.median(accepted) * 1000:.0f} ms"
    )
    print(
        f"bound pod submit->Running, one at a time ({PODS}): p50 {p50 * 1000:.0f} ms, "
        f"max {max(one_by_one) * 1000:.0f} ms; burst of {PODS}: p50 "
        f"{statistics.median(burst_times) * 1000:.0f} ms, last {max(burst_times) * 1000:.0f} ms"
    )
    assert p50 < 1.5
