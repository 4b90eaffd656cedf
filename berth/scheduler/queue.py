"""The pending-pod queue, modelled on kube-scheduler's scheduling queue.

Three places a pending pod can be:

* **active**: ready to be tried, popped in queue order (priority, then creation order);
* **backoff**: failed recently; it becomes active when its backoff expires
  (``initial_backoff_s`` doubled per failed attempt, at most ``max_backoff_s``);
* **unschedulable**: failed, and retrying is pointless until the cluster changes. A cluster
  event moves it to backoff (or straight to active if its backoff is over): a node added or
  changed helps every pod; a pod deleted or finished frees resources, which helps only pods
  that were short of resources (not *unresolvable* ones). Pods left there longer than
  ``max_unschedulable_s`` are retried anyway, in case an event was missed.

Popped pods are *in flight* until ``done`` or ``unschedulable``; an event that arrives
while they are in flight sends them to backoff instead of the unschedulable pool, so a
change that happened during their cycle is never lost.

The clock is injected; nothing here sleeps or does I/O.
"""

from __future__ import annotations

import heapq
from collections.abc import Callable, Iterator
from enum import Enum

from berth.platform.backoff import exponential
from berth.scheduler.cycle import queue_order
from berth.scheduler.views import PodRequest


class ClusterEvent(Enum):
    NODE_ADDED = "NodeAdd"
    NODE_CHANGED = "NodeUpdate"
    POD_DELETED = "AssignedPodDelete"
    VOLUME_CHANGED = "PersistentVolumeClaimChange"  # a claim, volume or class, or a user

    @property
    def helps_unresolvable(self) -> bool:
        return self is not ClusterEvent.POD_DELETED

    def may_help(self, pod: PodRequest, unresolvable: bool) -> bool:
        """A volume change only matters to pods with claims."""
        if self is ClusterEvent.VOLUME_CHANGED:
            return bool(pod.claims)
        return self.helps_unresolvable or not unresolvable


class _Entry:
    __slots__ = ("pod", "attempts", "since", "failed_at", "unresolvable", "where", "seq", "early")

    def __init__(self, pod: PodRequest) -> None:
        self.pod = pod
        self.attempts = 0
        self.since: float | None = None  # first failure: how long it has been waiting
        self.failed_at = 0.0
        self.unresolvable = False
        self.where = ""
        self.seq = 0  # which heap item is current; others are stale
        self.early = False  # a cluster change may help: may skip backoff


