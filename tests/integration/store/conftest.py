"""A store client over a fresh database (SQLite and PostgreSQL, from ``database_url``) with
the ``default`` namespace in it."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager

import pytest
from cryptography.fernet import Fernet

from berth.platform.resources import registry
from berth.platform.store.client import Client
from berth.platform.store.codec import Codec
from berth.platform.store.db import Database


@contextmanager
def store_client(database_url: str, **database_options) -> Iterator[Client]:
    """``database_options`` go to ``Database`` (a small ``window`` to test compaction)."""
    database = Database(database_url, Codec(Fernet.generate_key()), **database_options)
    database.migrate()
    store = Client(database)
    store.create(
        registry.NAMESPACE,
        {"apiVersion": "v1", "kind": "Namespace", "metadata": {"name": "default"}},
    )
    try:
        yield store
    finally:
        database.close()


@pytest.fixture
def db(database_url):
    """A migrated database of its own, without a client; a test module that needs a small
    change-log ``window`` defines its own."""
    database = Database(database_url, Codec(Fernet.generate_key()))
    database.migrate()
    yield database
    database.close()


@pytest.fixture
def client(database_url):
    with store_client(database_url) as store:
        yield store
