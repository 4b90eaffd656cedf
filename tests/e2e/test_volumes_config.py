"""Volumes and configuration under ``berth up`` in the bubblewrap sandbox, driven by kubectl:
a mounted ConfigMap updates in a running pod; a Secret reaches its pod (file on tmpfs, env)
and never the node's disk, the database, Events or logs of Berth; a claim bound to a hostPath
volume carries data from one Job's pod to the next; a pod sees neither Berth's data directory
nor another pod's volumes."""

from __future__ import annotations

import base64
import os
import secrets

import pytest
import yaml

from tests.e2e.jobs_support import apply, berth_up, job, new_namespace, wait_for, wait_job
from tests.support import require_bwrap

pytestmark = pytest.mark.e2e


@pytest.fixture(scope="module")
def server(tmp_path_factory):
    require_bwrap()
    with berth_up(tmp_path_factory.mktemp("volumes-config")) as up:
        yield up


@pytest.fixture
def ns(server):
    return new_namespace(server)


def pod(name: str, script: str, mounts=(), volumes=(), env=(), **spec) -> dict:
    return {
        "apiVersion": "v1",
        "kind": "Pod",
        "metadata": {"name": name},
        "spec": {
            "restartPolicy": "Never",
            "terminationGracePeriodSeconds": 2,
            **spec,
            "volumes": list(volumes),
            "containers": [
                {
                    "name": "c",
                    "image": "busybox",
                    "env": list(env),
                    "command": ["sh", "-c", script],
                    "volumeMounts": list(mounts),
                }
            ],
        },
    }


def phase(server, ns: str, name: str) -> str:
    return server.kubectl_json("-n", ns, "get", "pod", name)["status"].get("phase", "")


def wait_phase(server, ns: str, name: str, *phases: str, timeout: float = 90) -> str:
    return wait_for(
        lambda: (p := phase(server, ns, name)) in phases and p,
        timeout=timeout,
        what=f"pod {name} {'/'.join(phases)}",
    )


def test_a_mounted_configmap_updates_in_a_running_pod(server, ns):
    server.kubectl("-n", ns, "create", "configmap", "town", "--from-literal=city=Ann Arbor")
    apply(
        server,
        ns,
        pod(
            "watcher",
            "cat /cfg/city; echo; until grep -q Detroit /cfg/city; "
            "do sleep 0.2; done; echo now $(cat /cfg/city)",
            mounts=[{"name": "cfg", "mountPath": "/cfg"}],
            volumes=[{"name": "cfg", "configMap": {"name": "town"}}],
        ),
    )
    wait_phase(server, ns, "watcher", "Running")
    server.kubectl(
        "-n",
        ns,
        "patch",
        "configmap",
        "town",
        "--type=merge",
        "-p",
        '{"data": {"city": "Detroit"}}',
    )
    assert wait_phase(server, ns, "watcher", "Succeeded", "Failed", timeout=60) == "Succeeded"
    assert server.kubectl("-n", ns, "logs", "watcher").stdout == "Ann Arbor\nnow Detroit\n"


def test_a_secret_reaches_its_pod_on_tmpfs_and_never_the_disk(server, ns):
    value = f"s3cret-{secrets.token_hex(12)}"
    server.kubectl(
        "-n", ns, "create", "secret", "generic", "creds", f"--from-literal=token={value}"
    )
    script = (
        '[ "$(cat /creds/token)" = "$TOKEN" ] && echo same; '
        "grep ' /creds ' /proc/mounts | cut -d' ' -f3,4 | cut -d, -f1"
    )
    apply(
        server,
        ns,
        pod(
            "reader",
            script,
            mounts=[{"name": "creds", "mountPath": "/creds"}],
            volumes=[{"name": "creds", "secret": {"secretName": "creds"}}],
            env=[
                {"name": "TOKEN", "valueFrom": {"secretKeyRef": {"name": "creds", "key": "token"}}}
            ],
        ),
    )
    assert wait_phase(server, ns, "reader", "Succeeded", "Failed") == "Succeeded"
    assert server.kubectl("-n", ns, "logs", "reader").stdout == "same\ntmpfs ro\n"
    needles = [value.encode(), base64.b64encode(value.encode())]
    found = []
    for top, _, files in os.walk(server.data_dir):
        for name in files:
            path = os.path.join(top, name)
            try:
                with open(path, "rb") as handle:
                    data = handle.read()
            except OSError:
                continue
            found += [path for needle in needles if needle in data]
    assert found == [], "a Secret value on the node's disk"
    assert value not in server.log()
    assert value not in server.kubectl("-n", ns, "get", "events", "-o", "yaml").stdout


