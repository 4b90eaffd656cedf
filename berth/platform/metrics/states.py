"""Pure readings of Jobs, Pods and CronJobs for metrics: a Job's state, how and when it
finished, why a Pod failed, and when a CronJob fires next."""

from __future__ import annotations

from datetime import datetime
from typing import NamedTuple

from berth.platform.controllers.cronjob import times
from berth.platform.resources.meta import dig, parse_time
from berth.platform.resources.pods import PHASES
from berth.platform.resources.validation import cron

JOB_STATES = ("pending", "active", "suspended", "complete", "failed")
POD_PHASES = PHASES


def _condition_true(obj: dict, kind: str) -> dict | None:
    for condition in dig(obj, "status", "conditions", default=()) or ():
        if condition.get("type") == kind and condition.get("status") == "True":
            return condition
    return None


def job_state(job: dict, running: bool) -> str:
    """One of ``JOB_STATES``: finished (complete, failed), suspended, active (``running``: at
    least one of its pods is Running) or pending (queued: its pods wait for a node or are
    starting, or none was created yet)."""
    if _condition_true(job, "Complete"):
        return "complete"
    if _condition_true(job, "Failed"):
        return "failed"
    if dig(job, "spec", "suspend"):
        return "suspended"
    return "active" if running else "pending"


class JobFinish(NamedTuple):
    result: str  # "complete" or "failed"
    reason: str  # the condition's reason (CompletionsReached, BackoffLimitExceeded...)
    duration_s: float | None  # start to finish, None when the Job never started


def job_finish(job: dict) -> JobFinish | None:
    """How the Job finished, or None while it runs."""
    for result, kind in (("complete", "Complete"), ("failed", "Failed")):
        condition = _condition_true(job, kind)
        if condition is None:
            continue
        start = dig(job, "status", "startTime")
        end = dig(job, "status", "completionTime") or condition.get("lastTransitionTime")
        duration = None
        if start and end:
            duration = max((parse_time(end) - parse_time(start)).total_seconds(), 0.0)
        return JobFinish(result, condition.get("reason") or "Unknown", duration)
    return None


def pod_failure_reason(pod: dict) -> str:
    """Why a Failed pod failed: the pod's reason (Evicted, DeadlineExceeded, NodeLost...), or
    the first terminated container's (Error, OOMKilled, StartError...)."""
    reason = dig(pod, "status", "reason")
    if reason:
        return reason
    for status in dig(pod, "status", "containerStatuses", default=()) or ():
        terminated = dig(status, "state", "terminated")
        if terminated and terminated.get("exitCode", 0) != 0:
            return terminated.get("reason") or "Error"
    return "Unknown"


def has_started(pod: dict) -> bool:
    """The pod's containers were started on a node (Running, or finished after running)."""
    phase = dig(pod, "status", "phase")
    if phase == "Running":
        return True
    for status in dig(pod, "status", "containerStatuses", default=()) or ():
        state = status.get("state") or {}
        if "running" in state or dig(state, "terminated", "startedAt"):
            return True
    return False


def cron_next_fire(schedule: str, time_zone: str | None, after: datetime) -> datetime | None:
    """The first time after ``after`` that ``schedule`` fires, exactly as the CronJob
    controller computes it (None: not a valid schedule or time zone)."""
    try:
        parsed = cron.parse(schedule)
        return times.next_time(parsed, times.zone_of(parsed.zone or time_zone), after)
    except (cron.CronError, times.UnknownZone):
        return None
