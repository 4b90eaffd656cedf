"""The scheduler's writes: binds, and the conditions and Events that say what happened.

Writes run on two small thread pools so the scheduling loop never waits for the store: one
for binds (the work that frees pods to run), one for reports (``PodScheduled=False`` with the
reason, ``FailedScheduling`` and ``Scheduled`` Events), so a flood of reports never delays a
bind. A slow write holds one worker, not the loop. Every bind's outcome is handed back
through ``on_bound(pod, node, error)``, called on a pool thread once it is committed.

Binds waiting for a worker go together: a worker takes every bind queued (up to
``BIND_BATCH``) and writes them in one group commit (``Client.batch``), each in its own
savepoint, so a pod gone or bound elsewhere fails alone. One transaction per bind had made
binding the slowest hop of a burst of Jobs: four workers, each waiting for the store's write
lock behind the job controller's group commits, bound ~33 pods/s while places stood free.
"""

from __future__ import annotations

import logging
import threading
from collections import deque
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor

from berth.platform.controllers.volume.matching import SELECTED_NODE
from berth.platform.errors import BerthError, Conflict, NotFound
from berth.platform.resources import registry
from berth.platform.resources.gpus import DEVICES_ANNOTATION
from berth.platform.resources.meta import rfc3339
from berth.platform.store.client import Client
from berth.platform.store.events import EventRecorder
from berth.scheduler.devices import format_devices
from berth.scheduler.state import UNSCHEDULABLE
from berth.scheduler.views import PodRequest

log = logging.getLogger(__name__)

BoundCallback = Callable[[PodRequest, str, Exception | None], None]
BIND_BATCH = 32  # binds per group commit at most


def unschedulable_condition(pod: dict, message: str, now: str) -> dict | None:
    """``pod`` with ``PodScheduled=False/Unschedulable: message``; None when there is nothing
    to write (already says so) or nothing to say (bound, or being deleted meanwhile)."""
    if (pod.get("spec") or {}).get("nodeName") or pod["metadata"].get("deletionTimestamp"):
        return None
    status = pod.setdefault("status", {})
    conditions = status.get("conditions") or []
    old = next((c for c in conditions if c.get("type") == "PodScheduled"), None)
    if (
        old is not None
        and old.get("status") == "False"
        and old.get("reason") == UNSCHEDULABLE
        and old.get("message") == message
    ):
        return None
    since = (
        old.get("lastTransitionTime") if old is not None and old.get("status") == "False" else now
    )
    condition = {
        "type": "PodScheduled",
        "status": "False",
        "lastProbeTime": None,
        "lastTransitionTime": since,
        "reason": UNSCHEDULABLE,
        "message": message,
    }
    status["conditions"] = (
        [condition if c is old else c for c in conditions]
        if old is not None
        else conditions + [condition]
    )
    return pod


