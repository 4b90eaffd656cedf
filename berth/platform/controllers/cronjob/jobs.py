"""The Jobs of a CronJob: how a run's Job is named and built, and what a Job says about itself."""

from __future__ import annotations

import copy
from datetime import UTC, datetime

from berth.platform.resources.meta import dig, parse_time, rfc3339

SCHEDULED_TIMESTAMP = "batch.kubernetes.io/cronjob-scheduled-timestamp"


def job_name(cronjob_name: str, scheduled: datetime) -> str:
    """``<cronjob>-<scheduled minutes since the epoch>``: the same run always gets the same
    name, so a second attempt to create it is a harmless AlreadyExists."""
    return f"{cronjob_name}-{int(scheduled.timestamp()) // 60}"


def owner_reference(cj: dict) -> dict:
    md = cj["metadata"]
    return {
        "apiVersion": "batch/v1",
        "kind": "CronJob",
        "name": md["name"],
        "uid": md["uid"],
        "controller": True,
        "blockOwnerDeletion": True,
    }


def build_job(
    cj: dict, scheduled: datetime, *, name: str | None = None, manual: bool = False
) -> dict:
    """The Job of one run from ``spec.jobTemplate`` (Kubernetes ``getJobFromTemplate2``)."""
    template = copy.deepcopy(dig(cj, "spec", "jobTemplate") or {})
    tmeta = template.get("metadata") or {}
    annotations = dict(tmeta.get("annotations") or {})
    if manual:
        annotations["cronjob.kubernetes.io/instantiate"] = "manual"
    else:
        annotations[SCHEDULED_TIMESTAMP] = rfc3339(scheduled)
    metadata = {
        "name": name or job_name(cj["metadata"]["name"], scheduled),
        "namespace": cj["metadata"].get("namespace") or "default",
        "labels": dict(tmeta.get("labels") or {}),
        "annotations": annotations,
        "ownerReferences": [owner_reference(cj)],
    }
    return {
        "apiVersion": "batch/v1",
        "kind": "Job",
        "metadata": metadata,
        "spec": template.get("spec") or {},
    }


def scheduled_time(job: dict) -> datetime | None:
    """The scheduled time a Job was made for: its annotation (Kubernetes ≥ 1.28)."""
    text = dig(job, "metadata", "annotations", SCHEDULED_TIMESTAMP)
    if not text:
        return None
    try:
        return parse_time(text)
    except ValueError:
        return None


def finish_state(job: dict) -> str | None:
    """ "Complete" or "Failed" once the Job finished; None while it runs."""
    for cond in dig(job, "status", "conditions") or []:
        if cond.get("status") == "True" and cond.get("type") in ("Complete", "Failed"):
            return cond["type"]
    return None


def finish_time(job: dict) -> datetime | None:
    moment = dig(job, "status", "completionTime")
    if not moment:
        for cond in dig(job, "status", "conditions") or []:
            if cond.get("status") == "True" and cond.get("type") in ("Complete", "Failed"):
                moment = cond.get("lastTransitionTime")
    return parse_time(moment) if moment else None


def start_time(job: dict) -> datetime:
    moment = dig(job, "status", "startTime") or dig(job, "metadata", "creationTimestamp")
    return parse_time(moment) if moment else datetime.min.replace(tzinfo=UTC)


def owned_by(job: dict, cj: dict) -> bool:
    uid = cj["metadata"].get("uid")
    return any(
        ref.get("controller") and ref.get("uid") == uid
        for ref in dig(job, "metadata", "ownerReferences") or []
    )


def job_ref(job: dict) -> dict:
    """A reference for ``status.active`` (without resourceVersion: a Job's progress is no
    reason to rewrite its CronJob)."""
    md = job["metadata"]
    return {
        "apiVersion": "batch/v1",
        "kind": "Job",
        "name": md["name"],
        "namespace": md.get("namespace") or "default",
        "uid": md.get("uid"),
    }
