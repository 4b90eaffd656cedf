"""CronJob validation and the cron schedule parser behind it."""

import copy
from datetime import UTC, datetime

import pytest

from berth.platform.resources import registry, strategy
from berth.platform.resources.validation import cron


@pytest.mark.parametrize(
    "spec",
    [
        "*/1 * * * *",
        "0 0 * * MON",
        "0 0 1 JAN *",
        "0 9-17 * * mon-fri",
        "5-50/5 * * * *",
        "0 0 * * 0,6",
        "@hourly",
        "@daily",
        "@midnight",
        "@weekly",
        "@monthly",
        "@yearly",
        "@annually",
        "0 0 1 * *",
        "? * * * *",
        "TZ=UTC 0 * * * *",
    ],
)
def test_valid_schedules(spec):
    cron.parse(spec)


@pytest.mark.parametrize(
    "spec,message",
    [
        ("* * * *", "expected exactly 5 fields, found 4: [* * * *]"),
        ("* * * * * *", "expected exactly 5 fields, found 6: [* * * * * *]"),
        ("60 * * * *", "end of range (60) above maximum (59): 60"),
        ("* 24 * * *", "end of range (24) above maximum (23): 24"),
        ("* * 0 * *", "beginning of range (0) below minimum (1): 0"),
        ("* * * 13 *", "end of range (13) above maximum (12): 13"),
        ("* * * * 7", "end of range (7) above maximum (6): 7"),
        ("5-1 * * * *", "beginning of range (5) beyond end of range (1): 5-1"),
        ("*/0 * * * *", "step of range should be a positive number: */0"),
        ("1-2-3 * * * *", "too many hyphens: 1-2-3"),
        ("1/2/3 * * * *", "too many slashes: 1/2/3"),
        ("x * * * *", 'failed to parse int from x: strconv.Atoi: parsing "x": invalid syntax'),
        (
            "* * * FOO *",
            'failed to parse int from FOO: strconv.Atoi: parsing "FOO": invalid syntax',
        ),
        ("@every 5m", "unrecognized descriptor: @every 5m"),
        ("@often", "unrecognized descriptor: @often"),
        (
            "TZ=Mars/Olympus 0 * * * *",
            "provided bad location Mars/Olympus: unknown time zone Mars/Olympus",
        ),
    ],
)
def test_invalid_schedules(spec, message):
    with pytest.raises(cron.CronError) as err:
        cron.parse(spec)
    assert str(err.value) == message


@pytest.mark.parametrize(
    "spec,after,expected",
    [
        ("*/15 * * * *", "2026-01-01T10:07:30", "2026-01-01T10:15:00"),
        ("0 0 * * *", "2026-01-01T10:07:00", "2026-01-02T00:00:00"),
        ("0 0 1 * *", "2026-01-31T23:59:00", "2026-02-01T00:00:00"),
        ("0 9 * * mon", "2026-01-01T00:00:00", "2026-01-05T09:00:00"),  # Jan 1 2026 is a Thursday
        # Both day fields restricted: either may match (the 15th, or any Sunday).
        ("0 0 15 * 0", "2026-01-05T00:00:00", "2026-01-11T00:00:00"),
        ("0 0 29 2 *", "2026-01-01T00:00:00", "2028-02-29T00:00:00"),
    ],
)
def test_next_after(spec, after, expected):
    moment = datetime.fromisoformat(after).replace(tzinfo=UTC)
    got = cron.parse(spec).next_after(moment)
    assert got == datetime.fromisoformat(expected).replace(tzinfo=UTC)


def test_impossible_schedule_never_fires():
    assert cron.parse("0 0 30 2 *").next_after(datetime(2026, 1, 1, tzinfo=UTC)) is None


# -- CronJob ----------------------------------------------------------------------------------
def a_cron_job(name="hello", template=None, job_spec=None, **spec):
    pod = {"restartPolicy": "OnFailure", "containers": [{"name": "c", "image": "busybox"}]}
    pod.update(template or {})
    body = {
        "schedule": "*/1 * * * *",
        "jobTemplate": {"spec": {"template": {"spec": pod}, **(job_spec or {})}},
    }
    body.update(spec)
    return {"metadata": {"name": name, "namespace": "default", "uid": "u"}, "spec": body}


