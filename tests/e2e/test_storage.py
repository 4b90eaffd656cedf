"""PersistentVolumes, claims and StorageClasses through the real kubectl on ``berth up`` with
workers: the lecture's examples bind as written, the default class provisions a directory
when a pod is scheduled, data written by one Job is read by the next, and reclaim policies
act when claims are deleted.

Reading data back needs the node side to mount the claim into the pod's sandbox (bubblewrap).
"""

from __future__ import annotations

from pathlib import Path

import pytest

from tests.e2e.jobs_support import apply, berth_up, job, new_namespace, wait_for, wait_job

pytestmark = pytest.mark.e2e

LECTURE = Path(__file__).resolve().parents[2] / "examples" / "lecture"


@pytest.fixture(scope="module")
def server(tmp_path_factory):
    with berth_up(tmp_path_factory.mktemp("storage")) as up:
        yield up


@pytest.fixture
def ns(server):
    return new_namespace(server)


def claim(name: str, size: str = "1Gi", **spec) -> dict:
    return {
        "apiVersion": "v1",
        "kind": "PersistentVolumeClaim",
        "metadata": {"name": name},
        "spec": {
            "accessModes": ["ReadWriteOnce"],
            "resources": {"requests": {"storage": size}},
            **spec,
        },
    }


def get(server, ns: str | None, kind: str, name: str) -> dict:
    args = ("-n", ns) if ns else ()
    return server.kubectl_json(*args, "get", kind, name)


def phase(server, ns: str | None, kind: str, name: str, wanted: str, timeout: float = 60):
    return wait_for(
        lambda: (obj := get(server, ns, kind, name))["status"].get("phase") == wanted and obj,
        timeout=timeout,
        what=f"{kind} {name} {wanted}",
    )


def gone(server, ns: str | None, kind: str, name: str) -> bool:
    args = ("-n", ns) if ns else ()
    return server.kubectl(*args, "get", kind, name, check=False).returncode != 0


def events_of(server, ns: str, name: str) -> list[tuple[str, str, str]]:
    listed = server.kubectl_json(
        "-n", ns, "get", "events", "--field-selector", f"involvedObject.name={name}"
    )
    return [(e["type"], e["reason"], e["message"]) for e in listed["items"]]


def test_a_default_class_exists(server):
    classes = server.kubectl_json("get", "storageclass")["items"]
    [default] = [
        c
        for c in classes
        if (c["metadata"].get("annotations") or {}).get(
            "storageclass.kubernetes.io/is-default-class"
        )
        == "true"
    ]
    assert (default["metadata"]["name"], default["provisioner"], default["volumeBindingMode"]) == (
        "local-path",
        "berth.io/local-path",
        "WaitForFirstConsumer",
    )


def test_the_lecture_volumes_bind_by_class_and_by_selector(server, ns):
    try:
        server.kubectl("-n", ns, "apply", "-f", str(LECTURE / "storage.yaml"))
        by_class = phase(server, ns, "pvc", "pvc-sc-example", "Bound")
        assert by_class["spec"]["volumeName"] == "nfsserver"
        by_selector = phase(server, ns, "pvc", "pvc-selector-example", "Bound")
        assert by_selector["spec"]["volumeName"] == "pv-selector-example"
        assert "storageClassName" not in by_selector["spec"]  # a selector keeps it class-less
        assert (
            phase(server, None, "pv", "nfsserver", "Bound")["spec"]["claimRef"]["name"]
            == "pvc-sc-example"
        )
        rows = server.kubectl("-n", ns, "get", "pvc").stdout
        assert "pvc-selector-example   Bound    pv-selector-example   2Gi        RWX" in rows
    finally:
        server.kubectl("-n", ns, "delete", "pvc", "--all", "--wait=false", check=False)
        server.kubectl(
            "delete", "pv", "nfsserver", "pv-selector-example", "--wait=false", check=False
        )
        server.kubectl("delete", "storageclass", "standard", check=False)


