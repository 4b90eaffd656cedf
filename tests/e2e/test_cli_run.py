"""``berth run`` following Jobs to their end, and ``berth logs`` of their pods, against a
``berth up`` WITH workers (pods really run on the local Ray), on SQLite.

The fixture fails, saying so, when no pod of a probe Job starts within 60 s: a worker pool
that runs nothing is a broken feature, not a missing service.
"""

from __future__ import annotations

import os
import subprocess
import sys
import time
import uuid

import pytest

from tests.e2e.conftest import REPO, start_berth, stop_berth_and_ray

START_WITHIN_S = 60
RUN_TIMEOUT_S = 180


def berth(server, *args: str, timeout: float = RUN_TIMEOUT_S) -> subprocess.CompletedProcess:
    env = {**os.environ, "BERTH_SERVER": server.url}
    return subprocess.run(
        [sys.executable, "-m", "berth.cli.main", *args],
        capture_output=True,
        text=True,
        timeout=timeout,
        cwd=REPO,
        env=env,
    )


def started_pods(server, namespace: str, job: str) -> list[dict]:
    with server.http() as http:
        listed = http.get(
            f"/api/v1/namespaces/{namespace}/pods", params={"labelSelector": f"job-name={job}"}
        ).json()
    return [
        p
        for p in listed.get("items") or []
        if (p.get("status") or {}).get("phase", "Pending") != "Pending"
    ]


@pytest.fixture(scope="module")
def berth_with_workers(tmp_path_factory):
    server = start_berth(tmp_path_factory.mktemp("berth-workers"), None, workers=True)
    try:
        probe = berth(
            server, "run", "-d", "--name", "probe", "--", "sh", "-c", "echo ready", timeout=60
        )
        assert probe.returncode == 0, probe.stderr
        deadline = time.monotonic() + START_WITHIN_S
        while not started_pods(server, "default", "probe"):
            if time.monotonic() > deadline:
                pytest.fail(
                    f"berth up --workers started no pod of a Job within "
                    f"{START_WITHIN_S} s: the worker pool runs nothing"
                )
            time.sleep(1)
        yield server
    finally:
        stop_berth_and_ray(server.process, server.data_dir)


@pytest.fixture
def ns(berth_with_workers):
    name = f"run-{uuid.uuid4().hex[:8]}"
    berth_with_workers.kubectl("create", "namespace", name)
    return name


def test_run_follows_a_job_to_completion_and_prints_its_output(berth_with_workers, ns):
    result = berth(
        berth_with_workers,
        "run",
        "-n",
        ns,
        "--name",
        "hello",
        "--",
        "sh",
        "-c",
        "echo hello; echo world",
    )
    assert result.returncode == 0, result.stderr
    assert result.stdout == "hello\nworld\n"
    assert "job.batch/hello created" in result.stderr
    assert result.stderr.rstrip().endswith("job.batch/hello completed (1/1 succeeded)")


def test_run_exits_1_with_the_reason_when_the_job_fails(berth_with_workers, ns):
    result = berth(
        berth_with_workers,
        "run",
        "-n",
        ns,
        "--name",
        "oops",
        "--backoff-limit",
        "0",
        "--",
        "sh",
        "-c",
        "echo about to fail; exit 3",
    )
    assert result.returncode == 1, result.stderr
    assert result.stdout == "about to fail\n"
    assert "(exit code 3)" in result.stderr
    assert "job.batch/oops failed: BackoffLimitExceeded" in result.stderr


def test_indexed_run_prefixes_each_line_with_its_index(berth_with_workers, ns):
    result = berth(
        berth_with_workers,
        "run",
        "-n",
        ns,
        "--name",
        "idx",
        "--completions",
        "3",
        "--parallelism",
        "3",
        "--indexed",
        "--env",
        "GREETING=hi",
        "--",
        "sh",
        "-c",
        "echo $GREETING from $JOB_COMPLETION_INDEX",
    )
    assert result.returncode == 0, result.stderr
    assert sorted(result.stdout.splitlines()) == ["[0] hi from 0", "[1] hi from 1", "[2] hi from 2"]
    logs = berth(berth_with_workers, "logs", "job/idx", "-n", ns)
    assert logs.returncode == 0, logs.stderr
    lines = logs.stdout.splitlines()
    assert len(lines) == 3
    assert all(
        line.startswith("[idx-") and line.endswith(f"hi from {i}") for i, line in enumerate(lines)
    ), lines


def test_logs_of_one_pod_with_tail_and_follow(berth_with_workers, ns):
    result = berth(
        berth_with_workers,
        "run",
        "-n",
        ns,
        "--name",
        "count",
        "--",
        "sh",
        "-c",
        "for i in 1 2 3; do echo line $i; done",
    )
    assert result.returncode == 0, result.stderr
    (pod,) = started_pods(berth_with_workers, ns, "count")
    name = pod["metadata"]["name"]
    tail = berth(berth_with_workers, "logs", name, "-n", ns, "--tail", "1")
    assert tail.stdout == "line 3\n"
    followed = berth(berth_with_workers, "logs", "-f", f"pod/{name}", "-n", ns)
    assert followed.stdout == "line 1\nline 2\nline 3\n"


def test_a_command_that_does_not_exist_fails_the_run(berth_with_workers, ns):
    result = berth(
        berth_with_workers,
        "run",
        "-n",
        ns,
        "--name",
        "nosuch",
        "--backoff-limit",
        "0",
        "--",
        "/no/such/program",
    )
    assert result.returncode == 1, result.stderr
    assert "pod/nosuch-" in result.stderr and "failed" in result.stderr
