"""A multi-node Ray cluster on this machine that a ``berth up --ray-address`` can join.

The cluster (``ray.cluster_utils.Cluster``: a head and worker nodes with fake GPUs and Ray
labels) lives in a child process of the test, never in the test process itself: the test
process never becomes a Ray driver or node (it may start other ``berth up`` with their own
embedded Ray), and when it dies the child sees its stdin close and shuts the cluster down
(Ray's reaper does the same if the child itself is killed).

Like the worker integration tests (``tests/integration/workers/conftest.py``) it keeps Ray on
loopback (``RAY_ENABLE_WINDOWS_OR_OSX_CLUSTER=0``) with a token made for this cluster
(``RAY_AUTH_TOKEN_PATH``, see ``berth.workers.control.local_ray.driver_env``), and Ray's files under
the cluster's own directory (``RAY_TMPDIR``), so neither ``~/.ray`` nor ``/tmp/ray`` is read or
written. ``berth_env`` is what a ``berth up`` needs to join it.

Use::

    with RayCluster(tmp, head={"num_cpus": 1},
                    workers={"gpu": {"num_cpus": 2, "num_gpus": 2,
                                     "labels": {"gpu": "nvidia"}}}) as cluster:
        cluster.node_ids["gpu"]          # the Ray node id of a worker (or "head")
        start_berth(..., extra_env=cluster.berth_env)
        cluster.add_node("spare", num_cpus=1)
        cluster.remove_node("gpu")       # killed at once, as a lost machine

The child speaks one JSON object per line on stdin/stdout (``{"op": "add", ...}`` →
``{"ok": true, ...}``); Ray's own output goes to ``cluster.log`` in the directory.
"""

from __future__ import annotations

import json
import os
import secrets
import subprocess
import sys
from pathlib import Path

import ray
from ray.cluster_utils import Cluster

from berth.workers.control import local_ray

REPO = Path(__file__).resolve().parents[2]
REPLY = "@@ray-cluster "
# Ray declares a killed node dead after ~1.5 s with these (~13 s with its defaults).
FAST_HEALTH_CHECKS = {
    "health_check_period_ms": 500,
    "health_check_timeout_ms": 500,
    "health_check_failure_threshold": 3,
}
_NODE_DEFAULTS = {
    "include_dashboard": False,
    "node_ip_address": "127.0.0.1",
    "object_store_memory": 80 << 20,
}


