"""CronJobs through kubectl against berth up: validation (422 naming the field), the health
checks that say the cron controller runs, manual runs (``kubectl create job --from`` and
``berth trigger``), and the lecture's ``cronjob-example`` running as written on Ray."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest
import yaml

from tests.e2e.jobs_support import berth_up, new_namespace, wait_for, wait_job

pytestmark = pytest.mark.e2e

LECTURE = Path(__file__).resolve().parents[2] / "examples" / "lecture"


def cronjob(name: str, schedule: str = "* * * * *", **spec) -> str:
    return yaml.safe_dump(
        {
            "apiVersion": "batch/v1",
            "kind": "CronJob",
            "metadata": {"name": name},
            "spec": {
                "schedule": schedule,
                **spec,
                "jobTemplate": {
                    "spec": {
                        "template": {
                            "spec": {
                                "restartPolicy": "Never",
                                "containers": [
                                    {"name": "c", "image": "busybox", "command": ["true"]}
                                ],
                            }
                        }
                    }
                },
            },
        }
    )


@pytest.mark.parametrize(
    "schedule, spec, field, words",
    [
        ("TZ=UTC 0 * * * *", {}, "spec.schedule", "cannot use TZ or CRON_TZ in schedule"),
        ("CRON_TZ=Europe/Berlin 0 * * * *", {}, "spec.schedule", "use timeZone field instead"),
        ("0 * * * *", {"timeZone": "Mars/Olympus_Mons"}, "spec.timeZone", "unknown time zone"),
        ("61 * * * *", {}, "spec.schedule", "above maximum"),
    ],
)
def test_bad_schedules_and_zones_are_422_naming_the_field(
    berth_server, namespace, schedule, spec, field, words
):
    result = berth_server.kubectl(
        "-n", namespace, "create", "-f", "-", check=False, input=cronjob("bad", schedule, **spec)
    )
    assert result.returncode != 0
    assert 'The CronJob "bad" is invalid' in result.stderr and field in result.stderr
    assert words in result.stderr


def test_readyz_verbose_names_the_cron_controller(berth_server):
    out = berth_server.kubectl("get", "--raw", "/readyz?verbose").stdout
    assert "[+]cronjob-controller ok" in out and "[+]leader-election ok: leading" in out
    assert out.strip().endswith("readyz check passed")
    one = berth_server.kubectl("get", "--raw", "/healthz/cronjob-controller").stdout
    assert one == "ok"


def test_create_job_from_cronjob_and_berth_trigger(berth_server, namespace):
    k = berth_server.kubectl
    k("-n", namespace, "create", "-f", "-", input=cronjob("nightly", "0 3 * * *"))
    k("-n", namespace, "create", "job", "by-hand", "--from=cronjob/nightly")
    job = berth_server.kubectl_json("-n", namespace, "get", "job", "by-hand")
    assert job["metadata"]["annotations"]["cronjob.kubernetes.io/instantiate"] == "manual"
    assert job["metadata"]["ownerReferences"][0]["name"] == "nightly"
    result = subprocess.run(
        [
            sys.executable,
            "-m",
            "berth.cli.main",
            "trigger",
            "cronjob",
            "nightly",
            "-n",
            namespace,
            "--server",
            berth_server.url,
        ],
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert result.returncode == 0, result.stderr
    made = result.stdout.strip().removeprefix("job.batch/").removesuffix(" created")
    assert made.startswith("nightly-manual-")
    got = berth_server.kubectl_json("-n", namespace, "get", "job", made)
    assert (
        got["metadata"]["ownerReferences"][0]["uid"]
        == berth_server.kubectl_json("-n", namespace, "get", "cronjob", "nightly")["metadata"][
            "uid"
        ]
    )
    # Both are the CronJob's: the controller lists them as active.
    wait_for(
        lambda: (
            len(
                berth_server.kubectl_json("-n", namespace, "get", "cronjob", "nightly")
                .get("status", {})
                .get("active", [])
            )
            == 2
        ),
        timeout=30,
        what="both manual Jobs in status.active",
    )
    bad = subprocess.run(
        [
            sys.executable,
            "-m",
            "berth.cli.main",
            "trigger",
            "cronjob",
            "nothing",
            "-n",
            namespace,
            "--server",
            berth_server.url,
        ],
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert bad.returncode == 1 and 'cronjobs.batch "nothing" not found' in bad.stderr


def test_lecture_cronjob_runs_as_written_on_ray(tmp_path):
    """cronjob-example: every minute, completions 4, parallelism 2, history 3/1."""
    with berth_up(tmp_path) as server:
        ns = new_namespace(server)
        server.kubectl("-n", ns, "apply", "-f", str(LECTURE / "cronjob.yaml"))

        def first_job():
            jobs = server.kubectl_json("-n", ns, "get", "jobs")["items"]
            return jobs[0]["metadata"]["name"] if jobs else None

        name = wait_for(first_job, timeout=90, interval=1, what="the first scheduled Job")
        assert name.startswith("cronjob-example-") and name.split("-")[-1].isdigit()
        wait_job(server, ns, name, timeout=120)
        job = server.kubectl_json("-n", ns, "get", "job", name)
        assert job["status"]["succeeded"] == 4
        logs = server.kubectl("-n", ns, "logs", f"job/{name}").stdout
        assert "hello from" in logs
        status = wait_for(
            lambda: (
                server.kubectl_json("-n", ns, "get", "cronjob", "cronjob-example")
                .get("status", {})
                .get("lastSuccessfulTime")
                and server.kubectl_json("-n", ns, "get", "cronjob", "cronjob-example")["status"]
            ),
            timeout=30,
            what="lastSuccessfulTime",
        )
        assert status["lastScheduleTime"]
        header, row = server.kubectl(
            "-n", ns, "get", "cronjob", "cronjob-example"
        ).stdout.splitlines()[:2]
        assert header.split()[-3:-1] == ["LAST", "SCHEDULE"]
        timezone, suspend, _active, last, _age = row.split()[-5:]
        assert (timezone, suspend) == ("<none>", "False") and last != "<none>"
        described = server.kubectl("-n", ns, "describe", "cronjob", "cronjob-example").stdout
        assert "SuccessfulCreate" in described and "SawCompletedJob" in described
