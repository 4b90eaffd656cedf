"""How a change feed learns of another process's commits.

Two ``Database`` objects on one database stand for two processes (the API and the controller
process, or two API replicas). On PostgreSQL a commit wakes the other feed through
LISTEN/NOTIFY: the feeds' safety-net poll is set far beyond the waits here, so only the
notification can deliver the change. On SQLite there is no listener: the poll (or
``store.link``, between ``berth up``'s two processes) does it.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager

import pytest
import sqlalchemy
from cryptography.fernet import Fernet

from berth.platform.resources import registry
from berth.platform.store.client import Client
from berth.platform.store.codec import Codec
from berth.platform.store.db import Database
from berth.platform.store.feed import ChangeFeed
from tests.support import wait_for

NEVER_S = 600.0  # a safety-net poll that never comes within a test


@contextmanager
def process(url: str, key: bytes, poll_interval: float) -> Iterator[tuple[Client, ChangeFeed]]:
    db = Database(url, Codec(key))
    db.migrate()
    feed = ChangeFeed(db, poll_interval=poll_interval).start()
    try:
        yield Client(db), feed
    finally:
        feed.stop()
        db.close()


@pytest.fixture
def two_processes(database_url):
    """(writer's client, reader's feed); the reader polls never on PostgreSQL, often on
    SQLite. The default namespace is made by the writer."""
    key = Fernet.generate_key()
    pg = database_url.startswith("postgresql")
    with (
        process(database_url, key, NEVER_S) as (writer, _),
        process(database_url, key, NEVER_S if pg else 0.05) as (_, feed),
    ):
        writer.create(registry.NAMESPACE, {"metadata": {"name": "default"}})
        yield writer, feed


def _config_map(name: str) -> dict:
    return {"metadata": {"name": name, "namespace": "default"}, "data": {"k": "v"}}


def _seen(feed: ChangeFeed, since: int, name: str) -> bool:
    return any(c.name == name for c in feed.since(since))


def test_a_commit_in_one_process_reaches_the_other(two_processes, database_url):
    writer, feed = two_processes
    if database_url.startswith("postgresql"):
        wait_for(lambda: feed.listening, what="the feed's LISTEN in place")
    else:
        assert not feed.listening
    start = feed.last_rv
    writer.create(registry.CONFIG_MAP, _config_map("from-the-other-process"))
    wait_for(lambda: _seen(feed, start, "from-the-other-process"), timeout=60, what="the change")


def test_a_group_commit_wakes_the_other_process_with_every_change(two_processes, database_url):
    writer, feed = two_processes
    if database_url.startswith("postgresql"):
        wait_for(lambda: feed.listening, what="the feed's LISTEN in place")
    start = feed.last_rv
    with writer.batch():
        for i in range(5):
            writer.create(registry.CONFIG_MAP, _config_map(f"batched-{i}"))

    def batched():
        return [c for c in feed.since(start) if c.resource == "configmaps"]

    wait_for(lambda: len(batched()) == 5, timeout=60, what="the batch's five changes")
    assert [c.name for c in batched()] == [f"batched-{i}" for i in range(5)]
    assert [c.object["metadata"]["name"] for c in batched()] == [f"batched-{i}" for i in range(5)]


def test_a_lost_listening_connection_is_replaced(two_processes, database_url):
    if not database_url.startswith("postgresql"):
        pytest.skip("LISTEN/NOTIFY is PostgreSQL's; SQLite processes share store.link")
    writer, feed = two_processes
    wait_for(lambda: feed.listening, what="the feed's LISTEN in place")
    listener = feed._listener
    assert listener is not None
    lost = listener.backend_pid
    with writer.db.engine.connect() as conn:
        conn.execute(sqlalchemy.text("SELECT pg_terminate_backend(:pid)"), {"pid": lost})
    wait_for(
        lambda: feed.listening and listener.backend_pid != lost, what="a new LISTEN connection"
    )
    start = feed.last_rv
    writer.create(registry.CONFIG_MAP, _config_map("after-the-reconnect"))
    wait_for(lambda: _seen(feed, start, "after-the-reconnect"), timeout=60, what="the change")
