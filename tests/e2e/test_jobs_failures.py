"""How Jobs on Ray handle failure, as Kubernetes does and kubectl shows: pod failure policy
rules Ignore and Count, a backoff limit per index, containers restarted in place
(``restartPolicy: OnFailure``), and ``activeDeadlineSeconds`` stopping a running pod.

``berth up`` with workers on SQLite; the kubelet's restart backoff is cut to 1 s
(``BERTH_RESTART_BACKOFF_BASE_S``), the Job controller's 10 s pod backoff is real, so each
test fails at most one pod before its verdict.
"""

from __future__ import annotations

import secrets

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
    terminated,
    wait_for,
    wait_job,
)

pytestmark = pytest.mark.e2e


@pytest.fixture(scope="module")
def server(tmp_path_factory):
    with berth_up(
        tmp_path_factory.mktemp("jobs-failures"), env={"BERTH_RESTART_BACKOFF_BASE_S": "1"}
    ) as up:
        yield up


@pytest.fixture
def ns(server):
    return new_namespace(server)


def exit_codes(rule: str, *codes: int) -> dict:
    return {
        "action": rule,
        "onExitCodes": {"containerName": "c", "operator": "In", "values": list(codes)},
    }


def reasons(server, ns: str, kind: str, name: str) -> list[tuple[str, str, str]]:
    described = server.kubectl("-n", ns, "describe", kind, name).stdout
    return [(e["Type"], e["Reason"], e["Message"]) for e in events(described)]


def test_a_failure_an_ignore_rule_matches_is_not_counted(server, ns, tmp_path):
    # The first pod leaves a mark on the host and fails with 3; its replacement finds the
    # mark and succeeds. With backoffLimit 0, one counted failure would fail the Job.
    marks = tmp_path / "marks"
    marks.mkdir()
    script = "if [ -e /marks/tried ]; then echo again; else touch /marks/tried; exit 3; fi"
    apply(
        server,
        ns,
        job(
            "flaky",
            script,
            backoffLimit=0,
            podFailurePolicy={"rules": [exit_codes("Ignore", 3)]},
            mounts=[{"name": "marks", "mountPath": "/marks"}],
            pod={"volumes": [{"name": "marks", "hostPath": {"path": str(marks)}}]},
        ),
    )
    wait_job(server, ns, "flaky", timeout=150)

    status = get_job(server, ns, "flaky")["status"]
    assert status["succeeded"] == 1 and "failed" not in status
    first, second = pods_of(server, ns, "flaky")
    assert (first["status"]["phase"], terminated(first)["exitCode"]) == ("Failed", 3)
    assert second["status"]["phase"] == "Succeeded"
    assert server.kubectl("-n", ns, "logs", second["metadata"]["name"]).stdout == "again\n"


def test_a_failure_a_count_rule_matches_counts_against_the_backoff_limit(server, ns):
    # Count comes first, so the FailJob rule behind it never applies to exit code 5.
    policy = {"rules": [exit_codes("Count", 5), exit_codes("FailJob", 5)]}
    apply(server, ns, job("counted", "exit 5", backoffLimit=0, podFailurePolicy=policy))
    wait_job(server, ns, "counted", "failed")

    status = get_job(server, ns, "counted")["status"]
    assert status["failed"] == 1
    assert condition({"status": status}, "Failed")["reason"] == "BackoffLimitExceeded"
    assert len(pods_of(server, ns, "counted")) == 1


