"""Volumes as a pod's processes see them, in the real bubblewrap sandbox (no Ray): mounted
ConfigMaps update in place (subPath copies do not), read-only mounts refuse writes, Secrets and
memory emptyDirs are on tmpfs, sizeLimit evicts, and a pod sees no other pod's volumes."""

import threading
import time

import pytest

from berth.workers.node import cgroups, logs
from berth.workers.node.nodecontext import NodeContext
from berth.workers.node.runner import PodRunner
from berth.workers.node.sandbox import FileData
from tests.support import require_bwrap


@pytest.fixture
def ctx(tmp_path):
    node = NodeContext(
        node_name="n1",
        host_ip="127.0.0.1",
        log_root=tmp_path / "logs",
        pod_root=tmp_path / "pods",
        bwrap=require_bwrap(),
        backoff_base=0.05,
        backoff_cap=0.2,
        poll=0.02,
        hierarchy=cgroups.detect(),
        hide=[str(tmp_path)],
    )
    yield node
    runner = PodRunner(a_pod(), {}, node, gpu_ids=[], report=lambda s: None)
    runner.memory.prune(set())  # the node's tmpfs folders of these pods


def a_pod(*containers, uid="uid-1", volumes=(), **spec):
    return {
        "metadata": {"name": f"p-{uid}", "namespace": "ns", "uid": uid},
        "spec": {
            "restartPolicy": "Never",
            "containers": list(containers),
            "volumes": list(volumes),
            **spec,
        },
    }


def sh(script, *mounts, name="c"):
    return {
        "name": name,
        "image": "busybox",
        "command": ["/bin/sh", "-c", script],
        "volumeMounts": list(mounts),
    }


def run(pod, ctx, bundle=None):
    runner = PodRunner(pod, bundle or {}, ctx, gpu_ids=[], report=lambda s: None)
    return runner.run(), runner


def log_of(ctx, uid="uid-1", name="c"):
    return logs.read_log(ctx.log_root, uid, name)


def test_a_mounted_configmap_updates_in_a_running_pod_and_a_subpath_does_not(ctx):
    bundle = {"volumes": {"cfg": {"files": {"city": {"data": "Ann Arbor"}}}}}
    script = (
        'until [ "$(cat /cfg/city)" = Detroit ]; do sleep 0.1; done; '
        'echo "live: $(cat /cfg/city)"; echo "subPath: $(cat /etc/city)"'
    )
    pod = a_pod(
        sh(
            script,
            {"name": "cfg", "mountPath": "/cfg"},
            {"name": "cfg", "mountPath": "/etc/city", "subPath": "city"},
        ),
        volumes=[{"name": "cfg", "configMap": {"name": "x"}}],
        activeDeadlineSeconds=60,
    )
    runner = PodRunner(pod, bundle, ctx, gpu_ids=[], report=lambda s: None)
    result = {}
    thread = threading.Thread(target=lambda: result.update(final=runner.run()))
    thread.start()
    deadline = time.monotonic() + 30
    while runner.status()["containerStatuses"][0]["state"].get("running") is None:
        assert time.monotonic() < deadline, "the container never started"
        time.sleep(0.05)
    runner.memory.publish("uid-1", {"cfg": {"city": FileData(b"Detroit")}})  # as the agent does
    thread.join(60)
    assert result["final"]["phase"] == "Succeeded", log_of(ctx)
    assert log_of(ctx) == "live: Detroit\nsubPath: Ann Arbor\n"


def test_read_only_mounts_refuse_writes(ctx, tmp_path):
    claim = tmp_path / "claim"
    claim.mkdir()
    volumes = [
        {"name": "scratch", "emptyDir": {}},
        {"name": "data", "persistentVolumeClaim": {"claimName": "c", "readOnly": True}},
    ]
    bundle = {"volumes": {"data": {"hostPath": str(claim), "readOnly": True}}}
    script = (
        "echo x > /ro/f && echo wrote-ro; echo x > /data/f && echo wrote-claim; "
        "echo x > /cfg/f && echo wrote-cfg; echo done"
    )
    pod = a_pod(
        sh(
            script,
            {"name": "scratch", "mountPath": "/ro", "readOnly": True},
            {"name": "data", "mountPath": "/data"},
            {"name": "cfg", "mountPath": "/cfg"},
        ),
        volumes=volumes + [{"name": "cfg", "configMap": {"name": "x"}}],
    )
    bundle["volumes"]["cfg"] = {"files": {"k": {"data": "v"}}}
    final, _ = run(pod, ctx, bundle)
    assert final["phase"] == "Succeeded"
    assert (
        log_of(ctx)
        == "".join(
            f"/bin/sh: 1: cannot create /{d}/f: Read-only file system\n"
            for d in ("ro", "data", "cfg")
        )
        + "done\n"
    )
    assert list(claim.iterdir()) == []


