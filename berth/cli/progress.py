"""What ``berth run`` tells a person while it follows a Job (pure, from the Job and its Pods)."""

from __future__ import annotations

from dataclasses import dataclass

from berth.platform.resources.meta import dig

INDEX_ANNOTATION = "batch.kubernetes.io/job-completion-index"


@dataclass(frozen=True)
class Progress:
    pending: int
    running: int
    succeeded: int
    failed: int
    waiting: str = ""  # why a pending pod is not placed, as the scheduler wrote it


@dataclass(frozen=True)
class Verdict:
    succeeded: bool
    reason: str
    message: str


def unschedulable_message(pod: dict) -> str:
    for condition in dig(pod, "status", "conditions", default=[]) or []:
        if condition.get("type") == "PodScheduled" and condition.get("status") == "False":
            return condition.get("message") or condition.get("reason") or ""
    return ""


def progress(job: dict, pods: list[dict]) -> Progress:
    """Succeeded and failed from the Job's status; running and pending from the pods seen.

    The Job's ``active`` count may run ahead of the pods seen (a pod created but not yet
    watched: counted pending) or behind them (a pod just finished that the controller has
    not counted yet: not counted at all), so the two sources are reconciled here.
    """
    status = job.get("status") or {}
    live = [p for p in pods if not dig(p, "metadata", "deletionTimestamp")]
    phases = [dig(p, "status", "phase", default="Pending") for p in live]
    pending = [p for p, phase in zip(live, phases, strict=True) if phase == "Pending"]
    running = phases.count("Running")
    succeeded, failed = int(status.get("succeeded") or 0), int(status.get("failed") or 0)
    uncounted = max(phases.count("Succeeded") + phases.count("Failed") - succeeded - failed, 0)
    unseen = max(int(status.get("active") or 0) - len(pending) - running - uncounted, 0)
    waiting = next((m for m in map(unschedulable_message, pending) if m), "")
    return Progress(
        pending=len(pending) + unseen,
        running=running,
        succeeded=succeeded,
        failed=failed,
        waiting=waiting,
    )


def describe_progress(name: str, p: Progress) -> str:
    text = (
        f"job.batch/{name}: {p.pending} pending, {p.running} running, "
        f"{p.succeeded} succeeded, {p.failed} failed"
    )
    return f"{text} ({p.waiting})" if p.waiting else text


def verdict(job: dict) -> Verdict | None:
    """The Job's final outcome once it has a ``Complete`` or ``Failed`` condition."""
    for condition in dig(job, "status", "conditions", default=[]) or []:
        if condition.get("status") != "True":
            continue
        if condition.get("type") == "Complete":
            return Verdict(
                True, condition.get("reason") or "Completed", condition.get("message") or ""
            )
        if condition.get("type") == "Failed":
            return Verdict(
                False, condition.get("reason") or "Failed", condition.get("message") or ""
            )
    return None


def describe_verdict(name: str, job: dict, v: Verdict) -> str:
    if v.succeeded:
        succeeded = dig(job, "status", "succeeded", default=0)
        wanted = dig(job, "spec", "completions")
        count = f"{succeeded}/{wanted}" if wanted is not None else str(succeeded)
        return f"job.batch/{name} completed ({count} succeeded)"
    detail = f"{v.reason}: {v.message}" if v.message else v.reason
    return f"job.batch/{name} failed: {detail}"


def has_run(pod: dict) -> bool:
    """The pod has left Pending, or one of its containers has started: it has a log to show."""
    if dig(pod, "status", "phase", default="Pending") != "Pending":
        return True
    for status in dig(pod, "status", "containerStatuses", default=[]) or []:
        state = status.get("state") or {}
        if "running" in state or "terminated" in state:
            return True
    return False


def log_prefix(job: dict, pod: dict) -> str:
    """``[3] `` for an Indexed job's pod, ``[pod-name] `` when the job runs several pods, else
    nothing: a one-pod job's output reads as if it ran here."""
    if dig(job, "spec", "completionMode") == "Indexed":
        index = dig(pod, "metadata", "annotations", INDEX_ANNOTATION)
        if index is not None:
            return f"[{index}] "
    spec = job.get("spec") or {}
    if (spec.get("completions") or 1) > 1 or (spec.get("parallelism") or 1) > 1:
        return f"[{dig(pod, 'metadata', 'name')}] "
    return ""


def pod_failure(pod: dict) -> str | None:
    """``pod/x failed: Error (exit code 1)`` for a failed pod, else None."""
    if dig(pod, "status", "phase") != "Failed":
        return None
    name = dig(pod, "metadata", "name")
    for status in dig(pod, "status", "containerStatuses", default=[]) or []:
        terminated = dig(status, "state", "terminated")
        if terminated and terminated.get("exitCode", 0) != 0:
            detail = f"{terminated.get('reason') or 'Error'} (exit code {terminated['exitCode']})"
            if terminated.get("message"):
                detail += f": {terminated['message'].strip()}"
            return f"pod/{name} failed: {detail}"
    reason = dig(pod, "status", "reason") or "Failed"
    message = dig(pod, "status", "message")
    return f"pod/{name} failed: {reason}" + (f": {message}" if message else "")
