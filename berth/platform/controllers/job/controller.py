"""The Job controller: the store-facing shell around the pure ``plan`` (Kubernetes ``syncJob``).

Keys are ``(namespace, name)`` of a Job, or an ``OrphanPod`` whose tracking finalizer may have
to go. ``reconcile`` reads the Job and its pods from the informer caches, with Kubernetes'
``ControllerExpectations`` in their simplest exact form: a sync that wrote anything records
the store's resourceVersion after its writes, and the Job is not synced again until the
informers have applied every change up to it (``InformerHub.cursor``; the change that does so
queues the Job again). So a plan never comes from a cache that lacks the pods this controller
just created, deleted or released (it would create them twice, or count them twice), and the
controller never reads back what it just wrote. A cache that is stale for other reasons (a
write by someone else, not yet seen) is safe: the status write is a compare-and-set on the
Job's resourceVersion, and a refused one is retried from the caches once they caught up.

Orphans: a pod that still holds ``batch.kubernetes.io/job-tracking`` while no live Job
controls it (its Job was deleted, or orphaned it with propagation Orphan) would never be
removed; the controller releases it, as Kubernetes' ``syncOrphanPod`` does.
"""

from __future__ import annotations

import logging
import random
import threading
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from datetime import datetime
from typing import TYPE_CHECKING, Any

from berth.platform.cache.informers import Informer, InformerHub
from berth.platform.controllers.manager import Enqueue, Outcome
from berth.platform.resources import registry, selectors
from berth.platform.resources.meta import changed, clone, controller_of, dig, utcnow
from berth.platform.store.client import Client
from berth.platform.store.events import EventRecorder

from . import conditions, keys, pod_state
from .apply import Pending, apply_plans, release_finalizer
from .backoff import JobTracking
from .fold import plan_folded
from .plan import PodRef
from .spec import job_spec

if TYPE_CHECKING:
    from berth.platform.resources.types import Job, OwnerReference, Pod

log = logging.getLogger(__name__)

CONTROLLER_UID_INDEX = "job-controller-uid"
_EXPECTATIONS_RECHECK_S = 1.0
# Kubernetes' syncJobBatchPeriod: a pod change that only moves it along its way (bound,
# started, ready) syncs its Job this much later, so the changes of a pod that starts and ends
# within it cost one sync and no status write for ``ready`` alone. A pod that appears, ends,
# goes or is being deleted syncs its Job at once.
POD_UPDATE_BATCH_S = 1.0
JobKey = tuple[str, str]


@dataclass(frozen=True)
class OrphanPod:
    """Key of a pod whose tracking finalizer may be left without a Job to release it."""

    namespace: str
    name: str


def controller_uid(pod: Pod) -> list[str]:
    """Index function: the uid of the Job that controls ``pod`` (none for other owners)."""
    ref = _job_ref(pod)
    return [ref["uid"]] if ref is not None and ref.get("uid") else []


def _job_ref(obj: Mapping[str, Any]) -> OwnerReference | None:
    ref = controller_of(obj)
    if ref is None or ref.get("kind") != "Job" or ref.get("apiVersion") != registry.JOB.api_version:
        return None
    return ref


def pod_selector(job: Job) -> selectors.Selector:
    """The Job's ``spec.selector``, built from the object (never through its string form,
    which every sync of a Job parsed back).

    A Job that reached the store without one (written directly, not through the API) is
    matched on the controller-uid label its pods always carry.
    """
    selector = dig(job, "spec", "selector")
    if selector:
        return selectors.from_object(selector)
    return selectors.parse(f"{keys.CONTROLLER_UID}={dig(job, 'metadata', 'uid', default='')}")