def test_secret_files_are_on_tmpfs_with_their_modes(ctx):
    bundle = {"volumes": {"sec": {"files": {"password": {"data": b"s3cret", "mode": 0o400}}}}}
    script = "grep ' /mysecret ' /proc/mounts | cut -d' ' -f3; stat -L -c %a /mysecret/password"
    pod = a_pod(
        sh(script, {"name": "sec", "mountPath": "/mysecret"}),
        volumes=[{"name": "sec", "secret": {"secretName": "s"}}],
    )
    final, _ = run(pod, ctx, bundle)
    assert final["phase"] == "Succeeded"
    assert log_of(ctx) == "tmpfs\n400\n"


def test_a_memory_emptydir_is_tmpfs_shared_by_the_pods_containers(ctx):
    mount = {"name": "mem", "mountPath": "/cache"}
    pod = a_pod(
        sh(
            "grep ' /cache ' /proc/mounts | cut -d' ' -f3; echo hi > /cache/x", mount, name="writer"
        ),
        sh("until [ -s /cache/x ]; do sleep 0.1; done; cat /cache/x", mount, name="reader"),
        volumes=[{"name": "mem", "emptyDir": {"medium": "Memory"}}],
    )
    final, _ = run(pod, ctx)
    assert final["phase"] == "Succeeded"
    assert (log_of(ctx, name="writer"), log_of(ctx, name="reader")) == ("tmpfs\n", "hi\n")


@pytest.mark.parametrize("medium", ["", "Memory"])
def test_an_emptydir_over_its_size_limit_evicts_the_pod(ctx, medium):
    script = "head -c 3000000 /dev/zero > /scratch/big; sleep 60"
    pod = a_pod(
        sh(script, {"name": "scratch", "mountPath": "/scratch"}),
        volumes=[{"name": "scratch", "emptyDir": {"sizeLimit": "1Mi", "medium": medium}}],
        terminationGracePeriodSeconds=30,
    )
    started = time.monotonic()
    final, _ = run(pod, ctx)
    assert final["phase"] == "Failed" and final["reason"] == "Evicted"
    assert final["message"] == 'Usage of EmptyDir volume "scratch" exceeds the limit "1Mi".'
    assert time.monotonic() - started < 30  # stopped at once, not after its sleep or grace


def test_a_pod_cannot_see_another_pods_volumes(ctx):
    first = a_pod(
        sh(
            "echo mine > /scratch/x; echo ok > /sec/.probe 2>/dev/null; true",
            {"name": "scratch", "mountPath": "/scratch"},
            {"name": "sec", "mountPath": "/sec"},
        ),
        volumes=[
            {"name": "scratch", "emptyDir": {}},
            {"name": "sec", "secret": {"secretName": "s"}},
        ],
    )
    final, runner = run(first, ctx, {"volumes": {"sec": {"files": {"token": {"data": "t0k"}}}}})
    assert final["phase"] == "Succeeded"
    places = [
        str(ctx.pod_root / "uid-1" / "volumes" / "scratch"),
        str(runner.memory.path("uid-1", "sec")),
        str(runner.memory.root),
        "/dev/shm/berth",
    ]
    script = "; ".join(f"cat {p}/x {p}/token 2>/dev/null || echo hidden" for p in places)
    final, _ = run(a_pod(sh(script), uid="uid-2"), ctx)
    assert final["phase"] == "Succeeded"
    assert log_of(ctx, uid="uid-2") == "hidden\n" * len(places)
