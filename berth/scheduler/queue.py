"""The pending-pod queue, modelled on kube-scheduler's scheduling queue.

Three places a pending pod can be:

* **active**: ready to be tried, popped in queue order (priority, then creation order);
* **backoff**: failed recently; it becomes active when its backoff expires
  (``initial_backoff_s`` doubled per failed attempt, at most ``max_backoff_s``);
* **unschedulable**: failed, and retrying is pointless until the cluster changes. A cluster
  event moves it to backoff (or straight to active if its backoff is over): a node added or
  changed helps every pod; a pod deleted or finished frees resources, which helps only pods
  that were short of resources (not *unresolvable* ones). Pods left there longer than
  ``max_unschedulable_s`` are retried anyway, for a change no event announces (as
  kube-scheduler's ``podMaxInUnschedulablePodsDuration``; short enough that a missed
  wake-up is a pause, not a hang).

A pod that finishes frees room on one node only: ``on_event`` then takes ``room``, how many
pods like a given one that room takes, and moves no more than that of each pod class (the
first in queue order), the way kube-scheduler's queueing hints skip pods an event cannot
help. Without it, every finished pod sent every parked pod of a backlog through the next
cycle: a thousand pending pods cost ~17 ms of the scheduler's CPU per place freed, the
place stood idle meanwhile, and the cycle held the GIL the status path needed. A pod moved
for room that is deleted before it is tried hands its turn to the next of its class. Pods
with claims are classed by their claims too: their volumes, which the class of a queued pod
does not see, may send them to different nodes.

Room that only some pods may use (a node reserved for a starving pod takes no other) is
not room for the first of each class: ``retry`` moves exactly the pods it can help. Handing
it to the first of the class instead was the hang ``bench_e2e --long`` hit: those pods
failed on the reserved node and parked again first in line, the reserving pod was never
retried, and the drained node waited for the periodic retry of parked pods.

Popped pods are *in flight* until ``done`` or ``unschedulable``; an event that arrives
while they are in flight sends them to backoff instead of the unschedulable pool, so a
change that happened during their cycle is never lost.

The clock is injected; nothing here sleeps or does I/O.
"""

from __future__ import annotations

import heapq
import itertools
from collections.abc import Callable, Iterable, Iterator, Mapping
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


def _hint_class(pod: PodRequest) -> tuple:
    """Pods that the same freed room helps alike: the pod class, and the claims of a pod
    that has any (its volumes may bind it to nodes its class-mates' volumes do not)."""
    return (pod.klass, pod.namespace, pod.claims) if pod.claims else pod.klass


class _Entry:
    __slots__ = (
        "pod",
        "attempts",
        "since",
        "failed_at",
        "unresolvable",
        "where",
        "seq",
        "early",
        "hinted",
    )

    def __init__(self, pod: PodRequest) -> None:
        self.pod = pod
        self.attempts = 0
        self.since: float | None = None  # first failure: how long it has been waiting
        self.failed_at = 0.0
        self.unresolvable = False
        self.where = ""
        self.seq = 0  # which heap item is current; others are stale
        self.early = False  # a cluster change may help: may skip backoff
        self.hinted = False  # moved for room an event freed, not tried since


class _WaitingSince(Mapping[str, float]):
    """uid -> when the pod first failed, for the queued pods that have failed."""

    __slots__ = ("_entries",)

    def __init__(self, entries: dict[str, _Entry]) -> None:
        self._entries = entries

    def __getitem__(self, uid: str) -> float:
        entry = self._entries.get(uid)
        if entry is None or entry.since is None:
            raise KeyError(uid)
        return entry.since

    def __iter__(self) -> Iterator[str]:
        return (uid for uid, e in self._entries.items() if e.since is not None)

    def __len__(self) -> int:
        return sum(1 for e in self._entries.values() if e.since is not None)


