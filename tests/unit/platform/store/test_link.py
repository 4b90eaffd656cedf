"""The link between the two processes of ``berth up``: each commit on one side wakes the
other's change feed, and the other side learns when its partner is gone."""

from __future__ import annotations

import threading

from berth.platform.store.link import FeedLink, pair


def _noop() -> None:
    pass


def test_a_commit_on_one_side_nudges_the_other_and_closing_ends_it():
    a, b = pair()
    nudged, closed = threading.Event(), threading.Event()
    near = FeedLink(a).start(_noop, _noop)
    far = FeedLink(b).start(nudged.set, closed.set)
    near.notify(7)
    assert nudged.wait(10)
    assert not closed.is_set()
    nudged.clear()
    far.notify(8)  # and the other way
    near.close()
    assert closed.wait(10)
    far.close()


def test_a_burst_of_commits_nudges_at_least_once_and_never_blocks_the_writer():
    a, b = pair()
    nudged = threading.Event()
    near = FeedLink(a).start(_noop, _noop)
    for rv in range(100_000):  # far past the socket's buffer, were each one sent
        near.notify(rv)
    far = FeedLink(b).start(nudged.set, _noop)
    assert nudged.wait(10)
    far.close()
    near.notify(1)  # the partner is gone: still no error
    near.close()
