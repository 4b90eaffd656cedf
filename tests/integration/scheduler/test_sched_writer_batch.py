"""The scheduler's binds waiting for a worker are written in one group commit, and a pod that
cannot be bound fails alone (SQLite and PostgreSQL)."""

from __future__ import annotations

import threading
import time

import pytest

from berth.platform.errors import NotFound
from berth.platform.resources import registry
from berth.scheduler.types import pod_request
from berth.scheduler.writer import Writer
from tests.integration.scheduler.sched_harness import pod_manifest

pytestmark = pytest.mark.integration


class Recorded:
    """An event recorder that keeps the Events instead of writing them."""

    def __init__(self) -> None:
        self.events: list[tuple[str, str]] = []

    def normal(self, obj: dict, reason: str, message: str) -> None:
        self.events.append((obj["metadata"]["name"], reason))


def test_queued_binds_commit_together_and_a_missing_pod_fails_alone(platform, monkeypatch):
    client = platform.client
    pods = [client.create(registry.POD, pod_manifest(f"p{i}"), "default") for i in range(5)]
    outcomes: dict[str, Exception | None] = {}
    done = threading.Event()

    def on_bound(pod, node, error):
        outcomes[pod.name] = error
        if len(outcomes) == len(pods):
            done.set()

    transactions = []
    writing = platform.db.dialect.writing

    def counted():
        transactions.append(1)
        return writing()

    recorder = Recorded()
    writer = Writer(client, recorder, on_bound, bind_workers=1)  # type: ignore[arg-type]
    gate = threading.Event()
    writer._binds.submit(gate.wait)  # the only worker is busy: the binds below queue up
    for pod in pods:
        writer.bind(pod_request(pod), "node-a")
    client.delete(registry.POD, "default", "p2", grace_period_seconds=0)
    monkeypatch.setattr(platform.db.dialect, "writing", counted)
    gate.set()
    assert done.wait(30)
    # The Scheduled Events go out on the report pool after on_bound; close() drops the
    # reports not started yet, so wait for the four before closing.
    deadline = time.monotonic() + 30
    while len(recorder.events) < 4 and time.monotonic() < deadline:
        time.sleep(0.01)
    writer.close()

    assert len(transactions) == 1  # five binds, one write transaction
    assert isinstance(outcomes.pop("p2"), NotFound)
    assert outcomes == {"p0": None, "p1": None, "p3": None, "p4": None}
    for name in ("p0", "p1", "p3", "p4"):
        assert client.get(registry.POD, "default", name)["spec"]["nodeName"] == "node-a"
    assert sorted(recorder.events) == [(n, "Scheduled") for n in ("p0", "p1", "p3", "p4")]
    assert writer.binding == 0
