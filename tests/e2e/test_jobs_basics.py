"""Jobs really run on Ray (``berth up`` with workers), seen through the real kubectl as
Kubernetes shows them: a non-parallel Job and its logs, a parallel Job that never has more
than ``parallelism`` pods at once, a failed Job (backoff limit, pod failure policy).

The representative module: it runs on SQLite and on PostgreSQL.
"""

from __future__ import annotations

import re
import time
from datetime import datetime

import pytest

from berth.platform.resources.meta import parse_time
from tests.e2e.jobs_support import (
    apply,
    berth_up,
    condition,
    database,
    events,
    get_job,
    job,
    max_overlap,
    new_namespace,
    pods_of,
    table,
    terminated,
    wait_job,
)
from tests.support import pg_problem

pytestmark = pytest.mark.e2e


@pytest.fixture(scope="module", params=["sqlite", "postgresql"])
def server(request, tmp_path_factory):
    if request.param == "postgresql" and pg_problem():
        pytest.skip(pg_problem())
    with database(request.param) as url:
        with berth_up(tmp_path_factory.mktemp(f"jobs-basics-{request.param}"), url) as up:
            yield up


@pytest.fixture
def ns(server):
    return new_namespace(server)


def test_a_job_runs_its_pod_once_and_kubectl_shows_it_complete(server, ns):
    apply(server, ns, job("hello", "echo hello from $HOSTNAME; echo to stderr >&2"))
    wait_job(server, ns, "hello")

    [pod] = pods_of(server, ns, "hello")
    name = pod["metadata"]["name"]
    assert pod["status"]["phase"] == "Succeeded"
    assert pod["spec"]["nodeName"].startswith("ray-")
    done = terminated(pod)
    assert (done["exitCode"], done["reason"]) == (0, "Completed")
    assert server.kubectl("-n", ns, "logs", "job/hello").stdout == f"hello from {name}\nto stderr\n"

    status = get_job(server, ns, "hello")["status"]
    assert status["succeeded"] == 1 and "failed" not in status and "active" not in status
    assert parse_time(status["completionTime"]) >= parse_time(status["startTime"])
    complete = condition({"status": status}, "Complete")
    assert (complete["status"], complete["reason"]) == ("True", "CompletionsReached")
    assert condition({"status": status}, "SuccessCriteriaMet")["status"] == "True"

    [row] = table(server, "-n", ns, "get", "jobs")
    assert (row["NAME"], row["STATUS"], row["COMPLETIONS"]) == ("hello", "Complete", "1/1")
    assert re.fullmatch(r"\d+s", row["DURATION"])
    description = server.kubectl("-n", ns, "describe", "job", "hello").stdout
    assert re.search(
        r"^Pods Statuses:\s+0 Active \(0 Ready\) / 1 Succeeded / 0 Failed$", description, re.M
    )
    # kubectl sorts events by their time, in whole seconds: two in one second come in any order.
    assert sorted(
        (e["Type"], e["Reason"], e["From"], e["Message"]) for e in events(description)
    ) == [
        ("Normal", "Completed", "job-controller", "Job completed"),
        ("Normal", "SuccessfulCreate", "job-controller", f"Created pod: {name}"),
    ]


def test_kubectl_logs_follows_a_running_job_until_its_container_ends(server, ns):
    apply(server, ns, job("chatty", "echo one; sleep 2; echo two"))
    began = time.monotonic()
    followed = server.kubectl(
        "-n", ns, "logs", "-f", "job/chatty", "--pod-running-timeout=60s", timeout=90
    )
    assert followed.stdout == "one\ntwo\n"
    assert time.monotonic() - began >= 2  # it streamed, not a snapshot of a finished pod
    wait_job(server, ns, "chatty")


