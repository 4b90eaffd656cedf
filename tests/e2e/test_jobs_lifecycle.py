"""A Job's life around its pods on Ray, through kubectl: suspended (its running pods stopped)
and resumed to completion, removed after ``ttlSecondsAfterFinished``, and deleted with each
cascade (its pods stopped and gone, or orphaned and left running).

``berth up`` with workers on SQLite. Each pod that must be seen stopped runs a ``sleep`` with a
number of its own, so its process can be found on this machine.
"""

from __future__ import annotations

import secrets
import time

import pytest

from berth.platform.resources.meta import parse_time
from tests.e2e.jobs_support import (
    apply,
    berth_up,
    condition,
    events,
    get_job,
    job,
    live_processes_mentioning,
    new_namespace,
    pods_of,
    table,
    wait_for,
    wait_job,
)

pytestmark = pytest.mark.e2e


@pytest.fixture(scope="module")
def server(tmp_path_factory):
    with berth_up(tmp_path_factory.mktemp("jobs-lifecycle")) as up:
        yield up


@pytest.fixture
def ns(server):
    return new_namespace(server)


def sleeper(seconds: int) -> str:
    return f"sleep {seconds}.{secrets.randbelow(10**6):06d}"


def running(server, ns: str, name: str, count: int) -> list[dict]:
    def check():
        pods = [p for p in pods_of(server, ns, name) if p["status"].get("phase") == "Running"]
        return pods if len(pods) == count else None

    return wait_for(check, timeout=60, what=f"{count} running pods of {name}")


def gone(server, ns: str, name: str, marker: str) -> None:
    wait_for(lambda: not pods_of(server, ns, name), timeout=30, what=f"the pods of {name} gone")
    wait_for(
        lambda: not live_processes_mentioning(marker),
        timeout=30,
        what=f"the processes of {name} stopped",
    )


def test_a_suspended_job_stops_its_pods_and_completes_once_resumed(server, ns):
    marker = sleeper(6)
    apply(server, ns, job("pause", f"exec {marker}", completions=2, parallelism=2))
    first = {p["metadata"]["uid"] for p in running(server, ns, "pause", 2)}
    [row] = table(server, "-n", ns, "get", "jobs")
    assert (row["STATUS"], row["COMPLETIONS"]) == ("Running", "0/2")
    server.kubectl(
        "-n", ns, "patch", "job", "pause", "--type=merge", "-p", '{"spec": {"suspend": true}}'
    )
    wait_job(server, ns, "pause", "suspended", timeout=30)
    gone(server, ns, "pause", marker)  # long before their 6 s were up

    suspended = get_job(server, ns, "pause")
    found = condition(suspended, "Suspended")
    assert (found["status"], found["reason"], found["message"]) == (
        "True",
        "JobSuspended",
        "Job suspended",
    )
    assert not {"active", "failed", "succeeded"} & set(suspended["status"])
    [row] = table(server, "-n", ns, "get", "jobs")
    assert (row["STATUS"], row["COMPLETIONS"]) == ("Suspended", "0/2")

    server.kubectl(
        "-n", ns, "patch", "job", "pause", "--type=merge", "-p", '{"spec": {"suspend": false}}'
    )
    wait_job(server, ns, "pause", timeout=90)
    done = get_job(server, ns, "pause")
    assert done["status"]["succeeded"] == 2 and "failed" not in done["status"]
    resumed = condition(done, "Suspended")
    assert (resumed["status"], resumed["reason"]) == ("False", "JobResumed")
    pods = pods_of(server, ns, "pause")
    assert len(pods) == 2 and not first & {p["metadata"]["uid"] for p in pods}
    described = events(server.kubectl("-n", ns, "describe", "job", "pause").stdout)
    seen = [(e["Reason"], e["Message"]) for e in described]
    assert ("Suspended", "Job suspended") in seen and ("Resumed", "Job resumed") in seen
    assert sum(1 for reason, _ in seen if reason == "SuccessfulDelete") == 2
    assert sum(1 for reason, _ in seen if reason == "SuccessfulCreate") == 4


def test_a_finished_job_and_its_pods_go_after_ttl_seconds_after_finished(server, ns):
    apply(server, ns, job("brief", "echo done", ttlSecondsAfterFinished=2))
    wait_job(server, ns, "brief")
    completed = parse_time(get_job(server, ns, "brief")["status"]["completionTime"])
    assert len(pods_of(server, ns, "brief")) == 1
    server.kubectl("-n", ns, "wait", "--for=delete", "job/brief", "--timeout=60s", timeout=90)
    # Not at once: the TTL counts from completion (whole seconds, so never early here).
    assert time.time() >= completed.timestamp() + 2
    wait_for(lambda: not pods_of(server, ns, "brief"), timeout=30, what="the pods deleted")


@pytest.mark.parametrize("cascade", ["background", "foreground"])
def test_deleting_a_job_stops_and_deletes_its_pods(server, ns, cascade):
    marker = sleeper(300)
    apply(server, ns, job("doomed", f"exec {marker}", parallelism=2, completions=2))
    running(server, ns, "doomed", 2)
    server.kubectl("-n", ns, "delete", "job", "doomed", f"--cascade={cascade}", timeout=90)
    assert server.kubectl("-n", ns, "get", "job", "doomed", check=False).returncode != 0
    gone(server, ns, "doomed", marker)


def test_a_job_deleted_with_cascade_orphan_leaves_its_pods_running(server, ns):
    marker = sleeper(300)
    apply(server, ns, job("parent", f"exec {marker}", parallelism=2, completions=2))
    before = {p["metadata"]["uid"] for p in running(server, ns, "parent", 2)}
    server.kubectl("-n", ns, "delete", "job", "parent", "--cascade=orphan")
    assert server.kubectl("-n", ns, "get", "job", "parent", check=False).returncode != 0

    def released():  # no owner, and the Job controller let go of its tracking finalizer
        pods = pods_of(server, ns, "parent")
        return (
            pods
            if all(
                not p["metadata"].get("ownerReferences") and not p["metadata"].get("finalizers")
                for p in pods
            )
            else None
        )

    pods = wait_for(released, timeout=30, what="the orphans released")
    time.sleep(2)  # long enough for a wrongful cascade to have begun
    pods = pods_of(server, ns, "parent")
    assert {p["metadata"]["uid"] for p in pods} == before
    assert {p["status"]["phase"] for p in pods} == {"Running"}
    assert live_processes_mentioning(marker)
    server.kubectl("-n", ns, "delete", "pods", "-l", "job-name=parent", timeout=90)
    gone(server, ns, "parent", marker)
