"""The Job patterns of Kubernetes' documentation, run on Ray (``berth up`` with workers, SQLite):
an Indexed Job whose pods know their index, and a work queue (``completions`` unset) whose pods
drain a shared queue and finish together.
"""

from __future__ import annotations

import re

import pytest
from kubernetes import client as k8s

from tests.e2e.jobs_support import (
    api_client,
    apply,
    berth_up,
    condition,
    get_job,
    job,
    new_namespace,
    pods_of,
    table,
    wait_job,
)

pytestmark = pytest.mark.e2e

INDEX_ANNOTATION = "batch.kubernetes.io/job-completion-index"


@pytest.fixture(scope="module")
def server(tmp_path_factory):
    with berth_up(tmp_path_factory.mktemp("jobs-patterns")) as up:
        yield up


@pytest.fixture
def ns(server):
    return new_namespace(server)


def test_an_indexed_job_gives_each_pod_its_index_and_hostname(server, ns):
    script = "echo index=$JOB_COMPLETION_INDEX hostname=$(hostname)"
    apply(server, ns, job("shards", script, completions=4, parallelism=2, completionMode="Indexed"))
    wait_job(server, ns, "shards")

    status = get_job(server, ns, "shards")["status"]
    assert status["completedIndexes"] == "0-3"
    assert status["succeeded"] == 4 and "failed" not in status
    assert condition({"status": status}, "Complete")["reason"] == "CompletionsReached"
    pods = pods_of(server, ns, "shards")
    assert sorted(p["metadata"]["annotations"][INDEX_ANNOTATION] for p in pods) == [
        "0",
        "1",
        "2",
        "3",
    ]
    for pod in pods:
        index = pod["metadata"]["annotations"][INDEX_ANNOTATION]
        name = pod["metadata"]["name"]
        assert re.fullmatch(rf"shards-{index}-[a-z0-9]{{5}}", name)
        assert pod["metadata"]["labels"][INDEX_ANNOTATION] == index
        assert pod["spec"]["hostname"] == f"shards-{index}"
        assert (
            server.kubectl("-n", ns, "logs", name).stdout
            == f"index={index} hostname=shards-{index}\n"
        )
    [row] = table(server, "-n", ns, "get", "jobs")
    assert (row["STATUS"], row["COMPLETIONS"]) == ("Complete", "4/4")

    # The same through the kubernetes Python client.
    with api_client(server) as api:
        read = k8s.BatchV1Api(api).read_namespaced_job_status("shards", ns)
        assert (read.status.completed_indexes, read.status.succeeded) == ("0-3", 4)
        assert read.spec.completion_mode == "Indexed"
        core = k8s.CoreV1Api(api)
        listed = core.list_namespaced_pod(ns, label_selector=f"{INDEX_ANNOTATION}=2")
        [pod] = listed.items
        assert core.read_namespaced_pod_log(pod.metadata.name, ns) == "index=2 hostname=shards-2\n"


def test_a_work_queue_job_completes_when_its_pods_have_drained_the_queue(server, ns, tmp_path):
    # The queue: one file per item in a host directory the pods share; a pod claims an item by
    # moving it (atomic), works on it, and exits 0 once nothing is left to claim.
    queue = tmp_path / "queue"
    (queue / "todo").mkdir(parents=True)
    (queue / "taken").mkdir()
    for item in range(9):
        (queue / "todo" / f"item{item}").write_text("")
    script = (
        "cd /queue; for item in todo/*; do name=${item#todo/}; "
        "mv $item taken/$name-$HOSTNAME 2>/dev/null || continue; "
        "echo $name; sleep 0.3; done"
    )
    apply(
        server,
        ns,
        job(
            "drain",
            script,
            parallelism=3,
            mounts=[{"name": "queue", "mountPath": "/queue"}],
            pod={
                "volumes": [
                    {"name": "queue", "hostPath": {"path": str(queue), "type": "Directory"}}
                ]
            },
        ),
    )
    wait_job(server, ns, "drain")

    status = get_job(server, ns, "drain")["status"]
    assert status["succeeded"] == 3 and "failed" not in status and "active" not in status
    pods = pods_of(server, ns, "drain")
    assert len(pods) == 3  # no pod is created once one has succeeded
    done = server.kubectl("-n", ns, "logs", "-l", "job-name=drain").stdout.split()
    assert sorted(done) == [f"item{i}" for i in range(9)]  # every item once
    assert not list((queue / "todo").iterdir())
    [row] = table(server, "-n", ns, "get", "jobs")
    assert (row["STATUS"], row["COMPLETIONS"]) == ("Complete", "3/1 of 3")