def test_a_parallel_job_never_runs_more_pods_than_its_parallelism(server, ns):
    # Each pod logs when its command began and ended, to the nanosecond.
    script = "echo start $(date +%s.%N); sleep 2; echo end $(date +%s.%N)"
    apply(server, ns, job("wide", script, completions=5, parallelism=2))
    wait_job(server, ns, "wide", timeout=180)

    status = get_job(server, ns, "wide")["status"]
    assert status["succeeded"] == 5 and "failed" not in status
    pods = pods_of(server, ns, "wide")
    assert len(pods) == 5 and {p["status"]["phase"] for p in pods} == {"Succeeded"}

    # kubectl logs -l: every pod's log, each line prefixed with its pod.
    out = server.kubectl("-n", ns, "logs", "-l", "job-name=wide", "--prefix").stdout
    times: dict[str, dict[str, float]] = {}
    for line in out.splitlines():
        match = re.fullmatch(r"\[pod/(\S+)/c\] (start|end) ([\d.]+)", line)
        assert match, line
        times.setdefault(match[1], {})[match[2]] = float(match[3])
    assert set(times) == {p["metadata"]["name"] for p in pods}
    intervals = [(t["start"], t["end"]) for t in times.values()]
    assert max_overlap(intervals) == 2  # parallel indeed, and never more

    # What the kubelet reported agrees (whole seconds, so it can only under-count).
    def seconds(moment: str) -> float:
        return datetime.timestamp(parse_time(moment))

    reported = [
        (seconds(terminated(p)["startedAt"]), seconds(terminated(p)["finishedAt"])) for p in pods
    ]
    assert max_overlap(reported) <= 2
    [row] = table(server, "-n", ns, "get", "jobs")
    assert (row["STATUS"], row["COMPLETIONS"]) == ("Complete", "5/5")


def test_a_job_past_its_backoff_limit_fails(server, ns):
    apply(server, ns, job("doomed", "echo about to fail; exit 3", backoffLimit=0))
    wait_job(server, ns, "doomed", "failed")

    status = get_job(server, ns, "doomed")["status"]
    assert status["failed"] == 1 and "succeeded" not in status
    failed = condition({"status": status}, "Failed")
    assert (failed["status"], failed["reason"], failed["message"]) == (
        "True",
        "BackoffLimitExceeded",
        "Job has reached the specified backoff limit",
    )
    assert "completionTime" not in status
    [pod] = pods_of(server, ns, "doomed")
    assert pod["status"]["phase"] == "Failed"
    assert (terminated(pod)["exitCode"], terminated(pod)["reason"]) == (3, "Error")
    assert server.kubectl("-n", ns, "logs", "job/doomed").stdout == "about to fail\n"
    [row] = table(server, "-n", ns, "get", "jobs")
    assert (row["STATUS"], row["COMPLETIONS"]) == ("Failed", "0/1")
    described = events(server.kubectl("-n", ns, "describe", "job", "doomed").stdout)
    assert ("Warning", "BackoffLimitExceeded", "Job has reached the specified backoff limit") in [
        (e["Type"], e["Reason"], e["Message"]) for e in described
    ]


def test_a_fail_job_rule_of_the_pod_failure_policy_fails_the_job_at_once(server, ns):
    policy = {
        "rules": [
            {
                "action": "FailJob",
                "onExitCodes": {"containerName": "c", "operator": "In", "values": [42]},
            }
        ]
    }
    apply(server, ns, job("fatal", "exit 42", backoffLimit=6, podFailurePolicy=policy))
    wait_job(server, ns, "fatal", "failed")

    [pod] = pods_of(server, ns, "fatal")  # no retry, although the backoff limit allows 6
    message = (
        f"Container c for pod {ns}/{pod['metadata']['name']} failed with exit code 42 "
        f"matching FailJob rule at index 0"
    )
    status = get_job(server, ns, "fatal")["status"]
    assert status["failed"] == 1
    for kind in ("FailureTarget", "Failed"):
        found = condition({"status": status}, kind)
        assert (found["status"], found["reason"], found["message"]) == (
            "True",
            "PodFailurePolicy",
            message,
        )
    described = events(server.kubectl("-n", ns, "describe", "job", "fatal").stdout)
    assert ("Warning", "PodFailurePolicy", message) in [
        (e["Type"], e["Reason"], e["Message"]) for e in described
    ]
