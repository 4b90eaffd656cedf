"""The store client recognises server-side apply by its media type in any letter case, as the
API handler does (``patch.is_apply``): it creates a missing object and records the apply
under its manager. It once compared case-sensitively and took a mixed-case apply for a plain
patch (404 on a missing object; an Update by the manager on an existing one)."""

from __future__ import annotations

import pytest
from cryptography.fernet import Fernet

from berth.platform.resources import registry
from berth.platform.store.client import Client
from berth.platform.store.codec import Codec
from berth.platform.store.db import Database


@pytest.fixture
def client(database_url):
    database = Database(database_url, Codec(Fernet.generate_key()))
    database.migrate()
    store = Client(database)
    store.create(registry.NAMESPACE, {"apiVersion": "v1", "kind": "Namespace",
                                      "metadata": {"name": "default"}})
    yield store
    database.close()


def _body(value: str) -> bytes:
    return (b'{"apiVersion": "v1", "kind": "ConfigMap", "metadata": {"name": "cm"}, '
            b'"data": {"k": "' + value.encode() + b'"}}')


@pytest.mark.parametrize("content_type", ["application/apply-patch+yaml",
                                          "Application/Apply-Patch+YAML",
                                          "APPLICATION/APPLY-PATCH+YAML;charset=utf-8"])
def test_apply_in_any_case(client, content_type):
    created, was_created = client.patch(registry.CONFIG_MAP, "default", "cm", content_type,
                                        _body("one"), field_manager="tester")
    assert was_created and created["data"] == {"k": "one"}
    updated, was_created = client.patch(registry.CONFIG_MAP, "default", "cm", content_type,
                                        _body("two"), field_manager="tester")
    assert not was_created and updated["data"] == {"k": "two"}
    assert [(m["manager"], m["operation"]) for m in updated["metadata"]["managedFields"]] == [
        ("tester", "Apply")]
