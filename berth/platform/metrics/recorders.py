"""Counters and histograms fed by the informers: every Job and Pod change is looked at once,
as it happens, and its transitions recorded.

The informers call these handlers from their one thread, in resourceVersion order, so the
bookkeeping here needs no lock. Only transitions seen live count: after a restart the
informers list every object again (``old`` is None), and an object that finished while no
controller ran is not counted a second time.
"""

from __future__ import annotations

import time
from collections.abc import Callable

from berth.platform.cache.informers import InformerHub
from berth.platform.metrics.capacity import CONTROLLER_UID
from berth.platform.metrics.series import Metrics
from berth.platform.metrics.states import has_started, job_finish, pod_failure_reason
from berth.platform.resources import registry
from berth.platform.resources.meta import dig, labels_of


def _uid(obj: dict | None) -> str:
    return dig(obj, "metadata", "uid", default="") if obj else ""


def _node(pod: dict | None) -> str | None:
    return dig(pod, "spec", "nodeName") if pod else None


def _phase(pod: dict | None) -> str | None:
    return dig(pod, "status", "phase") if pod else None


class EventRecorder:
    def __init__(self, metrics: Metrics, clock: Callable[[], float] = time.monotonic):
        self.metrics = metrics
        self.clock = clock
        self._queued_jobs: dict[str, float] = {}  # job uid -> seen, until a pod is bound
        self._unbound_pods: dict[str, float] = {}  # pod uid -> seen unbound, until bound

    def register(self, hub: InformerHub) -> None:
        hub.informer(registry.JOB).add_handler(self.on_job)
        hub.informer(registry.POD).add_handler(self.on_pod)

    # -- jobs -----------------------------------------------------------------------------
    def on_job(self, old: dict | None, new: dict | None) -> None:
        if new is None:
            self._queued_jobs.pop(_uid(old), None)
            return
        finish = job_finish(new)
        if old is None:
            if finish is None and not dig(new, "status", "active"):
                self._queued_jobs[_uid(new)] = self.clock()
            return
        if finish is None or job_finish(old) is not None:
            return
        self._queued_jobs.pop(_uid(new), None)
        m = self.metrics
        if finish.result == "complete":
            m.job_completions.labels(m.job_reason(finish.reason)).inc()
        else:
            m.job_failures.labels(m.job_reason(finish.reason)).inc()
        if finish.duration_s is not None:
            m.job_duration.labels(finish.result).observe(finish.duration_s)

    # -- pods -----------------------------------------------------------------------------
    def on_pod(self, old: dict | None, new: dict | None) -> None:
        if new is None:
            self._unbound_pods.pop(_uid(old), None)
            return
        uid = _uid(new)
        now = self.clock()
        if not _node(new):
            if _phase(new) in (None, "Pending"):
                self._unbound_pods.setdefault(uid, now)
            return
        if not _node(old):
            self._bound(uid, new, now)
        if old is None:
            return
        m = self.metrics
        if has_started(new) and not has_started(old):
            m.pod_launches.labels(_node(new)).inc()
        if _phase(new) == "Failed" and _phase(old) != "Failed":
            m.pod_failures.labels(m.pod_reason(pod_failure_reason(new))).inc()

    def _bound(self, uid: str, pod: dict, now: float) -> None:
        seen = self._unbound_pods.pop(uid, None)
        if seen is not None:
            self.metrics.scheduling_latency.observe(now - seen)
        job_uid = labels_of(pod).get(CONTROLLER_UID)
        queued = self._queued_jobs.pop(job_uid, None) if job_uid else None
        if queued is not None:
            self.metrics.job_queue_wait.observe(now - queued)
