"""The Job controller plans from the store, not from its informer cache, so a sync that runs
before the cache has caught up with the previous sync's writes creates nothing twice."""

from __future__ import annotations

import random

from berth.platform.controllers.informers import InformerHub
from berth.platform.controllers.job.controller import JobController
from berth.platform.resources import registry
from berth.platform.store.events import EventRecorder
from tests.integration.controllers.job_harness import NS, job_manifest


def test_back_to_back_syncs_with_a_cache_that_lags_create_each_pod_once(platform):
    client = platform.client
    hub = InformerHub(client, platform.feed)  # never started: its cache stays empty
    controller = JobController(client, EventRecorder(client, "job-controller"), rng=random.Random(0))
    woken: list = []
    controller.setup(hub, woken.append)
    client.create(registry.JOB, job_manifest("twice", completions=6, parallelism=4), NS)

    controller.reconcile((NS, "twice"))
    controller.reconcile((NS, "twice"))

    pods = client.list(registry.POD, NS).items
    assert len(pods) == 4
    assert client.get(registry.JOB, NS, "twice")["status"].get("active") == 4
