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

Statuses are kept per pod with a change cursor that only grows (it starts from the clock when
an agent starts, so a restarted agent's cursors are past any the control plane holds), and are
written to ``<root>/pods/<uid>/status.json`` so that a new agent on the same node knows which
pods were lost with its predecessor.
"""

from __future__ import annotations

import json
import logging
import os
import shutil
import threading
import time
from pathlib import Path

import ray
import ray.exceptions
from ray.util.scheduling_strategies import NodeAffinitySchedulingStrategy

from berth.platform.resources.meta import rfc3339, utcnow
from berth.platform.resources.pods import status_is_terminal
from berth.workers.node import logs, nodefacts, sandboxcheck
from berth.workers.node.admission import admit, ray_options, ray_resources
from berth.workers.node.filevolumes import FileVolumes, VolumeError, root_for
from berth.workers.node.pod_task import run_here, run_pod, write_stop
from berth.workers.node.records import PodRecord, UnknownPod, log_container
from berth.workers.node.restarts import RESTART_BACKOFF_BASE_S, RESTART_BACKOFF_CAP_S
from berth.workers.node.runner import StopRequest
from berth.workers.node.volumes import file_volumes
from berth.workers.status import lost_status, rejected_status, waiting_status

log = logging.getLogger(__name__)

_ATTEMPT_SHIFT = 40  # read_log_from offsets carry the attempt above this many bits
_WAIT_S = 0.2
_GATHER_S = 0.002
DELETED_MESSAGE = "The pod was deleted before it started"
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
        self.launch_here = launch_here
        self.pods: dict[str, PodRecord] = {}
        # The pods with a status, in the order of their last change (so ``statuses`` reads
        # only what changed since a cursor, from the end, not every pod the node holds).
        self._by_change: dict[str, PodRecord] = {}
        self._cursor = time.time_ns() // 1000
        self._woken = self._cursor  # the cursor of the last change that ends a long poll
        self._lock = threading.RLock()
        self._changed = threading.Condition(self._lock)
        self._recover()
        threading.Thread(target=self._monitor, name="agent-monitor", daemon=True).start()

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
                "cursor": self._cursor,
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
            self._admit(rec)
            return
        rec.desired = True
        rec.pod = item["pod"]
        if rec.ref is not None:
            self._show_files(rec, item.get("bundle") or {})  # mounted ones update
        meta = rec.pod.get("metadata") or {}
        if meta.get("deletionTimestamp") and rec.ref is not None:
            self._stop(rec, meta.get("deletionGracePeriodSeconds"))
        elif meta.get("deletionTimestamp") and not status_is_terminal(rec.status):
            self._set_status(
                rec,
                lost_status(rec.pod, rec.status, self.host_ip, self._now(), DELETED_MESSAGE),
            )
        elif rec.ref is None and not status_is_terminal(rec.status):
            rec.bundle = item.get("bundle") or {}
            self._admit(rec)  # was waiting for its configuration

    def _drop(self, rec: PodRecord) -> None:
        """A pod no longer bound here: stop it, forget it once it has ended."""
        rec.desired = False
        if rec.ref is None:
            self._forget(rec)
        else:
            self._stop(rec, None)

    def statuses(self, since: int = 0, wait_s: float = 0.0) -> tuple[int, list[dict]]:
        """Changes after cursor ``since``. With ``wait_s``, a long poll: the call returns as
        soon as a status changes (or after ``wait_s`` with nothing), so statuses reach the
        control plane as they happen rather than at its next poll. A change that ends the
        wait is answered ``_GATHER_S`` later, with whatever else changed meanwhile (a pod
        admitted and started at once is one write, not two). A pod's normal start
        (``starting``) ends no wait by itself: it goes with the next change."""
        if wait_s > 0:
            with self._lock:
                woke = self._woken <= since and self._changed.wait_for(
                    lambda: self._woken > since, wait_s
                )
            if woke:
                time.sleep(_GATHER_S)
        with self._lock:
            changed = []
            for r in reversed(self._by_change.values()):
                if r.changed <= since:
                    break
                changed.append(r)
            changed.reverse()
            return self._cursor, [
                {
                    "uid": r.uid,
                    "namespace": r.namespace,
                    "name": r.name,
                    "nodeId": self.node_id,
                    "sandboxed": self.bwrap is not None,
                    "status": r.status,
                }
                for r in changed
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
                self._set_status(rec, status, wake=not starting(status))

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

    def _set_status(self, rec: PodRecord, status: dict, *, wake: bool = True) -> None:
        """Record a status change. ``wake=False``: it does not answer a waiting long poll by
        itself; it goes with the next change that does, or when the poll times out."""
        self._cursor = max(self._cursor + 1, time.time_ns() // 1000)
        rec.status, rec.changed = status, self._cursor
        self._by_change.pop(rec.uid, None)
        self._by_change[rec.uid] = rec
        self._persist(rec)
        if wake:
            self._woken = self._cursor
            with self._changed:  # callers mostly hold the lock already (it is re-entrant)
                self._changed.notify_all()

    def _persist(self, rec: PodRecord) -> None:
        folder = self.pod_root / rec.uid
        try:
            folder.mkdir(parents=True, exist_ok=True)
            tmp = folder / ".status.json.tmp"
            tmp.write_text(json.dumps({"pod": rec.pod, "status": rec.status}))
            os.replace(tmp, folder / "status.json")
        except OSError as err:
            log.warning("could not save status of pod %s: %s", rec.uid, err)

    def _admit(self, rec: PodRecord) -> None:
        """Start the pod's task, or record why it cannot start (yet)."""
        meta = rec.pod.get("metadata") or {}
        now = self._now()
        if meta.get("deletionTimestamp"):
            self._set_status(rec, lost_status(rec.pod, None, self.host_ip, now, DELETED_MESSAGE))
            return
        waiting = rec.bundle.get("waiting")
        if waiting:
            self._set_status(
                rec,
                waiting_status(
                    rec.pod,
                    self.host_ip,
                    now,
                    waiting.get("reason", "ContainerCreating"),
                    waiting.get("message"),
                ),
            )
            return
        used = self._used()
        refusal = admit(rec.pod, self.capacity, used)
        if refusal is not None:
            self._set_status(rec, rejected_status(rec.pod, self.host_ip, now, *refusal))
            return
        self._show_files(rec, rec.bundle)
        if self.launch_here and runs_here(rec.pod):
            rec.ref = LocalPod(
                threading.Thread(
                    target=self._run_here, args=(rec,), name=f"pod-{rec.name}", daemon=True
                )
            )
            rec.ref.thread.start()
            status = waiting_status(rec.pod, self.host_ip, now)
            self._set_status(rec, status, wake=not starting(status))
            return
        options = ray_options(rec.pod)
        rec.ref = run_pod.options(
            **options,
            name=f"pod:{rec.namespace}/{rec.name}",
            scheduling_strategy=NodeAffinitySchedulingStrategy(self.node_id, soft=False),
        ).remote(ray.get_runtime_context().current_actor, rec.pod, rec.bundle, self.node_config)
        status = waiting_status(rec.pod, self.host_ip, now)
        self._set_status(rec, status, wake=not starting(status))

    def _used(self) -> dict[str, float]:
        used: dict[str, float] = {}
        for r in self.pods.values():
            if r.ref is not None:
                for name, value in ray_resources(r.pod).items():
                    used[name] = used.get(name, 0.0) + value
        return used

    def _stop(self, rec: PodRecord, grace: float | None) -> None:
        if rec.stopping or rec.ref is None:
            return
        rec.stopping = True
        write_stop(self.pod_root / rec.uid, StopRequest(grace=grace))
        if rec.seq == 0 and not isinstance(rec.ref, LocalPod):
            # Not started as far as we know: drop it from Ray's queue. Should it have just
            # started, the stop file above stops it all the same.
            ray.cancel(rec.ref, force=False)

    def _show_files(self, rec: PodRecord, bundle: dict) -> None:
        """Write the pod's ConfigMap/Secret/... volumes to the node's tmpfs (atomically; an
        unchanged one is left alone). A failure here is the runner's to report."""
        if bundle.get("waiting"):
            return  # an object went missing: a running pod keeps what it has, as on Kubernetes
        try:
            self.files.publish(rec.uid, file_volumes(bundle))
        except (VolumeError, OSError) as err:
            log.warning("volumes of pod %s/%s not written: %s", rec.namespace, rec.name, err)

    def _forget(self, rec: PodRecord) -> None:
        self.pods.pop(rec.uid, None)
        self._by_change.pop(rec.uid, None)
        self.files.remove(rec.uid)
        shutil.rmtree(self.log_root / rec.uid, ignore_errors=True)
        shutil.rmtree(self.pod_root / rec.uid, ignore_errors=True)

    def _monitor(self) -> None:
        """Collect each pod task's end: its final status, or why the task itself failed."""
        while True:
            with self._lock:
                refs = {
                    r.ref: r
                    for r in self.pods.values()
                    if r.ref is not None and not isinstance(r.ref, LocalPod)
                }
            if not refs:
                time.sleep(_WAIT_S)
                continue
            ready, _ = ray.wait(
                list(refs), num_returns=len(refs), timeout=_WAIT_S, fetch_local=True
            )
            for ref in ready:
                self._finished(refs[ref], ref)

    def _finished(self, rec: PodRecord, ref) -> None:
        try:
            result: dict = ray.get(ref)
            seq, status = result["seq"], result["status"]
        except ray.exceptions.TaskCancelledError:
            seq, status = (
                None,
                lost_status(
                    rec.pod,
                    rec.status,
                    self.host_ip,
                    self._now(),
                    "The pod was stopped before it started",
                ),
            )
        except ray.exceptions.RayError as err:
            log.warning("pod %s/%s task failed: %s", rec.namespace, rec.name, err)
            seq, status = None, _task_failure(rec, err, self.host_ip, self._now())
        self._ended(rec, seq, status)

    def _run_here(self, rec: PodRecord) -> None:
        """A pod this agent launches itself, on a thread of its own process."""
        try:
            result = run_here(
                rec.pod, rec.bundle, self.node_config, self.report, gpu_ids=[], node_id=self.node_id
            )
            seq, status = result["seq"], result["status"]
        except Exception as err:  # the runner itself broke: the pod is lost, said so
            log.exception("pod %s/%s failed in its runner", rec.namespace, rec.name)
            seq, status = (
                None,
                lost_status(
                    rec.pod,
                    rec.status,
                    self.host_ip,
                    self._now(),
                    f"The pod's runner failed: {type(err).__name__}",
                ),
            )
        self._ended(rec, seq, status)

    def _ended(self, rec: PodRecord, seq: int | None, status: dict) -> None:
        with self._lock:
            rec.ref = None
            if seq is not None:
                self.report(rec.uid, seq, status)
            elif not status_is_terminal(rec.status):
                rec.seq += 1
                self._set_status(rec, status)
            if not rec.desired:
                self._forget(rec)

    def _recover(self) -> None:
        """Pods of a previous agent on this node: finished ones stay readable, the others
        were lost with it and are marked so."""
        self._recover_statuses()
        self.files.prune(set(self.pods))

    def _recover_statuses(self) -> None:
        for path in sorted(self.pod_root.glob("*/status.json")):
            try:
                saved = json.loads(path.read_text())
            except (OSError, ValueError):
                continue
            pod = saved.get("pod") or {}
            uid = (pod.get("metadata") or {}).get("uid") or path.parent.name
            status = saved.get("status")
            if status is None or not status_is_terminal(status):
                status = lost_status(pod, status, self.host_ip, self._now(), LOST_MESSAGE)
            rec = PodRecord(uid, pod, status=status)
            self.pods[uid] = rec
            self._set_status(rec, status)


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


class LocalPod:
    """``PodRecord.ref`` of a pod the agent runs on one of its own threads."""

    def __init__(self, thread: threading.Thread):
        self.thread = thread


def runs_here(pod: dict) -> bool:
    """Whether the agent may run the pod itself rather than as a Ray task: it asks Ray for
    nothing but CPU and memory. A pod that asks for GPUs (or any other Ray resource) stays a
    Ray task, so that Ray assigns its devices (``CUDA_VISIBLE_DEVICES``) and accounts them."""
    return set(ray_resources(pod)) <= {"CPU", "memory"}


_STARTING_REASONS = frozenset({"ContainerCreating", "PodInitializing"})


def starting(status: dict) -> bool:
    """A pod on its normal way to running: Pending, every container waiting to be created (no
    message: nothing is wrong). Such a status is written with the next one (Running, most
    often, milliseconds later) instead of in a store write of its own, or after the status
    long poll's timeout when nothing follows it (a pod waiting in Ray's queue)."""
    if status.get("phase") != "Pending" or status.get("reason") or status.get("message"):
        return False
    containers = [
        cs for key in ("initContainerStatuses", "containerStatuses") for cs in status.get(key) or []
    ]
    for cs in containers:
        waiting = (cs.get("state") or {}).get("waiting")
        if (
            waiting is None
            or waiting.get("reason") not in _STARTING_REASONS
            or waiting.get("message")
            or cs.get("lastState", {}).get("terminated")
        ):
            return False
    return True


def _task_failure(rec: PodRecord, err: Exception, host_ip: str, now: str) -> dict:
    if isinstance(err, ray.exceptions.TaskUnschedulableError):
        return rejected_status(
            rec.pod,
            host_ip,
            now,
            "UnexpectedAdmissionError",
            f"Pod could not be placed on its node by Ray: {err}",
        )
    return lost_status(
        rec.pod,
        rec.status,
        host_ip,
        now,
        f"The pod's process on the node died: {type(err).__name__}",
    )


NodeAgentActor = ray.remote(NodeAgent)
