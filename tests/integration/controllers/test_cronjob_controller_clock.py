"""The CronJob controller with a real clock: every-minute schedules on SQLite and PostgreSQL.

One scenario per database runs all policies side by side for about three scheduled minutes
(M+1, M+2, M+3 after the CronJobs are made), with a restart of the whole control plane across
M+2: the first plane stops at M+1:50 and a second one (a new term of the controller lease, with
fenced writes) starts at M+2:10 and must make exactly one Job for M+2. The Job controller and a
fake kubelet run the Jobs: pods of "hang" CronJobs keep running, pods of "ok" ones succeed.
Each test then checks one behaviour on what that scenario left. About 3.5 minutes per database.
"""

from __future__ import annotations

import time
from datetime import datetime, timedelta

import pytest

from berth.platform.cache.informers import InformerHub
from berth.platform.controllers.cronjob.controller import CronJobController
from berth.platform.controllers.cronjob.jobs import job_name
from berth.platform.controllers.garbage_collector import GarbageCollector
from berth.platform.controllers.job.controller import JobController
from berth.platform.controllers.manager import ControllerManager
from berth.platform.resources import registry
from berth.platform.resources.meta import utcnow
from berth.platform.runtime import open_platform
from berth.platform.store.client import Client
from berth.platform.store.events import EventRecorder
from berth.platform.store.lease import Fence, FencedDatabase, LeaseStore
from berth.settings import Settings
from tests.integration.controllers.job_harness import NS, FakeKubelet
from tests.support import make_pg_schema, pg_problem

pytestmark = [pytest.mark.integration, pytest.mark.timeout(600)]

LEASE = "test-cron"


class Plane:
    """Informers, the Job, GC and CronJob controllers of one term of the lease."""

    def __init__(self, platform, term: Fence):
        client = platform.client
        fenced = Client(FencedDatabase(platform.db, term))
        self.decisions: list = []
        self.hub = InformerHub(client, platform.feed)
        self.manager = ControllerManager(self.hub)
        self.manager.add(JobController(client, EventRecorder(client, "job-controller")), workers=2)
        self.manager.add(GarbageCollector(client))
        self.cron = CronJobController(
            fenced,
            EventRecorder(client, "cronjob-controller"),
            observers=[
                lambda cj, d, made: self.decisions.append((cj["metadata"]["name"], d, made))
            ],
        )
        self.manager.add(self.cron, workers=2)
        self.hub.start()
        self.manager.start()
        if not self.hub.synced.wait(30):
            raise AssertionError("informers never synced")

    def stop(self):
        self.manager.stop()
        self.hub.stop()


def cronjob(name: str, *, policy="Allow", suspend=False, outcome="hang", success=3, failed=1):
    return {
        "apiVersion": "batch/v1",
        "kind": "CronJob",
        "metadata": {"name": name, "namespace": NS},
        "spec": {
            "schedule": "* * * * *",
            "concurrencyPolicy": policy,
            "suspend": suspend,
            "successfulJobsHistoryLimit": success,
            "failedJobsHistoryLimit": failed,
            "jobTemplate": {
                "spec": {
                    "backoffLimit": 0,
                    "template": {
                        "metadata": {"labels": {"outcome": outcome}},
                        "spec": {
                            "restartPolicy": "Never",
                            "containers": [
                                {"name": "main", "image": "busybox", "command": ["true"]}
                            ],
                        },
                    },
                }
            },
        },
    }


SCENARIOS = {
    "allow": dict(policy="Allow"),
    "forbid": dict(policy="Forbid"),
    "replace": dict(policy="Replace"),
    "suspended": dict(suspend=True),
    "history": dict(outcome="ok", success=1),
}


def wait_until(moment: datetime) -> None:
    while (left := (moment - utcnow()).total_seconds()) > 0:
        time.sleep(min(left, 1.0))


def minute(moment: datetime) -> datetime:
    return moment.replace(second=0, microsecond=0)


class Outcome:
    def __init__(self, platform, minutes, planes):
        self.client = platform.client
        self.minutes = minutes  # M+1, M+2, M+3
        self.planes = planes

    def jobs(self, cj: str) -> list[str]:
        uid = self.client.get(registry.CRON_JOB, NS, cj)["metadata"]["uid"]
        return sorted(
            j["metadata"]["name"]
            for j in self.client.list(registry.JOB, NS).items
            if any(r["uid"] == uid for r in j["metadata"].get("ownerReferences", []))
        )

    def names(self, cj: str, *which: int) -> list[str]:
        return sorted(job_name(cj, self.minutes[i]) for i in which)

    def events(self, cj: str) -> list[dict]:
        return [
            e
            for e in self.client.list(registry.EVENT, NS).items
            if e["involvedObject"]["name"] == cj
        ]

    def status(self, cj: str) -> dict:
        return self.client.get(registry.CRON_JOB, NS, cj).get("status") or {}


