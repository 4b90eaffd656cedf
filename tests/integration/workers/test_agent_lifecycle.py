"""Queued pods that are withdrawn, and an agent that dies under running pods."""

import os

import pytest
import ray

from berth.workers.control import pool
from berth.workers.node.agent import LOST_MESSAGE

pytestmark = pytest.mark.integration


def test_a_pod_queued_behind_busy_cpus_is_cancelled_when_withdrawn(
    ray_env, make_pod, pod_status, wait_for
):
    agent = ray_env.agents[ray_env.c_id]  # one CPU
    one_cpu = {"requests": {"cpu": "1"}}
    busy = make_pod("busy", make_pod.sh("echo up; sleep 300", resources=one_cpu))
    queued = make_pod("queued", make_pod.sh("echo should-not-run", resources=one_cpu))
    ray.get(agent.sync.remote([{"pod": busy}, {"pod": queued}]))
    wait_for(lambda: ray.get(agent.read_log.remote(busy["metadata"]["uid"], "c")) == "up\n")
    st = pod_status(agent, queued["metadata"]["uid"])
    assert st["phase"] == "Pending"
    assert st["containerStatuses"][0]["state"]["waiting"]["reason"] == "ContainerCreating"
    ray.get(agent.sync.remote([{"pod": busy}]))
    wait_for(lambda: pod_status(agent, queued["metadata"]["uid"]) is None, timeout=15)
    ray.get(agent.sync.remote([]))
    wait_for(lambda: pod_status(agent, busy["metadata"]["uid"]) is None, timeout=15)
    logs = ray_env.root / ray_env.c_id[:12] / "logs"
    assert not (logs / queued["metadata"]["uid"]).exists()


def sleeping(marker):
    found = []
    for entry in os.listdir("/proc"):
        if entry.isdigit():
            try:
                cmd = open(f"/proc/{entry}/cmdline", "rb").read()
                state = open(f"/proc/{entry}/stat").read().rsplit(")", 1)[1].split()[0]
            except OSError:
                continue
            if cmd == b"sleep\x00" + marker.encode() + b"\x00" and state != "Z":
                found.append(int(entry))
    return found


def test_pods_of_a_dead_agent_are_reported_lost_by_its_successor(
    ray_env, make_pod, pod_status, wait_for
):
    agent = ray_env.agents[ray_env.c_id]
    done = make_pod("done-before", "echo finished")
    running = make_pod("lost", "echo up; sleep 301")
    ray.get(agent.sync.remote([{"pod": done}]))
    wait_for(lambda: (pod_status(agent, done["metadata"]["uid"]) or {}).get("phase") == "Succeeded")
    ray.get(agent.sync.remote([{"pod": done}, {"pod": running}]))
    wait_for(lambda: ray.get(agent.read_log.remote(running["metadata"]["uid"], "c")) == "up\n")
    assert sleeping("301")

    ray.kill(agent)
    wait_for(lambda: not sleeping("301"), timeout=20)  # the pod died with its owner
    successor = pool.ensure_agents(
        str(ray_env.root),
        hide=[str(ray_env.temp)],
        backoff_base=0.1,
        backoff_cap=0.5,
        nodes=[n for n in pool.alive_nodes() if n["NodeID"] == ray_env.c_id],
    )[ray_env.c_id]
    ray_env.agents[ray_env.c_id] = successor
    lost = wait_for(lambda: pod_status(successor, running["metadata"]["uid"]))
    assert lost["phase"] == "Failed" and lost["message"] == LOST_MESSAGE
    term = lost["containerStatuses"][0]["state"]["terminated"]
    assert (term["exitCode"], term["reason"]) == (137, "ContainerStatusUnknown")
    assert pod_status(successor, done["metadata"]["uid"])["phase"] == "Succeeded"
    assert ray.get(successor.read_log.remote(done["metadata"]["uid"], "c")) == "finished\n"
    ray.get(successor.sync.remote([{"pod": done}, {"pod": running}]))
    assert pod_status(successor, running["metadata"]["uid"])["phase"] == "Failed"  # not re-run
    ray.get(successor.sync.remote([]))
    assert pod_status(successor, done["metadata"]["uid"]) is None
