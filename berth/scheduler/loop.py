"""The scheduler's store-facing loop: informer changes in, binds and reasons out.

One thread owns the scheduler's state (``ClusterState``: snapshot, queue, reservations).
Informer handlers and bind outcomes only append to an inbox and wake that thread, so the
informers never wait for a cycle and the state is never shared. Each turn:

1. apply the inbox (node and pod changes, bind outcomes) to the state;
2. run a cycle over the active pods, no more than the bind pool may take on;
3. hand placements to the writer's bind pool and new reasons to its report pool;
4. sleep until something arrives, the next pod leaves backoff, or a second passes.

Nothing is kept outside the store: after a restart the informers list every Node and Pod
again, and the state is rebuilt from them before the first cycle (so pods bound before the
restart count on their nodes and nothing is booked twice).
"""

from __future__ import annotations

import logging
import threading
import time
from collections import deque
from collections.abc import Callable
from dataclasses import dataclass

from berth.platform.cache.informers import InformerHub
from berth.platform.errors import Conflict, NotFound
from berth.platform.resources import registry
from berth.platform.store.client import Client
from berth.platform.store.events import EventRecorder
from berth.scheduler.backfill import BackfillPolicy
from berth.scheduler.queue import SchedulingQueue
from berth.scheduler.scoring import strategy_named
from berth.scheduler.state import ClusterState
from berth.scheduler.views import PodRequest
from berth.scheduler.writer import Writer
from berth.settings import Settings

log = logging.getLogger(__name__)

_ERROR_PAUSE_S = 1.0


@dataclass
class LoopStats:
    """Totals since start, for metrics and benchmarks (written by the loop thread only)."""

    cycles: int = 0
    attempts: int = 0  # pods decided (placed or not)
    placed: int = 0
    bound: int = 0  # binds the store accepted
    bind_conflicts: int = 0  # pod gone, replaced or bound elsewhere meanwhile
    bind_errors: int = 0  # store failures
    unschedulable: int = 0  # decisions that found no node
    cycle_seconds: float = 0.0


