"""The CronJob controller: ``reconcile((namespace, name))`` on the shared runner.

Each reconcile reads the CronJob from the store (the truth) and its Jobs from the informer,
asks ``decide`` what is due, makes it so, writes the status once if it changed, and returns the
seconds until the next schedule time. A due run takes two passes: the first creates the Job
(after Replace's deletes) and requeues at once; the second, with that Job among the children,
deletes over-limit history, records the Events and writes the status (``active`` and
``lastScheduleTime`` follow from the Job itself). So when a thousand CronJobs are due in the
same second, a thousand Jobs are created before the first status write. Wake-ups come from three
places: a change to the CronJob or one of its Jobs, the requeue the last reconcile asked for, and
the APScheduler trigger of the CronJob's schedule (``wakeups``).

The trigger's wake-up is the fast path of a due run (``fire_due``): it hands over every CronJob
of that schedule at once; each is decided from the informer's view (no store read per
CronJob), the Jobs due are created in group commits (``firing``), and only then is each key
queued for its second pass (meanwhile neither the new Jobs' informer events nor a reconcile
touch those keys, so no status or Event write competes with the creates). A CronJob whose run
needs more than a create (Replace's deletes), or whose create failed, is left to its
reconcile, which reads the store. The reconcile's own look at the next run comes
``TRIGGER_GRACE_S`` after it: a safety net for a wake-up that never came.

Exactly once: a run's Job has a name fixed by its scheduled time, so a second create of it is an
``AlreadyExists`` (treated as done); and the controller writes through a client fenced by the
controller lease (``store.lease``), so a process that lost leadership cannot create a Job at all.

Observers: ``observers`` are called as ``observer(cronjob, decision, created)`` after each
reconcile that decided something, and for each Job ``fire_due`` made once its chunk committed
(``created`` is the Job's name, or None); ``decision.lateness`` and ``decision.missed`` are
what a metric of firing lateness and missed runs needs.
"""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Callable, Hashable
from datetime import datetime, timedelta

from berth.platform.cache.informers import Informer, InformerHub
from berth.platform.controllers.cronjob import firing
from berth.platform.controllers.cronjob import jobs as cjobs
from berth.platform.controllers.cronjob.decide import Decision, Event, decide
from berth.platform.controllers.cronjob.wakeups import Key, Wakeups
from berth.platform.errors import AlreadyExists, BerthError, NotFound
from berth.platform.resources import registry
from berth.platform.resources.meta import changed, controller_of, utcnow
from berth.platform.store.client import Client
from berth.platform.store.events import EventRecorder

log = logging.getLogger(__name__)

OWNER_INDEX = "cronjob-owner"
PROPAGATION = "Background"
TRIGGER_GRACE_S = 5.0  # the requeue at the next run, after the trigger's wake-up
PREPARE_LEAD = timedelta(seconds=10)  # Jobs built and validated this long before they are due

Observer = Callable[[dict, Decision, "str | None"], None]


def _cronjob_owner(job: dict) -> list[str]:
    ref = controller_of(job)
    return [ref["uid"]] if ref and ref.get("kind") == "CronJob" and ref.get("uid") else []


