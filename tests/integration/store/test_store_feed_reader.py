"""The change feed's thread reads the log through one connection, held across its polls (a
pooled connection per poll cost more CPU than the read), and takes a fresh one after an
error, so a broken connection does not end the feed."""

from __future__ import annotations

import threading

from sqlalchemy import event

from berth.platform.store.db import Database
from berth.platform.store.feed import ChangeFeed
from tests.support import wait_for


def obj(name: str) -> dict:
    return {"metadata": {"name": name, "namespace": "default", "uid": f"uid-{name}"}}


def feed_checkouts(db: Database) -> list[str]:
    """The names of the threads that check a connection out of the pool, as they do."""
    seen: list[str] = []
    event.listen(db.engine, "checkout", lambda *_: seen.append(threading.current_thread().name))
    return seen


def test_the_feed_reads_every_commit_through_one_connection(db):
    checkouts = feed_checkouts(db)
    feed = ChangeFeed(db, poll_interval=0.01).start()
    try:
        for i in range(20):
            db.create("pods", obj(f"p{i}"))
            # Each commit is read before the next: one poll (at least) per commit.
            assert wait_for(lambda i=i: feed.last_rv >= i + 1)
    finally:
        feed.stop()
    assert [c.name for c in feed.since(0)] == [f"p{i}" for i in range(20)]
    assert checkouts.count("change-feed") == 1


def test_the_feed_goes_on_after_its_connection_fails(db, monkeypatch):
    feed = ChangeFeed(db, poll_interval=0.01)
    failures = []
    plain = db.changes_since

    def fail_once(rv, limit=1000, reader=None):
        if not failures:
            failures.append(reader)
            raise RuntimeError("the connection broke")
        return plain(rv, limit, reader)

    monkeypatch.setattr(db, "changes_since", fail_once)
    checkouts = feed_checkouts(db)
    feed.start()
    try:
        db.create("pods", obj("a"))
        assert wait_for(lambda: feed.last_rv >= 1)
    finally:
        feed.stop()
    assert failures and failures[0] is not None
    assert checkouts.count("change-feed") == 2  # the failed one given back, a fresh one
    assert [c.name for c in feed.since(0)] == ["a"]
