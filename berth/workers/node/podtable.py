"""The pods one node agent holds: a table by uid, and their statuses in the order they changed.

Every status change takes the next value of a change cursor that only grows (it starts from
the clock when an agent starts, so a restarted agent's cursors are past any the control plane
holds), so that the control plane reads only what changed since the cursor it last saw, from
the end of the index, not every pod the node holds. A change can end a waiting long poll.

Statuses are written to ``<pod_root>/<uid>/status.json`` so that a new agent on the same node
knows which pods were lost with its predecessor (``recover``). Only a change a successor needs
is written (``durable_view``): the pod's first status (it exists), each container attempt
that ended or restarted, and the end of the pod. A container that started running is not
written: a lost pod's unfinished containers are shown ``ContainerStatusUnknown`` whatever
they were doing (``lost_status``), so the write would tell a successor nothing.
"""

from __future__ import annotations

import logging
import os
import shutil
import threading
import time
from collections.abc import Callable
from pathlib import Path

import orjson

from berth.platform.resources.pods import status_is_terminal
from berth.workers.node.records import PodRecord

log = logging.getLogger(__name__)


class PodTable:
    """Guarded by ``lock`` (re-entrant): the agent holds it across each of its calls."""

    def __init__(self, pod_root: Path):
        self.pod_root = pod_root
        self.pods: dict[str, PodRecord] = {}
        # The pods with a status, in the order of their last change (so ``changed_since``
        # reads only what changed since a cursor, from the end, not every pod the node holds).
        self._by_change: dict[str, PodRecord] = {}
        self.cursor = time.time_ns() // 1000
        self._woken = self.cursor  # the cursor of the last change that ends a long poll
        self.lock = threading.RLock()
        self._changed = threading.Condition(self.lock)

    def set_status(self, rec: PodRecord, status: dict, *, wake: bool = True) -> None:
        """Record a status change. ``wake=False``: it does not answer a waiting long poll by
        itself; it goes with the next change that does, or when the poll times out."""
        self.cursor = max(self.cursor + 1, time.time_ns() // 1000)
        rec.status, rec.changed = status, self.cursor
        self._by_change.pop(rec.uid, None)
        self._by_change[rec.uid] = rec
        view = durable_view(status)
        if view != rec.saved or status_is_terminal(status):  # a successor reports the last
            self._persist(rec)
            rec.saved = view
        if wake:
            self._woken = self.cursor
            with self._changed:  # callers mostly hold the lock already (it is re-entrant)
                self._changed.notify_all()

    def wait(self, since: int, wait_s: float) -> bool:
        """Wait up to ``wait_s`` for a change after ``since`` that ends a long poll; whether
        one came while waiting (False at once when one is already there)."""
        with self.lock:
            return self._woken <= since and self._changed.wait_for(
                lambda: self._woken > since, wait_s
            )

    def changed_since(self, since: int) -> list[PodRecord]:
        """The pods whose status changed after cursor ``since``, oldest change first."""
        changed = []
        for r in reversed(self._by_change.values()):
            if r.changed <= since:
                break
            changed.append(r)
        changed.reverse()
        return changed

    def used(self) -> dict[str, float]:
        """The Ray resources of the pods started and not yet ended."""
        used: dict[str, float] = {}
        for r in self.pods.values():
            if r.ref is not None:
                for name, value in r.resources.items():
                    used[name] = used.get(name, 0.0) + value
        return used

    def forget(self, uid: str) -> None:
        """Drop a pod and its saved status."""
        self.pods.pop(uid, None)
        self._by_change.pop(uid, None)
        shutil.rmtree(self.pod_root / uid, ignore_errors=True)

    def recover(self, lost: Callable[[dict, dict | None], dict]) -> None:
        """Load the pods a previous agent on this node saved: a finished one keeps its status,
        any other gets ``lost(pod, saved status)``."""
        for path in sorted(self.pod_root.glob("*/status.json")):
            try:
                saved = orjson.loads(path.read_bytes())
            except (OSError, ValueError):
                continue
            pod = saved.get("pod") or {}
            uid = (pod.get("metadata") or {}).get("uid") or path.parent.name
            status = saved.get("status")
            if status is None or not status_is_terminal(status):
                status = lost(pod, status)
            rec = PodRecord(uid, pod, status=status)
            self.pods[uid] = rec
            self.set_status(rec, status)

    def _persist(self, rec: PodRecord) -> None:
        folder = os.path.join(self.pod_root, rec.uid)
        tmp = os.path.join(folder, ".status.json.tmp")
        try:
            data = orjson.dumps({"pod": rec.pod, "status": rec.status})
            if rec.saved is None:  # its first save: the folder may not be there yet
                os.makedirs(folder, exist_ok=True)
            with open(tmp, "wb") as handle:
                handle.write(data)
            os.replace(tmp, os.path.join(folder, "status.json"))
        except (OSError, TypeError) as err:
            log.warning("could not save status of pod %s: %s", rec.uid, err)


def durable_view(status: dict) -> tuple:
    """What of an unfinished pod's status its saved copy must keep up with for a successor
    agent: each container's restarts and ended attempts (what ``lost_status`` keeps of a
    saved status: an unfinished pod becomes Failed, a waiting or running container
    ``ContainerStatusUnknown``). Two statuses with the same view need one write, not two.
    A finished pod's status is saved whole at every change (the successor reports it)."""
    containers = tuple(
        (
            cs.get("name"),
            cs.get("restartCount", 0),
            (cs.get("state") or {}).get("terminated"),
            (cs.get("lastState") or {}).get("terminated"),
        )
        for key in ("initContainerStatuses", "containerStatuses")
        for cs in status.get(key) or []
    )
    return status.get("phase") if status_is_terminal(status) else None, containers
