"""Bound pods through the worker service on a real Ray: they run, their statuses reach the
store, their logs are served, and the failures a kubelet reports are reported."""

import base64

import pytest

from berth.platform.resources import registry
from berth.platform.resources.meta import dig
from tests.integration.workers.kubelet_support import (
    NS,
    Harness,
    bound_pod,
    phases,
    sh,
    terminated,
    wait_for,
)

pytestmark = pytest.mark.integration


@pytest.fixture
def berth(ray_env, tmp_path):
    harness = Harness(ray_env, tmp_path)
    yield harness
    harness.close()


def test_a_bound_pod_runs_with_env_from_a_configmap_and_a_secret(ray_env, tmp_path, database_url):
    berth = Harness(ray_env, tmp_path, database_url)
    try:
        berth.create(
            {"metadata": {"name": "city", "namespace": NS}, "data": {"CITY": "Paris"}},
            registry.CONFIG_MAP,
        )
        berth.create(
            {
                "metadata": {"name": "creds", "namespace": NS},
                "data": {"PASSWORD": base64.b64encode(b"s3cret").decode()},
            },
            registry.SECRET,
        )
        container = sh(
            "sleep 0.5; printenv CITY; echo pw=$PASSWORD",
            env=[
                {"name": "CITY", "valueFrom": {"configMapKeyRef": {"name": "city", "key": "CITY"}}},
                {
                    "name": "PASSWORD",
                    "valueFrom": {"secretKeyRef": {"name": "creds", "key": "PASSWORD"}},
                },
            ],
        )
        pod = berth.create(bound_pod("printenv", berth.head, container))
        done = berth.wait_seen(pod, "Succeeded")
        assert phases(berth.versions(pod)) == ["Pending", "Running", "Succeeded"]
        ended = terminated(done)
        assert (ended["exitCode"], ended["reason"]) == (0, "Completed")
        assert done["status"]["qosClass"] == "BestEffort"
        assert berth.read_log(done) == "Paris\npw=s3cret\n"
    finally:
        berth.close()


def test_a_failing_pod_fails_with_its_exit_code(berth):
    berth.create(bound_pod("fails", berth.head, sh("echo oops >&2; exit 3")))
    pod = berth.wait_phase("fails", "Failed")
    ended = terminated(pod)
    assert (ended["exitCode"], ended["reason"]) == (3, "Error")
    assert berth.read_log(pod) == "oops\n"


def test_a_pod_waits_for_its_configmap_then_runs(berth):
    container = sh(
        "cat /etc/conf/greeting", volumeMounts=[{"name": "conf", "mountPath": "/etc/conf"}]
    )
    berth.create(
        bound_pod(
            "waits",
            berth.head,
            container,
            volumes=[{"name": "conf", "configMap": {"name": "later"}}],
        )
    )

    def waiting_reason():
        pod = berth.get("waits")
        state = dig(pod, "status", "containerStatuses", default=[{}])[0].get("state") or {}
        return (state.get("waiting") or {}).get("message")

    assert 'configmap "later" not found' in wait_for(waiting_reason)
    assert berth.get("waits")["status"]["phase"] == "Pending"
    berth.create(
        {"metadata": {"name": "later", "namespace": NS}, "data": {"greeting": "hello"}},
        registry.CONFIG_MAP,
    )
    pod = berth.wait_phase("waits", "Succeeded")
    assert berth.read_log(pod) == "hello"


def bind_claim(berth, name: str, directory) -> None:
    """A claim bound to a hostPath volume, written the way the volume binder writes it."""
    claim = berth.create(
        {
            "metadata": {"name": name, "namespace": NS},
            "spec": {
                "accessModes": ["ReadWriteOnce"],
                "storageClassName": "",
                "resources": {"requests": {"storage": "1Mi"}},
            },
        },
        registry.PERSISTENT_VOLUME_CLAIM,
    )
    berth.create(
        {
            "metadata": {"name": f"pv-{name}"},
            "spec": {
                "capacity": {"storage": "1Mi"},
                "accessModes": ["ReadWriteOnce"],
                "hostPath": {"path": str(directory)},
                "claimRef": {"namespace": NS, "name": name, "uid": claim["metadata"]["uid"]},
            },
        },
        registry.PERSISTENT_VOLUME,
    )
    claim["spec"]["volumeName"] = f"pv-{name}"
    claim = berth.client.update(registry.PERSISTENT_VOLUME_CLAIM, claim)
    berth.client.update_status(
        registry.PERSISTENT_VOLUME_CLAIM, {**claim, "status": {"phase": "Bound"}}
    )


def test_a_bound_claim_is_its_volume_directory_and_outlives_its_pod(berth, tmp_path):
    directory = tmp_path / "pv-data"
    directory.mkdir()
    bind_claim(berth, "data", directory)
    mount = [{"name": "d", "mountPath": "/data"}]
    volume = [{"name": "d", "persistentVolumeClaim": {"claimName": "data"}}]
    berth.create(
        bound_pod(
            "writer", berth.head, sh("echo kept > /data/f", volumeMounts=mount), volumes=volume
        )
    )
    berth.wait_phase("writer", "Succeeded")
    berth.create(
        bound_pod("reader", berth.head, sh("cat /data/f", volumeMounts=mount), volumes=volume)
    )
    pod = berth.wait_phase("reader", "Succeeded")
    assert berth.read_log(pod) == "kept\n"
    assert (directory / "f").read_text() == "kept\n"


def test_a_pod_waits_while_its_claim_is_unbound(berth):
    berth.create(
        {
            "metadata": {"name": "unbound", "namespace": NS},
            "spec": {
                "accessModes": ["ReadWriteOnce"],
                "storageClassName": "",
                "resources": {"requests": {"storage": "1Mi"}},
            },
        },
        registry.PERSISTENT_VOLUME_CLAIM,
    )
    berth.create(
        bound_pod(
            "waits",
            berth.head,
            sh("true", volumeMounts=[{"name": "d", "mountPath": "/data"}]),
            volumes=[{"name": "d", "persistentVolumeClaim": {"claimName": "unbound"}}],
        )
    )

    def waiting_reason():
        pod = berth.get("waits")
        state = dig(pod, "status", "containerStatuses", default=[{}])[0].get("state") or {}
        return (state.get("waiting") or {}).get("message")

    assert 'persistentvolumeclaim "unbound" is not bound' in wait_for(waiting_reason)
    assert berth.get("waits")["status"]["phase"] == "Pending"


def test_a_pod_bound_to_a_node_that_does_not_exist_is_failed_and_removed(berth):
    pod = berth.create(bound_pod("astray", "no-such-node", sh("true")))
    berth.wait_gone("astray", timeout=20)
    last = berth.versions(pod)[-1]
    assert last["status"]["phase"] == "Failed"
    cond = next(c for c in last["status"]["conditions"] if c["type"] == "DisruptionTarget")
    assert (cond["status"], cond["reason"]) == ("True", "DeletionByPodGC")
