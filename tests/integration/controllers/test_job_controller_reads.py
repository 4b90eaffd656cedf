"""The Job controller plans from its informer caches with expectations: a sync that runs
before the caches hold the previous sync's writes does nothing (and creates nothing twice);
once they do, it plans from them and never reads back what it wrote."""

from __future__ import annotations

import random

from berth.platform.cache.informers import InformerHub
from berth.platform.controllers.job.controller import JobController
from berth.platform.resources import registry
from berth.platform.store.events import EventRecorder
from tests.integration.controllers.job_harness import NS, job_manifest, wait_for


def _controller(platform) -> tuple[JobController, InformerHub]:
    client = platform.client
    hub = InformerHub(client, platform.feed)
    controller = JobController(
        client, EventRecorder(client, "job-controller"), rng=random.Random(0)
    )
    controller.setup(hub, lambda key, after=0.0: None)
    hub.start()
    wait_for(hub.synced.is_set, "the informers to sync", timeout=30)
    return controller, hub


def test_a_sync_before_the_cache_holds_its_own_writes_creates_nothing(platform):
    client = platform.client
    controller, hub = _controller(platform)
    job = client.create(registry.JOB, job_manifest("twice", completions=6, parallelism=4), NS)
    wait_for(
        lambda: hub.cursor >= int(job["metadata"]["resourceVersion"]),
        "the informers to catch up",
        timeout=30,
    )
    hub.stop()  # the caches stop here: they will never see the pods created next

    controller.reconcile((NS, "twice"))
    assert len(client.list(registry.POD, NS).items) == 4
    # Back to back, the caches still lacking the 4 pods: no plan, no pod, a recheck later.
    assert controller.reconcile((NS, "twice")) > 0
    assert len(client.list(registry.POD, NS).items) == 4
    assert client.get(registry.JOB, NS, "twice")["status"].get("active") == 4

    # A controller whose caches hold everything (a restart) plans from them: nothing to add.
    again, hub2 = _controller(platform)
    try:
        again.reconcile((NS, "twice"))
        assert len(client.list(registry.POD, NS).items) == 4
    finally:
        hub2.stop()


def test_once_the_cache_catches_up_the_next_sync_runs_from_it(platform):
    client = platform.client
    controller, hub = _controller(platform)
    try:
        job = client.create(registry.JOB, job_manifest("caught", completions=2, parallelism=2), NS)
        wait_for(
            lambda: hub.cursor >= int(job["metadata"]["resourceVersion"]),
            "the informers to catch up",
            timeout=30,
        )
        controller.reconcile((NS, "caught"))
        wait_for(
            lambda: hub.cursor >= client.db.current_rv(), "the informers to catch up", timeout=30
        )
        before = client.db.current_rv()
        assert controller.reconcile((NS, "caught")) is None
        # Nothing new to do, nothing written: the plan came from caches that hold the pods.
        assert client.db.current_rv() == before
        assert len(client.list(registry.POD, NS).items) == 2
    finally:
        hub.stop()
