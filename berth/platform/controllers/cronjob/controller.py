"""The CronJob controller: ``reconcile((namespace, name))`` on the shared runner.

Each reconcile reads the CronJob from the store (the truth) and its Jobs from the informer,
asks ``decide`` what is due, makes it so, writes the status once if it changed, and returns the
seconds until the next schedule time. Wake-ups come from three places: a change to the CronJob
or one of its Jobs, the requeue the last reconcile asked for, and the CronJob's APScheduler
trigger (``wakeups``), which enqueues the key at the due instant.

Exactly once: a run's Job has a name fixed by its scheduled time, so a second create of it is an
``AlreadyExists`` (treated as done); and the controller writes through a client fenced by the
controller lease (``store.lease``), so a process that lost leadership cannot create a Job at all.

Observers: ``observers`` are called as ``observer(cronjob, decision, created)`` after each
reconcile that decided something (``created`` is the Job's name, or None); ``decision.lateness``
and ``decision.missed`` are what a metric of firing lateness and missed runs needs.
"""

from __future__ import annotations

import logging
from datetime import datetime
from typing import Callable, Hashable

from berth.platform.controllers.cronjob import jobs as cjobs
from berth.platform.controllers.cronjob.decide import Decision, decide
from berth.platform.controllers.cronjob.wakeups import Wakeups
from berth.platform.controllers.informers import InformerHub
from berth.platform.errors import AlreadyExists, NotFound
from berth.platform.resources import registry
from berth.platform.resources.meta import controller_of, rfc3339, utcnow
from berth.platform.store.client import Client
from berth.platform.store.events import EventRecorder

log = logging.getLogger(__name__)

OWNER_INDEX = "cronjob-owner"
PROPAGATION = "Background"

Observer = Callable[[dict, Decision, "str | None"], None]


def _cronjob_owner(job: dict) -> list[str]:
    ref = controller_of(job)
    return [ref["uid"]] if ref and ref.get("kind") == "CronJob" and ref.get("uid") else []


class CronJobController:
    name = "cronjob-controller"

    def __init__(self, client: Client, recorder: EventRecorder,
                 clock: Callable[[], datetime] = utcnow,
                 observers: list[Observer] | None = None):
        self.client = client          # fenced by the controller lease under berth up
        self.recorder = recorder
        self.clock = clock
        self.observers: list[Observer] = list(observers or [])
        self.jobs = None
        self.wakeups: Wakeups | None = None

    # -- wiring -----------------------------------------------------------------------------
    def setup(self, hub: InformerHub, enqueue: Callable[[Hashable], None]) -> None:
        self.wakeups = Wakeups(enqueue)
        self.jobs = hub.informer(registry.JOB)
        self.jobs.add_index(OWNER_INDEX, _cronjob_owner)
        cronjobs = hub.informer(registry.CRON_JOB)

        def on_cronjob(old: dict | None, new: dict | None) -> None:
            obj = new or old
            key = (obj["metadata"].get("namespace", ""), obj["metadata"]["name"])
            self.wakeups.sync(key, new)
            enqueue(key)

        def on_job(old: dict | None, new: dict | None) -> None:
            ref = controller_of(new or old)
            if ref and ref.get("kind") == "CronJob":
                enqueue(((new or old)["metadata"].get("namespace", ""), ref["name"]))

        cronjobs.add_handler(on_cronjob)
        self.jobs.add_handler(on_job)

    def start(self) -> None:
        self.wakeups.start()

    def stop(self) -> None:
        self.wakeups.stop()

    def health(self) -> tuple[bool, str]:
        if self.wakeups is None or not self.wakeups.running:
            return False, "cron triggers are not running"
        return True, f"{len(self.wakeups)} cron triggers"

    # -- reconcile --------------------------------------------------------------------------
    def reconcile(self, key: Hashable) -> float | None:
        namespace, name = key
        cj = self.client.try_get(registry.CRON_JOB, namespace, name)
        self.wakeups.sync(key, cj)
        if cj is None:
            return None
        children = [j for j in self.jobs.by_index(OWNER_INDEX, cj["metadata"]["uid"])
                    if j["metadata"].get("namespace", "") == namespace]
        decision = decide(cj, children, self.clock())
        created = self._apply(cj, decision)
        for event in decision.events:
            self.recorder.event(cj, event.type, event.reason, event.message)
        if decision.status != (cj.get("status") or {}):
            updated = dict(cj, status=decision.status)
            self.client.update_status(registry.CRON_JOB, updated)
        if created or decision.events or decision.create_for:
            for observe in self.observers:
                observe(cj, decision, created)
        return decision.requeue_after

    def _apply(self, cj: dict, decision: Decision) -> str | None:
        """Make the Jobs match the decision; returns the name of a Job created."""
        ns = cj["metadata"].get("namespace", "")
        for name in decision.delete_active:
            if self._delete(ns, name):
                self.recorder.normal(cj, "SuccessfulDelete", f"Deleted job {name}")
        if decision.delete_active:
            decision.status.pop("active", None)
        created = None
        if decision.create_for is not None:
            created = self._create(cj, decision)
        for name in decision.delete_history:
            if self._delete(ns, name):
                self.recorder.normal(cj, "SuccessfulDelete", f"Deleted job {name}")
        return created

    def _create(self, cj: dict, decision: Decision) -> str | None:
        job = cjobs.build_job(cj, decision.create_for)
        name = job["metadata"]["name"]
        try:
            made = self.client.create(registry.JOB, job)
        except AlreadyExists:
            # Made before (by us or a previous leader) — this run is done. Only our own Job
            # counts: a stranger's Job of that name blocks the run, as in Kubernetes.
            made = self.client.try_get(registry.JOB, job["metadata"]["namespace"], name)
            if made is None or not cjobs.owned_by(made, cj):
                self.recorder.warning(cj, "FailedCreate",
                                      f"Error creating job: {name} exists and is not ours")
                return None
            created = None
        else:
            self.recorder.normal(cj, "SuccessfulCreate", f"Created job {name}")
            created = name
        status = decision.status
        refs = [r for r in status.get("active") or [] if r.get("name") != name]
        status["active"] = refs + [cjobs.job_ref(made)]
        status["lastScheduleTime"] = rfc3339(decision.create_for)
        return created

    def _delete(self, namespace: str, name: str) -> bool:
        try:
            self.client.delete(registry.JOB, namespace, name, propagation_policy=PROPAGATION)
        except NotFound:
            return False
        return True
