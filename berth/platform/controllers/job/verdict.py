"""Has the Job met the condition that ends it? (the decision half of Kubernetes ``syncJob``).

Failure is decided first and recorded as ``FailureTarget``; success as ``SuccessCriteriaMet``.
The final ``Failed`` / ``Complete`` follows only once every pod has stopped and been counted.
"""

from __future__ import annotations

from datetime import datetime, timedelta

from berth.platform.resources.meta import parse_time

from . import conditions, keys, pod_failure_policy, pod_state, success_policy
from .context import SyncContext
from .spec import JobSpec


def decide(ctx: SyncContext, status: dict) -> timedelta | None:
    """Set ``ctx.finished`` when the Job has met its end; return the wait until its deadline."""
    spec, now = ctx.spec, ctx.now
    conds = status.get("conditions") or []
    finished = conditions.find(conds, keys.SUCCESS_CRITERIA_MET)
    if finished is not None and finished.get("status") != "True":
        finished = None
    if finished is None:
        target = conditions.find(conds, keys.FAILURE_TARGET)
        if target is not None and target.get("status") == "True":
            finished = conditions.new_condition(
                keys.FAILED_CONDITION,
                "True",
                target.get("reason", ""),
                target.get("message", ""),
                now,
            )
        elif (message := fail_job_message(spec, ctx.pods)) is not None:
            finished = _failure(keys.POD_FAILURE_POLICY, message, now)
    deadline_wait = None
    if finished is None:
        if ctx.failed > spec.backoff_limit or past_backoff_limit_on_failure(spec, ctx.pods):
            finished = _failure(keys.BACKOFF_LIMIT_EXCEEDED, keys.BACKOFF_LIMIT_MESSAGE, now)
        elif (left := deadline_left(spec, status, now)) is not None and left <= timedelta(0):
            finished = _failure(keys.DEADLINE_EXCEEDED, keys.DEADLINE_MESSAGE, now)
        else:
            deadline_wait = left
    if spec.indexed and finished is None:
        finished = _indexed_verdict(ctx)
    ctx.finished = finished
    return deadline_wait


def _indexed_verdict(ctx: SyncContext) -> dict | None:
    spec, now = ctx.spec, ctx.now
    failed = ctx.failed_indexes
    if failed is not None:
        if spec.max_failed_indexes is not None and len(failed) > spec.max_failed_indexes:
            return _failure(keys.MAX_FAILED_INDEXES_EXCEEDED, keys.MAX_FAILED_INDEXES_MESSAGE, now)
        if failed and len(failed) + len(ctx.succeeded_indexes) >= (spec.completions or 0):
            return _failure(keys.FAILED_INDEXES, keys.FAILED_INDEXES_MESSAGE, now)
    message = success_policy.match(
        spec.success_policy, spec.completions or 0, ctx.succeeded_indexes
    )
    if message is not None:
        return conditions.new_condition(
            keys.SUCCESS_CRITERIA_MET, "True", keys.SUCCESS_POLICY, message, now
        )
    return None


def _failure(reason: str, message: str, now: datetime) -> dict:
    return conditions.new_condition(keys.FAILURE_TARGET, "True", reason, message, now)


def fail_job_message(spec: JobSpec, pods: list[dict]) -> str | None:
    """The message of the first failed pod that matches a FailJob rule, if any."""
    if spec.pod_failure_policy is None:
        return None
    for pod in pods:
        if pod_state.is_failed(pod, spec):
            verdict = pod_failure_policy.match(spec.pod_failure_policy, pod)
            if verdict.message is not None:
                return verdict.message
    return None


def past_backoff_limit_on_failure(spec: JobSpec, pods: list[dict]) -> bool:
    """With ``restartPolicy: OnFailure`` pods restart in place; their restarts are the failures.

    Kubernetes sums the restart counts of the pods still Pending or Running and fails the Job
    when the sum reaches ``backoffLimit`` (any restart at all when the limit is 0).
    """
    if spec.restart_policy != "OnFailure":
        return False
    restarts = sum(
        pod_state.restart_count(p)
        for p in pods
        if pod_state.phase(p) in (keys.RUNNING, keys.PENDING)
    )
    if spec.backoff_limit == 0:
        return restarts > 0
    return restarts >= spec.backoff_limit


def deadline_left(spec: JobSpec, status: dict, now: datetime) -> timedelta | None:
    """Time left before ``activeDeadlineSeconds`` runs out; None when no deadline is running."""
    started = status.get("startTime")
    if spec.active_deadline_seconds is None or started is None or spec.suspend:
        return None
    return timedelta(seconds=spec.active_deadline_seconds) - (now - parse_time(started))