def test_a_claim_nothing_fits_says_why(server, ns):
    apply(server, ns, claim("lonely", storageClassName=""))
    wait_for(
        lambda: (
            (
                "Normal",
                "FailedBinding",
                "no persistent volumes available for this claim and no storage class is set",
            )
            in events_of(server, ns, "lonely")
        ),
        timeout=30,
        what="FailedBinding",
    )
    assert get(server, ns, "pvc", "lonely")["status"]["phase"] == "Pending"
    server.kubectl("-n", ns, "delete", "pvc", "lonely")  # PVs of later tests are not its


def test_data_written_by_one_job_is_read_by_the_next(server, ns, tmp_path):
    apply(server, ns, claim("results"))
    mounts = [{"name": "data", "mountPath": "/data"}]
    volumes = {"volumes": [{"name": "data", "persistentVolumeClaim": {"claimName": "results"}}]}
    apply(
        server,
        ns,
        job("writer", "echo 'model accuracy 0.93' > /data/metrics.txt", mounts=mounts, pod=volumes),
    )
    wait_job(server, ns, "writer")
    bound = phase(server, ns, "pvc", "results", "Bound")
    assert bound["spec"]["storageClassName"] == "local-path"
    node = bound["metadata"]["annotations"]["volume.kubernetes.io/selected-node"]
    assert node.startswith("ray-")
    apply(server, ns, job("reader", "cat /data/metrics.txt", mounts=mounts, pod=volumes))
    wait_job(server, ns, "reader")
    assert server.kubectl("-n", ns, "logs", "job/reader").stdout == "model accuracy 0.93\n"
    volume = get(server, None, "pv", bound["spec"]["volumeName"])
    directory = Path(volume["spec"]["hostPath"]["path"])
    assert (directory / "metrics.txt").read_text() == "model accuracy 0.93\n"

    # Delete policy (the default class): the claim goes, the volume and its data with it.
    server.kubectl("-n", ns, "delete", "jobs", "--all")
    server.kubectl("-n", ns, "delete", "pvc", "results", timeout=90)
    wait_for(
        lambda: gone(server, None, "pv", volume["metadata"]["name"]),
        timeout=60,
        what="the provisioned volume deleted",
    )
    assert not directory.exists()


def test_a_retained_volume_is_kept_released_with_its_data(server, ns, tmp_path):
    directory = tmp_path / "kept"
    directory.mkdir()
    (directory / "data.csv").write_text("a,b\n")
    name = f"kept-{ns}"
    apply(
        server,
        ns,
        {
            "apiVersion": "v1",
            "kind": "PersistentVolume",
            "metadata": {"name": name, "labels": {"test": ns}},
            "spec": {
                "capacity": {"storage": "1Gi"},
                "accessModes": ["ReadWriteOnce"],
                "persistentVolumeReclaimPolicy": "Retain",
                "storageClassName": "",
                "hostPath": {"path": str(directory)},
            },
        },
        # The selector keeps claims of other tests (PVs are cluster-wide) off it.
        claim("dataset", storageClassName="", selector={"matchLabels": {"test": ns}}),
    )
    phase(server, ns, "pvc", "dataset", "Bound")
    server.kubectl("-n", ns, "delete", "pvc", "dataset", timeout=90)
    released = phase(server, None, "pv", name, "Released")
    assert released["spec"]["claimRef"]["name"] == "dataset"
    assert (directory / "data.csv").read_text() == "a,b\n"
    server.kubectl("delete", "pv", name, timeout=60)