def causes(cj):
    cj = copy.deepcopy(cj)
    strategy.prepare_for_create(registry.CRON_JOB, cj)
    return [(c.field, c.reason) for c in strategy.validate_create(registry.CRON_JOB, cj)]


@pytest.mark.parametrize(
    "cj,field,reason",
    [
        (a_cron_job(schedule=""), "spec.schedule", "FieldValueRequired"),
        (a_cron_job(schedule="61 * * * *"), "spec.schedule", "FieldValueInvalid"),
        (a_cron_job(schedule="TZ=UTC 0 * * * *"), "spec.schedule", "FieldValueInvalid"),
        (a_cron_job(timeZone="Mars/Olympus"), "spec.timeZone", "FieldValueInvalid"),
        (a_cron_job(timeZone="Local"), "spec.timeZone", "FieldValueInvalid"),
        (a_cron_job(timeZone=""), "spec.timeZone", "FieldValueInvalid"),
        (
            a_cron_job(concurrencyPolicy="Sometimes"),
            "spec.concurrencyPolicy",
            "FieldValueNotSupported",
        ),
        (
            a_cron_job(startingDeadlineSeconds=-1),
            "spec.startingDeadlineSeconds",
            "FieldValueInvalid",
        ),
        (
            a_cron_job(successfulJobsHistoryLimit=-1),
            "spec.successfulJobsHistoryLimit",
            "FieldValueInvalid",
        ),
        (a_cron_job(failedJobsHistoryLimit=-1), "spec.failedJobsHistoryLimit", "FieldValueInvalid"),
        (a_cron_job(name="a" * 53), "metadata.name", "FieldValueInvalid"),
        (
            a_cron_job(job_spec={"selector": {"matchLabels": {"a": "b"}}}),
            "spec.jobTemplate.spec.selector",
            "FieldValueInvalid",
        ),
        (
            a_cron_job(job_spec={"manualSelector": True}),
            "spec.jobTemplate.spec.manualSelector",
            "FieldValueNotSupported",
        ),
        (
            a_cron_job(template={"restartPolicy": None}),
            "spec.jobTemplate.spec.template.spec.restartPolicy",
            "FieldValueRequired",
        ),
        (
            a_cron_job(job_spec={"completions": -1}),
            "spec.jobTemplate.spec.completions",
            "FieldValueInvalid",
        ),
        (
            a_cron_job(template={"containers": []}),
            "spec.jobTemplate.spec.template.spec.containers",
            "FieldValueRequired",
        ),
    ],
)
def test_rule(cj, field, reason):
    assert (field, reason) in causes(cj)


@pytest.mark.parametrize(
    "cj",
    [
        a_cron_job(),
        a_cron_job(
            schedule="@daily",
            timeZone="America/New_York",
            concurrencyPolicy="Forbid",
            startingDeadlineSeconds=0,
            successfulJobsHistoryLimit=0,
        ),
        a_cron_job(name="a" * 52, job_spec={"completions": 4, "parallelism": 2}),
    ],
)
def test_valid(cj):
    assert causes(cj) == []


def test_tz_message():
    cj = a_cron_job(schedule="CRON_TZ=UTC 0 * * * *")
    strategy.prepare_for_create(registry.CRON_JOB, cj)
    assert [c.message for c in strategy.validate_create(registry.CRON_JOB, cj)] == [
        'Invalid value: "CRON_TZ=UTC 0 * * * *": cannot use TZ or CRON_TZ in schedule, use '
        "timeZone field instead"
    ]


def test_update_keeps_old_rules_for_old_objects():
    old = a_cron_job(name="a" * 60, schedule="TZ=UTC 0 * * * *")
    strategy.prepare_for_create(registry.CRON_JOB, old)
    new = copy.deepcopy(old)
    new["spec"]["suspend"] = True
    strategy.prepare_for_update(registry.CRON_JOB, new, old)
    assert strategy.validate_update(registry.CRON_JOB, new, old) == []
    assert strategy.spec_changed(registry.CRON_JOB, new, old)
