"""A paced change feed (``pace``, berth up's API process): the commits that wake it within a
pace are read from the log together, and each change still reaches its readers once, in
order."""

from __future__ import annotations

import time

from cryptography.fernet import Fernet

from berth.platform.resources import registry
from berth.platform.store.client import Client
from berth.platform.store.codec import Codec
from berth.platform.store.db import Database
from berth.platform.store.feed import ChangeFeed
from tests.support import wait_for

NEVER_S = 600.0


def test_commits_within_a_pace_are_read_together_and_in_order(database_url):
    db = Database(database_url, Codec(Fernet.generate_key()))
    db.migrate()
    client = Client(db)
    client.create(registry.NAMESPACE, {"metadata": {"name": "default"}})
    feed = ChangeFeed(db, poll_interval=NEVER_S, pace=0.3).start()
    reads = []
    changes_since = db.changes_since

    def counted(*args, **kwargs):
        reads.append(time.monotonic())
        return changes_since(*args, **kwargs)

    db.changes_since = counted  # the feed's thread reads through the instance
    try:
        start = feed.last_rv
        for i in range(30):  # each commit wakes the feed (``on_commit``)
            client.create(
                registry.CONFIG_MAP, {"metadata": {"name": f"cm-{i}", "namespace": "default"}}
            )
        last = db.current_rv()
        wait_for(lambda: feed.last_rv == last, timeout=30, what="every change in the feed")
        seen = feed.since(start)
        assert [c.name for c in seen] == [f"cm-{i}" for i in range(30)]
        assert [c.rv for c in seen] == sorted(c.rv for c in seen)
        # A read per pace at most (and the last, which found nothing more), not one per commit.
        span = reads[-1] - reads[0] if reads else 0.0
        assert len(reads) <= span / 0.3 + 3, (len(reads), span)
        assert len(reads) < 30
    finally:
        feed.stop()
        db.close()
