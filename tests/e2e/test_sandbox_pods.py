"""Pods in the bubblewrap sandbox under ``berth up``: the node says it sandboxes, and the
lecture's two-container emptyDir pod gets its shared volume, its own hostname and its own PIDs
(the same pod fails loudly where bubblewrap is missing: ``test_sandbox_missing.py``)."""

from __future__ import annotations

import pytest

from berth.platform.version import KUBERNETES_VERSION
from berth.workers.node import nodefacts
from tests.e2e.jobs_support import apply, berth_up, condition, new_namespace, wait_for
from tests.support import require_bwrap

pytestmark = pytest.mark.e2e


@pytest.fixture(scope="module")
def server(tmp_path_factory):
    require_bwrap()
    with berth_up(tmp_path_factory.mktemp("sandbox-pods")) as up:
        yield up


@pytest.fixture
def ns(server):
    return new_namespace(server)


def test_the_node_reports_its_bubblewrap_sandbox(server):
    def reported():
        nodes = server.kubectl_json("get", "nodes")["items"]
        found = condition(nodes[0], "SandboxReady") if nodes else None
        return nodes[0] if found and found["status"] != "Unknown" else None

    node = wait_for(reported, timeout=60, what="the node's sandbox reported")
    assert node["status"]["nodeInfo"]["containerRuntimeVersion"].startswith("berth://bubblewrap-")
    assert condition(node, "SandboxReady")["status"] == "True"
    # The facts the node's agent read on its host (the one host of this test), and the one
    # Kubernetes version the server reports.
    info, here = node["status"]["nodeInfo"], nodefacts.read()
    assert {k: info[k] for k in here} == here
    assert (
        info["kubeletVersion"]
        == KUBERNETES_VERSION
        == server.kubectl_json("version")["serverVersion"]["gitVersion"]
    )
    assert node["metadata"]["labels"]["kubernetes.io/arch"] == here["architecture"]


def test_two_containers_share_an_emptydir_with_their_own_hostname_and_pids(server, ns):
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
                "hostname": "lecture-pod",
                "volumes": [{"name": "shared", "emptyDir": {}}],
                "containers": [
                    {
                        "name": "writer",
                        "image": "busybox",
                        "volumeMounts": mounts,
                        "command": [
                            "sh",
                            "-c",
                            "echo hello > /shared-data/x; hostname; ls /proc | grep -c '^[0-9]'",
                        ],
                    },
                    {
                        "name": "reader",
                        "image": "busybox",
                        "volumeMounts": mounts,
                        "command": [
                            "sh",
                            "-c",
                            "until [ -s /shared-data/x ]; do sleep 0.1; done; cat /shared-data/x",
                        ],
                    },
                ],
            },
        },
    )

    def done():
        pod = server.kubectl_json("-n", ns, "get", "pod", "two")
        return pod if pod["status"].get("phase") in ("Succeeded", "Failed") else None

    pod = wait_for(done, timeout=90, what="the pod finished")
    assert pod["status"]["phase"] == "Succeeded", pod["status"]
    hostname, processes = server.kubectl("-n", ns, "logs", "two", "-c", "writer").stdout.split()
    assert hostname == "lecture-pod"
    assert int(processes) <= 5  # its own PID namespace, not the host's hundreds
    assert server.kubectl("-n", ns, "logs", "two", "-c", "reader").stdout == "hello\n"
