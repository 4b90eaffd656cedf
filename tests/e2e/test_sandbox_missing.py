"""A node whose bubblewrap is missing (``BERTH_BWRAP`` names a program that is not there, as
on a fresh machine): the Node says so, pods that need volumes fail with an Event naming the
missing program and how to install it — never run without their volumes — and a pod that needs
nothing of the sandbox runs unsandboxed with a warning."""

from __future__ import annotations

import pytest

from tests.e2e.jobs_support import (
    apply,
    berth_up,
    condition,
    get_job,
    job,
    new_namespace,
    pods_of,
    wait_for,
    wait_job,
)

pytestmark = pytest.mark.e2e

INSTALL = "apt-get install -y bubblewrap"


@pytest.fixture(scope="module")
def server(tmp_path_factory):
    with berth_up(
        tmp_path_factory.mktemp("no-bwrap"), env={"BERTH_BWRAP": "/nonexistent/bin/bwrap"}
    ) as up:
        yield up


@pytest.fixture
def ns(server):
    return new_namespace(server)


def pod_events(server, ns: str, name: str) -> list[dict]:
    items = server.kubectl_json("-n", ns, "get", "events")["items"]
    return [e for e in items if e["involvedObject"]["name"] == name]


def test_the_node_reports_it_has_no_sandbox(server):
    def reported():
        nodes = server.kubectl_json("get", "nodes")["items"]
        if not nodes:
            return None
        node = nodes[0]
        found = condition(node, "SandboxReady")
        return node if found and found["status"] != "Unknown" else None

    node = wait_for(reported, timeout=60, what="the node's sandbox reported")
    assert node["status"]["nodeInfo"]["containerRuntimeVersion"] == "berth://unsandboxed"
    sandbox = condition(node, "SandboxReady")
    assert (sandbox["status"], sandbox["reason"]) == ("False", "BubblewrapUnavailable")
    assert "/nonexistent/bin/bwrap" in sandbox["message"] and INSTALL in sandbox["message"]
    assert condition(node, "Ready")["status"] == "True"  # pods without volumes still run
    assert "NO SANDBOX" in server.log()


def test_the_two_container_emptydir_pod_fails_with_an_event(server, ns):
    mounts = [{"name": "shared", "mountPath": "/shared-data"}]
    apply(
        server,
        ns,
        {
            "apiVersion": "v1",
            "kind": "Pod",
            "metadata": {"name": "two"},
            "spec": {
                "restartPolicy": "Never",
                "volumes": [{"name": "shared", "emptyDir": {}}],
                "containers": [
                    {
                        "name": "writer",
                        "image": "busybox",
                        "volumeMounts": mounts,
                        "command": ["sh", "-c", "echo hi > /shared-data/x"],
                    },
                    {
                        "name": "reader",
                        "image": "busybox",
                        "volumeMounts": mounts,
                        "command": ["sh", "-c", "sleep 1; cat /shared-data/x"],
                    },
                ],
            },
        },
    )

    def failed():
        pod = server.kubectl_json("-n", ns, "get", "pod", "two")
        return pod if pod["status"].get("phase") == "Failed" else None

    pod = wait_for(failed, timeout=60, what="the pod failed")
    assert pod["status"]["reason"] == "SandboxUnavailable"
    for cs in pod["status"]["containerStatuses"]:
        term = cs["state"]["terminated"]
        assert term["reason"] == "StartError" and "bubblewrap" in term["message"]
        assert INSTALL in term["message"]
    [event] = wait_for(
        lambda: [
            e for e in pod_events(server, ns, "two") if e["reason"] == "FailedCreatePodSandBox"
        ],
        timeout=30,
        what="the FailedCreatePodSandBox event",
    )
    assert event["type"] == "Warning"
    assert "/nonexistent/bin/bwrap" in event["message"] and INSTALL in event["message"]
    assert "volume mounts (/shared-data)" in event["message"]
    assert server.kubectl("-n", ns, "logs", "two", "-c", "writer").stdout == ""


def test_an_on_failure_job_with_an_emptydir_fails_instead_of_crash_looping(server, ns):
    apply(
        server,
        ns,
        job(
            "marker",
            "touch /scratch/done && test -f /scratch/done",
            restart="OnFailure",
            backoffLimit=1,
            mounts=[{"name": "scratch", "mountPath": "/scratch"}],
            pod={"volumes": [{"name": "scratch", "emptyDir": {}}]},
        ),
    )
    wait_job(server, ns, "marker", condition="failed", timeout=120)
    assert condition(get_job(server, ns, "marker"), "Failed")["reason"] == "BackoffLimitExceeded"
    for pod in pods_of(server, ns, "marker"):
        assert pod["status"]["reason"] == "SandboxUnavailable"
        assert pod["status"]["containerStatuses"][0]["restartCount"] == 0


def test_a_pod_without_mounts_runs_unsandboxed_with_a_warning(server, ns):
    apply(server, ns, job("plain", "echo ran"))
    wait_job(server, ns, "plain", timeout=120)
    assert server.kubectl("-n", ns, "logs", "job/plain").stdout == "ran\n"
    [pod] = pods_of(server, ns, "plain")
    [event] = wait_for(
        lambda: [
            e
            for e in pod_events(server, ns, pod["metadata"]["name"])
            if e["reason"] == "Unsandboxed"
        ],
        timeout=30,
        what="the Unsandboxed warning",
    )
    assert event["type"] == "Warning" and INSTALL in event["message"]
