"""A pod that ends its Job is counted in the same commit as its finalizer removal: one sync,
one Job status write, and no stored status ever lists it in uncountedTerminatedPods."""

from __future__ import annotations

import random

from berth.platform.cache.informers import InformerHub
from berth.platform.controllers.job import keys
from berth.platform.controllers.job.controller import JobController
from berth.platform.resources import registry
from berth.platform.store.events import EventRecorder
from tests.integration.controllers.job_harness import NS, condition, job_manifest, tracked, wait_for


def _succeed(client, pod: dict) -> None:
    status = {
        **(pod.get("status") or {}),
        "phase": keys.SUCCEEDED,
        "containerStatuses": [
            {
                "name": "main",
                "ready": False,
                "restartCount": 0,
                "image": "busybox",
                "imageID": "",
                "started": False,
                "state": {"terminated": {"exitCode": 0, "reason": "Completed"}},
            }
        ],
    }
    client.update_status(registry.POD, {**pod, "status": status})


def test_the_last_pod_is_counted_and_the_job_completes_in_one_sync(platform):
    client = platform.client
    hub = InformerHub(client, platform.feed)
    controller = JobController(
        client, EventRecorder(client, "job-controller"), rng=random.Random(0)
    )
    controller.setup(hub, lambda key, after=0.0: None)
    hub.start()
    try:
        wait_for(hub.synced.is_set, "the informers to sync", timeout=30)
        job = client.create(registry.JOB, job_manifest("once", completions=1), NS)
        wait_for(
            lambda: hub.cursor >= int(job["metadata"]["resourceVersion"]),
            "the informers to catch up",
            timeout=30,
        )
        controller.reconcile((NS, "once"))
        (pod,) = client.list(registry.POD, NS).items
        _succeed(client, pod)
        wait_for(
            lambda: hub.cursor >= client.db.current_rv(), "the informers to catch up", timeout=30
        )
        statuses_before = client.get(registry.JOB, NS, "once")["metadata"]["resourceVersion"]

        assert controller.reconcile((NS, "once")) is None  # nothing left to look at again
        stored = client.get(registry.JOB, NS, "once")
        status = stored["status"]
        assert status.get("succeeded") == 1 and not status.get("uncountedTerminatedPods")
        assert condition(status, keys.COMPLETE) is not None
        assert not tracked(client.list(registry.POD, NS).items)
        # One status write: the Job moved by one resourceVersion of its own.
        changes = [
            c
            for c in client.db.changes_since(int(statuses_before))
            if c.resource == registry.JOB.key
        ]
        assert len(changes) == 1
    finally:
        hub.stop()
