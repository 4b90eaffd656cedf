"""The node agent: the kubelet of one Ray node.

A detached, named actor pinned to its node. The control plane tells it the complete set of
pods this node should hold (``sync``), polls what changed (``statuses``) and reads logs
(``read_log``/``read_log_from``). Every pod runs as a Ray task the agent submits and therefore
owns: pods keep running while the control plane's driver restarts.

Contract of ``sync(desired)``: ``desired`` lists every pod bound to this node that still exists
in the store, in any phase, each as ``{"pod": <Pod dict>, "bundle": <runtime bundle>}`` (see
``berth.workers.bundle``). A pod not seen before is admitted and started; a pod with
``metadata.deletionTimestamp`` is stopped with its ``deletionGracePeriodSeconds``; a pod no
longer listed is stopped with its ``terminationGracePeriodSeconds`` and, once ended, forgotten
with its logs. Terminal phases never change. The call is idempotent.

The pods and their statuses, by a change cursor that only grows, are the agent's ``PodTable``
(``podtable.py``), saved under ``<root>/pods/<uid>/`` so that a new agent on the same node
knows which pods were lost with its predecessor. Starting, stopping and collecting the end of
a pod is its ``Launcher``'s (``launcher.py``).
"""

from __future__ import annotations

import logging
import shutil
import threading
import time
from pathlib import Path

import ray

from berth.platform.resources.meta import rfc3339, utcnow
from berth.platform.resources.pods import status_is_terminal
from berth.workers.node import logs, nodefacts, sandboxcheck
from berth.workers.node.filevolumes import FileVolumes, root_for
from berth.workers.node.launcher import DELETED_MESSAGE, Launcher
from berth.workers.node.podtable import PodTable
from berth.workers.node.records import PodRecord, UnknownPod, log_container
from berth.workers.node.restarts import RESTART_BACKOFF_BASE_S, RESTART_BACKOFF_CAP_S
from berth.workers.starting import starting
from berth.workers.status import lost_status

log = logging.getLogger(__name__)

_ATTEMPT_SHIFT = 40  # read_log_from offsets carry the attempt above this many bits
_GATHER_S = 0.002
LOST_MESSAGE = "The node agent restarted; the pod's containers were lost with it"