def test_a_claim_carries_data_from_one_jobs_pod_to_the_next(server, ns, tmp_path):
    host_dir = tmp_path / "datalake"
    host_dir.mkdir()
    volume, claim = f"lake-{ns}", "datalake"
    server.kubectl(
        "apply",
        "-f",
        "-",
        input=yaml.safe_dump(
            {
                "apiVersion": "v1",
                "kind": "PersistentVolume",
                "metadata": {"name": volume},
                "spec": {
                    "capacity": {"storage": "1Gi"},
                    "accessModes": ["ReadWriteOnce"],
                    "storageClassName": "",
                    "hostPath": {"path": str(host_dir)},
                    "claimRef": {"namespace": ns, "name": claim},
                },
            }
        ),
    )
    apply(
        server,
        ns,
        {
            "apiVersion": "v1",
            "kind": "PersistentVolumeClaim",
            "metadata": {"name": claim},
            "spec": {
                "accessModes": ["ReadWriteOnce"],
                "storageClassName": "",
                "volumeName": volume,
                "resources": {"requests": {"storage": "1Gi"}},
            },
        },
    )
    # No binder runs in this branch: bind them as the binder would, through /status.
    server.kubectl(
        "patch",
        "pv",
        volume,
        "--subresource=status",
        "--type=merge",
        "-p",
        '{"status": {"phase": "Bound"}}',
    )
    server.kubectl(
        "-n",
        ns,
        "patch",
        "pvc",
        claim,
        "--subresource=status",
        "--type=merge",
        "-p",
        '{"status": {"phase": "Bound", "accessModes": ["ReadWriteOnce"], '
        '"capacity": {"storage": "1Gi"}}}',
    )
    mounts = [{"name": "lake", "mountPath": "/mnt/datalake/"}]
    volumes = [{"name": "lake", "persistentVolumeClaim": {"claimName": claim}}]
    apply(
        server,
        ns,
        job(
            "write",
            "echo checkpoint-7 > /mnt/datalake/ckpt",
            mounts=mounts,
            pod={"volumes": volumes},
        ),
    )
    wait_job(server, ns, "write")
    assert (host_dir / "ckpt").read_text() == "checkpoint-7\n"
    apply(
        server, ns, job("read", "cat /mnt/datalake/ckpt", mounts=mounts, pod={"volumes": volumes})
    )
    wait_job(server, ns, "read")
    assert server.kubectl("-n", ns, "logs", "job/read").stdout == "checkpoint-7\n"
    server.kubectl("delete", "pv", volume, "--wait=false")


def test_a_pod_sees_neither_berths_data_nor_another_pods_volumes(server, ns):
    apply(
        server,
        ns,
        pod(
            "owner",
            "echo private > /scratch/x; sleep 120",
            mounts=[{"name": "scratch", "mountPath": "/scratch"}],
            volumes=[{"name": "scratch", "emptyDir": {}}],
        ),
    )
    wait_phase(server, ns, "owner", "Running")
    owner = server.kubectl_json("-n", ns, "get", "pod", "owner")
    scratch = [p for p in server.data_dir.rglob("scratch") if owner["metadata"]["uid"] in str(p)]
    assert scratch and (scratch[0] / "x").read_text() == "private\n"
    assert (server.data_dir / "berth.db").is_file()
    # Inside the sandbox the data directory is an empty tmpfs (mount points at most): no
    # database, no Secrets key, no pod's files; nor is the node's tmpfs of volumes there.
    script = (
        f"find {server.data_dir} /dev/shm/berth -type f 2>/dev/null | wc -l; "
        f"cat {scratch[0] / 'x'} 2>/dev/null || echo hidden"
    )
    apply(server, ns, pod("snoop", script))
    assert wait_phase(server, ns, "snoop", "Succeeded", "Failed") == "Succeeded"
    assert server.kubectl("-n", ns, "logs", "snoop").stdout == "0\nhidden\n"
    server.kubectl("-n", ns, "delete", "pod", "owner", "--wait=false")


def test_env_from_with_prefix_expansion_items_modes_and_projection(server, ns):
    server.kubectl(
        "-n",
        ns,
        "create",
        "configmap",
        "app",
        "--from-literal=city=Ann Arbor",
        "--from-literal=state=Michigan",
    )
    server.kubectl(
        "-n", ns, "create", "secret", "generic", "login", "--from-literal=username=example"
    )
    body = pod(
        "env",
        "",
        mounts=[{"name": "items", "mountPath": "/items"}, {"name": "all", "mountPath": "/all"}],
        volumes=[
            {
                "name": "items",
                "configMap": {
                    "name": "app",
                    "defaultMode": 0o600,
                    "items": [{"key": "city", "path": "where"}],
                },
            },
            {
                "name": "all",
                "projected": {
                    "defaultMode": 0o440,
                    "sources": [
                        {"configMap": {"name": "app", "items": [{"key": "city", "path": "city"}]}},
                        {
                            "secret": {
                                "name": "login",
                                "items": [{"key": "username", "path": "user"}],
                            }
                        },
                    ],
                },
            },
        ],
        env=[
            {"name": "GREETING", "value": "Hello $(APP_city)!"},
            {
                "name": "MISSING",
                "valueFrom": {"configMapKeyRef": {"name": "nope", "key": "x", "optional": True}},
            },
        ],
    )
    body["spec"]["containers"][0].update(
        command=["sh", "-c"],
        args=[
            "echo $APP_city, $APP_state; echo $(GREETING); echo ${MISSING:-unset}; ls /items; "
            "stat -L -c %a /items/where; cat /all/city /all/user; echo; "
            "stat -L -c %a /all/user"
        ],
        envFrom=[{"prefix": "APP_", "configMapRef": {"name": "app"}}],
    )
    apply(server, ns, body)
    assert wait_phase(server, ns, "env", "Succeeded", "Failed") == "Succeeded"
    assert server.kubectl("-n", ns, "logs", "env").stdout == (
        "Ann Arbor, Michigan\nHello Ann Arbor!\nunset\nwhere\n600\nAnn Arborexample\n440\n"
    )