class RayCluster:
    def __init__(
        self,
        directory: Path,
        *,
        head: dict | None = None,
        workers: dict[str, dict] | None = None,
        system_config: dict | None = None,
        start_timeout: float = 180,
    ):
        self.directory = Path(directory).resolve()
        self.directory.mkdir(parents=True, exist_ok=True)
        token = self.directory / local_ray.TOKEN_FILE
        token.write_text(secrets.token_hex(32))
        token.chmod(0o600)
        self.env = {**local_ray.driver_env(self.directory), "RAY_TMPDIR": str(self.directory)}
        self.node_ids: dict[str, str] = {}
        self.address = ""
        self._log = open(self.directory / "cluster.log", "ab")
        self._process = subprocess.Popen(
            [sys.executable, "-m", "tests.e2e.ray_cluster"],
            cwd=REPO,
            env={**os.environ, **self.env},
            stdin=subprocess.PIPE,
            stdout=subprocess.PIPE,
            stderr=self._log,
            text=True,
            start_new_session=True,
        )
        try:
            started = self._call(
                {
                    "op": "start",
                    "directory": str(self.directory),
                    "head": head or {},
                    "workers": workers or {},
                    "system_config": system_config or {},
                },
                start_timeout,
            )
        except BaseException:
            self.close()  # a failed start leaves no cluster running (no ``with`` will close it)
            raise
        self.address = started["address"]
        self.node_ids = started["nodes"]

    @property
    def session(self) -> int:
        """The session of the cluster's processes (the child leads it; Ray's nodes stay in it)."""
        return self._process.pid

    @property
    def berth_env(self) -> dict[str, str]:
        """Environment of a ``berth up`` that joins this cluster."""
        return {**self.env, "BERTH_RAY_ADDRESS": self.address}

    def add_node(self, name: str, **args) -> str:
        """Start one more worker node; its Ray node id."""
        node_id = self._call({"op": "add", "name": name, "args": args})["node_id"]
        self.node_ids[name] = node_id
        return node_id

    def remove_node(self, name: str) -> None:
        """Kill a worker node's processes at once (no graceful drain): a lost machine."""
        self._call({"op": "remove", "name": name})
        self.node_ids.pop(name, None)

    def close(self) -> None:
        if self._process.poll() is None:
            try:
                self._call({"op": "shutdown"}, timeout=60)
            except (OSError, RuntimeError, subprocess.TimeoutExpired):
                pass
            try:
                self._process.stdin.close()
                self._process.wait(timeout=30)
            except (OSError, subprocess.TimeoutExpired):
                self._process.kill()
                self._process.wait(timeout=10)
        self._log.close()
        link = local_ray.short_path(self.directory)
        if link != self.directory and link.is_symlink():
            link.unlink()

    def log(self) -> str:
        return (self.directory / "cluster.log").read_text(errors="replace")

    def __enter__(self) -> RayCluster:
        return self

    def __exit__(self, *exc) -> None:
        self.close()

    def _call(self, request: dict, timeout: float = 120) -> dict:
        self._process.stdin.write(json.dumps(request) + "\n")
        self._process.stdin.flush()
        # The child answers every request; Ray may print other lines before the answer.
        while True:
            line = self._process.stdout.readline()
            if not line:
                raise RuntimeError(
                    f"the Ray cluster process ended ({self._process.poll()}):\n{self.log()[-3000:]}"
                )
            if line.startswith(REPLY):
                reply = json.loads(line[len(REPLY) :])
                if not reply.get("ok"):
                    raise RuntimeError(f"Ray cluster {request['op']} failed: {reply['error']}")
                return reply


# -- the child process ------------------------------------------------------------------------
def _serve() -> None:
    cluster = None
    nodes: dict = {}
    common: dict = {}
    for line in sys.stdin:
        request = json.loads(line)
        try:
            if request["op"] == "start":
                temp = local_ray.short_path(Path(request["directory"]))
                (Path(request["directory"]) / "ray").mkdir(exist_ok=True)
                common = {**_NODE_DEFAULTS, "temp_dir": str(temp)}
                head = {**common, **request["head"]}
                if request["system_config"]:
                    head["_system_config"] = request["system_config"]
                cluster = Cluster(initialize_head=True, head_node_args=head)
                nodes["head"] = cluster.head_node
                for name, args in request["workers"].items():
                    nodes[name] = cluster.add_node(**common, **args)
                cluster.wait_for_nodes()
                reply = {
                    "address": cluster.address,
                    "nodes": {name: node.node_id for name, node in nodes.items()},
                }
            elif request["op"] == "add":
                node = nodes[request["name"]] = cluster.add_node(**common, **request["args"])
                cluster.wait_for_nodes()
                reply = {"node_id": node.node_id}
            elif request["op"] == "remove":
                cluster.remove_node(nodes.pop(request["name"]), allow_graceful=False)
                reply = {}
            elif request["op"] == "shutdown":
                break
            else:
                raise ValueError(f"unknown op {request['op']!r}")
        except Exception as exc:  # reported to the test, which raises it there
            reply = {"ok": False, "error": f"{type(exc).__name__}: {exc}"}
        print(REPLY + json.dumps({"ok": True, **reply}), flush=True)
    if cluster is not None:
        cluster.shutdown()
        ray.shutdown()
    try:
        print(REPLY + json.dumps({"ok": True}), flush=True)
    except BrokenPipeError:
        pass  # the test process is gone: nobody is waiting for the answer


if __name__ == "__main__":
    _serve()
