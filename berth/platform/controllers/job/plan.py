"""The Job controller's decision, as one pure function (Kubernetes ``syncJob``).

``plan(job, pods, now, state)`` reads a Job and its pods and says what to do; the store-facing
``reconcile(key)`` applies the Plan in this order, stopping at the first error (re-planning from
the store is always safe):

1. ``delete``: for each, remove the tracking finalizer first when ``release_finalizer`` says so
   (pods dropped by a scale-down or a suspension are not counted), then delete the pod;
2. write ``status`` when ``write_status``; then keep ``tracking`` for the next call;
3. remove the tracking finalizer from every pod in ``remove_finalizers`` (never before 2: see
   ``tracking.py`` for why no pod is lost or counted twice, whenever the controller dies);
4. create the pods in ``create``;
5. record ``events``; call ``plan`` again after ``requeue_after`` seconds, if not woken before
   by a change to the Job or its pods.
"""

from __future__ import annotations

import random
from dataclasses import dataclass, field
from datetime import datetime, timedelta

from berth.platform.resources.meta import clone, rfc3339

from . import conditions, keys, pod_state, tracking, verdict
from .backoff import JobTracking
from .context import SyncContext, observe
from .manage import manage
from .spec import JobSpec, job_spec

NORMAL = "Normal"
WARNING = "Warning"
# Kubernetes never requeues a delayed creation sooner than its batching period.
MIN_REQUEUE = timedelta(seconds=1)


@dataclass(frozen=True)
class Event:
    type: str
    reason: str
    message: str


@dataclass(frozen=True)
class PodRef:
    name: str
    uid: str


@dataclass(frozen=True)
class Deletion:
    name: str
    uid: str
    release_finalizer: bool  # remove the tracking finalizer before deleting: never counted


@dataclass
class Plan:
    status: dict
    write_status: bool = False
    create: list[dict] = field(default_factory=list)
    delete: list[Deletion] = field(default_factory=list)
    remove_finalizers: list[PodRef] = field(default_factory=list)
    events: list[Event] = field(default_factory=list)
    requeue_after: float | None = None
    tracking: JobTracking = field(default_factory=JobTracking)
    # The status already counts the pods of remove_finalizers (fold.py): their finalizers
    # go in the status write's transaction or not at all.
    counts_released: bool = False


def _ref(pod: dict) -> PodRef:
    return PodRef(pod_state.pod_name(pod), pod_state.uid(pod))


def plan(
    job: dict,
    pods: list[dict],
    now: datetime,
    state: JobTracking | None = None,
    *,
    rng: random.Random | None = None,
) -> Plan:
    """What to do for ``job`` given all the pods it controls, at ``now``.

    ``state`` is the ``tracking`` of the previous Plan for this Job (None after a restart);
    ``rng`` names new pods. ``pods`` must reflect every write of earlier Plans.
    """
    rng = rng if rng is not None else random.Random()
    record = state if state is not None else JobTracking()
    before = job.get("status") or {}
    status = clone(before)

    # 1. A Job another controller manages is left alone. A finished Job never changes again;
    #    only finalizers left on its pods are released.
    spec = job_spec(job)
    if not spec.ours:
        return Plan(status=status, tracking=record)
    if conditions.is_finished(status):
        held = [_ref(p) for p in pods if pod_state.has_tracking_finalizer(p)]
        return Plan(status=status, remove_finalizers=held)
    if not spec.known_completion_mode or (spec.indexed and spec.completions is None):
        warning = Event(
            WARNING, "UnknownCompletionMode", "Skipped Job sync because completion mode is unknown"
        )
        return Plan(status=status, events=[warning], tracking=record)

    # 2. Observe the pods; start the clock on the first sync of a Job that is not suspended.
    ctx = observe(spec, status, pods, now, record)
    if status.get("startTime") is None and not spec.suspend:
        status["startTime"] = rfc3339(now)

    # 3. Decide whether the Job has met its end (failure first, then success).
    deadline_wait = verdict.decide(ctx, status)

    # 4. Act on the pods.
    result = Plan(status=status)
    waits: list[timedelta] = []
    if deadline_wait is not None:
        waits.append(deadline_wait)
    active = _act(ctx, job, rng, status, result, waits)
    status["active"] = active
    status["ready"] = ctx.ready
    status["terminating"] = ctx.terminating

    # 5. Count finished pods (two-phase, see tracking.py) and settle the final condition.
    tracked = tracking.track(ctx, status)
    final = tracking.settle(ctx, status, tracked)
    result.remove_finalizers = [_ref(p) for p in tracked.release]
    if final is not None:
        result.events.extend(_finished_events(spec, status, final))
    elif tracked.release or tracked.capped:
        # Their UIDs move into the counters on the next sync; run it right away.
        waits.append(timedelta(0))

    _normalize(status)
    result.write_status = status != before
    result.tracking = ctx.record if result.write_status else record
    if final is None and waits:
        result.requeue_after = max(min(waits), timedelta(0)).total_seconds()
    return result


