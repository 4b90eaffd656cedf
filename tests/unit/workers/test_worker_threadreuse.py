"""ThreadReuse: every call runs at once on a thread of its own, reused once it is idle."""

import threading
import time

from berth.workers.node.threadreuse import ThreadReuse


def until_idle(pool, count, within=5.0):
    deadline = time.monotonic() + within
    while pool._idle != count and time.monotonic() < deadline:
        time.sleep(0.005)
    return pool._idle == count


def test_calls_one_after_another_share_one_thread():
    pool = ThreadReuse("t")
    seen, done = [], threading.Event()
    for _ in range(5):
        done.clear()
        pool.run(lambda: (seen.append(threading.get_ident()), done.set()))
        assert done.wait(5)
        assert until_idle(pool, 1)
    assert len(seen) == 5 and len(set(seen)) == 1


def test_no_call_waits_for_a_busy_thread():
    pool = ThreadReuse("t")
    release, started = threading.Event(), []
    for _ in range(8):
        pool.run(lambda: (started.append(threading.get_ident()), release.wait(10)))
    deadline = time.monotonic() + 5
    while len(started) < 8 and time.monotonic() < deadline:
        time.sleep(0.01)
    release.set()
    assert len(set(started)) == 8  # all eight ran at once, each on its own thread


def test_an_idle_thread_ends_and_a_later_call_still_runs():
    pool = ThreadReuse("t", idle_s=0.05)
    first, second = threading.Event(), threading.Event()
    pool.run(first.set)
    assert first.wait(5)
    assert until_idle(pool, 0)  # the idle thread ended
    pool.run(second.set)
    assert second.wait(5)