class CronJobController:
    name = "cronjob-controller"

    def __init__(
        self,
        client: Client,
        recorder: EventRecorder,
        clock: Callable[[], datetime] = utcnow,
        observers: list[Observer] | None = None,
    ):
        self.client = client  # fenced by the controller lease under berth up
        self.recorder = recorder
        self.clock = clock
        self.observers: list[Observer] = list(observers or [])
        self.jobs: Informer  # set by setup()
        self.cronjobs: Informer  # set by setup()
        self.wakeups: Wakeups | None = None
        self._enqueue: Callable[[Hashable], None] = lambda key: None  # set by setup()
        # Between the two passes of a run (a cache; the store stays the truth): the Job just
        # made, the Jobs just deleted, and the Events to record with the status.
        self._made: dict[Key, dict] = {}
        self._pending: dict[Key, list[Event]] = {}
        self._gone: dict[Key, set[str]] = {}
        self._lock = threading.Lock()  # _made and _pending: fire_due runs beside the workers
        self._firing: set[Key] = set()  # keys whose Jobs fire_due is making now
        # Made ready by prepare_due: key -> (the CronJob's resourceVersion, the scheduled
        # time, the Job prepared for the store), used by fire_due when both still match.
        self._ready: dict[Key, tuple[str, datetime, dict]] = {}

    # -- wiring -----------------------------------------------------------------------------
    def setup(self, hub: InformerHub, enqueue: Callable[[Hashable], None]) -> None:
        self._enqueue = enqueue
        wakeups = self.wakeups = Wakeups(self.fire_due, self.prepare_due, PREPARE_LEAD)
        self.jobs = hub.informer(registry.JOB)
        self.jobs.add_index(OWNER_INDEX, _cronjob_owner)
        self.cronjobs = cronjobs = hub.informer(registry.CRON_JOB)

        def on_cronjob(old: dict | None, new: dict | None) -> None:
            obj = changed(old, new)
            key = (obj["metadata"].get("namespace", ""), obj["metadata"]["name"])
            wakeups.sync(key, new)
            enqueue(key)

        def on_job(old: dict | None, new: dict | None) -> None:
            ref = controller_of(changed(old, new))
            if ref and ref.get("kind") == "CronJob":
                key = (changed(old, new)["metadata"].get("namespace", ""), ref["name"])
                if key not in self._firing:  # fire_due queues it once all Jobs are made
                    enqueue(key)

        cronjobs.add_handler(on_cronjob)
        self.jobs.add_handler(on_job)

    def start(self) -> None:
        self._wakeups().start()

    def stop(self) -> None:
        self._wakeups().stop()

    def health(self) -> tuple[bool, str]:
        if self.wakeups is None or not self.wakeups.running:
            return False, "cron triggers are not running"
        return True, f"{len(self.wakeups)} cron triggers"

    def _wakeups(self) -> Wakeups:
        if self.wakeups is None:
            raise RuntimeError("the CronJob controller was not set up (setup() not called)")
        return self.wakeups

    # -- reconcile --------------------------------------------------------------------------
    def reconcile(self, key: Key) -> float | None:
        if key in self._firing:
            return None  # fire_due is making its Job and queues the key when done
        namespace, name = key
        cj = self.client.try_get(registry.CRON_JOB, namespace, name)
        self._wakeups().sync(key, cj)
        if cj is None:
            with self._lock:
                self._made.pop(key, None)
                self._pending.pop(key, None)
                self._ready.pop(key, None)
            self._gone.pop(key, None)
            return None
        stored = cj.get("status") or {}
        cj, children = self._view(key, cj)
        decision = decide(cj, children, self.clock())
        if decision.create_for is not None:
            return self._fire(key, cj, decision)
        # Second pass (or any other wake-up): history, events, status.
        with self._lock:
            events = self._pending.pop(key, []) + decision.events
        ns = cj["metadata"].get("namespace", "")
        for job in decision.delete_history:
            if self._delete(ns, job):
                events.append(Event("Normal", "SuccessfulDelete", f"Deleted job {job}"))
        for event in events:
            self.recorder.event(cj, event.type, event.reason, event.message)
        if decision.status != stored:
            self.client.update_status(registry.CRON_JOB, dict(cj, status=decision.status))
        if decision.events:
            self._observe(cj, decision, None)
        if decision.requeue_after is not None and self._wakeups().scheduled(key):
            # The trigger wakes the key at the due instant (fire_due); this later look is
            # only the safety net for a wake-up that never came, and at the instant itself
            # would compete with the creates.
            return decision.requeue_after + TRIGGER_GRACE_S
        return decision.requeue_after

    def _fire(self, key: tuple[str, str], cj: dict, decision: Decision) -> float:
        """First pass of a due run: only what the run needs (Replace's deletes, the Job), then
        requeue at once. The key goes to the back of the queue, so when many CronJobs are due
        at the same instant every Job is created before any status or Event is written."""
        ns = cj["metadata"].get("namespace", "")
        events = decision.events
        for job in decision.delete_active:
            if self._delete(ns, job):
                events.append(Event("Normal", "SuccessfulDelete", f"Deleted job {job}"))
        if decision.delete_active:
            self._gone.setdefault(key, set()).update(decision.delete_active)
        made, created = self._create(cj, decision, events)
        self._remember(key, made, events)
        if created is not None:  # a run made before (AlreadyExists) was observed then
            self._observe(cj, decision, created)
        return 0.0

    def _remember(self, key: Key, made: dict | None, events: list[Event]) -> None:
        """Keep for the second pass: the Job just made, the Events to record."""
        with self._lock:
            if made is not None:
                self._made[key] = made
            self._pending[key] = self._pending.get(key, []) + events

    def fire_due(self, keys: list[Key]) -> None:
        """The first pass of the runs due now of ``keys`` (woken together by their schedule's
        trigger), with the Jobs created in group commits; then each key is queued for its
        second pass. Until then the Jobs just made queue nothing, so no status or Event write
        competes with the creates. Decided from the informer's CronJob: a stale one can only
        make a Job that exists already (the name is the scheduled time: ``AlreadyExists``,
        done) or one the garbage collector removes with a deleted CronJob, as in Kubernetes,
        whose controller reads its cache too. Any CronJob this cannot finish is left to its
        reconcile."""
        with self._lock:
            self._firing.update(keys)
        try:
            now, began = self.clock(), time.monotonic()
            made = 0
            for start in range(0, len(keys), firing.CHUNK):
                made += self._fire_chunk(keys[start : start + firing.CHUNK], now)
            log.info(
                "cronjob: woken at %s for %d CronJobs, made %d Jobs in %.3f s",
                now.isoformat(),
                len(keys),
                made,
                time.monotonic() - began,
            )
        except Exception as exc:  # the reconciles below retry what was not made
            log.warning(
                "cronjob: creating the due Jobs of %d CronJobs failed (%s)",
                len(keys),
                exc,
                exc_info=not isinstance(exc, BerthError),
            )
        finally:
            with self._lock:
                self._firing.difference_update(keys)
            for key in keys:
                self._enqueue(key)

    def prepare_due(self, keys: list[Key], at: datetime) -> None:
        """Ahead of the instant ``at`` when ``keys`` are due (their trigger's head start): build
        and prepare (defaults, validation: ``Client.prepare_create``) the Job each will need
        then, so that ``fire_due`` only writes it. Decided as ``fire_due`` will decide, from
        the informer's view; a CronJob that changes before ``at`` (another resourceVersion)
        or whose decision differs then has its Job built at the instant instead. Nothing is
        written here."""
        began, ready = time.monotonic(), 0
        for key in keys:
            if self.clock() > at:
                break  # late (a loaded machine): fire_due builds the rest and must not wait
            plan = self._plan(key, at)
            if plan is None:
                continue
            cj, decision = plan
            scheduled = decision.create_for
            if scheduled is None:
                continue
            try:
                job = self.client.prepare_create(registry.JOB, cjobs.build_job(cj, scheduled))
            except BerthError:
                continue  # refused: fire_due tries again and leaves it to its reconcile
            with self._lock:
                self._ready[key] = (cj["metadata"].get("resourceVersion", ""), scheduled, job)
            ready += 1
        log.info(
            "cronjob: prepared %d Jobs of %d CronJobs due at %s in %.3f s",
            ready,
            len(keys),
            at.isoformat(),
            time.monotonic() - began,
        )

    def _plan(self, key: Key, now: datetime) -> tuple[dict, Decision] | None:
        """The CronJob (informer's view) and its decision at ``now``, when it is a run that
        only needs its Job created."""
        cj = self.cronjobs.get(*key)
        if cj is None:
            return None
        cj, children = self._view(key, cj)
        decision = decide(cj, children, now)
        if decision.create_for is None or decision.delete_active:
            return None
        return cj, decision

    def _job_for(self, key: Key, cj: dict, scheduled: datetime) -> dict | None:
        """The prepared Job of this run: made ready ahead by ``prepare_due`` if that still
        holds, else prepared now; None when refused (its reconcile sees to it)."""
        with self._lock:
            ready = self._ready.pop(key, None)
        if (
            ready is not None
            and ready[0] == cj["metadata"].get("resourceVersion", "")
            and ready[1] == scheduled
        ):
            return ready[2]
        try:
            return self.client.prepare_create(registry.JOB, cjobs.build_job(cj, scheduled))
        except BerthError:
            return None

    def _fire_chunk(self, keys: list[Key], now: datetime) -> int:
        """The first pass of ``keys`` with their Jobs in group commits; how many were made."""
        made = 0
        plans = []
        for key in keys:
            plan = self._plan(key, now)
            if plan is None:
                continue
            cj, decision = plan
            if decision.create_for is None:
                continue
            job = self._job_for(key, cj, decision.create_for)
            if job is not None:
                plans.append((key, cj, decision, job))
        results = firing.create_jobs(self.client, [plan[3] for plan in plans], prepared=True)
        for (key, cj, decision, _job), result in zip(plans, results, strict=True):
            if result.job is None:
                continue  # made before, or refused: its reconcile sees to it
            name = result.job["metadata"]["name"]
            self._remember(
                key,
                result.job,
                decision.events + [Event("Normal", "SuccessfulCreate", f"Created job {name}")],
            )
            self._observe(cj, decision, name)
            made += 1
        return made

    def _view(self, key: Key, cj: dict) -> tuple[dict, list[dict]]:
        """The CronJob and its Jobs as this controller knows them: the informer's Jobs, plus
        the Job it just made and less the ones it just deleted (Replace) while the informer
        has not caught up, so the second pass neither makes a Job again nor sees a deleted
        one as missing or adopts it."""
        uid, namespace = cj["metadata"]["uid"], key[0]
        children = [
            j
            for j in self.jobs.by_index(OWNER_INDEX, uid)
            if j["metadata"].get("namespace", "") == namespace
        ]
        names = {j["metadata"]["name"] for j in children}
        made = self._made.get(key)
        if made is not None:
            if made["metadata"]["name"] in names or not cjobs.owned_by(made, cj):
                with self._lock:
                    if self._made.get(key) is made:
                        self._made.pop(key)
            else:
                children.append(made)
        gone = self._gone.get(key)
        if gone:
            gone &= names  # forgotten once the informer saw them go
            if not gone:
                self._gone.pop(key, None)
            children = [j for j in children if j["metadata"]["name"] not in gone]
            active = [
                r for r in (cj.get("status") or {}).get("active") or [] if r.get("name") not in gone
            ]
            cj = dict(cj, status=dict(cj.get("status") or {}, active=active))
            if not active:
                cj["status"].pop("active")
        return cj, children

    def _observe(self, cj: dict, decision: Decision, created: str | None) -> None:
        for observe in self.observers:
            observe(cj, decision, created)

    def _create(
        self, cj: dict, decision: Decision, events: list[Event]
    ) -> tuple[dict | None, str | None]:
        """Create the run's Job: (the Job, its name if this call made it)."""
        if decision.create_for is None:  # reconcile fires only a decision that creates a run
            raise ValueError("no scheduled time to create a Job for")
        job = cjobs.build_job(cj, decision.create_for)
        name = job["metadata"]["name"]
        try:
            made = self.client.create(registry.JOB, job)
        except AlreadyExists:
            # Made before (by us or a previous leader): this run is done. A stranger's Job of
            # that name blocks the run, as in Kubernetes.
            made = self.client.try_get(registry.JOB, job["metadata"]["namespace"], name)
            if made is None or not cjobs.owned_by(made, cj):
                events.append(
                    Event(
                        "Warning",
                        "FailedCreate",
                        f"Error creating job: {name} exists and is not ours",
                    )
                )
                return None, None
            return made, None
        events.append(Event("Normal", "SuccessfulCreate", f"Created job {name}"))
        return made, name

    def _delete(self, namespace: str, name: str) -> bool:
        try:
            self.client.delete(registry.JOB, namespace, name, propagation_policy=PROPAGATION)
        except NotFound:
            return False
        return True