def _act(
    ctx: SyncContext, job: dict, rng: random.Random, status: dict, result: Plan, waits: list
) -> int:
    """Delete or create pods and handle suspension; returns the number of active pods after."""
    spec = ctx.spec
    if ctx.finished is not None:
        # Every pod still running is stopped. Its finalizer stays: it is counted like any other
        # (as failed when the Job fails), and only then released.
        _delete(ctx, ctx.active_pods, False, result)
        return 0
    active = len(ctx.active_pods)
    managed = not spec.deleting
    if managed:
        outcome = manage(ctx, job, rng)
        active = outcome.active
        _delete(ctx, outcome.delete, True, result)
        result.create = outcome.create
        result.events.extend(
            Event(NORMAL, "SuccessfulCreate", f"Created pod: {pod_state.pod_name(p)}")
            for p in outcome.create
        )
        if outcome.wait is not None:
            waits.append(max(outcome.wait, MIN_REQUEUE))
    if _complete(spec, ctx.succeeded, active):
        ctx.finished = conditions.new_condition(
            keys.SUCCESS_CRITERIA_MET,
            "True",
            keys.COMPLETIONS_REACHED,
            keys.COMPLETIONS_REACHED_MESSAGE,
            ctx.now,
        )
    elif managed:
        _suspension(spec, ctx.now, status, result)
    return active


def _complete(spec: JobSpec, succeeded: int, active: int) -> bool:
    if active != 0:
        return False
    if spec.completions is None:
        # A work queue is done when any pod succeeded and none is left running.
        return succeeded > 0
    return succeeded >= spec.completions


def _delete(ctx: SyncContext, pods: list[dict], release: bool, result: Plan) -> None:
    for pod in pods:
        result.delete.append(Deletion(pod_state.pod_name(pod), pod_state.uid(pod), release))
        result.events.append(
            Event(NORMAL, "SuccessfulDelete", f"Deleted pod: {pod_state.pod_name(pod)}")
        )
    ctx.ready -= sum(1 for p in pods if pod_state.is_ready(p))
    ctx.terminating += len(pods)


def _suspension(spec: JobSpec, now: datetime, status: dict, result: Plan) -> None:
    conds = status.get("conditions") or []
    if spec.suspend:
        conds, changed = conditions.ensure(
            conds, keys.SUSPENDED, "True", keys.JOB_SUSPENDED, "Job suspended", now
        )
        # Kubernetes 1.35+ clears startTime while suspended: activeDeadlineSeconds measures
        # continuous activity, and the pod template may be edited before the Job resumes.
        status.pop("startTime", None)
        if changed:
            result.events.append(Event(NORMAL, "Suspended", "Job suspended"))
    else:
        conds, changed = conditions.ensure(
            conds, keys.SUSPENDED, "False", keys.JOB_RESUMED, "Job resumed", now
        )
        if changed:
            result.events.append(Event(NORMAL, "Resumed", "Job resumed"))
            status["startTime"] = rfc3339(now)
    status["conditions"] = conds


def _finished_events(spec: JobSpec, status: dict, final: dict) -> list[Event]:
    if final["type"] != keys.COMPLETE:
        return [Event(WARNING, final.get("reason", ""), final.get("message", ""))]
    events = []
    if spec.completions is not None and (status.get("succeeded") or 0) > spec.completions:
        events.append(
            Event(
                WARNING,
                "TooManySucceededPods",
                "Too many succeeded pods running after completion count reached",
            )
        )
    events.append(Event(NORMAL, "Completed", "Job completed"))
    return events


def _normalize(status: dict) -> None:
    """Drop what Kubernetes omits when empty, so an unchanged status compares equal."""
    for key in ("active", "succeeded", "failed"):
        if not status.get(key):
            status.pop(key, None)
    for key in ("completedIndexes", "conditions"):
        if not status.get(key):
            status.pop(key, None)