class SchedulingQueue:
    def __init__(
        self,
        clock: Callable[[], float],
        *,
        initial_backoff_s: float = 1.0,
        max_backoff_s: float = 10.0,
        max_unschedulable_s: float = 30.0,
    ) -> None:
        self._clock = clock
        self.initial_backoff_s = initial_backoff_s
        self.max_backoff_s = max_backoff_s
        self.max_unschedulable_s = max_unschedulable_s
        self._entries: dict[str, _Entry] = {}
        self._active: list[tuple[tuple, int, str]] = []
        self._backoff: list[tuple[float, int, str]] = []
        self._unschedulable: dict[str, _Entry] = {}
        # pod class -> heap of (queue order, seq, uid) of its parked pods (stale items are
        # skipped: an entry moved, deleted or parked again since has another seq or place)
        self._parked: dict[tuple, list[tuple[tuple, int, str]]] = {}
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
            if entry.hinted and entry.where in ("active", "backoff"):
                # It was to use room a pod freed: the next of its class gets the turn.
                self._move_parked(_hint_class(entry.pod), 1)
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
            self._park(entry)

    # ---- the cluster changed ------------------------------------------------------------

    def retry(self, uids: Iterable[str], event: ClusterEvent) -> int:
        """``event`` can help only the pods ``uids``: move those of them that are parked;
        returns how many moved."""
        self._events_in_flight.add(event)
        moved = 0
        for uid in uids:
            entry = self._unschedulable.get(uid)
            if entry is not None and event.may_help(entry.pod, entry.unresolvable):
                del self._unschedulable[uid]
                self._wake(entry)
                moved += 1
        return moved

    def on_event(self, event: ClusterEvent, room: Callable[[PodRequest], int] | None = None) -> int:
        """Move the parked pods this event may help; returns how many moved. ``room``: the
        event freed room for ``room(pod)`` pods like ``pod`` (an upper bound) and no more,
        so at most that many of each pod class move, first in queue order."""
        self._events_in_flight.add(event)
        if room is not None:
            moved = 0
            for klass, heap in list(self._parked.items()):
                top = self._top_parked(heap)
                if top is None:
                    del self._parked[klass]
                elif event.may_help(top.pod, top.unresolvable):
                    moved += self._move_parked(klass, room(top.pod))
            return moved
        helped = [e for e in self._unschedulable.values() if event.may_help(e.pod, e.unresolvable)]
        for entry in helped:
            del self._unschedulable[entry.pod.uid]
            self._to_backoff(entry)
        if helped:
            self._parked = {}
            for entry in self._unschedulable.values():
                self._push_parked(entry)
        return len(helped)

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
            entry.hinted = False
            out.append(entry.pod)
        return out

    def waiting_since(self) -> Mapping[str, float]:
        """When each pod that has failed first failed (for backfill reservations): a live
        view, read only for the pods a cycle considers reserving for (a copy per cycle cost
        as much as the rest of the cycle with a thousand pods parked)."""
        return _WaitingSince(self._entries)

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

    def _park(self, entry: _Entry) -> None:
        entry.where = "unschedulable"
        entry.hinted = False
        self._unschedulable[entry.pod.uid] = entry
        self._seq += 1
        entry.seq = self._seq
        self._push_parked(entry)

    def _push_parked(self, entry: _Entry) -> None:
        heap = self._parked.setdefault(_hint_class(entry.pod), [])
        heapq.heappush(heap, (queue_order(entry.pod), entry.seq, entry.pod.uid))

    def _top_parked(self, heap: list[tuple[tuple, int, str]]) -> _Entry | None:
        """The first parked pod of a class in queue order (dropping stale items above it)."""
        while heap:
            _, seq, uid = heap[0]
            entry = self._entries.get(uid)
            if entry is not None and entry.seq == seq and entry.where == "unschedulable":
                return entry
            heapq.heappop(heap)
        return None

    def _move_parked(self, klass: tuple, count: int) -> int:
        """Move up to ``count`` parked pods of ``klass``, first in queue order."""
        heap = self._parked.get(klass)
        moved = 0
        while heap and moved < count:
            entry = self._top_parked(heap)
            if entry is None:
                break
            heapq.heappop(heap)
            del self._unschedulable[entry.pod.uid]
            entry.hinted = True
            self._wake(entry)
            moved += 1
        if not heap:
            self._parked.pop(klass, None)
        return moved

    def _wake(self, entry: _Entry) -> None:
        # Straight to active (unless its bind failed: an error serves its backoff): in
        # backoff it would wait for the active queue to empty, and pods arriving meanwhile
        # took the room it was moved for.
        if entry.early:
            self._activate(entry)
        else:
            self._to_backoff(entry)

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
        # Parked in the order they failed (``_park`` is the only insertion): the stale ones
        # are a prefix.
        stale = list(
            itertools.takewhile(
                lambda e: now - e.failed_at >= self.max_unschedulable_s,
                self._unschedulable.values(),
            )
        )
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
