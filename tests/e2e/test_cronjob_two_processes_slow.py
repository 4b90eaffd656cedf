"""THE SLOW ONE (~11 minutes): two ``berth up`` control planes on one PostgreSQL schema run an
every-minute CronJob for ten minutes; the one holding the controller lease is killed with
SIGKILL in the middle, just before a scheduled minute. The other must take over and the ten
scheduled minutes must have exactly ten Jobs: none missing, none twice (one SuccessfulCreate
each, and no Job created by both).
"""

from __future__ import annotations

import signal
import time
from datetime import UTC, datetime, timedelta

import httpx
import pytest
import yaml

from tests.e2e.conftest import start_berth, stop_berth
from tests.support import make_pg_schema, pg_problem

pytestmark = [pytest.mark.e2e, pytest.mark.slow, pytest.mark.timeout(1200)]

CRONJOB = {
    "apiVersion": "batch/v1",
    "kind": "CronJob",
    "metadata": {"name": "tick"},
    "spec": {
        "schedule": "* * * * *",
        "jobTemplate": {
            "spec": {
                "template": {
                    "spec": {
                        "restartPolicy": "Never",
                        "containers": [{"name": "c", "image": "busybox", "command": ["true"]}],
                    }
                }
            }
        },
    },
}


def now() -> datetime:
    return datetime.now(UTC)


def wait_until(moment: datetime) -> None:
    while (left := (moment - now()).total_seconds()) > 0:
        time.sleep(min(left, 1.0))


def leads(server) -> bool:
    try:
        text = httpx.get(f"{server.url}/readyz/leader-election?verbose", timeout=5).text
    except httpx.HTTPError:
        return False
    return "leading" in text


def test_two_control_planes_one_killed_make_exactly_ten_jobs(tmp_path):
    if pg_problem():
        pytest.fail(f"this test needs PostgreSQL: {pg_problem()}")
    url, drop = make_pg_schema()
    servers = []
    for sub in ("a", "b"):
        (tmp_path / sub).mkdir()
    try:
        servers.append(start_berth(tmp_path / "a", url))
        servers.append(start_berth(tmp_path / "b", url))
        assert [leads(s) for s in servers] == [True, False]
        if now().second >= 45:
            wait_until(now().replace(second=0, microsecond=0) + timedelta(minutes=1, seconds=2))
        servers[1].kubectl("apply", "-f", "-", input=yaml.safe_dump(CRONJOB))
        first = now().replace(second=0, microsecond=0) + timedelta(minutes=1)
        minutes = [first + timedelta(minutes=i) for i in range(10)]
        wait_until(minutes[5] - timedelta(seconds=1.5))
        leader = next(s for s in servers if leads(s))
        other = next(s for s in servers if s is not leader)
        stop_berth(leader.process, signal.SIGKILL)
        deadline = time.monotonic() + 15
        while not leads(other) and time.monotonic() < deadline:
            time.sleep(0.2)
        assert leads(other), "the survivor did not take over within 15 s"
        wait_until(minutes[9] + timedelta(seconds=20))
        jobs = other.kubectl_json("get", "jobs")["items"]
        names = sorted(j["metadata"]["name"] for j in jobs)
        expected = sorted(f"tick-{int(m.timestamp()) // 60}" for m in minutes)
        assert names == expected
        events = other.kubectl_json("get", "events")["items"]
        creates = [
            e
            for e in events
            if e["reason"] == "SuccessfulCreate" and e["involvedObject"]["name"] == "tick"
        ]
        assert sorted(e["message"].split()[-1] for e in creates) == expected
        assert all(e.get("count", 1) == 1 for e in creates)
        annotated = sorted(
            j["metadata"]["annotations"]["batch.kubernetes.io/cronjob-scheduled-timestamp"]
            for j in jobs
        )
        assert annotated == [m.strftime("%Y-%m-%dT%H:%M:%SZ") for m in minutes]
    finally:
        for server in servers:
            stop_berth(server.process)
        drop()
