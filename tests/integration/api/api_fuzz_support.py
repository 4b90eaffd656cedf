"""What the API fuzz modules share: valid seed manifests of every kind and the checks every
hostile request's answer must pass."""

from __future__ import annotations

import copy
import os
import re
import uuid

import orjson
from hypothesis import HealthCheck, settings

from berth.platform.resources import registry

# Examples per fuzz test: small enough for the whole suite to stay within a minute; raise it
# (BERTH_FUZZ_EXAMPLES=2000) to fuzz longer by hand. The deadline catches a request that hangs.
FUZZ_SETTINGS = settings(
    max_examples=int(os.environ.get("BERTH_FUZZ_EXAMPLES", "300")),
    deadline=5000,
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large],
)

NAMESPACE = "fuzz"
TARGET = "target"

_CONTAINER = {
    "name": "c",
    "image": "busybox",
    "command": ["sh", "-c", "true"],
    "env": [{"name": "A", "value": "1"}],
    "resources": {"requests": {"cpu": "100m", "memory": "64Mi"}},
}
_POD_SPEC = {"restartPolicy": "Never", "containers": [_CONTAINER]}

# One valid manifest per kind (without metadata): the seeds the fuzzers mutate.
SAMPLES: dict[str, dict] = {
    registry.NAMESPACE.key: {},
    registry.POD.key: {"spec": _POD_SPEC},
    registry.CONFIG_MAP.key: {"data": {"a": "b"}, "binaryData": {"c": "ZA=="}},
    registry.SECRET.key: {"type": "Opaque", "data": {"k": "dg=="}, "stringData": {"s": "v"}},
    registry.EVENT.key: {
        "involvedObject": {"kind": "Pod", "name": "p", "namespace": NAMESPACE},
        "reason": "R",
        "message": "m",
        "type": "Normal",
    },
    registry.NODE.key: {
        "metadata": {"labels": {"gpu": "none"}},
        "spec": {"taints": [{"key": "k", "effect": "NoSchedule"}]},
    },
    registry.PERSISTENT_VOLUME.key: {
        "spec": {
            "capacity": {"storage": "1Gi"},
            "accessModes": ["ReadWriteOnce"],
            "hostPath": {"path": "/tmp/x"},
        }
    },
    registry.PERSISTENT_VOLUME_CLAIM.key: {
        "spec": {"accessModes": ["ReadWriteOnce"], "resources": {"requests": {"storage": "1Gi"}}}
    },
    registry.JOB.key: {
        "spec": {
            "completions": 2,
            "parallelism": 2,
            "backoffLimit": 1,
            "completionMode": "Indexed",
            "template": {"metadata": {"labels": {"app": "x"}}, "spec": _POD_SPEC},
        }
    },
    registry.CRON_JOB.key: {
        "spec": {
            "schedule": "*/5 * * * *",
            "concurrencyPolicy": "Forbid",
            "jobTemplate": {"spec": {"template": {"spec": _POD_SPEC}}},
        }
    },
    registry.STORAGE_CLASS.key: {"provisioner": "berth.io/local", "parameters": {"a": "b"}},
    registry.LEASE.key: {"spec": {"holderIdentity": "a", "leaseDurationSeconds": 10}},
}

# What no answer body may contain: Python's traceback header or a frame line.
_LEAK = re.compile(r'Traceback \(most recent call last\)|File "[^"]+", line \d+')


def manifest(rt: registry.ResourceType, name: str = TARGET) -> dict:
    """A valid object of ``rt`` named ``name`` (in namespace ``fuzz`` when namespaced)."""
    sample = copy.deepcopy(SAMPLES[rt.key])
    metadata = {"name": name, **sample.pop("metadata", {})}
    if rt.namespaced:
        metadata["namespace"] = NAMESPACE
    return {"apiVersion": rt.api_version, "kind": rt.kind, "metadata": metadata, **sample}


def collection_path(rt: registry.ResourceType) -> str:
    return rt.path(NAMESPACE)


def assert_kubernetes_answer(response) -> None:
    """Never a 5xx; every other failure is a JSON ``Status`` whose code is the HTTP code; no
    traceback anywhere."""
    code = response.status_code
    text = response.content.decode("utf-8", "replace")
    assert code < 500, f"{code} from {response.request.method} {response.request.url}: {text[:500]}"
    assert not _LEAK.search(text), f"traceback text in the answer: {text[:500]}"
    if 200 <= code < 300 or response.request.method == "HEAD":  # HEAD answers carry no body
        return
    if code in (307, 308):  # Starlette sends /apis/ on to /apis (kube-apiserver answers both)
        assert (
            response.headers["location"].rstrip("/").endswith(response.request.url.path.rstrip("/"))
        ), response.headers
        return
    assert response.headers.get("content-type", "").startswith("application/json"), (
        f"{code} answered as {response.headers.get('content-type')}: {text[:300]}"
    )
    body = orjson.loads(response.content)
    assert body.get("kind") == "Status", body
    assert body.get("apiVersion") == "v1", body
    assert body.get("status") == "Failure", body
    assert type(body.get("code")) is int and body["code"] == code, body
    assert isinstance(body.get("reason"), str) and body["reason"], body
    assert isinstance(body.get("message"), str), body


def assert_still_serves(client) -> None:
    """An ordinary round of requests after the hostile ones gets ordinary answers. It works in
    a namespace of its own: the fuzzers may have deleted anything they can name."""
    namespace = f"canary-{uuid.uuid4().hex[:8]}"
    created = client.post("/api/v1/namespaces", json={"metadata": {"name": namespace}})
    assert created.status_code == 201, created.text
    path = f"/api/v1/namespaces/{namespace}/configmaps"
    created = client.post(
        path, json={"metadata": {"name": "canary", "labels": {"a": "b"}}, "data": {"k": "v"}}
    )
    assert created.status_code == 201, created.text
    got = client.get(f"{path}/canary")
    assert got.status_code == 200 and got.json()["data"] == {"k": "v"}, got.text
    listed = client.get(path, params={"labelSelector": "a=b"})
    assert [o["metadata"]["name"] for o in listed.json()["items"]] == ["canary"], listed.text
    assert client.get("/readyz").status_code == 200