class NodeAgent:
    """Use through ``berth.workers.control.pool.ensure_agents``; every method is safe to repeat."""

    def __init__(
        self,
        node_id: str,
        root: str,
        *,
        hide: list[str] | None = None,
        backoff_base: float = RESTART_BACKOFF_BASE_S,
        backoff_cap: float = RESTART_BACKOFF_CAP_S,
        bwrap: str | None = "auto",
        launch_here: bool = False,
    ):
        self.node_id = node_id
        self.root = Path(root) / node_id[:12]
        self.log_root, self.pod_root = self.root / "logs", self.root / "pods"
        self.log_root.mkdir(parents=True, exist_ok=True)
        self.pod_root.mkdir(parents=True, exist_ok=True)
        node = next((n for n in ray.nodes() if n.get("NodeID") == node_id), {})
        self.capacity: dict[str, float] = dict(node.get("Resources") or {})
        self.host_ip = node.get("NodeManagerAddress") or "127.0.0.1"
        self.sandbox = sandboxcheck.probe("bwrap" if bwrap == "auto" else bwrap)
        self.bwrap = self.sandbox.path
        self.facts = nodefacts.read()
        if self.bwrap is None:
            log.warning("node %s has no sandbox: %s", node_id[:12], self.sandbox.problem)
        self.files = FileVolumes(root_for(self.root))
        self.node_config = {
            "node_name": node_id,
            "host_ip": self.host_ip,
            "log_root": self.log_root,
            "pod_root": self.pod_root,
            "bwrap": self.bwrap,
            "sandbox_problem": self.sandbox.problem,
            "volume_root": self.files.root,
            "hide": sorted({str(self.root.parent), *(hide or [])}),
            "backoff_base": backoff_base,
            "backoff_cap": backoff_cap,
        }
        self.table = PodTable(self.pod_root)
        self.pods, self._lock = self.table.pods, self.table.lock
        self.launcher = Launcher(
            self.table,
            node_id,
            self.host_ip,
            self.capacity,
            self.files,
            self.node_config,
            launch_here=launch_here,
            report=self.report,
            ended=self._ended,
        )
        self._recover()
        threading.Thread(target=self.launcher.monitor, name="agent-monitor", daemon=True).start()

    # -- the API -----------------------------------------------------------------------------

    def ping(self) -> dict:
        with self._lock:
            active = sum(1 for r in self.pods.values() if not status_is_terminal(r.status))
            return {
                "nodeId": self.node_id,
                "hostIP": self.host_ip,
                "pods": len(self.pods),
                "active": active,
                "sandboxed": self.bwrap is not None,
                "runtime": {**self.sandbox.info(), "facts": self.facts},
                "cursor": self.table.cursor,
                "root": str(self.root),
            }

    def sync(self, desired: list[dict]) -> None:
        """``desired``: every pod bound here that still exists, as ``{"pod", "bundle"}``, or
        ``{"finished": uid}`` for one the store already shows finished (slim: a finished pod
        is never started again, so its spec need not travel). A pod known here and not
        listed is stopped and, once ended, forgotten."""
        wanted = _wanted(desired)
        with self._lock:
            for uid, item in wanted.items():
                self._apply(uid, item)
            for uid in [uid for uid in self.pods if uid not in wanted]:
                self._drop(self.pods[uid])

    def update(self, desired: list[dict], gone: list[str]) -> None:
        """The incremental form of ``sync``: ``desired`` lists only the pods that changed
        (same items), ``gone`` the uids of pods no longer bound here (deleted from the store);
        every other pod is left as it is. The control plane sends the complete set now and
        then (``sync``) all the same, which mends anything an update missed."""
        with self._lock:
            for uid, item in _wanted(desired).items():
                self._apply(uid, item)
            for uid in gone:
                rec = self.pods.get(uid)
                if rec is not None:
                    self._drop(rec)

    def _apply(self, uid: str, item: dict | None) -> None:
        """One listed pod: admit a new one, follow a deletion, mount updated files."""
        if not uid:
            return
        rec = self.pods.get(uid)
        if item is None:
            if rec is not None:
                rec.desired = True  # keep its status and logs; nothing to run
            return
        if rec is None:
            rec = self.pods[uid] = PodRecord(uid, item["pod"], item.get("bundle") or {})
            self.launcher.admit(rec)
            return
        rec.desired = True
        rec.pod = item["pod"]
        if rec.ref is not None:
            self.launcher.show_files(rec, item.get("bundle") or {})  # mounted ones update
        meta = rec.pod.get("metadata") or {}
        if meta.get("deletionTimestamp") and rec.ref is not None:
            self.launcher.stop(rec, meta.get("deletionGracePeriodSeconds"))
        elif meta.get("deletionTimestamp") and not status_is_terminal(rec.status):
            self.table.set_status(
                rec,
                lost_status(rec.pod, rec.status, self.host_ip, self._now(), DELETED_MESSAGE),
            )
        elif rec.ref is None and not status_is_terminal(rec.status):
            rec.bundle = item.get("bundle") or {}
            self.launcher.admit(rec)  # was waiting for its configuration

    def _drop(self, rec: PodRecord) -> None:
        """A pod no longer bound here: stop it, forget it once it has ended."""
        rec.desired = False
        if rec.ref is None:
            self._forget(rec)
        else:
            self.launcher.stop(rec, None)

    def statuses(self, since: int = 0, wait_s: float = 0.0) -> tuple[int, list[dict]]:
        """Changes after cursor ``since``. With ``wait_s``, a long poll: the call returns as
        soon as a status changes (or after ``wait_s`` with nothing), so statuses reach the
        control plane as they happen rather than at its next poll. A change that ends the
        wait is answered ``_GATHER_S`` later, with whatever else changed meanwhile (a pod
        admitted and started at once is one write, not two). A pod's normal start
        (``starting``) ends no wait by itself: it goes with the next change."""
        if wait_s > 0 and self.table.wait(since, wait_s):
            time.sleep(_GATHER_S)
        with self._lock:
            return self.table.cursor, [
                {
                    "uid": r.uid,
                    "namespace": r.namespace,
                    "name": r.name,
                    "nodeId": self.node_id,
                    "sandboxed": self.bwrap is not None,
                    "status": r.status,
                }
                for r in self.table.changed_since(since)
            ]

    def report(self, uid: str, seq: int, status: dict) -> None:
        """Called by the pod's task for each change; stale or phase-reversing updates drop."""
        with self._lock:
            rec = self.pods.get(uid)
            if rec is None or seq <= rec.seq:
                return
            if (
                rec.status is not None
                and status_is_terminal(rec.status)
                and status.get("phase") != rec.status.get("phase")
            ):
                return
            rec.seq = seq
            if status != rec.status:  # an unchanged status is no change to report
                self.table.set_status(rec, status, wake=not starting(status))

    def read_log(self, uid: str, container: str | None = None, **options) -> str:
        rec = self._record(uid)
        name = log_container(rec, container)
        return logs.read_log(self.log_root, uid, name, pod_name=rec.name, **options)

    def read_log_from(
        self,
        uid: str,
        container: str | None = None,
        offset: int | None = None,
        *,
        timestamps: bool = False,
        previous: bool = False,
        tail_lines: int | None = None,
        since_seconds: int | None = None,
        since_time: str | None = None,
    ) -> tuple[str, int, bool]:
        """Follow a log: ``(text, next offset, finished)``. Start with ``offset=None`` (the
        filters choose the first line), then pass back the returned offset, which is opaque.
        ``finished``: the attempt being followed has ended and all of it was returned."""
        rec = self._record(uid)
        name = log_container(rec, container)
        if offset is None:
            path = logs.pick_attempt(self.log_root, uid, name, previous)
            if path is None:
                if previous:
                    logs.read_log(self.log_root, uid, name, previous=True, pod_name=rec.name)
                return (
                    "",
                    0 if status_is_terminal(rec.status) else -1,
                    status_is_terminal(rec.status),
                )
            attempt = int(path.stem)
            start = logs.start_offset(
                path, tail_lines=tail_lines, since_seconds=since_seconds, since_time=since_time
            )
        elif offset < 0:
            return self.read_log_from(uid, name, None, timestamps=timestamps)
        else:
            attempt, start = offset >> _ATTEMPT_SHIFT, offset & ((1 << _ATTEMPT_SHIFT) - 1)
            path = logs.attempt_path(self.log_root, uid, name, attempt)
        text, end, finished = logs.read_from(path, start, timestamps=timestamps)
        if not finished and status_is_terminal(rec.status) and rec.ref is None:
            more, end2, _ = logs.read_from(path, end, timestamps=timestamps)
            text, end, finished = text + more, end2, True  # the writer died with its pod
        return text, (attempt << _ATTEMPT_SHIFT) | end, finished

    # -- internals ---------------------------------------------------------------------------

    def _record(self, uid: str) -> PodRecord:
        with self._lock:
            rec = self.pods.get(uid)
        if rec is None:
            raise UnknownPod(uid)
        return rec

    def _now(self) -> str:
        return rfc3339(utcnow())

    def _forget(self, rec: PodRecord) -> None:
        self.table.forget(rec.uid)
        self.files.remove(rec.uid)
        shutil.rmtree(self.log_root / rec.uid, ignore_errors=True)

    def _ended(self, rec: PodRecord, seq: int | None, status: dict) -> None:
        with self._lock:
            rec.ref = None
            if seq is not None:
                self.report(rec.uid, seq, status)
            elif not status_is_terminal(rec.status):
                rec.seq += 1
                self.table.set_status(rec, status)
            if not rec.desired:
                self._forget(rec)

    def _recover(self) -> None:
        """Pods of a previous agent on this node: finished ones stay readable, the others
        were lost with it and are marked so."""
        self.table.recover(
            lambda pod, status: lost_status(pod, status, self.host_ip, self._now(), LOST_MESSAGE)
        )
        self.files.prune(set(self.pods))


def _wanted(desired: list[dict]) -> dict[str, dict | None]:
    """Sync items by pod uid: ``{"pod", "bundle"}`` (a bare Pod dict is read as one), or None
    for ``{"finished": uid}``."""
    wanted: dict[str, dict | None] = {}
    for d in desired:
        if "finished" in d:
            wanted[d["finished"]] = None
            continue
        item = d if "pod" in d else {"pod": d}
        wanted[(item["pod"].get("metadata") or {}).get("uid", "")] = item
    return wanted


NodeAgentActor = ray.remote(NodeAgent)
