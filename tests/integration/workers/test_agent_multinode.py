"""Agents on a three-node Ray cluster: placement, GPU ids, admission."""

import time
from typing import cast

import pytest
import ray

from berth.workers.control import pool

pytestmark = pytest.mark.integration


def finished(pod_status, agent, uid):
    def check():
        st = pod_status(agent, uid)
        return st if st and st["phase"] in ("Succeeded", "Failed") else None

    return check


def test_one_agent_per_node_each_pinned_to_its_node(ray_env):
    nodes = {n["NodeID"] for n in pool.alive_nodes()}
    assert set(ray_env.agents) == nodes == {ray_env.head_id, ray_env.b_id, ray_env.c_id}
    for node_id, agent in ray_env.agents.items():
        info = cast(dict, ray.get(agent.ping.remote()))  # a handle is Any: ray.get can't tell
        assert info["nodeId"] == node_id
    again = pool.ensure_agents(str(ray_env.root))
    assert {k: v._actor_id for k, v in again.items()} == {
        k: v._actor_id for k, v in ray_env.agents.items()
    }


def test_node_objects_come_from_ray(ray_env):
    from berth.settings import Settings

    nodes = {
        n["metadata"]["annotations"]["berth.dev/ray-node-id"]: n
        for n in pool.node_objects(Settings())
    }
    b = nodes[ray_env.b_id]
    assert b["status"]["capacity"]["nvidia.com/gpu"] == "2"
    assert b["status"]["capacity"]["ray.io/widget"] == "2"
    assert b["metadata"]["labels"]["zone"] == "b"
    assert "nvidia.com/gpu" not in nodes[ray_env.c_id]["status"]["capacity"]


def test_a_pod_runs_on_the_node_of_its_agent(ray_env, make_pod, pod_status, wait_for):
    for node_id in (ray_env.b_id, ray_env.c_id):
        agent = ray_env.agents[node_id]
        pod = make_pod("where", "echo $BERTH_RAY_NODE_ID")
        ray.get(agent.sync.remote([{"pod": pod}]))
        st = wait_for(finished(pod_status, agent, pod["metadata"]["uid"]))
        assert st["phase"] == "Succeeded"
        assert ray.get(agent.read_log.remote(pod["metadata"]["uid"], "c")) == node_id + "\n"
        ray.get(agent.sync.remote([]))


def test_gpu_pods_see_their_ray_gpu_ids_and_others_see_none(
    ray_env, make_pod, pod_status, wait_for
):
    agent = ray_env.agents[ray_env.b_id]
    gpu = {"limits": {"nvidia.com/gpu": "1"}}
    meet = ray_env.temp / "gpu-meet"
    volume = {"name": "meet", "hostPath": {"path": str(meet), "type": "DirectoryOrCreate"}}
    mount = {"volumeMounts": [{"name": "meet", "mountPath": "/meet"}]}
    # The two GPU pods wait for each other, so they surely hold their GPUs at the same time.
    together = (
        "touch /meet/$HOSTNAME; while [ $(ls /meet | wc -l) -lt 2 ]; do sleep 0.05; "
        "done; echo [$CUDA_VISIBLE_DEVICES] $NVIDIA_VISIBLE_DEVICES"
    )
    pods = [
        make_pod(f"gpu{i}", make_pod.sh(together, resources=gpu, **mount), volumes=[volume])
        for i in range(2)
    ]
    plain = make_pod("nogpu", "echo [$CUDA_VISIBLE_DEVICES] $NVIDIA_VISIBLE_DEVICES")
    ray.get(agent.sync.remote([{"pod": p} for p in pods + [plain]]))
    for p in pods + [plain]:
        assert wait_for(finished(pod_status, agent, p["metadata"]["uid"]))["phase"] == "Succeeded"
    seen = sorted(ray.get(agent.read_log.remote(p["metadata"]["uid"], "c")) for p in pods)
    assert seen == ["[0] 0\n", "[1] 1\n"]
    assert ray.get(agent.read_log.remote(plain["metadata"]["uid"], "c")) == "[] void\n"
    ray.get(agent.sync.remote([]))


def test_a_pod_asking_more_gpus_than_its_node_has_fails_fast(
    ray_env, make_pod, pod_status, wait_for
):
    agent = ray_env.agents[ray_env.c_id]
    pod = make_pod("greedy", make_pod.sh("true", resources={"limits": {"nvidia.com/gpu": "4"}}))
    began = time.monotonic()
    ray.get(agent.sync.remote([{"pod": pod}]))
    st = wait_for(finished(pod_status, agent, pod["metadata"]["uid"]), timeout=10)
    assert time.monotonic() - began < 5
    assert st["phase"] == "Failed" and st["reason"] == "OutOfnvidia.com/gpu"
    assert st["message"] == (
        "Pod was rejected: Node didn't have enough resource: "
        "nvidia.com/gpu, requested: 4, used: 0, capacity: 0"
    )
    ray.get(agent.sync.remote([]))
