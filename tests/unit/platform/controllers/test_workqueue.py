"""The work queue: de-duplication, one worker per key, delayed re-adds, retry backoff."""

from __future__ import annotations

from berth.platform.cache.workqueue import WorkQueue


class FakeClock:
    def __init__(self):
        self.now = 100.0

    def __call__(self):
        return self.now


def test_duplicate_adds_are_processed_once():
    q = WorkQueue()
    q.add("a")
    q.add("a")
    q.add("b")
    assert q.get(timeout=0) == "a"
    assert q.get(timeout=0) == "b"
    assert q.get(timeout=0) is None


def test_key_added_while_processing_comes_back_after_done():
    q = WorkQueue()
    q.add("a")
    key = q.get(timeout=0)
    q.add("a")
    assert q.get(timeout=0) is None  # not handed to a second worker meanwhile
    q.done(key)
    assert q.get(timeout=0) == "a"


def test_add_after_waits_for_the_clock():
    clock = FakeClock()
    q = WorkQueue(clock=clock)
    q.add_after("a", 5)
    assert q.get(timeout=0) is None
    clock.now += 5
    assert q.get(timeout=0) == "a"


def test_retry_backs_off_exponentially_until_forgotten():
    clock = FakeClock()
    q = WorkQueue(base_delay=1, max_delay=3, clock=clock)
    delays = []
    for _ in range(4):
        start = clock.now
        q.retry("k")
        while q.get(timeout=0) is None:
            clock.now += 0.5
        delays.append(clock.now - start)
        q.done("k")
    assert delays == [1, 2, 3, 3]
    q.forget("k")
    start = clock.now
    q.retry("k")
    while q.get(timeout=0) is None:
        clock.now += 0.5
    assert clock.now - start == 1


def test_a_key_that_always_fails_keeps_its_capped_delay():
    # The retry after thousands of failures waits the cap; doubling a float delay (the
    # default is 0.05 s) once raised OverflowError past about a thousand.
    clock = FakeClock()
    q = WorkQueue(base_delay=0.5, max_delay=3.0, clock=clock)
    for _ in range(2000):
        q.retry("k")
        clock.now += 3
        assert q.get(timeout=0) == "k"
        q.done("k")
    q.retry("k")
    clock.now += 2.9
    assert q.get(timeout=0) is None
    clock.now += 0.2
    assert q.get(timeout=0) == "k"


def test_get_many_takes_the_ready_keys_up_to_the_limit_in_order():
    q = WorkQueue()
    for key in "abcde":
        q.add(key)
    assert q.get_many(3, timeout=0) == ["a", "b", "c"]
    q.add("a")  # being processed: not handed out again until done
    assert q.get_many(10, timeout=0) == ["d", "e"]
    assert q.get_many(10, timeout=0) == []
    for key in "abcde":
        q.done(key)
    assert q.get_many(10, timeout=0) == ["a"]


def test_get_many_does_not_wait_for_keys_not_yet_due():
    clock = FakeClock()
    q = WorkQueue(clock=clock)
    q.add("now")
    q.add_after("later", 5)
    assert q.get_many(10, timeout=0) == ["now"]
    clock.now += 5
    assert q.get_many(10, timeout=0) == ["later"]
