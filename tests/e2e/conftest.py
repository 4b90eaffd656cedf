"""End-to-end harness: a real ``berth up`` process on a free port, driven by the real kubectl
and the official kubernetes Python client.

``berth_server`` starts one server per test module (per database flavour), each with its own
data directory and database; tests use their own namespaces so they do not see each other.
"""

from __future__ import annotations

import json
import os
import signal
import socket
import subprocess
import sys
import time
import uuid
from dataclasses import dataclass
from pathlib import Path

import httpx
import pytest
import yaml

from berth.workers.control import local_ray
from tests.support import make_pg_schema, pg_problem

REPO = Path(__file__).resolve().parents[2]
RAY_DIR = "ray"  # berth up's embedded Ray lives under <data-dir>/ray


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@dataclass
class BerthServer:
    url: str
    kubeconfig: Path
    data_dir: Path
    process: subprocess.Popen
    log_path: Path

    def kubectl(
        self, *args: str, check: bool = True, input: str | None = None, timeout: float = 60
    ) -> subprocess.CompletedProcess:
        result = subprocess.run(
            ["kubectl", "--kubeconfig", str(self.kubeconfig), *args],
            capture_output=True,
            text=True,
            input=input,
            timeout=timeout,
        )
        if check and result.returncode != 0:
            raise AssertionError(
                f"kubectl {' '.join(args)} failed ({result.returncode}):\n"
                f"{result.stdout}\n{result.stderr}"
            )
        return result

    def kubectl_json(self, *args: str) -> dict:
        return json.loads(self.kubectl(*args, "-o", "json").stdout)

    def http(self) -> httpx.Client:
        return httpx.Client(base_url=self.url, timeout=30)

    def log(self) -> str:
        return self.log_path.read_text(errors="replace")


def start_berth(
    tmp: Path,
    database_url: str | None,
    *,
    workers: bool = False,
    extra_env: dict | None = None,
    port: int | None = None,
) -> BerthServer:
    port = port or free_port()
    data_dir = tmp / "data"
    log_path = tmp / "berth.log"
    args = [
        sys.executable,
        "-m",
        "berth.cli.main",
        "up",
        "--port",
        str(port),
        "--data-dir",
        str(data_dir),
        "--workers" if workers else "--no-workers",
    ]
    if database_url:
        args += ["--database-url", database_url]
    env = {**os.environ, **(extra_env or {})}
    with open(log_path, "ab") as log_file:
        process = subprocess.Popen(
            args,
            stdout=log_file,
            stderr=subprocess.STDOUT,
            cwd=REPO,
            env=env,
            start_new_session=True,
        )
    url = f"http://127.0.0.1:{port}"
    try:
        _wait_ready(process, url, log_path)
    except BaseException:
        # A failed start (berth up exited, never got ready, or the wait was interrupted)
        # leaves nothing behind: not berth up's processes, not the Ray it may have started.
        stop_berth_and_ray(process, data_dir)
        raise
    kubeconfig = tmp / "kubeconfig"
    kubeconfig.write_text(
        yaml.safe_dump(
            {
                "apiVersion": "v1",
                "kind": "Config",
                "clusters": [{"name": "berth", "cluster": {"server": url}}],
                "users": [{"name": "berth", "user": {}}],
                "contexts": [{"name": "berth", "context": {"cluster": "berth", "user": "berth"}}],
                "current-context": "berth",
            }
        )
    )
    return BerthServer(url, kubeconfig, data_dir, process, log_path)


def _wait_ready(process: subprocess.Popen, url: str, log_path: Path) -> None:
    deadline = time.monotonic() + 90
    while time.monotonic() < deadline:
        if process.poll() is not None:
            raise RuntimeError(
                f"berth up exited with {process.returncode}:\n{log_path.read_text()}"
            )
        try:
            if httpx.get(f"{url}/readyz", timeout=1).status_code == 200:
                return
        except httpx.HTTPError:
            pass
        time.sleep(0.2)
    raise RuntimeError(f"berth up did not become ready:\n{log_path.read_text()}")


def stop_berth_and_ray(
    process: subprocess.Popen, data_dir: Path, sig: int = signal.SIGTERM
) -> None:
    """Stop ``berth up``, then whatever of its embedded Ray is still running (it had not
    stopped it: killed, or stopped before it knew of it), by that Ray's session, never with
    ``ray stop``. Nothing to do for a ``berth up`` without workers or on an outside Ray."""
    stop_berth(process, sig)
    local_ray.stop_local_ray(data_dir / RAY_DIR)


def stop_berth(process: subprocess.Popen, sig: int = signal.SIGTERM) -> None:
    if process.poll() is None:
        try:
            os.killpg(process.pid, sig)
        except ProcessLookupError:
            return
        try:
            process.wait(timeout=20)
        except subprocess.TimeoutExpired:
            os.killpg(process.pid, signal.SIGKILL)
            process.wait(timeout=10)


@pytest.fixture(scope="module", params=["sqlite", "postgresql"])
def berth_server(request, tmp_path_factory):
    """A control-plane-only Berth (no Ray) per module and database flavour."""
    tmp = tmp_path_factory.mktemp(f"berth-{request.param}")
    drop = None
    url = None
    if request.param == "postgresql":
        if pg_problem():
            pytest.skip(pg_problem())
        url, drop = make_pg_schema()
    server = start_berth(tmp, url)
    try:
        yield server
    finally:
        stop_berth(server.process)
        if drop:
            drop()


@pytest.fixture
def namespace(berth_server):
    name = f"e2e-{uuid.uuid4().hex[:8]}"
    berth_server.kubectl("create", "namespace", name)
    return name


@pytest.fixture
def nodes(berth_server):
    """Names of the (simulated) nodes a test applied; deleted after it (the server is
    shared)."""
    made: list[str] = []
    yield made
    for name in made:
        berth_server.kubectl("delete", "node", name, "--wait=false", check=False)
