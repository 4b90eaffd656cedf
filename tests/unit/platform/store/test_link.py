"""The link between the two processes of ``berth up``: each commit on one side wakes the
other's change feed, and the other side learns when its partner is gone."""

from __future__ import annotations

import threading

from berth.platform.store.link import FeedLink, pair


def test_a_commit_on_one_side_nudges_the_other_and_closing_ends_it():
    a, b = pair()
    nudged, closed = threading.Event(), threading.Event()
    near, far = FeedLink(a), FeedLink(b)
    far.start(nudged.set, closed.set)
    near.notify(7)
    assert nudged.wait(10)
    assert not closed.is_set()
    near.close()
    assert closed.wait(10)
    far.close()


def test_notify_never_blocks_nor_raises_when_nobody_reads():
    a, b = pair()
    near = FeedLink(a)
    for rv in range(100_000):  # far past the socket's buffer
        near.notify(rv)
    b.close()
    near.notify(1)  # the partner is gone: still no error
    near.close()