class SchedulerLoop:
    """``start()`` after the hub is started (or before: it waits for the first sync)."""

    def __init__(
        self,
        client: Client,
        hub: InformerHub,
        recorder: EventRecorder,
        settings: Settings,
        clock: Callable[[], float] = time.monotonic,
        *,
        bind_workers: int = 4,
        report_workers: int = 2,
        batch_size: int = 2000,
        max_binding: int = 4000,
        idle_s: float = 1.0,
    ) -> None:
        self.hub = hub
        self.clock = clock
        self.strategy = strategy_named(settings.scheduler_strategy)
        self.backfill = BackfillPolicy(
            settings.scheduler_reserve_after_s, settings.scheduler_max_reservations
        )
        self.batch_size = batch_size
        self.max_binding = max_binding
        self.idle_s = idle_s
        self.state = ClusterState(
            SchedulingQueue(clock, max_unschedulable_s=settings.scheduler_max_unschedulable_s)
        )
        self.stats = LoopStats()
        self.queue_counts: dict[str, int] = {}  # refreshed about once a second
        self._counted_at = float("-inf")
        self.writer = Writer(
            client, recorder, self._bound, bind_workers=bind_workers, report_workers=report_workers
        )
        self._inbox: deque[tuple] = deque()
        self._wake = threading.Event()
        self._stop = threading.Event()
        self._pause_until = 0.0
        self._thread: threading.Thread | None = None
        self._pods = hub.informer(registry.POD)
        self._pods.add_handler(lambda old, new: self._post(("pod", old, new)))
        hub.informer(registry.NODE).add_handler(lambda old, new: self._post(("node", old, new)))
        for kind, rt in (
            ("claim", registry.PERSISTENT_VOLUME_CLAIM),
            ("volume", registry.PERSISTENT_VOLUME),
            ("class", registry.STORAGE_CLASS),
        ):
            hub.informer(rt).add_handler(lambda old, new, kind=kind: self._post((kind, old, new)))

    # ---- lifecycle ----------------------------------------------------------------------

    def start(self) -> SchedulerLoop:
        self._thread = threading.Thread(target=self._run, name="scheduler", daemon=True)
        self._thread.start()
        return self

    @property
    def running(self) -> bool:
        return self._thread is not None and self._thread.is_alive()

    def stop(self) -> None:
        self._stop.set()
        self._wake.set()
        if self._thread is not None:
            self._thread.join(timeout=10)
        self.writer.close()

    # ---- inbox --------------------------------------------------------------------------

    def _post(self, item: tuple) -> None:
        self._inbox.append(item)
        self._wake.set()

    def _bound(self, pod: PodRequest, node: str, error: Exception | None) -> None:
        self._post(("bound", pod, node, error))

    def pods_ended(self, uids: list[str]) -> None:
        """The kubelet's word that these pods ended on their nodes, ahead of the store
        (``KubeletSync.on_pods_ended``): their places are free for the next cycle."""
        self._post(("ended", uids))

    def _drain(self) -> None:
        state = self.state
        while self._inbox:
            item = self._inbox.popleft()
            kind = item[0]
            if kind == "pod":
                state.on_pod(item[1], item[2])
            elif kind == "node":
                state.on_node(item[1], item[2])
            elif kind == "claim":
                state.on_claim(item[1], item[2])
            elif kind == "volume":
                state.on_volume(item[1], item[2])
            elif kind == "class":
                state.on_class(item[1], item[2])
            elif kind == "ended":
                for uid in item[1]:
                    state.pod_ended(uid)
            else:
                self._bind_outcome(item[1], item[3])

    def _bind_outcome(self, pod: PodRequest, error: Exception | None) -> None:
        if error is None:
            self.stats.bound += 1
            self.state.bind_succeeded(pod.uid)
            return
        if isinstance(error, (Conflict, NotFound)):
            self.stats.bind_conflicts += 1
        else:
            self.stats.bind_errors += 1
            # The store is failing: give it a moment rather than retrying in a tight loop.
            self._pause_until = self.clock() + _ERROR_PAUSE_S
        self.state.bind_failed(pod.uid, self._pods.get(pod.namespace, pod.name))

    # ---- the loop -----------------------------------------------------------------------

    def _run(self) -> None:
        while not self.hub.synced.wait(0.5):
            if self._stop.is_set():
                return
        while not self._stop.is_set():
            self._wake.clear()
            try:
                busy = self._turn()
            except Exception:  # a bug in one turn must not stop scheduling for good
                log.exception("scheduler turn failed")
                busy = False
                self._pause_until = self.clock() + _ERROR_PAUSE_S
            if not busy:
                self._wake.wait(self._sleep_for())

    def _turn(self) -> bool:
        """One pass; True when it decided pods (more may be waiting right behind them)."""
        self._drain()
        if self.clock() - self._counted_at >= 1.0:
            self._counted_at = self.clock()
            self.queue_counts = self.state.queue.counts()
        room = min(self.batch_size, self.max_binding - self.writer.binding)
        if room <= 0 or self.clock() < self._pause_until:
            return False
        started = time.perf_counter()
        placed, failed = self.state.cycle(
            now=self.clock(), strategy=self.strategy, backfill=self.backfill, limit=room
        )
        if not placed and not failed:
            return False
        for placement in placed:
            self.writer.bind(placement.pod, placement.node, placement.devices)
        for failure in failed:
            if failure.report:
                self.writer.report_unschedulable(failure.pod, failure.message)
        stats = self.stats
        stats.cycles += 1
        stats.attempts += len(placed) + len(failed)
        stats.placed += len(placed)
        stats.unschedulable += len(failed)
        stats.cycle_seconds += time.perf_counter() - started
        return True

    def _sleep_for(self) -> float:
        now = self.clock()
        wake = self.state.next_wakeup()
        if self._pause_until > now:
            wake = self._pause_until if wake is None else min(wake, self._pause_until)
        if wake is None:
            return self.idle_s
        return min(max(wake - now, 0.01), self.idle_s)
