"""The embedded mode (``berth up``): the service starts its own Ray under the data directory,
runs a pod, and on a clean stop stops that Ray (unless ``ray_keep_running``).

Each run is a separate process: this test process may already be the driver of the session's
Ray, and a process can be the driver of one Ray only.
"""

import json
import os
import subprocess
import sys
import textwrap

import pytest

from berth.workers.control import local_ray

pytestmark = pytest.mark.integration

SCRIPT = textwrap.dedent("""
    import json, sys, time
    from berth.platform.cache.informers import InformerHub
    from berth.platform.resources import registry
    from berth.platform.runtime import open_platform
    from berth.settings import Settings
    from berth.workers.control.service import WorkerService

    settings = Settings(data_dir=sys.argv[1], ray_num_cpus=1, node_sync_period_s=0.3,
                        ray_keep_running=sys.argv[2] == "keep")
    platform = open_platform(settings)
    hub = InformerHub(platform.client, platform.feed)
    workers = WorkerService(platform, hub, settings)
    workers.register(hub)
    hub.start()
    workers.start()
    deadline = time.monotonic() + 60
    while not platform.client.list(registry.NODE).items and time.monotonic() < deadline:
        time.sleep(0.1)
    node = platform.client.list(registry.NODE).items[0]["metadata"]["name"]
    platform.client.create(registry.POD, {
        "metadata": {"name": "hello-" + sys.argv[2], "namespace": "default"},
        "spec": {"nodeName": node, "restartPolicy": "Never", "containers": [
            {"name": "c", "image": "busybox", "command": ["/bin/sh", "-c",
             "echo hello; test -e %s/berth.db && echo visible || echo hidden"]}]}})
    while time.monotonic() < deadline:
        pod = platform.client.get(registry.POD, "default", "hello-" + sys.argv[2])
        if pod["status"].get("phase") in ("Succeeded", "Failed"):
            break
        time.sleep(0.1)
    from berth.platform.logs import LogOptions
    log = platform.logs.read(pod, LogOptions(container="c"))
    workers.stop()
    hub.stop()
    platform.close()
    print(json.dumps({"node": node, "phase": pod["status"]["phase"], "log": log}))
""")


def run(data_dir, mode):
    result = subprocess.run(
        [sys.executable, "-c", SCRIPT % data_dir, str(data_dir), mode],
        capture_output=True,
        text=True,
        timeout=180,
        env={k: v for k, v in os.environ.items() if not k.startswith("RAY_")},
    )
    assert result.returncode == 0, result.stderr[-3000:]
    return json.loads(result.stdout.strip().splitlines()[-1])


def head_running(data_dir) -> bool:
    state = data_dir / "ray" / local_ray.STATE_FILE
    if not state.exists():
        return False
    return bool(local_ray.session_members(json.loads(state.read_text())["sid"]))


def test_embedded_ray_runs_pods_hides_the_data_dir_and_stops_cleanly(tmp_path):
    data_dir = tmp_path / "data"
    try:
        kept = run(data_dir, "keep")
        assert (kept["phase"], kept["log"]) == ("Succeeded", "hello\nhidden\n")
        assert head_running(data_dir)
        again = run(data_dir, "stop")  # finds the same head: the same node
        assert again["node"] == kept["node"] and again["phase"] == "Succeeded"
        assert not head_running(data_dir)
    finally:
        local_ray.stop_local_ray(data_dir / "ray")