def test_a_claim_in_use_waits_for_its_pod(server, ns):
    apply(server, ns, claim("busy"))
    apply(
        server,
        ns,
        {
            "apiVersion": "v1",
            "kind": "Pod",
            "metadata": {"name": "user"},
            "spec": {
                "terminationGracePeriodSeconds": 2,
                "containers": [
                    {
                        "name": "c",
                        "image": "busybox",
                        "command": ["sh", "-c", "sleep 600"],
                        "volumeMounts": [{"name": "d", "mountPath": "/d"}],
                    }
                ],
                "volumes": [{"name": "d", "persistentVolumeClaim": {"claimName": "busy"}}],
            },
        },
    )
    phase(server, ns, "pod", "user", "Running")
    server.kubectl("-n", ns, "delete", "pvc", "busy", "--wait=false")
    described = server.kubectl("-n", ns, "describe", "pvc", "busy").stdout
    assert "Terminating" in described and "Used By:       user" in described
    assert get(server, ns, "pvc", "busy")["metadata"]["finalizers"] == [
        "kubernetes.io/pvc-protection"
    ]
    server.kubectl("-n", ns, "delete", "pod", "user", timeout=90)
    wait_for(lambda: gone(server, ns, "pvc", "busy"), timeout=60, what="the claim removed")


def test_a_pod_whose_immediate_claim_is_unbound_is_not_scheduled(server, ns):
    apply(
        server,
        ns,
        claim("unbound", storageClassName="", selector={"matchLabels": {"never": "there"}}),
    )
    apply(
        server,
        ns,
        {
            "apiVersion": "v1",
            "kind": "Pod",
            "metadata": {"name": "p"},
            "spec": {
                "containers": [{"name": "c", "image": "busybox", "command": ["true"]}],
                "volumes": [{"name": "d", "persistentVolumeClaim": {"claimName": "unbound"}}],
            },
        },
    )
    [failed] = wait_for(
        lambda: [m for _, r, m in events_of(server, ns, "p") if r == "FailedScheduling"],
        timeout=30,
        what="FailedScheduling",
    )
    assert failed.startswith(
        "0/1 nodes are available: pod has unbound immediate PersistentVolumeClaims."
    )
    described = server.kubectl("-n", ns, "describe", "pod", "p").stdout
    assert "pod has unbound immediate PersistentVolumeClaims" in described


def test_a_pod_of_an_nfs_volume_says_the_node_has_no_nfs_client(server, ns):
    name = f"nfs-{ns}"
    apply(
        server,
        ns,
        {
            "apiVersion": "v1",
            "kind": "PersistentVolume",
            "metadata": {"name": name, "labels": {"test": ns}},
            "spec": {
                "capacity": {"storage": "1Gi"},
                "accessModes": ["ReadWriteMany"],
                "storageClassName": "",
                "nfs": {"server": "172.22.0.42", "path": "/exports"},
            },
        },
        claim(
            "shared",
            storageClassName="",
            accessModes=["ReadWriteMany"],
            selector={"matchLabels": {"test": ns}},
        ),
        {
            "apiVersion": "v1",
            "kind": "Pod",
            "metadata": {"name": "reader"},
            "spec": {
                "terminationGracePeriodSeconds": 2,
                "containers": [
                    {
                        "name": "c",
                        "image": "busybox",
                        "command": ["ls", "/d"],
                        "volumeMounts": [{"name": "d", "mountPath": "/d"}],
                    }
                ],
                "volumes": [{"name": "d", "persistentVolumeClaim": {"claimName": "shared"}}],
            },
        },
    )
    phase(server, ns, "pvc", "shared", "Bound")
    [message] = wait_for(
        lambda: [m for _, r, m in events_of(server, ns, "reader") if r == "FailedMount"],
        timeout=60,
        what="FailedMount",
    )
    assert (
        f'MountVolume.SetUp failed for volume "{name}" (claim "shared") : nfs '
        f"172.22.0.42:/exports: this node has no NFS client" in message
    )
    assert get(server, ns, "pod", "reader")["status"]["phase"] == "Pending"
    server.kubectl("-n", ns, "delete", "pod", "reader", timeout=90)
    server.kubectl("-n", ns, "delete", "pvc", "shared", timeout=60)
    server.kubectl("delete", "pv", name, "--wait=false")
