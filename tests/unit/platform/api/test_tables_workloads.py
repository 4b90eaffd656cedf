"""Job, CronJob and Pod tables, including the jobs table sample that satisfied kubectl."""

import json
from datetime import UTC, datetime
from pathlib import Path

import pytest

from berth.platform.api.tables import to_table
from berth.platform.resources import registry

NOW = datetime(2026, 11, 25, 19, 26, 44, tzinfo=UTC)
SAMPLES = Path(__file__).parent / "fixtures" / "kubectl-samples"


def cells(rt, obj):
    return to_table(rt, [obj], now=NOW, resource_version="1")["rows"][0]["cells"]


def a_job(
    name="j",
    *,
    conditions=(),
    start=None,
    end=None,
    succeeded=None,
    completions=1,
    parallelism=None,
    containers=(("c", "busybox"),),
    deleting=False,
    **status,
):
    job = {
        "metadata": {"name": name, "creationTimestamp": "2026-11-25T19:25:41Z"},
        "spec": {
            "template": {"spec": {"containers": [{"name": n, "image": i} for n, i in containers]}},
            "selector": {"matchLabels": {"job-name": name}},
        },
        "status": dict(status),
    }
    if completions is not None:
        job["spec"]["completions"] = completions
    if parallelism is not None:
        job["spec"]["parallelism"] = parallelism
    if succeeded is not None:
        job["status"]["succeeded"] = succeeded
    if start:
        job["status"]["startTime"] = start
    if end:
        job["status"]["completionTime"] = end
    job["status"]["conditions"] = [{"type": t, "status": s} for t, s in conditions]
    if deleting:
        job["metadata"]["deletionTimestamp"] = "2026-11-25T19:26:40Z"
    return job


def test_jobs_table_reproduces_the_sample():
    want = json.loads((SAMPLES / "table_jobs.json").read_text())
    jobs = []
    for row in want["rows"]:
        meta = row["object"]["metadata"]
        name, uid = meta["name"], meta["uid"]
        created = datetime.fromisoformat(meta["creationTimestamp"].replace("Z", "+00:00"))
        job = {
            "metadata": meta,
            "spec": {
                "completions": 1,
                "selector": {"matchLabels": {"batch.kubernetes.io/controller-uid": uid}},
                "template": {"spec": {"containers": [{"name": name, "image": "busybox"}]}},
            },
            "status": {"startTime": meta["creationTimestamp"]},
        }
        if row["cells"][1] == "Complete":
            job["status"].update(
                succeeded=1,
                completionTime=(
                    created.replace(second=created.second + 2).strftime("%Y-%m-%dT%H:%M:%SZ")
                ),
                conditions=[
                    {"type": "SuccessCriteriaMet", "status": "True"},
                    {"type": "Complete", "status": "True"},
                ],
            )
        jobs.append(job)
    got = to_table(registry.JOB, jobs, now=NOW, resource_version="1033")
    strip = lambda cols: [{k: v for k, v in c.items() if k != "description"} for c in cols]  # noqa: E731
    assert strip(got["columnDefinitions"]) == strip(want["columnDefinitions"])
    assert got["rows"] == want["rows"]
    assert got["metadata"] == want["metadata"]
    assert (got["kind"], got["apiVersion"]) == (want["kind"], want["apiVersion"])


@pytest.mark.parametrize(
    "conditions, deleting, want",
    [
        ((), False, "Running"),
        ((("Complete", "True"),), False, "Complete"),
        ((("Complete", "False"), ("Failed", "True")), False, "Failed"),
        ((("Failed", "True"),), True, "Failed"),
        ((), True, "Terminating"),
        ((("Suspended", "True"),), False, "Suspended"),
        ((("FailureTarget", "True"),), False, "FailureTarget"),
        ((("SuccessCriteriaMet", "True"),), False, "SuccessCriteriaMet"),
        ((("SuccessCriteriaMet", "True"), ("Complete", "True")), False, "Complete"),
    ],
)
def test_job_status(conditions, deleting, want):
    assert cells(registry.JOB, a_job(conditions=conditions, deleting=deleting))[1] == want


@pytest.mark.parametrize(
    "completions, parallelism, succeeded, want",
    [
        (4, None, 2, "2/4"),
        (None, None, None, "0/1"),
        (None, 3, 1, "1/1 of 3"),
        (None, 1, 0, "0/1"),
        (0, None, None, "0/0"),
    ],
)
def test_job_completions(completions, parallelism, succeeded, want):
    job = a_job(completions=completions, parallelism=parallelism, succeeded=succeeded)
    assert cells(registry.JOB, job)[2] == want


@pytest.mark.parametrize(
    "start, end, want",
    [
        (None, None, ""),
        ("2026-11-25T19:26:00Z", None, "44s"),
        ("2026-11-25T19:00:00Z", "2026-11-25T19:02:03Z", "2m3s"),
    ],
)
def test_job_duration(start, end, want):
    assert cells(registry.JOB, a_job(start=start, end=end))[3] == want


def test_job_wide_cells_join_containers():
    row = cells(registry.JOB, a_job("w", containers=(("a", "busybox"), ("b", "python:3"))))
    assert row[5:] == ["a,b", "busybox,python:3", "job-name=w"]


def a_cron_job(**spec):
    return {
        "metadata": {"name": "tick", "creationTimestamp": "2026-11-25T18:26:44Z"},
        "spec": {
            "schedule": "*/1 * * * *",
            "jobTemplate": {
                "spec": {
                    "template": {"spec": {"containers": [{"name": "tick", "image": "busybox"}]}}
                }
            },
            **spec,
        },
        "status": {},
    }


def test_cron_job_row():
    cron = a_cron_job(suspend=False)
    cron["status"] = {"active": [{"name": "tick-1"}], "lastScheduleTime": "2026-11-25T19:26:00Z"}
    assert cells(registry.CRON_JOB, cron) == [
        "tick",
        "*/1 * * * *",
        "<none>",
        "False",
        1,
        "44s",
        "60m",
        "tick",
        "busybox",
        "<none>",
    ]


def test_cron_job_unset_fields_and_time_zone():
    row = cells(registry.CRON_JOB, a_cron_job(timeZone="Etc/UTC"))
    assert row[2:6] == ["Etc/UTC", "<unset>", 0, "<none>"]
    columns = to_table(registry.CRON_JOB, [], now=NOW, resource_version="1")["columnDefinitions"]
    assert [c["name"] for c in columns if c["priority"] == 0] == [
        "Name",
        "Schedule",
        "Timezone",
        "Suspend",
        "Active",
        "Last Schedule",
        "Age",
    ]