class Writer:
    def __init__(
        self,
        client: Client,
        recorder: EventRecorder,
        on_bound: BoundCallback,
        *,
        bind_workers: int = 4,
        report_workers: int = 2,
    ) -> None:
        self.client = client
        self.recorder = recorder
        self.on_bound = on_bound
        self._binds = ThreadPoolExecutor(bind_workers, thread_name_prefix="scheduler-bind")
        self._reports = ThreadPoolExecutor(report_workers, thread_name_prefix="scheduler-report")
        self._lock = threading.Lock()
        self._binding = 0
        self._queued: deque[tuple[PodRequest, str, tuple[int, ...]]] = deque()

    @property
    def binding(self) -> int:
        """Binds submitted and not finished."""
        return self._binding

    def bind(self, pod: PodRequest, node: str, devices: tuple[int, ...] = ()) -> None:
        with self._lock:
            self._binding += 1
            self._queued.append((pod, node, devices))
        self._binds.submit(self._bind_queued)

    def report_unschedulable(self, pod: PodRequest, message: str) -> None:
        self._submit_report(self._report, pod, message)

    def close(self) -> None:
        """Finish the binds under way, drop those not started (their pods stay pending in
        the store, so whoever schedules next finds them)."""
        self._binds.shutdown(wait=True, cancel_futures=True)
        self._reports.shutdown(wait=True, cancel_futures=True)

    # ---- on the pools -------------------------------------------------------------------

    def _select_node(self, pod: PodRequest, node: str) -> None:
        """PreBind of claims that wait for their first consumer: tell the volume binder
        which node was chosen (``volume.kubernetes.io/selected-node``)."""
        for claim in pod.volumes.select if pod.volumes is not None else ():

            def mark(current: dict) -> dict | None:
                if (current.get("spec") or {}).get("volumeName"):
                    return None  # bound meanwhile: nothing left to choose
                annotations = dict(current["metadata"].get("annotations") or {})
                if annotations.get(SELECTED_NODE) == node:
                    return None
                annotations[SELECTED_NODE] = node
                return dict(current, metadata=dict(current["metadata"], annotations=annotations))

            self.client.guaranteed_update(
                registry.PERSISTENT_VOLUME_CLAIM, pod.namespace, claim, mark
            )

    def _bind_queued(self) -> None:
        """Write the binds queued so far (another worker may have taken them all)."""
        with self._lock:
            todo = [self._queued.popleft() for _ in range(min(len(self._queued), BIND_BATCH))]
        if not todo:
            return
        outcomes: list[tuple[dict | None, Exception | None]] = []
        try:
            with self.client.batch():
                for pod, node, devices in todo:
                    outcomes.append(self._bind(pod, node, devices))
        except Exception as exc:  # the commit failed (a store failure, a lost lease): retry all
            log.warning("binding %d pods failed: %s", len(todo), exc)
            outcomes = [(None, exc)] * len(todo)
        for (pod, node, _), (bound, error) in zip(todo, outcomes, strict=True):
            if bound is not None:
                self._submit_report(
                    self.recorder.normal,
                    bound,
                    "Scheduled",
                    f"Successfully assigned {pod.namespace}/{pod.name} to {node}",
                )
            with self._lock:
                self._binding -= 1
            self.on_bound(pod, node, error)

    def _bind(
        self, pod: PodRequest, node: str, devices: tuple[int, ...]
    ) -> tuple[dict | None, Exception | None]:
        """One bind inside the batch: the bound pod, or the error that refused it."""
        # The GPU devices ride on the Binding as an annotation, as Kubernetes copies a
        # Binding's annotations onto the pod: one write, so no pod runs without them.
        annotations = {DEVICES_ANNOTATION: format_devices(devices)} if devices else None
        try:
            self._select_node(pod, node)
            bound = self.client.bind(
                pod.namespace, pod.name, node, uid=pod.uid, annotations=annotations
            )
        except (Conflict, NotFound) as exc:
            return None, exc
        except Exception as exc:  # a store failure: the pod is retried, the loop lives on
            log.warning("binding %s/%s to %s failed: %s", pod.namespace, pod.name, node, exc)
            return None, exc
        return bound, None

    def _report(self, pod: PodRequest, message: str) -> None:
        now = rfc3339(self.client.clock())
        wrote: list[bool] = []

        def mutate(current: dict) -> dict | None:
            changed = None
            if current["metadata"].get("uid") == pod.uid:
                changed = unschedulable_condition(current, message, now)
            wrote[:] = [changed is not None]
            return changed

        try:
            updated = self.client.guaranteed_update(
                registry.POD, pod.namespace, pod.name, mutate, subresource="status"
            )
        except NotFound:
            return
        except BerthError as exc:
            log.info(
                "could not record why %s/%s is unschedulable: %s", pod.namespace, pod.name, exc
            )
            return
        if wrote == [True]:
            self.recorder.warning(updated, "FailedScheduling", message)

    def _submit_report(self, fn: Callable, *args) -> None:
        try:
            self._reports.submit(fn, *args)
        except RuntimeError:
            pass  # shutting down: an Event is not worth waiting for