@pytest.fixture(scope="module", params=["sqlite", "postgresql"])
def outcome(request, tmp_path_factory):
    drop = None
    if request.param == "sqlite":
        url = f"sqlite:///{tmp_path_factory.mktemp('cron') / 'berth.db'}"
    else:
        if pg_problem():
            pytest.skip(pg_problem())
        url, drop = make_pg_schema()
    platform = open_platform(
        Settings(data_dir=tmp_path_factory.mktemp("cron-data"), database_url=url)
    )
    kubelet = FakeKubelet(platform.client, utcnow, interval=0.2)
    kubelet.exit_code = lambda pod: 0 if pod["metadata"]["labels"].get("outcome") == "ok" else None
    kubelet.start()
    leases = LeaseStore(platform.db)
    planes = []
    try:
        if utcnow().second >= 45:  # never make the CronJobs just before a minute turns
            wait_until(minute(utcnow()) + timedelta(minutes=1, seconds=2))
        first = leases.create(LEASE, "plane-1", 5.0, utcnow())
        planes.append(Plane(platform, Fence(LEASE, "plane-1", first.token)))
        for name, kwargs in SCENARIOS.items():
            platform.client.create(registry.CRON_JOB, cronjob(name, **kwargs))
        m = minute(utcnow())
        minutes = [m + timedelta(minutes=i) for i in (1, 2, 3)]
        wait_until(minutes[0] + timedelta(seconds=50))
        planes[0].stop()  # down across M+2
        wait_until(minutes[1] + timedelta(seconds=10))
        second = leases.take(leases.read(LEASE), "plane-2", 5.0, utcnow())
        planes.append(Plane(platform, Fence(LEASE, "plane-2", second.token)))
        wait_until(minutes[2] + timedelta(seconds=15))  # M+3's Jobs made and the "ok" one done
        yield Outcome(platform, minutes, planes)
    finally:
        for plane in planes[1:]:
            plane.stop()
        kubelet.stop()
        platform.close()
        if drop:
            drop()


def test_allow_runs_every_minute_while_earlier_runs_are_still_active(outcome):
    assert outcome.jobs("allow") == outcome.names("allow", 0, 1, 2)
    assert len(outcome.status("allow")["active"]) == 3
    assert outcome.status("allow")["lastScheduleTime"] == outcome.minutes[2].strftime(
        "%Y-%m-%dT%H:%M:%SZ"
    )


def test_restart_across_a_scheduled_minute_makes_exactly_one_job_for_it(outcome):
    missed = job_name("allow", outcome.minutes[1])
    creates = [
        e
        for e in outcome.events("allow")
        if e["reason"] == "SuccessfulCreate" and missed in e["message"]
    ]
    assert len(creates) == 1 and creates[0].get("count", 1) == 1
    made = [
        d
        for name, d, created in outcome.planes[1].decisions
        if name == "allow" and created == missed
    ]
    assert len(made) == 1
    assert made[0].lateness == pytest.approx(10, abs=8)  # started 10 s after the minute


def test_forbid_skips_runs_while_one_is_active(outcome):
    assert outcome.jobs("forbid") == outcome.names("forbid", 0)
    assert "JobAlreadyActive" in [e["reason"] for e in outcome.events("forbid")]


def test_replace_deletes_the_running_job_for_the_new_one(outcome):
    assert outcome.jobs("replace") == outcome.names("replace", 2)
    deletes = [e for e in outcome.events("replace") if e["reason"] == "SuccessfulDelete"]
    assert deletes


def test_suspended_cronjob_makes_no_jobs(outcome):
    assert outcome.jobs("suspended") == []
    assert "lastScheduleTime" not in outcome.status("suspended")


def test_history_limit_keeps_only_the_newest_successful_job(outcome):
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline and outcome.jobs("history") != outcome.names("history", 2):
        time.sleep(0.5)
    assert outcome.jobs("history") == outcome.names("history", 2)
    status = outcome.status("history")
    assert status.get("lastSuccessfulTime") and not status.get("active")
