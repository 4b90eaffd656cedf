"""A control plane on a real store, with a fake kubelet and a clock the test moves.

``Cluster`` holds a Platform (SQLite or PostgreSQL), a ``ControlPlane`` (informers, the Job,
TTL and garbage-collector controllers) that can be stopped and started again on the same
database, and a ``FakeKubelet`` thread that binds pending pods, runs them and ends them with
the exit code the test chooses, the way a node agent reports them. Time stands still unless the
test calls ``advance``: the clock is shared by the store, the controllers and the kubelet, so
backoff, deadlines and TTLs are decided by the test, not by the wall clock.
"""

from __future__ import annotations

import random
import threading
import time
from collections.abc import Callable
from datetime import UTC, datetime, timedelta

from sqlalchemy.exc import OperationalError

from berth.platform.cache.informers import InformerHub
from berth.platform.controllers.garbage_collector import GarbageCollector
from berth.platform.controllers.job import keys
from berth.platform.controllers.job.controller import JobController
from berth.platform.controllers.manager import ControllerManager
from berth.platform.controllers.ttl import TTLAfterFinishedController
from berth.platform.errors import Conflict, NotFound
from berth.platform.resources import registry
from berth.platform.resources.meta import rfc3339
from berth.platform.runtime import Platform
from berth.platform.store.client import Client
from berth.platform.store.events import EventRecorder

NS = "default"
NODE = "node-1"
Handler = Callable[[dict | None, dict | None], None]


class FakeClock:
    def __init__(self) -> None:
        self._now = datetime(2026, 11, 25, 12, 0, 0, tzinfo=UTC)
        self._lock = threading.Lock()

    def __call__(self) -> datetime:
        with self._lock:
            return self._now

    def advance(self, seconds: float) -> None:
        with self._lock:
            self._now += timedelta(seconds=seconds)


def _container_names(pod: dict) -> list[str]:
    return [c["name"] for c in pod["spec"].get("containers") or []]


class FakeKubelet:
    """Every node's agent in one thread. ``exit_code(pod)`` decides, at each look at a running
    pod, how it ends (None: keeps running). A pod marked for deletion is stopped (exit 143)
    and then deleted with grace 0, as a kubelet confirms a graceful deletion."""

    def __init__(self, client: Client, clock: FakeClock, interval: float = 0.01) -> None:
        self.client = client
        self.clock = clock
        self.interval = interval
        self.exit_code: Callable[[dict], int | None] = lambda pod: 0
        self.paused = threading.Event()
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, name="fake-kubelet", daemon=True)

    def start(self) -> FakeKubelet:
        self._thread.start()
        return self

    def stop(self) -> None:
        self._stop.set()
        self._thread.join(timeout=5)

    def _run(self) -> None:
        while not self._stop.wait(self.interval):
            if self.paused.is_set():
                continue
            for pod in self.client.list(registry.POD).items:
                try:
                    self._step(pod)
                except (Conflict, NotFound, OperationalError):
                    # Raced with a controller: looked at again on the next tick. OperationalError:
                    # PostgreSQL reports a deadlock when a delete meets an update of the same
                    # object (Database.delete locks the row before the revision row).
                    continue

    def _step(self, pod: dict) -> None:
        md, status = pod["metadata"], pod.get("status") or {}
        phase = status.get("phase")
        terminal = phase in (keys.SUCCEEDED, keys.FAILED)
        if md.get("deletionTimestamp"):
            if not terminal:
                self._finish(pod, 143)
            self.client.delete(registry.POD, NS, md["name"], grace_period_seconds=0)
        elif phase == keys.PENDING:
            if not pod["spec"].get("nodeName"):
                pod = self.client.bind(NS, md["name"], NODE, uid=md["uid"])
            self._run_pod(pod)
        elif phase == keys.RUNNING:
            code = self.exit_code(pod)
            if code is not None:
                self._finish(pod, code)

    def _run_pod(self, pod: dict) -> None:
        now = rfc3339(self.clock())
        status = dict(pod.get("status") or {})
        status.update(
            phase=keys.RUNNING,
            startTime=now,
            conditions=_conditions(status, "True", now),
            containerStatuses=[
                {
                    "name": n,
                    "ready": True,
                    "restartCount": 0,
                    "image": "busybox",
                    "imageID": "",
                    "started": True,
                    "state": {"running": {"startedAt": now}},
                }
                for n in _container_names(pod)
            ],
        )
        self.client.update_status(registry.POD, {**pod, "status": status})

    def _finish(self, pod: dict, code: int) -> None:
        now = rfc3339(self.clock())
        status = dict(pod.get("status") or {})
        terminated = {
            "exitCode": code,
            "reason": "Completed" if code == 0 else "Error",
            "startedAt": status.get("startTime", now),
            "finishedAt": now,
        }
        status.update(
            phase=keys.SUCCEEDED if code == 0 else keys.FAILED,
            conditions=_conditions(status, "False", now),
            containerStatuses=[
                {
                    "name": n,
                    "ready": False,
                    "restartCount": 0,
                    "image": "busybox",
                    "imageID": "",
                    "started": False,
                    "state": {"terminated": terminated},
                }
                for n in _container_names(pod)
            ],
        )
        self.client.update_status(registry.POD, {**pod, "status": status})


def _conditions(status: dict, ready: str, now: str) -> list[dict]:
    kept = [
        c
        for c in status.get("conditions") or []
        if c.get("type") not in (keys.POD_READY, "ContainersReady")
    ]
    return kept + [
        {"type": kind, "status": ready, "lastProbeTime": None, "lastTransitionTime": now}
        for kind in ("ContainersReady", keys.POD_READY)
    ]