class JobController:
    name = "job-controller"

    def __init__(
        self,
        client: Client,
        recorder: EventRecorder,
        clock: Callable[[], datetime] = utcnow,
        rng: random.Random | None = None,
    ):
        self.client = client
        self.recorder = recorder
        self.clock = clock
        self.rng = rng if rng is not None else random.Random()
        # Kubernetes' in-memory backoff record, per Job key, tagged with the Job's uid so that a
        # Job re-created under the same name starts afresh. Losing it only shortens a backoff.
        self._tracking: dict[JobKey, tuple[str, JobTracking]] = {}
        self._lock = threading.Lock()
        self._expected: dict[JobKey, int] = {}  # the hub cursor a Job's next sync waits for
        self._hub: InformerHub  # these are set by setup()
        self._jobs: Informer
        self._pods: Informer
        self._enqueue: Enqueue = lambda key, delay=0.0: None

    # -- wiring ---------------------------------------------------------------------------
    def setup(self, hub: InformerHub, enqueue: Enqueue) -> None:
        self._enqueue = enqueue
        self._hub = hub
        self._jobs = hub.informer(registry.JOB)
        self._pods = hub.informer(registry.POD)
        self._pods.add_index(CONTROLLER_UID_INDEX, controller_uid)
        self._jobs.add_handler(self._on_job)
        self._pods.add_handler(self._on_pod)

    def _on_job(self, old: Job | None, new: Job | None) -> None:
        md = changed(old, new)["metadata"]
        self._enqueue((md.get("namespace", ""), md["name"]))
        if new is None:
            # Kubernetes ``deleteJob``: its pods that still hold the finalizer are orphans now.
            for pod in self._pods.by_index(CONTROLLER_UID_INDEX, md.get("uid", "")):
                if pod_state.has_tracking_finalizer(pod):
                    self._enqueue(_orphan_key(pod))

    def _on_pod(self, old: Pod | None, new: Pod | None) -> None:
        pod = changed(old, new)
        namespace = pod["metadata"].get("namespace", "")
        ref = _job_ref(pod)
        if old is not None and new is not None:
            old_ref = _job_ref(old)
            if old_ref is not None and old_ref != ref:
                self._enqueue(
                    (namespace, old_ref["name"])
                )  # released or re-owned: sync the old Job
        if ref is not None and self._live_job(namespace, ref) is not None:
            self._enqueue(
                (namespace, ref["name"]), POD_UPDATE_BATCH_S if on_its_way(old, new) else 0.0
            )
            return
        if new is not None and pod_state.has_tracking_finalizer(new):
            if ref is not None or controller_of(new) is None:
                self._enqueue(_orphan_key(new))

    def _live_job(self, namespace: str, ref: OwnerReference) -> Job | None:
        job = self._jobs.get(namespace, ref.get("name", ""))
        if job is None or job["metadata"].get("uid") != ref.get("uid"):
            return None
        return job

    # -- reconcile ------------------------------------------------------------------------
    def reconcile(self, key: JobKey | OrphanPod) -> float | None:
        outcome = self.reconcile_many([key])[key]
        if isinstance(outcome, Exception):
            raise outcome
        return outcome

    def reconcile_many(self, keys: list[JobKey | OrphanPod]) -> dict[Any, Outcome]:
        """Sync many Jobs with one group commit (``apply_plans``): each is planned from the
        caches on its own, and all their writes go to the store in one transaction, where a
        refusal (a stale status) stops only its own Job. Per key: the requeue delay, None, or
        the error to retry it for."""
        outcomes: dict[Any, Outcome] = {}
        pending: list[tuple[JobKey, Pending]] = []
        for key in keys:
            try:
                if isinstance(key, OrphanPod):
                    outcomes[key] = self._release_orphan(key)
                    continue
                planned = self._plan(key)
            except Exception as exc:
                outcomes[key] = exc
                continue
            if isinstance(planned, Pending):
                pending.append((key, planned))
            else:
                outcomes[key] = planned
        if not pending:
            return outcomes
        try:
            applied = apply_plans(self.client, self.recorder, [p for _, p in pending])
        except Exception as exc:
            # Nothing of the transaction stands, but deletions before it may: wait for all.
            rv = self.client.db.current_rv()
            for key, _ in pending:
                self._expect(key, rv)
                outcomes[key] = exc
            return outcomes
        for (key, item), out in zip(pending, applied, strict=True):
            if out.rv is not None:  # the next sync waits until the caches hold this Job's writes
                self._expect(key, out.rv)
            if out.error is not None:
                outcomes[key] = out.error
                continue
            if conditions.is_finished(item.plan.status):
                self._forget(key)
            outcomes[key] = item.plan.requeue_after
        return outcomes

    def _plan(self, key: JobKey) -> Pending | float | None:
        """The Job's Plan with what it needs to be applied, or the outcome of a sync that has
        nothing to apply (the requeue delay or None)."""
        namespace, name = key
        if not self._caught_up(key):
            # The change that brings the caches up to our last writes queues the Job again;
            # the requeue is only a safety net.
            return _EXPECTATIONS_RECHECK_S
        if self._settled(namespace, name):
            return None
        cached = self._jobs.get(namespace, name)
        if cached is None:
            self._forget(key)
            with self._lock:
                self._expected.pop(key, None)
            return None
        job = clone(cached)  # the cache's objects are shared: plan on copies
        uid = job["metadata"]["uid"]
        cached_pods = self._pods_of(job)
        pods = [clone(p) for p in cached_pods]
        result = plan_folded(job, pods, self.clock(), self._remembered(key, uid), rng=self.rng)
        if not (result.write_status or result.create or result.delete or result.remove_finalizers):
            if result.events:
                for event in result.events:
                    self.recorder.event(job, event.type, event.reason, event.message)
            self._remember(key, uid, result.tracking)
            if conditions.is_finished(result.status):
                self._forget(key)
            return result.requeue_after
        return Pending(
            job,
            result,
            lambda tracking: self._remember(key, uid, tracking),
            cached=cached,
            cached_pods={pod_state.uid(p): p for p in cached_pods},
        )

    def _caught_up(self, key: JobKey) -> bool:
        if not self._hub.synced.wait(_EXPECTATIONS_RECHECK_S):
            return False  # the caches are not listed yet
        with self._lock:
            expected = self._expected.get(key)
            if expected is None:
                return True
            if self._hub.cursor < expected:
                return False
            del self._expected[key]
            return True

    def _expect(self, key: JobKey, rv: int) -> None:
        with self._lock:
            self._expected[key] = max(rv, self._expected.get(key, 0))

    def _settled(self, namespace: str, name: str) -> bool:
        """A finished Job with no tracked pod left needs nothing, ever: say so from the caches
        alone (a restart re-queues every Job; reading each finished one would cost minutes
        with 100k of them). A recreated Job arrives as a new event with an unfinished status."""
        cached = self._jobs.get(namespace, name)
        if cached is None or not conditions.is_finished(cached.get("status") or {}):
            return False
        uid = cached["metadata"].get("uid", "")
        return not any(
            keys.TRACKING_FINALIZER in (p["metadata"].get("finalizers") or [])
            for p in self._pods.by_index(CONTROLLER_UID_INDEX, uid)
        )

    def _pods_of(self, job: Job) -> list[dict]:
        """Every pod the Job controls and selects, from the cache (shared: read-only)."""
        md = job["metadata"]
        selector = pod_selector(job)
        return [
            p
            for p in self._pods.by_index(CONTROLLER_UID_INDEX, md["uid"])
            if p["metadata"].get("namespace", "") == md.get("namespace", "")
            and selector.matches(p["metadata"].get("labels") or {})
        ]

    def _release_orphan(self, key: OrphanPod) -> None:
        """Kubernetes ``syncOrphanPod``: drop the finalizer unless a live, unfinished Job that
        this controller manages still tracks the pod."""
        pod = self.client.try_get(registry.POD, key.namespace, key.name)
        if pod is None or not pod_state.has_tracking_finalizer(pod):
            return
        owner = controller_of(pod)
        if owner is not None:
            if _job_ref(pod) is None:
                return  # controlled by something that is not a Job: not ours to touch
            job = self.client.try_get(registry.JOB, key.namespace, owner.get("name", ""))
            if job is not None and job["metadata"].get("uid") == owner.get("uid"):
                if not job_spec(job).ours or not conditions.is_finished(job.get("status") or {}):
                    return  # its Job tracks it
        log.info("releasing the tracking finalizer of orphan pod %s/%s", key.namespace, key.name)
        release_finalizer(self.client, key.namespace, PodRef(key.name, pod_state.uid(pod)))

    # -- memory between syncs -------------------------------------------------------------
    def _remembered(self, key: JobKey, uid: str) -> JobTracking | None:
        with self._lock:
            kept = self._tracking.get(key)
        return kept[1] if kept is not None and kept[0] == uid else None

    def _remember(self, key: JobKey, uid: str, tracking: JobTracking) -> None:
        with self._lock:
            self._tracking[key] = (uid, tracking)

    def _forget(self, key: JobKey) -> None:
        with self._lock:
            self._tracking.pop(key, None)


def on_its_way(old: Pod | None, new: Pod | None) -> bool:
    """A pod update that changes nothing a Job counts at once: the pod existed and still
    does, is not finished, not being deleted, and kept its finalizers, labels and owners
    (binding it, or its status on the way to running or ready)."""
    if old is None or new is None or pod_state.is_terminal(new) or pod_state.is_terminal(old):
        return False
    before, after = old["metadata"], new["metadata"]
    return not after.get("deletionTimestamp") and all(
        before.get(k) == after.get(k)
        for k in ("finalizers", "labels", "ownerReferences", "deletionTimestamp", "uid")
    )


def _orphan_key(pod: Pod) -> OrphanPod:
    md = pod["metadata"]
    return OrphanPod(md.get("namespace", ""), md["name"])
