"""Embedded ``berth up`` serves the API from a process of its own beside the controllers
(``berth.server_api``), and from outside it is still one server: health and ``/metrics`` on
the API port speak for the controllers too, a Job POSTed to the API process is picked up by
the controllers in the other process and the pod they make reaches a watch on the API, and
when the API process dies ``berth up`` stops and says so."""

from __future__ import annotations

import json
import os
import signal
import socket
import subprocess
import sys
import time
from pathlib import Path

import pytest

from tests.e2e.conftest import RAY_DIR, start_berth, stop_berth

pytestmark = pytest.mark.e2e

PODS = "/api/v1/namespaces/split/pods"


def _api_process(pid: int) -> int:
    children = [
        int(child)
        for task in Path(f"/proc/{pid}/task").iterdir()
        for child in (task / "children").read_text().split()
    ]
    api = [c for c in children if b"berth.server_api" in Path(f"/proc/{c}/cmdline").read_bytes()]
    assert len(api) == 1, f"berth up's children: {children}"
    return api[0]


def test_the_api_process_serves_beside_the_controllers(tmp_path):
    server = start_berth(tmp_path, None)
    try:
        api_pid = _api_process(server.process.pid)
        with server.http() as http:
            ready = http.get("/readyz?verbose").text
            assert "[+]scheduler ok" in ready and "[+]job-controller ok" in ready, ready
            assert "leading (term" in ready, ready
            metrics = http.get("/metrics").text
            assert "berth_controller_leader 1.0" in metrics
            assert 'berth_api_requests_total{code="200",resource="",verb="get"}' in metrics
            assert metrics.count("# HELP berth_api_requests_total ") == 1

            server.kubectl("create", "namespace", "split")
            rv = http.get(PODS).json()["metadata"]["resourceVersion"]
            server.kubectl("-n", "split", "create", "job", "one", "--image=busybox", "--", "true")
            params = {"watch": "true", "resourceVersion": rv, "timeoutSeconds": "60"}
            with http.stream("GET", PODS, params=params, timeout=90) as events:
                first = json.loads(next(events.iter_lines()))
            assert first["type"] == "ADDED"
            assert first["object"]["metadata"]["labels"]["job-name"] == "one"

        os.kill(api_pid, signal.SIGKILL)
        code = server.process.wait(timeout=60)
        assert code != 0, server.log()
        assert "the API process of berth up has exited" in server.log()
    finally:
        stop_berth(server.process, signal.SIGKILL)


def test_a_taken_port_stops_berth_up_at_once_naming_it(tmp_path):
    # berth up binds the API's port before anything else and hands it to its API process:
    # a port that is taken fails it at once (no store, no Ray started), saying which.
    with socket.socket() as taken:
        taken.bind(("127.0.0.1", 0))
        taken.listen(1)
        port = taken.getsockname()[1]
        data_dir = tmp_path / "data"
        started = time.monotonic()
        result = subprocess.run(
            [sys.executable, "-m", "berth.cli.main", "up", "--port", str(port)]
            + ["--data-dir", str(data_dir), "--workers"],
            capture_output=True,
            text=True,
            timeout=60,
        )
    assert result.returncode == 2, result.stdout + result.stderr
    assert f"cannot listen on 127.0.0.1:{port}" in result.stderr, result.stderr
    assert not (data_dir / RAY_DIR).exists()
    assert time.monotonic() - started < 30