class ControlPlane:
    """Informers and controllers as ``berth up`` runs them, on the given platform."""

    def __init__(
        self, platform: Platform, clock: FakeClock, seed: int, observers: list[Handler]
    ) -> None:
        client = platform.client
        self.client = client
        self.hub = InformerHub(client, platform.feed)
        self.manager = ControllerManager(self.hub)
        controller = JobController(
            client, EventRecorder(client, "job-controller"), clock=clock, rng=random.Random(seed)
        )
        self.job_queue = self.manager.add(controller, workers=2)
        self.ttl_queue = self.manager.add(TTLAfterFinishedController(client, clock=clock))
        self.manager.add(GarbageCollector(client))
        for handler in observers:
            self.hub.informer(registry.POD).add_handler(handler)
        self.hub.start()
        self.manager.start()
        if not self.hub.synced.wait(10):
            raise AssertionError("informers never synced")

    def poke(self) -> None:
        """Wake every controller for every Job (after the clock moved)."""
        for job in self.client.list(registry.JOB).items:
            key = (job["metadata"]["namespace"], job["metadata"]["name"])
            self.job_queue.add(key)
            self.ttl_queue.add(key)

    def stop(self) -> None:
        self.manager.stop()
        self.hub.stop()


def job_manifest(name: str, *, command: str = "true", **spec) -> dict:
    return {
        "apiVersion": "batch/v1",
        "kind": "Job",
        "metadata": {"name": name, "namespace": NS},
        "spec": {
            "template": {
                "spec": {
                    "restartPolicy": "Never",
                    "containers": [
                        {"name": "main", "image": "busybox", "command": ["sh", "-c", command]}
                    ],
                }
            },
            **spec,
        },
    }


class Cluster:
    def __init__(self, platform: Platform, seed: int = 0) -> None:
        self.platform = platform
        self.client = platform.client
        self.clock = FakeClock()
        self.client.clock = self.clock  # timestamps the store writes follow the same clock
        self.seed = seed
        self.observers: list[Handler] = []
        self.kubelet = FakeKubelet(self.client, self.clock)
        self.plane: ControlPlane | None = None

    # -- lifecycle ------------------------------------------------------------------------
    def start(self) -> Cluster:
        self.plane = ControlPlane(self.platform, self.clock, self.seed, self.observers)
        if not self.kubelet._thread.is_alive():
            self.kubelet.start()
        return self

    def stop_controllers(self) -> None:
        self.plane.stop()
        self.plane = None

    def close(self) -> None:
        self.kubelet.stop()
        if self.plane is not None:
            self.plane.stop()

    def advance(self, seconds: float) -> None:
        self.clock.advance(seconds)
        if self.plane is not None:
            self.plane.poke()

    # -- objects --------------------------------------------------------------------------
    def create_job(self, name: str, **spec) -> dict:
        return self.client.create(registry.JOB, job_manifest(name, **spec), NS)

    def job(self, name: str) -> dict | None:
        return self.client.try_get(registry.JOB, NS, name)

    def status(self, name: str) -> dict:
        return (self.job(name) or {}).get("status") or {}

    def pods(self, job: str) -> list[dict]:
        items = self.client.list(registry.POD, NS, label_selector=f"{keys.JOB_NAME}={job}").items
        return sorted(
            items, key=lambda p: p["metadata"]["creationTimestamp"] + p["metadata"]["name"]
        )

    def events(self, name: str) -> list[dict]:
        items = [
            e
            for e in self.client.list(registry.EVENT, NS).items
            if e["involvedObject"]["name"] == name
        ]
        return sorted(items, key=lambda e: int(e["metadata"]["resourceVersion"]))

    def reasons(self, name: str) -> list[str]:
        return [e["reason"] for e in self.events(name)]


def condition(status: dict, kind: str) -> dict | None:
    return next(
        (c for c in status.get("conditions") or [] if c["type"] == kind and c["status"] == "True"),
        None,
    )


def finished(status: dict) -> str | None:
    """ "Complete" or "Failed" once the Job has finished."""
    for kind in (keys.COMPLETE, keys.FAILED_CONDITION):
        if condition(status, kind):
            return kind
    return None


def active(pods: list[dict]) -> list[dict]:
    return [
        p
        for p in pods
        if p["status"].get("phase") not in (keys.SUCCEEDED, keys.FAILED)
        and not p["metadata"].get("deletionTimestamp")
    ]


def tracked(pods: list[dict]) -> list[str]:
    return [
        p["metadata"]["name"]
        for p in pods
        if keys.TRACKING_FINALIZER in (p["metadata"].get("finalizers") or [])
    ]


def wait_for(check: Callable[[], object], what: str, timeout: float = 10.0, interval: float = 0.01):
    """Poll ``check`` until it returns something truthy; fail saying ``what`` did not happen."""
    deadline = time.monotonic() + timeout
    while True:
        value = check()
        if value:
            return value
        if time.monotonic() > deadline:
            raise AssertionError(f"timed out after {timeout}s waiting for {what}")
        time.sleep(interval)


def stays(
    check: Callable[[], bool], what: str, seconds: float = 0.3, interval: float = 0.02
) -> None:
    """Assert ``check`` holds for ``seconds`` (for what must *not* happen, e.g. an early
    replacement)."""
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        assert check(), what
        time.sleep(interval)
