"""The garbage collector checks a new dependent's owners in its caches first: one it finds
there under the same uid costs no store read; one it does not is looked up in the store, and
a dependent whose owners are all gone is deleted."""

from __future__ import annotations

import pytest

from berth.platform.cache.informers import InformerHub
from berth.platform.controllers.garbage_collector import GarbageCollector
from berth.platform.resources import registry
from tests.integration.controllers.job_harness import NS, job_manifest, wait_for


def _config_map(name: str, owner: dict) -> dict:
    md = owner["metadata"]
    ref = {"apiVersion": "batch/v1", "kind": "Job", "name": md["name"], "uid": md["uid"]}
    return {
        "apiVersion": "v1",
        "kind": "ConfigMap",
        "metadata": {"name": name, "namespace": NS, "ownerReferences": [ref]},
        "data": {},
    }


@pytest.fixture
def collector(platform):
    hub = InformerHub(platform.client, platform.feed)
    gc = GarbageCollector(platform.client)
    gc.setup(hub, lambda key: None)
    hub.start()
    wait_for(hub.synced.is_set, "the informers to sync", timeout=30)
    yield gc, hub
    hub.stop()


def _count_reads(monkeypatch, client) -> list[str]:
    reads: list[str] = []
    try_get, get_by_uid = client.try_get, client.db.get_by_uid
    monkeypatch.setattr(client, "try_get", lambda *a, **k: reads.append("get") or try_get(*a, **k))
    monkeypatch.setattr(
        client.db, "get_by_uid", lambda *a, **k: reads.append("uid") or get_by_uid(*a, **k)
    )
    return reads


def test_a_dependent_of_a_cached_live_owner_costs_no_store_read(platform, collector, monkeypatch):
    gc, hub = collector
    client = platform.client
    job = client.create(registry.JOB, job_manifest("owner"), NS)
    client.create(registry.CONFIG_MAP, _config_map("dep", job), NS)
    wait_for(lambda: hub.cursor >= client.db.current_rv(), "the informers to catch up", timeout=30)
    reads = _count_reads(monkeypatch, client)

    gc.reconcile(("dependent", registry.CONFIG_MAP.key, NS, "dep"))
    assert reads == []
    assert client.try_get(registry.CONFIG_MAP, NS, "dep") is not None


def test_a_dependent_whose_owner_is_gone_is_deleted(platform, collector):
    gc, hub = collector
    client = platform.client
    job = client.create(registry.JOB, job_manifest("owner"), NS)
    client.create(registry.CONFIG_MAP, _config_map("dep", job), NS)
    client.delete(registry.JOB, NS, "owner", propagation_policy="Background")
    wait_for(
        lambda: client.try_get(registry.JOB, NS, "owner") is None,
        "the owner to be gone",
        timeout=30,
    )
    wait_for(lambda: hub.cursor >= client.db.current_rv(), "the informers to catch up", timeout=30)

    gc.reconcile(("dependent", registry.CONFIG_MAP.key, NS, "dep"))
    assert client.try_get(registry.CONFIG_MAP, NS, "dep") is None
