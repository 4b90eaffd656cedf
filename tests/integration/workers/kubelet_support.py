"""A control plane with real workers for the kubelet and node tests: a store, informers and the
``WorkerService`` joined to the session's Ray cluster (``ray_env`` from conftest.py).

``Harness`` records every version of every pod the informers see (with the time it arrived),
so a test can check the phases a pod went through, and the status a pod had when it was
deleted.
"""

from __future__ import annotations

import asyncio
import time
from collections import defaultdict
from pathlib import Path

from berth.platform.cache.informers import InformerHub
from berth.platform.logs import LogOptions
from berth.platform.resources import registry
from berth.platform.resources.meta import dig
from berth.platform.runtime import open_platform
from berth.settings import Settings
from berth.workers.control.service import WorkerService

NS = "default"
FAST = {
    "node_sync_period_s": 0.3,
    "kubelet_resync_period_s": 2.0,
    "orphan_pod_grace_s": 1.0,
    "restart_backoff_base_s": 0.1,
    "restart_backoff_cap_s": 0.5,
}


_OPEN: list[Harness] = []


def _close_harnesses_with(ray_env) -> None:
    """conftest.py frees Ray in ``pytest_runtest_teardown``, which runs before the fixtures of
    the last test are finalised: a harness still open then would outlive its Ray. Close every
    open harness first."""
    if getattr(ray_env, "_harnesses_first", False):
        return
    close_ray = ray_env.close

    def close() -> None:
        for harness in list(_OPEN):
            harness.close()
        close_ray()

    ray_env.close = close
    ray_env._harnesses_first = True


def node_name(ray_node_id: str) -> str:
    return f"ray-{ray_node_id[:12]}"


def wait_for(check, timeout: float = 30.0, interval: float = 0.05):
    deadline = time.monotonic() + timeout
    while True:
        value = check()
        if value:
            return value
        if time.monotonic() > deadline:
            raise AssertionError(f"timed out after {timeout}s waiting for {check}")
        time.sleep(interval)


def sh(script: str, name: str = "c", **extra) -> dict:
    return {"name": name, "image": "busybox", "command": ["/bin/sh", "-c", script], **extra}


def bound_pod(
    name: str, node: str, *containers: dict, policy: str = "Never", grace: int = 1, **spec
) -> dict:
    return {
        "apiVersion": "v1",
        "kind": "Pod",
        "metadata": {"name": name, "namespace": NS},
        "spec": {
            "nodeName": node,
            "restartPolicy": policy,
            "terminationGracePeriodSeconds": grace,
            "containers": list(containers),
            **spec,
        },
    }


def phases(versions: list[dict]) -> list[str]:
    """The distinct phases a pod went through, in order."""
    out: list[str] = []
    for pod in versions:
        phase = dig(pod, "status", "phase")
        if phase and (not out or out[-1] != phase):
            out.append(phase)
    return out


def terminated(pod: dict, container: str = "c") -> dict:
    """The container's terminated state; an assertion error when it has none."""
    for status in dig(pod, "status", "containerStatuses") or []:
        if status.get("name") == container:
            state = (status.get("state") or {}).get("terminated")
            assert state is not None, f"container {container} has not terminated: {status}"
            return state
    raise AssertionError(f"pod has no status of container {container}")


def find_condition(pod: dict, kind: str) -> dict | None:
    return next((c for c in dig(pod, "status", "conditions") or [] if c.get("type") == kind), None)


def condition(pod: dict, kind: str) -> dict:
    """The pod's or node's condition ``kind``; an assertion error when it has none."""
    found = find_condition(pod, kind)
    assert found is not None, f"no {kind} condition in {dig(pod, 'status', 'conditions')}"
    return found


class Harness:
    def __init__(self, ray_env, tmp_path: Path, database_url: str | None = None, **overrides):
        self.ray_env = ray_env
        _close_harnesses_with(ray_env)
        self.settings = Settings(
            data_dir=tmp_path / "data",
            database_url=database_url,
            ray_address=ray_env.cluster.address,
            **{**FAST, **overrides},
        )
        self.platform = open_platform(self.settings)
        self.client = self.platform.client
        self.hub = InformerHub(self.client, self.platform.feed)
        self.service = WorkerService(self.platform, self.hub, self.settings)
        self.service.register(self.hub)
        self.seen: dict[str, list[tuple[float, dict]]] = defaultdict(list)  # uid -> versions
        self.hub.informer(registry.POD).add_handler(self._record)
        self.hub.start()
        self.service.start()
        _OPEN.append(self)
        self.hub.synced.wait(30)

    def _record(self, old: dict | None, new: dict | None) -> None:
        if new is not None:
            self.seen[new["metadata"]["uid"]].append((time.monotonic(), new))

    def close(self) -> None:
        if self not in _OPEN:
            return
        _OPEN.remove(self)
        self.service.stop()
        self.hub.stop()
        self.platform.close()

    # -- pods -----------------------------------------------------------------------------
    @property
    def head(self) -> str:
        return node_name(self.ray_env.head_id)

    def create(self, obj: dict, rt=registry.POD) -> dict:
        return self.client.create(rt, obj)

    def get(self, name: str) -> dict | None:
        return self.client.try_get(registry.POD, NS, name)

    def versions(self, pod: dict) -> list[dict]:
        return [v for _, v in self.seen[pod["metadata"]["uid"]]]

    def wait_phase(self, name: str, *wanted: str, timeout: float = 30.0) -> dict:
        def check():
            pod = self.get(name)
            return pod if pod and dig(pod, "status", "phase") in wanted else None

        return wait_for(check, timeout)

    def wait_seen(self, pod: dict, phase: str, timeout: float = 30.0) -> dict:
        """The first version of ``pod`` the informers saw in ``phase``."""

        def check():
            return next((v for v in self.versions(pod) if dig(v, "status", "phase") == phase), None)

        return wait_for(check, timeout)

    def wait_gone(self, name: str, timeout: float = 30.0) -> None:
        wait_for(lambda: self.get(name) is None, timeout)

    # -- logs -----------------------------------------------------------------------------
    def read_log(self, pod: dict, **options) -> str:
        return self.platform.logs.read(
            pod, LogOptions(container=options.pop("container", "c"), **options)
        )

    def follow(self, pod: dict, **options) -> list[tuple[float, bytes]]:
        """Every chunk ``follow`` yields, with the time it arrived; returns when it ends."""

        async def collect():
            chunks = []
            source = self.platform.logs.follow(
                pod, LogOptions(container=options.pop("container", "c"), follow=True, **options)
            )
            async for chunk in source:
                chunks.append((time.monotonic(), chunk))
            return chunks

        return asyncio.run(collect())
