"""Ctrl-C on ``berth up`` stops everything promptly: the API, the controllers, the node agents,
the pods and the embedded Ray head, with a watch open and a pod running.

Not a timing assertion of the usual speed (a few seconds): it fails only past a generous
bound, and prints the figure.
"""

from __future__ import annotations

import json
import os
import signal
import subprocess
import time

from berth.workers.control import local_ray
from tests.e2e.conftest import RAY_DIR, start_berth, stop_berth_and_ray

BOUND_S = 15.0


def _wait_running(server, job: str, timeout: float = 120) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        pods = server.kubectl_json("get", "pods", "-l", f"job-name={job}")["items"]
        if pods and pods[0].get("status", {}).get("phase") == "Running":
            return
        time.sleep(0.5)
    raise AssertionError(f"job {job} never got a Running pod:\n{server.log()}")


def test_ctrl_c_stops_berth_up_and_its_ray(tmp_path):
    server = start_berth(tmp_path, None, workers=True)  # a failed start leaves nothing running
    watcher = None
    try:
        ray_temp = server.data_dir / RAY_DIR
        server.kubectl("create", "job", "sleeper", "--image=busybox", "--", "sleep", "300")
        _wait_running(server, "sleeper")
        sid = json.loads((ray_temp / local_ray.STATE_FILE).read_text())["sid"]
        assert local_ray.session_members(sid), "the embedded Ray head is not running"
        watcher = subprocess.Popen(
            ["kubectl", "--kubeconfig", str(server.kubeconfig), "get", "pods", "-w"],
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
        )
        time.sleep(1)  # the watch is open

        started = time.monotonic()
        os.killpg(server.process.pid, signal.SIGINT)  # what a terminal's Ctrl-C does
        try:
            code = server.process.wait(timeout=60)
        except subprocess.TimeoutExpired:
            code = None
        took = time.monotonic() - started
        print(f"\nberth up exited {took:.1f} s after SIGINT (code {code})")

        assert code is not None, f"berth up still running 60 s after SIGINT:\n{server.log()}"
        assert took < BOUND_S, f"berth up took {took:.1f} s to stop:\n{server.log()}"
        assert code == 0, server.log()
        left = local_ray.session_members(sid)
        assert not left, f"Ray processes of berth up still running: {left}"
        assert "Berth stopped in" in server.log()
    finally:
        if watcher is not None:
            watcher.kill()
            watcher.wait()
        stop_berth_and_ray(server.process, server.data_dir, signal.SIGKILL)
