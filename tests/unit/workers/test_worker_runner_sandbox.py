"""A node without a working sandbox: pods that need one fail loudly and never run; others run
unsandboxed. With bubblewrap, the same pods get their mounts, hostname and private PIDs."""

import pytest

from berth.workers.node import cgroups, logs
from berth.workers.node.nodecontext import NodeContext
from berth.workers.node.runner import PodRunner
from berth.workers.node.sandboxcheck import probe
from tests.support import require_bwrap

NO_BWRAP = probe("/nonexistent/bwrap")  # exactly what a node without bubblewrap finds


def node(tmp_path, bwrap=None):
    return NodeContext(
        node_name="n1",
        host_ip="127.0.0.1",
        log_root=tmp_path / "logs",
        pod_root=tmp_path / "pods",
        bwrap=bwrap,
        sandbox_problem=NO_BWRAP.problem,
        backoff_base=0.05,
        backoff_cap=0.2,
        poll=0.02,
        hierarchy=cgroups.detect(),
    )


def two_containers(marker, policy="Never", **spec):
    """The lecture's shape: a writer and a reader sharing an emptyDir."""
    mounts = [{"name": "shared", "mountPath": "/shared-data"}]
    return {
        "metadata": {"name": "p", "namespace": "ns", "uid": "uid-1"},
        "spec": {
            "restartPolicy": policy,
            "nodeName": "node-a",
            **spec,
            "volumes": [{"name": "shared", "emptyDir": {}}],
            "containers": [
                {
                    "name": "writer",
                    "image": "busybox",
                    "volumeMounts": mounts,
                    "command": [
                        "sh",
                        "-c",
                        f"touch {marker} 2>/dev/null; echo hi > /shared-data/x; "
                        "hostname; readlink /proc/self; ls /proc | grep -c '^[0-9]'",
                    ],
                },
                {
                    "name": "reader",
                    "image": "busybox",
                    "volumeMounts": mounts,
                    "command": [
                        "sh",
                        "-c",
                        "while [ ! -s /shared-data/x ]; do sleep 0.1; done; cat /shared-data/x",
                    ],
                },
            ],
        },
    }


def run(pod, ctx):
    reports = []
    final = PodRunner(pod, {}, ctx, gpu_ids=[], report=reports.append).run()
    return final, reports


def terminated(status, name):
    cs = next(s for s in status["containerStatuses"] if s["name"] == name)
    return cs["state"]["terminated"]


@pytest.mark.parametrize("policy", ["Never", "OnFailure"])
def test_without_bwrap_a_pod_with_a_volume_fails_and_never_runs(tmp_path, policy):
    marker = tmp_path / "ran"
    final, _ = run(two_containers(marker, policy), node(tmp_path))
    assert final["phase"] == "Failed" and final["reason"] == "SandboxUnavailable"
    for message in (
        final["message"],
        terminated(final, "writer")["message"],
        terminated(final, "reader")["message"],
    ):
        assert "bubblewrap (bwrap) is not installed" in message
        assert "apt-get install -y bubblewrap" in message
        assert "volume mounts (/shared-data)" in message and "node-a" in message
    assert terminated(final, "writer")["reason"] == "StartError"
    assert not marker.exists()  # nothing of the pod ran, unsandboxed or otherwise


def test_without_bwrap_a_pod_with_its_own_hostname_fails(tmp_path):
    pod = {
        "metadata": {"name": "p", "namespace": "ns", "uid": "uid-1"},
        "spec": {
            "restartPolicy": "Never",
            "hostname": "job-0",
            "containers": [{"name": "c", "image": "x", "command": ["true"]}],
        },
    }
    final, _ = run(pod, node(tmp_path))
    assert final["reason"] == "SandboxUnavailable"
    assert "a hostname of its own (spec.hostname)" in final["message"]


def test_without_bwrap_a_pod_without_mounts_runs_unsandboxed(tmp_path):
    pod = {
        "metadata": {"name": "p", "namespace": "ns", "uid": "uid-1"},
        "spec": {
            "restartPolicy": "Never",
            "containers": [{"name": "c", "image": "x", "command": ["echo", "ok"]}],
        },
    }
    final, _ = run(pod, ctx := node(tmp_path))
    assert final["phase"] == "Succeeded" and "reason" not in final
    assert logs.read_log(ctx.log_root, "uid-1", "c") == "ok\n"


def test_with_bwrap_the_same_pod_gets_its_volume_hostname_and_own_pids(tmp_path):
    ctx = node(tmp_path, require_bwrap())
    final, _ = run(two_containers(tmp_path / "ran", hostname="lecture-0"), ctx)
    assert final["phase"] == "Succeeded", logs.read_log(ctx.log_root, "uid-1", "writer")
    hostname, pid, processes = logs.read_log(ctx.log_root, "uid-1", "writer").split()
    assert hostname == "lecture-0"
    # Its own PID namespace: a handful of processes (bwrap's init, sh, ls, grep), low PIDs.
    assert int(pid) < 10 and int(processes) <= 5
    assert logs.read_log(ctx.log_root, "uid-1", "reader") == "hi\n"
