"""The controller runner hands a reconciler that offers ``reconcile_many`` the ready keys in
batches; a key whose outcome is an error is retried alone, the others are settled."""

from __future__ import annotations

import threading
from typing import Any

from berth.platform.cache.informers import InformerHub
from berth.platform.controllers import manager
from berth.platform.controllers.manager import Enqueue, Outcome, _Runner
from berth.platform.errors import Conflict


class Batched:
    name = "batched"

    def __init__(self, expect: set[str], refuse: set[str]) -> None:
        self.batches: list[list[Any]] = []
        self.singles: list[Any] = []
        self.refuse = set(refuse)  # refused once each, then fine
        self.done: set[str] = set()
        self.expect = expect
        self.all_done = threading.Event()

    def setup(self, hub: InformerHub, enqueue: Enqueue) -> None:
        pass

    def reconcile(self, key: Any) -> float | None:
        self.singles.append(key)
        return None

    def reconcile_many(self, keys: list[Any]) -> dict[Any, Outcome]:
        self.batches.append(list(keys))
        out: dict[Any, Outcome] = {}
        for key in keys:
            if key in self.refuse:
                self.refuse.discard(key)
                out[key] = Conflict("jobs", key)
            else:
                out[key] = None
                self.done.add(key)
        if self.done == self.expect:
            self.all_done.set()
        return out


def _run(reconciler: Batched, keys: str) -> None:
    runner = _Runner(reconciler, workers=1)  # the runner alone: no informers needed
    for key in keys:
        runner.queue.add(key)
    runner.start()
    try:
        assert reconciler.all_done.wait(10)
    finally:
        runner.queue.shutdown()
        for thread in runner.threads:
            thread.join(5)


def test_ready_keys_go_to_reconcile_many_in_batches_and_a_refusal_is_retried_alone(monkeypatch):
    monkeypatch.setattr(manager, "BATCH", 3)
    reconciler = Batched(set("abcd"), refuse={"b"})
    _run(reconciler, "abcd")
    assert reconciler.batches[0] == ["a", "b", "c"]
    later = sorted(key for batch in reconciler.batches[1:] for key in batch)
    assert later == ["b", "d"]  # "a" and "c" were settled with the first batch
    assert reconciler.singles == []


def test_an_exception_out_of_reconcile_many_retries_every_key_of_the_batch():
    class Broken(Batched):
        def reconcile_many(self, keys: list[Any]) -> dict[Any, Outcome]:
            if not self.batches:
                self.batches.append(list(keys))
                raise RuntimeError("the database went away")
            return super().reconcile_many(keys)

    reconciler = Broken(set("xy"), refuse=set())
    _run(reconciler, "xy")
    assert reconciler.batches[0] == ["x", "y"]
    assert sorted(k for batch in reconciler.batches[1:] for k in batch) == ["x", "y"]