def test_an_index_past_its_backoff_limit_per_index_fails_alone(server, ns):
    script = "echo index $JOB_COMPLETION_INDEX; [ $JOB_COMPLETION_INDEX != 1 ]"
    apply(
        server,
        ns,
        job(
            "perindex",
            script,
            completions=3,
            parallelism=3,
            completionMode="Indexed",
            backoffLimitPerIndex=0,
        ),
    )
    wait_job(server, ns, "perindex", "failed")

    status = get_job(server, ns, "perindex")["status"]
    assert (status["failedIndexes"], status["completedIndexes"]) == ("1", "0,2")
    assert (status["failed"], status["succeeded"]) == (1, 2)
    failed = condition({"status": status}, "Failed")
    assert (failed["reason"], failed["message"]) == ("FailedIndexes", "Job has failed indexes")
    pods = pods_of(server, ns, "perindex")
    assert len(pods) == 3  # the failed index was not retried
    by_index = {
        p["metadata"]["annotations"]["batch.kubernetes.io/job-completion-index"]: p for p in pods
    }
    assert by_index["1"]["status"]["phase"] == "Failed"
    assert (
        by_index["1"]["metadata"]["annotations"]["batch.kubernetes.io/job-index-failure-count"]
        == "0"
    )
    [row] = table(server, "-n", ns, "get", "jobs")
    assert (row["STATUS"], row["COMPLETIONS"]) == ("Failed", "2/3")


def test_on_failure_restarts_the_container_in_place_until_it_passes(server, ns):
    # The emptyDir outlives the container (not the pod): the second run finds the mark.
    script = (
        "if [ -e /scratch/tried ]; then echo second try; "
        "else touch /scratch/tried; echo first try; exit 1; fi"
    )
    apply(
        server,
        ns,
        job(
            "retry",
            script,
            restart="OnFailure",
            backoffLimit=2,
            mounts=[{"name": "scratch", "mountPath": "/scratch"}],
            pod={"volumes": [{"name": "scratch", "emptyDir": {}}]},
        ),
    )
    wait_job(server, ns, "retry", timeout=150)

    [pod] = pods_of(server, ns, "retry")  # the same pod all along
    name = pod["metadata"]["name"]
    [container] = pod["status"]["containerStatuses"]
    assert container["restartCount"] == 1
    assert container["lastState"]["terminated"]["exitCode"] == 1
    assert container["state"]["terminated"]["exitCode"] == 0
    assert pod["status"]["phase"] == "Succeeded"
    assert server.kubectl("-n", ns, "logs", "job/retry").stdout == "second try\n"
    assert server.kubectl("-n", ns, "logs", name, "--previous").stdout == "first try\n"
    status = get_job(server, ns, "retry")["status"]
    assert status["succeeded"] == 1 and "failed" not in status
    row = table(server, "-n", ns, "get", "pods")[0]
    assert row["RESTARTS"].startswith("1 (")


def test_active_deadline_fails_the_job_and_stops_its_running_pod(server, ns):
    marker = f"sleep 300.{secrets.randbelow(10**6):06d}"  # this pod's process, found by name
    apply(server, ns, job("late", f"echo started; exec {marker}", activeDeadlineSeconds=3))
    wait_for(lambda: live_processes_mentioning(marker), timeout=60, what="the pod's process")
    wait_job(server, ns, "late", "failed", timeout=60)

    job_now = get_job(server, ns, "late")
    status = job_now["status"]
    failed = condition(job_now, "Failed")
    assert (failed["reason"], failed["message"]) == (
        "DeadlineExceeded",
        "Job was active longer than specified deadline",
    )
    started = parse_time(status["startTime"])
    assert (parse_time(failed["lastTransitionTime"]) - started).total_seconds() >= 3
    assert "active" not in status
    wait_for(
        lambda: not live_processes_mentioning(marker),
        timeout=30,
        what="the running pod to be stopped",
    )
    wait_for(
        lambda: get_job(server, ns, "late")["status"].get("failed") == 1,
        timeout=30,
        what="the stopped pod to be counted as failed",
    )
    wait_for(
        lambda: all(p["status"]["phase"] == "Failed" for p in pods_of(server, ns, "late")),
        timeout=30,
        what="the pod to be gone or failed",
    )
    found = reasons(server, ns, "job", "late")
    assert ("Warning", "DeadlineExceeded", "Job was active longer than specified deadline") in found
    assert any(r[1] == "SuccessfulDelete" for r in found)
