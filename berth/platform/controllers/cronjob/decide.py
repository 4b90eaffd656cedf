"""What a CronJob needs now: a pure function of (cronjob, its jobs, now).

The steps follow Kubernetes' ``syncCronJob`` (pkg/controller/cronjob/cronjob_controllerv2.go):

1. Reconcile ``status.active`` with the Jobs that exist: a finished Job leaves it
   (SawCompletedJob), a listed Job that is gone leaves it (MissingJob), an unfinished Job of
   ours that is not listed joins it; ``lastSuccessfulTime`` follows the newest completion.
   Finished Jobs beyond the history limits are to be deleted, oldest first (every time).
2. Stop when the CronJob is being deleted, its time zone is unknown (UnknownTimeZone) or it is
   suspended.
3. Find the schedule times missed since ``lastScheduleTime`` (or creation); the most recent is
   the candidate. More than 100 of them (within ``startingDeadlineSeconds`` when set) is a
   warning (TooManyMissedTimes), not a cliff: the most recent one still runs. None (also when
   the clock went back): wait. A Job whose status write was lost still counts:
   ``lastScheduleTime`` follows the newest scheduled-timestamp annotation of our Jobs.
4. At most one Job, for the most recent missed time, and only if that time has no Job yet and
   is within ``startingDeadlineSeconds`` (else MissSchedule); ``concurrencyPolicy`` decides what
   happens with Jobs still running (Allow: nothing; Forbid: skip, JobAlreadyActive; Replace:
   delete them).
5. Wake up again at the next schedule time (set before step 3, so suspended CronJobs too).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime, timedelta

from berth.platform.controllers.cronjob import jobs as cjobs
from berth.platform.controllers.cronjob.times import UnknownZone, next_time, unmet_times, zone_of
from berth.platform.resources.meta import dig, parse_time, rfc3339
from berth.platform.resources.validation import cron


@dataclass(frozen=True)
class Event:
    type: str  # Normal | Warning
    reason: str
    message: str


@dataclass
class Decision:
    """The changes to make, and a record of what was decided (for logs and metrics)."""

    status: dict  # the CronJob's status as it should be
    create_for: datetime | None = None  # create the Job of this scheduled time
    delete_active: list[str] = field(default_factory=list)  # Replace: running Jobs to delete
    delete_history: list[str] = field(default_factory=list)  # finished Jobs over the limits
    events: list[Event] = field(default_factory=list)
    next_run: datetime | None = None  # the next schedule time after now
    requeue_after: float | None = None  # seconds until the controller looks again
    missed: int = 0  # schedule times passed over without a Job
    lateness: float | None = None  # now - create_for, in seconds

    def event(self, type_: str, reason: str, message: str) -> None:
        self.events.append(Event(type_, reason, message))


def decide(cj: dict, children: list[dict], now: datetime) -> Decision:
    spec = cj.get("spec") or {}
    status = dict(cj.get("status") or {})
    decision = Decision(status=status)
    # 1. status.active and lastSuccessfulTime from the Jobs that exist.
    _reconcile_active(cj, children, status, decision)
    decision.delete_history = _over_history(spec, children)
    # 2. Nothing more to do for a CronJob being deleted, with a bad zone, or suspended.
    if dig(cj, "metadata", "deletionTimestamp"):
        return decision
    try:
        zone = zone_of(spec.get("timeZone"))
    except UnknownZone:
        decision.event(
            "Warning",
            "UnknownTimeZone",
            f"invalid timeZone: {spec.get('timeZone')!r}: unknown time zone",
        )
        return decision
    try:
        schedule = cron.parse(spec.get("schedule") or "")
    except cron.CronError as exc:
        decision.event(
            "Warning",
            "UnparseableSchedule",
            f"unparseable schedule: {spec.get('schedule')!r} : {exc}",
        )
        return decision
    if schedule.zone:  # a legacy TZ= prefix (refused on create, kept on old objects)
        zone = zone_of(schedule.zone)
    decision.next_run = next_time(schedule, zone, now)
    if decision.next_run is not None:
        # A little past the time, so the wake-up never lands just before it.
        decision.requeue_after = (decision.next_run - now).total_seconds() + 0.001
    if spec.get("suspend"):
        return decision
    # 3. The schedule times missed.
    deadline = spec.get("startingDeadlineSeconds")
    earliest = _earliest(cj, status)
    unmet = unmet_times(schedule, zone, earliest, now) if earliest < now else None
    if unmet is None or unmet.most_recent is None:
        return decision
    scheduled = unmet.most_recent
    # 4. At most one Job: for the most recent time, if nothing stops it.
    name = cjobs.job_name(cj["metadata"]["name"], scheduled)
    if any(j["metadata"]["name"] == name for j in children):
        return decision  # this time has its Job already
    if deadline is not None and scheduled + timedelta(seconds=deadline) < now:
        decision.event(
            "Warning", "MissSchedule", f"Missed scheduled time to start a job: {rfc3339(scheduled)}"
        )
        return decision
    in_window = (
        unmet
        if deadline is None
        else unmet_times(schedule, zone, max(earliest, now - timedelta(seconds=deadline)), now)
    )
    if in_window.capped:
        decision.event(
            "Warning",
            "TooManyMissedTimes",
            "too many missed start times (> 100); running the most recent one "
            f"({rfc3339(scheduled)}). Set or decrease .spec.startingDeadlineSeconds "
            "or check clock skew",
        )
    active = status.get("active") or []
    policy = spec.get("concurrencyPolicy") or "Allow"
    if policy == "Forbid" and active:
        decision.event(
            "Normal",
            "JobAlreadyActive",
            "Not starting job because prior execution is running and concurrency policy is Forbid",
        )
        return decision
    if policy == "Replace":
        decision.delete_active = [ref["name"] for ref in active]
    decision.create_for = scheduled
    decision.missed = unmet.count - 1
    decision.lateness = (now - scheduled).total_seconds()
    return decision


def _reconcile_active(cj: dict, children: list[dict], status: dict, decision: Decision) -> None:
    by_uid = {j["metadata"].get("uid"): j for j in children}
    by_name = {j["metadata"]["name"]: j for j in children}
    active: list[dict] = []
    listed = set()
    for ref in status.get("active") or []:
        job = by_uid.get(ref.get("uid")) or by_name.get(ref.get("name"))
        if job is None:
            decision.event("Normal", "MissingJob", f"Active job went missing: {ref.get('name')}")
            continue
        listed.add(job["metadata"]["name"])
        state = cjobs.finish_state(job)
        if state is not None:
            decision.event(
                "Normal",
                "SawCompletedJob",
                f"Saw completed job: {job['metadata']['name']}, status: {state}",
            )
            continue
        active.append(cjobs.job_ref(job))
    last_schedule = _time(status.get("lastScheduleTime"))
    last_success = _time(status.get("lastSuccessfulTime"))
    for job in sorted(children, key=lambda j: j["metadata"]["name"]):
        if not cjobs.owned_by(job, cj):
            continue
        state = cjobs.finish_state(job)
        if (
            state is None
            and job["metadata"]["name"] not in listed
            and not dig(job, "metadata", "deletionTimestamp")
        ):
            active.append(cjobs.job_ref(job))  # ours but not listed: adopt it
        # A Job made for a later time than the status says (its status write was lost).
        scheduled = cjobs.scheduled_time(job)
        if scheduled is not None and (last_schedule is None or scheduled > last_schedule):
            last_schedule = scheduled
        if state == "Complete":
            done = cjobs.finish_time(job)
            if done is not None and (last_success is None or done > last_success):
                last_success = done
    status["active"] = active
    if not active:
        status.pop("active")
    if last_schedule is not None:
        status["lastScheduleTime"] = rfc3339(last_schedule)
    if last_success is not None:
        status["lastSuccessfulTime"] = rfc3339(last_success)


def _earliest(cj: dict, status: dict) -> datetime:
    last = _time(status.get("lastScheduleTime"))
    if last is not None:
        return last
    return parse_time(cj["metadata"]["creationTimestamp"])


def _over_history(spec: dict, children: list[dict]) -> list[str]:
    out: list[str] = []
    for state, key, default in (
        ("Complete", "successfulJobsHistoryLimit", 3),
        ("Failed", "failedJobsHistoryLimit", 1),
    ):
        limit = spec.get(key)
        limit = default if limit is None else limit
        done = [
            j
            for j in children
            if cjobs.finish_state(j) == state and not dig(j, "metadata", "deletionTimestamp")
        ]
        done.sort(key=cjobs.start_time)
        out += [j["metadata"]["name"] for j in done[: max(0, len(done) - limit)]]
    return out


def _time(text: str | None) -> datetime | None:
    return parse_time(text) if text else None
