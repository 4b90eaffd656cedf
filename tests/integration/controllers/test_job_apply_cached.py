"""A Job sync writes against the informers' copies: its status and its finalizer removals
read nothing when those copies are current, and a pod that changed since its copy is read
and released all the same, keeping the other writer's change."""

from __future__ import annotations

from berth.platform.controllers.job import keys
from berth.platform.controllers.job.apply import release_finalizer
from berth.platform.controllers.job.plan import PodRef
from berth.platform.resources import registry
from berth.platform.resources.meta import clone
from tests.integration.controllers.job_harness import NS, job_manifest
from tests.integration.controllers.test_job_apply_commit import _pod


def _counting_reads(client, monkeypatch) -> list[tuple]:
    seen: list[tuple] = []
    plain_get = client.db.get

    def get(*args):
        seen.append(args)
        return plain_get(*args)

    monkeypatch.setattr(client.db, "get", get)
    return seen


def _held_pod(client) -> dict:
    job = client.create(registry.JOB, job_manifest("j"), NS)
    return client.create(registry.POD, _pod("j-pod", job), NS)


def test_a_current_copy_is_released_without_a_read(platform, monkeypatch):
    client = platform.client
    pod = _held_pod(client)
    reads = _counting_reads(client, monkeypatch)
    released = release_finalizer(client, NS, PodRef("j-pod", pod["metadata"]["uid"]), pod)
    assert reads == []
    assert released is not None
    assert keys.TRACKING_FINALIZER not in (released["metadata"].get("finalizers") or [])
    assert keys.TRACKING_FINALIZER in pod["metadata"]["finalizers"]  # the copy is untouched


def test_a_pod_changed_since_its_copy_is_read_and_released(platform):
    client = platform.client
    pod = _held_pod(client)
    cached = clone(pod)

    def label(current: dict) -> dict:
        current["metadata"]["labels"]["other"] = "writer"
        return current

    client.guaranteed_update(registry.POD, NS, "j-pod", label)
    released = release_finalizer(client, NS, PodRef("j-pod", pod["metadata"]["uid"]), cached)
    stored = client.get(registry.POD, NS, "j-pod")
    assert released == stored
    assert keys.TRACKING_FINALIZER not in (stored["metadata"].get("finalizers") or [])
    assert stored["metadata"]["labels"]["other"] == "writer"


def test_a_copy_of_a_replaced_pod_releases_nothing(platform):
    client = platform.client
    pod = _held_pod(client)
    client.delete(registry.POD, NS, "j-pod")  # stays: its finalizer holds it
    stale = clone(pod)
    stale["metadata"]["uid"] = "an-older-pod"
    assert release_finalizer(client, NS, PodRef("j-pod", "an-older-pod"), stale) is not None
    stored = client.get(registry.POD, NS, "j-pod")
    assert stored["metadata"]["finalizers"] == [keys.TRACKING_FINALIZER]
