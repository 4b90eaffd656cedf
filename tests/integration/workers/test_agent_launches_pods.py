"""A node agent that starts CPU-only pods itself (``agent_launches_pods``): they run
sandboxed as the agent's own processes, hold no Ray resources, report and stop as pod tasks
do; a pod that asks Ray for anything else still runs as a Ray task."""

from typing import Any

import pytest
import ray
from ray._private import state as ray_state
from ray.util.scheduling_strategies import NodeAffinitySchedulingStrategy

from berth.workers.control import pool
from berth.workers.node.agent import NodeAgentActor

pytestmark = pytest.mark.integration


@pytest.fixture(scope="module")
def here(ray_env):
    """An agent of its own on node c (1 CPU, no GPU), in a root of its own."""
    agent: Any = NodeAgentActor.options(  # a handle, as pool.ensure_agents gives them
        name="berth-agent-launches-test",
        namespace=pool.AGENT_NAMESPACE,
        num_cpus=0,
        max_concurrency=pool.AGENT_MAX_CONCURRENCY,
        max_restarts=0,
        scheduling_strategy=NodeAffinitySchedulingStrategy(ray_env.c_id, soft=False),
    ).remote(
        ray_env.c_id,
        str(ray_env.temp / "launches"),
        hide=[str(ray_env.temp)],
        backoff_base=0.1,
        backoff_cap=0.5,
        launch_here=True,
    )
    ray.get(agent.ping.remote())
    yield agent
    ray.get(agent.sync.remote([]))
    ray.kill(agent)


def _phase(pod_status, agent, uid, *phases):
    def check():
        st = pod_status(agent, uid)
        return st if st and st["phase"] in phases else None

    return check


def _cpu_free_on(node_id: str) -> float:
    return ray_state.available_resources_per_node().get(node_id, {}).get("CPU", 0.0)


def test_a_cpu_pod_runs_sandboxed_in_the_agent_holding_no_ray_cpu(
    ray_env, here, make_pod, pod_status, wait_for
):
    free_before = _cpu_free_on(ray_env.c_id)
    # Kubernetes reads $$ in a command as a literal $: this runs `echo pid $$`.
    container = make_pod.sh("echo pid $$$$; sleep 3", resources={"requests": {"cpu": "1"}})
    pod = make_pod("launched", container)
    uid = pod["metadata"]["uid"]
    ray.get(here.sync.remote([{"pod": pod, "bundle": {}}]))
    wait_for(_phase(pod_status, here, uid, "Running"))
    # A pod task would hold the node's only CPU while it runs; the agent's own pod does not.
    assert _cpu_free_on(ray_env.c_id) == free_before == 1.0
    st = wait_for(_phase(pod_status, here, uid, "Succeeded"), timeout=60)
    assert st["containerStatuses"][0]["state"]["terminated"]["exitCode"] == 0
    assert ray.get(here.read_log.remote(uid, "c")) == "pid 2\n"  # bubblewrap's PID namespace
    ray.get(here.sync.remote([]))


def test_a_deleted_pod_launched_by_the_agent_is_stopped(here, make_pod, pod_status, wait_for):
    pod = make_pod("stopped", "echo started; exec sleep 60")
    uid = pod["metadata"]["uid"]
    ray.get(here.sync.remote([{"pod": pod}]))
    wait_for(_phase(pod_status, here, uid, "Running"))
    deleting = {
        **pod,
        "metadata": {
            **pod["metadata"],
            "deletionTimestamp": "2026-01-01T00:00:00Z",
            "deletionGracePeriodSeconds": 0,
        },
    }
    ray.get(here.sync.remote([{"pod": deleting}]))
    st = wait_for(_phase(pod_status, here, uid, "Failed", "Succeeded"), timeout=30)
    # Grace 0: SIGTERM and SIGKILL at once; whichever ends `sleep` first gives the code.
    assert st["containerStatuses"][0]["state"]["terminated"]["exitCode"] in (137, 143)
    ray.get(here.sync.remote([]))
