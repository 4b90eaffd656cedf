"""Pods outlive the control plane's driver: they belong to the detached agent."""

import json

import pytest
import ray

from berth.workers.control import pool

pytestmark = pytest.mark.integration


def test_a_pod_keeps_running_after_its_driver_disconnects(ray_env, make_pod, pod_status, wait_for):
    pod = make_pod("survivor", "echo begin; sleep 2; echo end")
    uid = pod["metadata"]["uid"]
    out = ray_env.run_driver(f"""
        import json, time
        from berth.workers.control import pool
        agents = pool.ensure_agents({str(ray_env.root)!r})
        agent = agents[{ray_env.head_id!r}]
        ray.get(agent.sync.remote([{{"pod": json.loads({json.dumps(json.dumps(pod))})}}]))
        deadline = time.monotonic() + 30
        while time.monotonic() < deadline:
            _, updates = ray.get(agent.statuses.remote(0))
            phase = next((u["status"]["phase"] for u in updates if u["uid"] == {uid!r}), None)
            if phase == "Running":
                break
            time.sleep(0.05)
        print(phase)
        ray.shutdown()
    """)
    assert out.strip().splitlines()[-1] == "Running"
    agent = ray.get_actor(pool.agent_name(ray_env.head_id), namespace=pool.AGENT_NAMESPACE)
    assert pod_status(agent, uid)["phase"] == "Running"
    st = wait_for(
        lambda: (lambda s: s if s["phase"] == "Succeeded" else None)(pod_status(agent, uid)),
        timeout=30,
    )
    assert st["containerStatuses"][0]["state"]["terminated"]["exitCode"] == 0
    assert ray.get(agent.read_log.remote(uid, "c")) == "begin\nend\n"
    ray.get(agent.sync.remote([]))
