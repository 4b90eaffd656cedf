"""Leader leases on SQLite and PostgreSQL: election with injected clocks, and fencing of a
deposed leader's writes in the write's own transaction."""

from __future__ import annotations

import threading
from datetime import UTC, datetime

import pytest

from berth.platform.controllers.leader import LeaderElector, LeaseTiming
from berth.platform.store.lease import Fence, Fenced, FencedDatabase, LeaseStore

TIMING = LeaseTiming(duration_s=5.0, renew_deadline_s=3.0, retry_period_s=1.0)


class Clock:
    def __init__(self):
        self.now = 100.0

    def __call__(self) -> float:
        return self.now


class Candidate:
    """An elector stepped by hand: what its callbacks were asked to do, in order."""

    def __init__(self, db, name, clock, gone=lambda holder: False):
        self.calls: list = []
        self.elector = LeaderElector(
            LeaseStore(db),
            name,
            timing=TIMING,
            monotonic=clock,
            on_started=self.calls.append,
            on_stopped=lambda: self.calls.append("stop"),
            is_gone=gone,
        )

    def step(self):
        self.elector.step()
        self.elector.run_queued_callbacks()
        return self.elector.state()


def obj(name):
    return {"metadata": {"name": name, "namespace": "default", "uid": f"uid-{name}"}}


def test_first_candidate_leads_second_waits_until_the_lease_expires(db):
    clock = Clock()
    a, b = Candidate(db, "a", clock), Candidate(db, "b", clock)
    assert a.step().leading
    assert not b.step().leading and b.elector.state().holder == "a"
    for _ in range(10):  # a renews every second: b never takes over
        clock.now += 1
        assert a.step().leading
        assert not b.step().leading
    clock.now += 4.9  # a died: its last renewal is 4.9 s old by b's clock
    assert not b.step().leading
    clock.now += 0.2
    state = b.step()
    assert state.leading and state.token == 2
    clock.now += 1  # a comes back: its renewal finds the row changed
    assert not a.step().leading
    assert a.calls[-1] == "stop"
    assert [type(c) for c in b.calls] == [Fence]


def test_holder_on_this_host_that_died_is_replaced_at_once(db):
    clock = Clock()
    a = Candidate(db, "a", clock)
    b = Candidate(db, "b", clock, gone=lambda holder: holder == "a")
    assert a.step().leading
    assert b.step().leading


def test_released_lease_is_taken_at_once(db):
    clock = Clock()
    leases = LeaseStore(db)
    held = leases.create("l", "a", 5.0, datetime.now(UTC))
    leases.release(held, datetime.now(UTC))
    b = Candidate(db, "b", clock)
    b.elector.name = "l"
    assert b.step().leading


def test_unreachable_store_makes_the_leader_step_down_after_the_renew_deadline(db):
    clock = Clock()
    a = Candidate(db, "a", clock)
    assert a.step().leading
    broken = {"on": True}
    real_renew = a.elector.leases.renew

    def renew(*args):
        if broken["on"]:
            raise OSError("connection refused")
        return real_renew(*args)

    a.elector.leases.renew = renew
    clock.now += 2.9
    assert a.step().leading
    clock.now += 0.2
    assert not a.step().leading
    assert a.calls[-1] == "stop"


def test_fence_refuses_writes_of_a_deposed_term(db):
    clock = Clock()
    a, b = Candidate(db, "a", clock), Candidate(db, "b", clock)
    a.step()
    old = FencedDatabase(db, a.calls[0])
    old.create("jobs.batch", obj("before"))
    b.step()
    clock.now += 6
    b.step()
    assert b.elector.state().leading
    with pytest.raises(Fenced):
        old.create("jobs.batch", obj("after"))
    assert db.get("jobs.batch", "default", "after") is None
    stored = db.get("jobs.batch", "default", "before")
    with pytest.raises(Fenced):
        old.update("jobs.batch", stored, int(stored["metadata"]["resourceVersion"]))
    with pytest.raises(Fenced):
        old.delete("jobs.batch", "default", "before")
    new = FencedDatabase(db, b.calls[0])
    new.create("jobs.batch", obj("after"))
    assert db.get("jobs.batch", "default", "after") is not None


def test_two_electors_with_threads_never_lead_together(db):
    """Real clocks, real threads: at every sampled moment at most one leads."""
    timing = LeaseTiming(duration_s=1.0, renew_deadline_s=0.6, retry_period_s=0.1)
    started = {"a": 0, "b": 0}
    electors = {
        n: LeaderElector(
            LeaseStore(db),
            n,
            timing=timing,
            on_started=lambda f, n=n: started.__setitem__(n, started[n] + 1),
            on_stopped=lambda: None,
        )
        for n in "ab"
    }
    for e in electors.values():
        e.start()
    try:
        both = 0
        done = threading.Event()
        for _ in range(30):
            if all(e.state().leading for e in electors.values()):
                both += 1
            done.wait(0.05)
        assert both == 0
        leader = next(n for n, e in electors.items() if e.state().leading)
        electors[leader].stop()  # releases: the other takes over within a retry period
        other = "b" if leader == "a" else "a"
        for _ in range(100):
            if electors[other].state().leading:
                break
            done.wait(0.05)
        assert electors[other].state().leading
    finally:
        for e in electors.values():
            e.stop()
