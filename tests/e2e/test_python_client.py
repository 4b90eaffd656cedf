"""The official kubernetes Python client against berth up: create, list with selectors, read
status, patch, delete, watch — on SQLite and PostgreSQL."""

from __future__ import annotations

import json
import threading
import time

import pytest
from kubernetes import client as k8s
from kubernetes import config, watch
from kubernetes.client.rest import ApiException

from tests.e2e.conftest import start_berth, stop_berth


@pytest.fixture
def api(berth_server):
    api_client = config.new_client_from_config(config_file=str(berth_server.kubeconfig))
    yield api_client
    api_client.close()


def a_job(name, labels):
    return k8s.V1Job(
        metadata=k8s.V1ObjectMeta(name=name, labels=labels),
        spec=k8s.V1JobSpec(
            completions=1,
            template=k8s.V1PodTemplateSpec(
                metadata=k8s.V1ObjectMeta(labels=labels),
                spec=k8s.V1PodSpec(
                    restart_policy="Never",
                    containers=[k8s.V1Container(name="main", image="busybox", command=["true"])],
                ),
            ),
        ),
    )


def test_create_list_read_status_patch_delete(api, namespace):
    batch = k8s.BatchV1Api(api)
    created = batch.create_namespaced_job(namespace, a_job("py1", {"app": "py", "tier": "a"}))
    assert created.metadata.uid and created.spec.backoff_limit == 6
    batch.create_namespaced_job(namespace, a_job("py2", {"app": "py", "tier": "b"}))
    batch.create_namespaced_job(namespace, a_job("other", {"app": "nope"}))
    names = lambda jobs: sorted(j.metadata.name for j in jobs.items)  # noqa: E731
    assert names(batch.list_namespaced_job(namespace, label_selector="app=py")) == ["py1", "py2"]
    assert names(batch.list_namespaced_job(namespace, label_selector="app=py,tier!=a")) == ["py2"]
    assert names(batch.list_namespaced_job(namespace, label_selector="tier in (a,b)")) == [
        "py1",
        "py2",
    ]
    assert names(batch.list_namespaced_job(namespace, field_selector="metadata.name=other")) == [
        "other"
    ]
    # The job controller creates the pod (it stays Pending here: no nodes) and says so.
    deadline = time.monotonic() + 20
    while time.monotonic() < deadline:
        status = batch.read_namespaced_job_status("py1", namespace).status
        if status.active == 1:
            break
        time.sleep(0.2)
    assert status.active == 1 and status.start_time is not None
    assert not status.succeeded
    patched = batch.patch_namespaced_job("py1", namespace, {"metadata": {"labels": {"x": "1"}}})
    assert patched.metadata.labels["x"] == "1"
    assert int(patched.metadata.resource_version) > int(created.metadata.resource_version)
    batch.delete_namespaced_job("py1", namespace, propagation_policy="Background")
    with pytest.raises(ApiException) as err:
        batch.read_namespaced_job("py1", namespace)
    assert err.value.status == 404
    # A stale resourceVersion on update is a 409 Conflict.
    stale = batch.read_namespaced_job("py2", namespace)
    batch.patch_namespaced_job("py2", namespace, {"spec": {"parallelism": 2}})
    stale.spec.parallelism = 3
    with pytest.raises(ApiException) as err:
        batch.replace_namespaced_job("py2", namespace, stale)
    assert err.value.status == 409


def test_invalid_object_names_the_field(api, namespace):
    core = k8s.CoreV1Api(api)
    bad = k8s.V1ConfigMap(metadata=k8s.V1ObjectMeta(name="Not_Valid"), data={"a": "b"})
    with pytest.raises(ApiException) as err:
        core.create_namespaced_config_map(namespace, bad)
    assert err.value.status == 422
    assert "metadata.name" in err.value.body


def test_watch_sees_added_modified_deleted(api, namespace):
    core = k8s.CoreV1Api(api)
    seen: list[tuple[str, str]] = []
    done = threading.Event()

    def follow():
        w = watch.Watch()
        for event in w.stream(core.list_namespaced_config_map, namespace, timeout_seconds=20):
            seen.append((event["type"], event["object"].metadata.name))
            if event["type"] == "DELETED":
                w.stop()
        done.set()

    thread = threading.Thread(target=follow, daemon=True)
    thread.start()
    time.sleep(1.0)
    core.create_namespaced_config_map(
        namespace, k8s.V1ConfigMap(metadata=k8s.V1ObjectMeta(name="watched"), data={"a": "1"})
    )
    core.patch_namespaced_config_map("watched", namespace, {"data": {"a": "2"}})
    core.delete_namespaced_config_map("watched", namespace)
    assert done.wait(25)
    assert seen == [("ADDED", "watched"), ("MODIFIED", "watched"), ("DELETED", "watched")]


def test_watch_from_an_old_resource_version_replays(api, namespace):
    core = k8s.CoreV1Api(api)
    listed = core.list_namespaced_config_map(namespace)
    for i in range(3):
        core.create_namespaced_config_map(
            namespace, k8s.V1ConfigMap(metadata=k8s.V1ObjectMeta(name=f"r{i}"))
        )
    w = watch.Watch()
    names = []
    for event in w.stream(
        core.list_namespaced_config_map,
        namespace,
        resource_version=listed.metadata.resource_version,
        timeout_seconds=5,
    ):
        names.append(event["object"].metadata.name)
        if len(names) == 3:
            w.stop()
    assert names == ["r0", "r1", "r2"]


def test_watch_from_a_compacted_resource_version_is_expired(tmp_path):
    server = start_berth(tmp_path, None, extra_env={"BERTH_WATCH_WINDOW": "10"})
    try:
        with server.http() as http:
            for i in range(30):
                http.post(
                    "/api/v1/namespaces/default/configmaps", json={"metadata": {"name": f"c{i}"}}
                ).raise_for_status()
            response = http.get(
                "/api/v1/namespaces/default/configmaps",
                params={"watch": "true", "resourceVersion": "2", "timeoutSeconds": "2"},
            )
    finally:
        stop_berth(server.process)
    assert response.status_code == 200
    event = json.loads(response.text.splitlines()[0])
    assert event["type"] == "ERROR"
    assert event["object"]["code"] == 410 and event["object"]["reason"] == "Expired"
