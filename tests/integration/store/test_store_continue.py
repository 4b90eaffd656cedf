"""Continue tokens through the store client on SQLite and PostgreSQL: pages follow on, and a
token from before the change log's compaction is Kubernetes' 410 Expired."""

from __future__ import annotations

import pytest

from berth.platform.errors import Gone
from berth.platform.resources import registry
from tests.integration.store.conftest import store_client


@pytest.fixture
def client(database_url):
    with store_client(database_url, window=4) as store:
        yield store


def configmap(name: str) -> dict:
    return {"apiVersion": "v1", "kind": "ConfigMap", "metadata": {"name": name}, "data": {"k": "v"}}


def test_pages_continue_after_the_last_key(client):
    for i in range(5):
        client.create(registry.CONFIG_MAP, configmap(f"cm-{i}"), "default")
    first = client.list(registry.CONFIG_MAP, "default", limit=2)
    second = client.list(
        registry.CONFIG_MAP, "default", limit=2, continue_token=first.continue_token
    )
    names = [o["metadata"]["name"] for o in first.items + second.items]
    assert names == ["cm-0", "cm-1", "cm-2", "cm-3"]


def test_a_token_from_before_compaction_is_gone(client):
    for i in range(3):
        client.create(registry.CONFIG_MAP, configmap(f"cm-{i}"), "default")
    token = client.list(registry.CONFIG_MAP, "default", limit=1).continue_token
    assert token
    for i in range(10):  # window 4: the log is compacted past the token's revision
        client.update(
            registry.CONFIG_MAP,
            {**client.get(registry.CONFIG_MAP, "default", "cm-2"), "data": {"k": str(i)}},
            "default",
        )
    client.db.compact()
    with pytest.raises(Gone, match="continue parameter is too old"):
        client.list(registry.CONFIG_MAP, "default", limit=1, continue_token=token)
