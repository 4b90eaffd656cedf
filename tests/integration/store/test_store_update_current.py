"""``Client.update(current=...)``: a write made against the caller's copy of the object at its
resourceVersion (an informer's) reads nothing; a copy that is stale is refused exactly as a
stale ``obj`` is, and a copy of another version or object is ignored (the store is read)."""

from __future__ import annotations

import pytest

from berth.platform.errors import Conflict, NotFound
from berth.platform.resources import registry
from berth.platform.resources.meta import clone


@pytest.fixture
def configmap(client):
    return client.create(
        registry.CONFIG_MAP,
        {"apiVersion": "v1", "kind": "ConfigMap", "metadata": {"name": "cm"}, "data": {"n": "0"}},
        "default",
    )


@pytest.fixture
def reads(client, monkeypatch) -> list[tuple]:
    seen: list[tuple] = []
    plain_get = client.db.get

    def get(*args):
        seen.append(args)
        return plain_get(*args)

    monkeypatch.setattr(client.db, "get", get)
    return seen


def _changed(cm: dict, n: str) -> dict:
    return {**clone(cm), "data": {"n": n}}


def test_a_write_against_the_current_copy_reads_nothing(client, configmap, reads):
    kept = clone(configmap)
    written = client.update(registry.CONFIG_MAP, _changed(configmap, "1"), current=configmap)
    assert reads == []
    assert written["data"] == {"n": "1"}
    assert int(written["metadata"]["resourceVersion"]) > int(
        configmap["metadata"]["resourceVersion"]
    )
    assert client.get(registry.CONFIG_MAP, "default", "cm") == written
    assert configmap == kept  # the caller's copy is left as it was


def test_a_stale_copy_is_refused_and_the_stored_object_stands(client, configmap, reads):
    newer = client.update(registry.CONFIG_MAP, _changed(configmap, "other writer"))
    reads.clear()
    with pytest.raises(Conflict):
        client.update(registry.CONFIG_MAP, _changed(configmap, "late"), current=configmap)
    assert reads == []
    assert client.get(registry.CONFIG_MAP, "default", "cm") == newer


@pytest.mark.parametrize(
    "mismatch",
    [
        pytest.param({"resourceVersion": "1"}, id="another resourceVersion"),
        pytest.param({"name": "other"}, id="another object"),
    ],
)
def test_a_copy_of_something_else_is_ignored_and_the_store_read(client, configmap, reads, mismatch):
    other = clone(configmap)
    other["metadata"].update(mismatch)
    written = client.update(registry.CONFIG_MAP, _changed(configmap, "1"), current=other)
    assert reads == [("configmaps", "default", "cm")]
    assert written["data"] == {"n": "1"}


def test_a_deleted_object_is_not_found(client, configmap):
    client.delete(registry.CONFIG_MAP, "default", "cm")
    with pytest.raises(NotFound):
        client.update(registry.CONFIG_MAP, _changed(configmap, "1"), current=configmap)


def test_a_status_write_keeps_the_rest_of_the_current_copy(client):
    job = client.create(
        registry.JOB,
        {
            "apiVersion": "batch/v1",
            "kind": "Job",
            "metadata": {"name": "j"},
            "spec": {
                "template": {
                    "spec": {
                        "restartPolicy": "Never",
                        "containers": [{"name": "c", "image": "busybox"}],
                    }
                }
            },
        },
        "default",
    )
    sent = {**clone(job), "status": {"active": 1}}
    sent["spec"]["parallelism"] = 7  # ignored: the status subresource writes only the status
    written = client.update(registry.JOB, sent, subresource="status", current=job)
    assert written["status"] == {"active": 1}
    assert written["spec"] == job["spec"]
    assert client.get(registry.JOB, "default", "j") == written