class SchedulingQueue:
    def __init__(
        self,
        clock: Callable[[], float],
        *,
        initial_backoff_s: float = 1.0,
        max_backoff_s: float = 10.0,
        max_unschedulable_s: float = 300.0,
    ) -> None:
        self._clock = clock
        self.initial_backoff_s = initial_backoff_s
        self.max_backoff_s = max_backoff_s
        self.max_unschedulable_s = max_unschedulable_s
        self._entries: dict[str, _Entry] = {}
        self._active: list[tuple[tuple, int, str]] = []
        self._backoff: list[tuple[float, int, str]] = []
        self._unschedulable: dict[str, _Entry] = {}
        self._seq = 0
        self._events_in_flight: set[ClusterEvent] = set()

    # ---- pods coming and going ----------------------------------------------------------

    def add(self, pod: PodRequest) -> None:
        """A new pending pod, or a changed one (a change may make it fit: retry it now)."""
        entry = self._entries.get(pod.uid)
        if entry is None:
            entry = self._entries[pod.uid] = _Entry(pod)
        entry.pod = pod
        if entry.where != "flight":
            self._activate(entry)

    def delete(self, uid: str) -> None:
        """The pod is gone or was bound by someone else."""
        entry = self._entries.pop(uid, None)
        if entry is not None:
            self._unschedulable.pop(uid, None)
            entry.where = "gone"

    def done(self, uid: str) -> None:
        """The pod was placed."""
        self.delete(uid)

    def unschedulable(self, uid: str, unresolvable: bool = False, error: bool = False) -> None:
        """A popped pod did not fit (or, with ``error``, its bind failed): park it until the
        cluster changes or backoff ends. An error always serves its whole backoff."""
        entry = self._entries.get(uid)
        if entry is None:
            return
        now = self._clock()
        entry.early = not error
        entry.attempts += 1
        entry.failed_at = now
        entry.unresolvable = unresolvable
        if entry.since is None:
            entry.since = now
        if any(e.may_help(entry.pod, unresolvable) for e in self._events_in_flight):
            self._to_backoff(entry)
        else:
            entry.where = "unschedulable"
            self._unschedulable[uid] = entry

    # ---- the cluster changed ------------------------------------------------------------

    def on_event(self, event: ClusterEvent) -> int:
        """Move the parked pods this event may help; returns how many moved."""
        self._events_in_flight.add(event)
        moved = [e for e in self._unschedulable.values() if event.may_help(e.pod, e.unresolvable)]
        for entry in moved:
            del self._unschedulable[entry.pod.uid]
            self._to_backoff(entry)
        return len(moved)

    # ---- taking pods out ----------------------------------------------------------------

    def pop_all(self, limit: int | None = None) -> list[PodRequest]:
        """Active pods in queue order (at most ``limit``), now in flight."""
        self._flush()
        if not self._active:
            # Nothing else to try: pods a cluster change may have helped skip the rest of
            # their backoff (k8s KEP-5142), so freed capacity is used at once.
            self._promote_backoff()
        self._events_in_flight.clear()
        out: list[PodRequest] = []
        while self._active and (limit is None or len(out) < limit):
            _, seq, uid = heapq.heappop(self._active)
            entry = self._entries.get(uid)
            if entry is None or entry.seq != seq:
                continue  # deleted, or a stale copy of a re-queued entry
            entry.where = "flight"
            out.append(entry.pod)
        return out

    def waiting_since(self) -> dict[str, float]:
        """When each pod that has failed first failed (for backfill reservations)."""
        return {uid: e.since for uid, e in self._entries.items() if e.since is not None}

    def next_wakeup(self) -> float | None:
        """When the next pod leaves backoff (the loop may sleep until then); now, when the
        active queue is empty and a pod waits in backoff (``pop_all`` takes it early)."""
        self._drop_stale_backoff()
        if not self._backoff:
            return None
        if not self._active and any(
            self._entries[uid].early
            for _, seq, uid in self._backoff
            if uid in self._entries and self._entries[uid].seq == seq
        ):
            return self._clock()
        return self._backoff[0][0]

    def counts(self) -> dict[str, int]:
        """Pods per place, for metrics: active, backoff, unschedulable, in flight."""
        out = {"active": 0, "backoff": 0, "unschedulable": 0, "flight": 0}
        for entry in self._entries.values():
            out[entry.where] += 1
        return out

    def __len__(self) -> int:
        return len(self._entries)

    def __iter__(self) -> Iterator[PodRequest]:
        return (e.pod for e in self._entries.values())

    # ---- internals ----------------------------------------------------------------------

    def _activate(self, entry: _Entry) -> None:
        self._unschedulable.pop(entry.pod.uid, None)
        entry.where = "active"
        self._seq += 1
        entry.seq = self._seq
        heapq.heappush(self._active, (queue_order(entry.pod), self._seq, entry.pod.uid))

    def _to_backoff(self, entry: _Entry) -> None:
        ready_at = entry.failed_at + exponential(
            entry.attempts, self.initial_backoff_s, self.max_backoff_s
        )
        if ready_at <= self._clock():
            self._activate(entry)
            return
        entry.where = "backoff"
        self._seq += 1
        entry.seq = self._seq
        heapq.heappush(self._backoff, (ready_at, self._seq, entry.pod.uid))

    def _flush(self) -> None:
        now = self._clock()
        while self._backoff and self._backoff[0][0] <= now:
            _, seq, uid = heapq.heappop(self._backoff)
            entry = self._entries.get(uid)
            if entry is not None and entry.seq == seq:
                self._activate(entry)
        stale = [
            e for e in self._unschedulable.values() if now - e.failed_at >= self.max_unschedulable_s
        ]
        for entry in stale:
            del self._unschedulable[entry.pod.uid]
            self._to_backoff(entry)

    def _promote_backoff(self) -> None:
        waiting = []
        while self._backoff:
            item = heapq.heappop(self._backoff)
            entry = self._entries.get(item[2])
            if entry is None or entry.seq != item[1]:
                continue
            if entry.early:
                self._activate(entry)
            else:
                waiting.append(item)
        for item in waiting:
            heapq.heappush(self._backoff, item)

    def _drop_stale_backoff(self) -> None:
        while self._backoff:
            _, seq, uid = self._backoff[0]
            entry = self._entries.get(uid)
            if entry is not None and entry.seq == seq:
                return
            heapq.heappop(self._backoff)
