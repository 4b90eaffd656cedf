"""Shared Ray for the worker integration tests.

One ``ray.cluster_utils.Cluster`` (a head and two nodes with fake GPUs and labels) serves
every test here; this process is its driver. It is torn down as soon as the last test of this
directory has run, so that other suites may start their own Ray in the same session.

Ray is kept on loopback (``RAY_ENABLE_WINDOWS_OR_OSX_CLUSTER=0``) and uses a token made for
this run (``RAY_AUTH_TOKEN_PATH``), never the user's ``~/.ray/auth_token``.
"""

import logging
import os
import secrets
import subprocess
import sys
import textwrap
import time
from pathlib import Path

import pytest
import ray
from ray._private import ray_constants
from ray._raylet import Config as RayConfig  # pyright: ignore[reportAttributeAccessIssue]
from ray.cluster_utils import Cluster

from berth.workers.control import local_ray, pool

HERE = Path(__file__).parent
_SHARED: dict = {}


class RayEnv:
    def __init__(self, temp: Path):
        self.temp = temp
        token = temp / local_ray.TOKEN_FILE
        token.write_text(secrets.token_hex(32))
        self.env = local_ray.driver_env(temp)
        self._saved = local_ray.connect_env(temp)
        # cluster_utils records the head's address under $RAY_TMPDIR/ray (default /tmp/ray).
        self._saved["RAY_TMPDIR"] = os.environ.get("RAY_TMPDIR")
        os.environ["RAY_TMPDIR"] = str(temp)
        (temp / "ray").mkdir()
        # Ray read RAY_ENABLE_WINDOWS_OR_OSX_CLUSTER when first imported; the in-process head
        # must pick the loopback address its (loopback-only) servers listen on.
        self._cluster_flag = ray_constants.ENABLE_RAY_CLUSTER
        ray_constants.ENABLE_RAY_CLUSTER = False
        common = {
            "temp_dir": str(temp),
            "include_dashboard": False,
            "node_ip_address": "127.0.0.1",
            "object_store_memory": 80 << 20,
        }
        self.cluster = Cluster(initialize_head=True, head_node_args={"num_cpus": 1, **common})
        self.node_b = self.cluster.add_node(
            num_cpus=2, num_gpus=2, labels={"zone": "b"}, resources={"widget": 2}, **common
        )
        self.node_c = self.cluster.add_node(num_cpus=1, num_gpus=0, labels={"zone": "c"}, **common)
        ray.init(
            address=self.cluster.address,
            namespace=pool.AGENT_NAMESPACE,
            logging_level=logging.WARNING,
        )
        self.root = temp / "nodes"
        self.agents = pool.ensure_agents(
            str(self.root), hide=[str(temp)], backoff_base=0.1, backoff_cap=0.5
        )
        ray.get([a.ping.remote() for a in self.agents.values()])
        self.closed = False

    @property
    def head_id(self) -> str:
        head = self.cluster.head_node
        assert head is not None  # made by Cluster(initialize_head=True)
        return head.node_id

    @property
    def b_id(self) -> str:
        return self.node_b.node_id

    @property
    def c_id(self) -> str:
        return self.node_c.node_id

    def close(self) -> None:
        if self.closed:
            return
        self.closed = True
        ray.shutdown()
        self.cluster.shutdown()
        for key, value in self._saved.items():
            if value is None:
                os.environ.pop(key, None)
            else:
                os.environ[key] = value
        RayConfig.initialize("")
        ray_constants.ENABLE_RAY_CLUSTER = self._cluster_flag

    def run_driver(self, script: str, timeout: float = 120) -> str:
        """Run ``script`` as a separate driver process connected to this cluster."""
        prelude = (
            f"import ray\nray.init(address={self.cluster.address!r}, "
            f"namespace={pool.AGENT_NAMESPACE!r}, logging_level='WARNING')\n"
        )
        result = subprocess.run(
            [sys.executable, "-c", prelude + textwrap.dedent(script)],
            env={**os.environ, **self.env},
            capture_output=True,
            text=True,
            timeout=timeout,
        )
        assert result.returncode == 0, result.stderr[-3000:]
        return result.stdout


@pytest.fixture(scope="session")
def ray_env(tmp_path_factory):
    env = RayEnv(tmp_path_factory.mktemp("ray"))
    _SHARED["env"] = env
    yield env
    env.close()


@pytest.hookimpl(trylast=True)
def pytest_runtest_teardown(item, nextitem):
    """Free Ray (and its memory) when the next test is outside this directory."""
    env = _SHARED.get("env")
    if env is None:
        return
    if nextitem is None or HERE not in Path(str(nextitem.path)).parents:
        env.close()


def _wait_for(check, timeout=30.0, interval=0.05):
    deadline = time.monotonic() + timeout
    while True:
        value = check()
        if value:
            return value
        if time.monotonic() > deadline:
            raise AssertionError(f"timed out after {timeout}s waiting for {check}")
        time.sleep(interval)


@pytest.fixture
def wait_for():
    """``wait_for(check, timeout)``: poll until ``check()`` is truthy; that value."""
    return _wait_for


def _pod(name, *containers, policy="Never", **spec):
    return {
        "apiVersion": "v1",
        "kind": "Pod",
        "metadata": {"name": name, "namespace": "default", "uid": f"{name}-{secrets.token_hex(4)}"},
        "spec": {
            "restartPolicy": policy,
            "containers": list(containers),
            "terminationGracePeriodSeconds": 1,
            **spec,
        },
    }


def _sh(script, name="c", **extra):
    return {"name": name, "image": "busybox", "command": ["/bin/sh", "-c", script], **extra}


@pytest.fixture
def make_pod():
    """``make_pod(name, script_or_container..., policy=..., **spec)``: a Pod dict."""

    def build(name, *containers, **kw):
        return _pod(name, *[_sh(c) if isinstance(c, str) else c for c in containers], **kw)

    build.sh = _sh
    return build


@pytest.fixture
def pod_status():
    """``pod_status(agent, uid)``: the latest status the agent reports for a pod, or None."""

    def latest(agent, uid):
        _, updates = ray.get(agent.statuses.remote(0))
        return next((u["status"] for u in updates if u["uid"] == uid), None)

    return latest
