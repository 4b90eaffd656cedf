"""A Job sync's writes after its deletions commit as one transaction: all of them or, when
the status write is refused, none; a refused pod creation is undone alone, the Job's other
writes stand, and its error still reaches the caller."""

from __future__ import annotations

import pytest

from berth.platform.controllers.job import keys
from berth.platform.controllers.job.apply import apply_plan
from berth.platform.controllers.job.plan import Event, Plan, PodRef
from berth.platform.errors import AlreadyExists, Conflict
from berth.platform.resources import registry
from berth.platform.store.events import EventRecorder
from tests.integration.controllers.job_harness import NS, job_manifest


def _pod(name: str, job: dict, finalizer: bool = True) -> dict:
    md = {
        "name": name,
        "namespace": NS,
        "labels": {"job-name": job["metadata"]["name"]},
        "ownerReferences": [
            {
                "apiVersion": "batch/v1",
                "kind": "Job",
                "controller": True,
                "name": job["metadata"]["name"],
                "uid": job["metadata"]["uid"],
            }
        ],
    }
    if finalizer:
        md["finalizers"] = [keys.TRACKING_FINALIZER]
    return {
        "apiVersion": "v1",
        "kind": "Pod",
        "metadata": md,
        "spec": {
            "restartPolicy": "Never",
            "containers": [{"name": "main", "image": "busybox", "command": ["true"]}],
        },
    }


def _setup(platform):
    client = platform.client
    job = client.create(registry.JOB, job_manifest("j"), NS)
    done = client.create(registry.POD, _pod("j-done", job), NS)
    return client, job, done


def _remembered():
    seen = []
    return seen, seen.append


def _events(client, reason: str) -> list[dict]:
    return [e for e in client.list(registry.EVENT, NS).items if e.get("reason") == reason]


def test_one_commit_for_status_finalizers_pods_and_events(platform):
    client, job, done = _setup(platform)
    before = client.db.current_rv()
    plan = Plan(
        status={"active": 1},
        write_status=True,
        remove_finalizers=[PodRef("j-done", done["metadata"]["uid"])],
        create=[_pod("j-new", job)],
        events=[Event("Normal", "SuccessfulCreate", "x")],
    )
    seen, remember = _remembered()
    apply_plan(client, EventRecorder(client, "job-controller"), job, plan, remember)
    assert client.get(registry.JOB, NS, "j")["status"] == {"active": 1}
    assert "finalizers" not in client.get(registry.POD, NS, "j-done")["metadata"]
    assert client.try_get(registry.POD, NS, "j-new") is not None
    assert len(_events(client, "SuccessfulCreate")) == 1
    assert seen == [plan.tracking]
    # Four writes, each its own resourceVersion, in the plan's order.
    changes = client.db.changes_since(before)
    assert [(c.resource, c.name) for c in changes][:3] == [
        ("jobs.batch", "j"),
        ("pods", "j-done"),
        ("pods", "j-new"),
    ]
    assert [c.rv for c in changes] == list(range(before + 1, before + 1 + len(changes)))


def test_a_refused_status_write_commits_nothing(platform):
    client, job, done = _setup(platform)
    client.update(
        registry.JOB, {**job, "status": {"active": 0}}, NS, "j", subresource="status"
    )  # the Job moved on: the plan's version is stale
    plan = Plan(
        status={"active": 1},
        write_status=True,
        remove_finalizers=[PodRef("j-done", done["metadata"]["uid"])],
        create=[_pod("j-new", job)],
        events=[Event("Normal", "SuccessfulCreate", "x")],
    )
    seen, remember = _remembered()
    with pytest.raises(Conflict):
        apply_plan(client, EventRecorder(client, "job-controller"), job, plan, remember)
    assert client.get(registry.JOB, NS, "j")["status"] == {"active": 0}
    assert client.get(registry.POD, NS, "j-done")["metadata"]["finalizers"] == [
        keys.TRACKING_FINALIZER
    ]
    assert client.try_get(registry.POD, NS, "j-new") is None
    assert _events(client, "SuccessfulCreate") == [] and seen == []


def test_a_refused_creation_is_undone_alone_and_raises(platform):
    client, job, done = _setup(platform)
    client.create(registry.POD, _pod("j-taken", job, finalizer=False), NS)
    plan = Plan(
        status={"active": 2},
        write_status=True,
        remove_finalizers=[PodRef("j-done", done["metadata"]["uid"])],
        create=[_pod("j-new", job), _pod("j-taken", job), _pod("j-after", job)],
        events=[Event("Normal", "SuccessfulCreate", "x")],
    )
    seen, remember = _remembered()
    with pytest.raises(AlreadyExists):
        apply_plan(client, EventRecorder(client, "job-controller"), job, plan, remember)
    assert client.get(registry.JOB, NS, "j")["status"] == {"active": 2}
    assert "finalizers" not in client.get(registry.POD, NS, "j-done")["metadata"]
    assert client.try_get(registry.POD, NS, "j-new") is not None
    # The Job's pods are created together: the one refused does not stop the others.
    assert client.try_get(registry.POD, NS, "j-after") is not None
    assert len(_events(client, "FailedCreate")) == 1
    assert _events(client, "SuccessfulCreate") == []
    assert seen == [plan.tracking]  # the status is stored: its memory goes with it
