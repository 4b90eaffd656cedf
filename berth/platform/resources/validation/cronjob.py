"""CronJobs (batch/v1): schedule, time zone, policies and the Job template."""

from __future__ import annotations

import re

from berth.platform.errors import Cause
from berth.platform.resources.validation import cron, names
from berth.platform.resources.validation.fields import (
    as_dict,
    invalid,
    non_negative,
    required,
    unsupported,
)
from berth.platform.resources.validation.job import validate_job_spec
from berth.platform.resources.validation.meta import (
    validate_object_meta,
    validate_object_meta_update,
    validate_template_meta,
)

CONCURRENCY_POLICIES = ("Allow", "Forbid", "Replace")
# The controller appends "-<minutes since epoch>" (11 characters) to make a Job name of at
# most 63 characters.
MAX_NAME = 52
_ZONE_PART = re.compile(r"^[A-Za-z.\-_0-9+]{1,14}$")


def validate_schedule(
    schedule: str, path: str, *, allow_tz: bool, time_zone: object
) -> list[Cause]:
    causes: list[Cause] = []
    try:
        cron.parse(schedule)
    except cron.CronError as exc:
        causes.append(invalid(path, schedule, str(exc)))
    if "TZ" in schedule:
        if not allow_tz:
            causes.append(
                invalid(
                    path,
                    schedule,
                    "cannot use TZ or CRON_TZ in schedule, use timeZone field instead",
                )
            )
        elif time_zone is not None:
            causes.append(
                invalid(
                    path, schedule, "cannot use both timeZone field and TZ or CRON_TZ in schedule"
                )
            )
    return causes


def validate_time_zone(zone: object, path: str) -> list[Cause]:
    if zone is None:
        return []
    if not isinstance(zone, str) or not zone:
        return [invalid(path, zone, "timeZone must be nil or non-empty string")]
    for part in zone.split("/"):
        if part in (".", "..") or part.startswith("-") or not _ZONE_PART.match(part):
            return [invalid(path, zone, f"unknown time zone {zone}")]
    if zone.lower() == "local":
        return [
            invalid(
                path,
                zone,
                "timeZone must be an explicit time zone as defined in "
                "https://www.iana.org/time-zones",
            )
        ]
    if not cron.valid_zone(zone):
        return [invalid(path, zone, f"unknown time zone {zone}")]
    return []


def _spec(spec: dict, old_spec: dict | None) -> list[Cause]:
    causes: list[Cause] = []
    schedule = spec.get("schedule")
    if not schedule:
        causes.append(required("spec.schedule"))
    elif not isinstance(schedule, str):
        causes.append(invalid("spec.schedule", schedule, "must be a string"))
    else:
        # A CronJob made when TZ= was still accepted keeps it through updates.
        allow_tz = old_spec is not None and "TZ" in str(old_spec.get("schedule") or "")
        causes += validate_schedule(
            schedule, "spec.schedule", allow_tz=allow_tz, time_zone=spec.get("timeZone")
        )
    causes += non_negative("spec.startingDeadlineSeconds", spec.get("startingDeadlineSeconds"))
    if old_spec is None or old_spec.get("timeZone") != spec.get("timeZone"):
        causes += validate_time_zone(spec.get("timeZone"), "spec.timeZone")
    policy = spec.get("concurrencyPolicy")
    if not policy:
        causes.append(required("spec.concurrencyPolicy"))
    elif policy not in CONCURRENCY_POLICIES:
        causes.append(unsupported("spec.concurrencyPolicy", policy, CONCURRENCY_POLICIES))
    template = as_dict(spec.get("jobTemplate"))
    causes += validate_template_meta(template.get("metadata"), "spec.jobTemplate.metadata")
    job_spec = as_dict(template.get("spec"))
    causes += validate_job_spec(job_spec, "spec.jobTemplate.spec")
    if job_spec.get("selector") is not None:
        causes.append(
            invalid(
                "spec.jobTemplate.spec.selector",
                job_spec["selector"],
                "`selector` will be auto-generated",
            )
        )
    if job_spec.get("manualSelector") is True:
        causes.append(unsupported("spec.jobTemplate.spec.manualSelector", True, ("nil", "false")))
    for key in ("successfulJobsHistoryLimit", "failedJobsHistoryLimit"):
        causes += non_negative(f"spec.{key}", spec.get(key))
    return causes


def validate_cron_job_create(cj: dict) -> list[Cause]:
    md = as_dict(cj.get("metadata"))
    causes = validate_object_meta(md, True, names.name_is_dns_subdomain)
    causes += _spec(as_dict(cj.get("spec")), None)
    name = md.get("name")
    if isinstance(name, str) and len(name) > MAX_NAME:
        causes.append(invalid("metadata.name", name, f"must be no more than {MAX_NAME} characters"))
    return causes


def validate_cron_job_update(new: dict, old: dict) -> list[Cause]:
    """No 52-character check here: older CronJobs with longer names must stay editable."""
    causes = validate_object_meta_update(new.get("metadata"), old.get("metadata"))
    causes += validate_object_meta(new.get("metadata"), True, names.name_is_dns_subdomain)
    return causes + _spec(as_dict(new.get("spec")), as_dict(old.get("spec")))
