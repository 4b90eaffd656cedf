"""Builders for CronJobs and their Jobs in decision tables."""

from __future__ import annotations

from datetime import UTC, datetime

from berth.platform.controllers.cronjob.jobs import SCHEDULED_TIMESTAMP, job_name
from berth.platform.resources.meta import rfc3339

UID = "cj-uid"


def t(text: str) -> datetime:
    """``"10:00"`` (or ``"10:00:30.5"``) on 2026-05-04 UTC, or a full ISO time."""
    if "T" not in text:
        text = f"2026-05-04T{text}"
    moment = datetime.fromisoformat(text)
    return moment if moment.tzinfo else moment.replace(tzinfo=UTC)


def a_cronjob(
    schedule="* * * * *",
    *,
    created="09:00",
    policy="Allow",
    suspend=False,
    deadline=None,
    zone=None,
    last=None,
    active=(),
    success_limit=3,
    failed_limit=1,
):
    spec = {
        "schedule": schedule,
        "concurrencyPolicy": policy,
        "suspend": suspend,
        "successfulJobsHistoryLimit": success_limit,
        "failedJobsHistoryLimit": failed_limit,
        "jobTemplate": {"spec": {"template": {"spec": {"containers": []}}}},
    }
    if deadline is not None:
        spec["startingDeadlineSeconds"] = deadline
    if zone is not None:
        spec["timeZone"] = zone
    status = {}
    if last:
        status["lastScheduleTime"] = rfc3339(t(last))
    if active:
        status["active"] = [
            {
                "kind": "Job",
                "name": j["metadata"]["name"],
                "uid": j["metadata"]["uid"],
                "namespace": "default",
            }
            for j in active
        ]
    return {
        "metadata": {
            "name": "cj",
            "namespace": "default",
            "uid": UID,
            "creationTimestamp": rfc3339(t(created)),
        },
        "spec": spec,
        "status": status,
    }


def a_job(scheduled: str, *, state=None, finished=None, owned=True):
    when = t(scheduled)
    name = job_name("cj", when)
    job = {
        "metadata": {
            "name": name,
            "namespace": "default",
            "uid": f"uid-{name}",
            "creationTimestamp": rfc3339(when),
            "annotations": {SCHEDULED_TIMESTAMP: rfc3339(when)},
            "ownerReferences": [
                {
                    "kind": "CronJob",
                    "name": "cj",
                    "uid": UID if owned else "other",
                    "controller": True,
                }
            ],
        },
        "status": {"startTime": rfc3339(when)},
    }
    if state:
        done = rfc3339(t(finished or scheduled))
        job["status"]["conditions"] = [
            {"type": state, "status": "True", "lastTransitionTime": done}
        ]
        if state == "Complete":
            job["status"]["completionTime"] = done
    return job
