"""Whatever JSON a client sends, defaulting and validation answer with causes, never crash.

Each example takes a valid object of some kind, puts an arbitrary JSON value at one of its
paths (or replaces the whole object), and runs every strategy entry point on it."""

import copy
import json
from pathlib import Path

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from berth.platform.resources import registry, strategy

JSON = st.recursive(
    st.none() | st.booleans() | st.integers(-3, 70000) | st.text(max_size=8),
    lambda inner: (
        st.lists(inner, max_size=3) | st.dictionaries(st.text(max_size=6), inner, max_size=3)
    ),
    max_leaves=8,
)

CONTAINER = {
    "name": "c",
    "image": "busybox",
    "env": [{"name": "A", "value": "1"}],
    "ports": [{"containerPort": 80}],
    "volumeMounts": [{"name": "v", "mountPath": "/v"}],
    "resources": {"limits": {"cpu": "1", "nvidia.com/gpu": 1}},
    "livenessProbe": {"httpGet": {"path": "/", "port": 80}},
}
POD_SPEC = {
    "restartPolicy": "Never",
    "containers": [CONTAINER],
    "volumes": [{"name": "v", "configMap": {"name": "c"}}],
    "tolerations": [{"key": "k", "operator": "Exists"}],
    "affinity": {
        "nodeAffinity": {
            "requiredDuringSchedulingIgnoredDuringExecution": {
                "nodeSelectorTerms": [
                    {"matchExpressions": [{"key": "gpu", "operator": "In", "values": ["a"]}]}
                ]
            }
        }
    },
}
SAMPLES = {
    registry.POD: {"spec": POD_SPEC},
    registry.JOB: {
        "spec": {
            "completionMode": "Indexed",
            "completions": 3,
            "backoffLimitPerIndex": 1,
            "template": {"spec": POD_SPEC},
            "podFailurePolicy": {
                "rules": [{"action": "FailIndex", "onExitCodes": {"operator": "In", "values": [1]}}]
            },
            "successPolicy": {"rules": [{"succeededIndexes": "0-1"}]},
        }
    },
    registry.CRON_JOB: {
        "spec": {
            "schedule": "*/5 * * * *",
            "timeZone": "UTC",
            "jobTemplate": {"spec": {"template": {"spec": POD_SPEC}}},
        }
    },
    registry.CONFIG_MAP: {"data": {"a": "b"}, "binaryData": {"c": "ZA=="}},
    registry.SECRET: {
        "type": "kubernetes.io/tls",
        "data": {"tls.crt": "YQ==", "tls.key": "Yg=="},
        "stringData": {"x": "y"},
    },
    registry.NAMESPACE: {"spec": {"finalizers": ["kubernetes"]}},
    registry.NODE: {
        "spec": {"taints": [{"key": "k", "effect": "NoSchedule"}]},
        "status": {"capacity": {"cpu": "2"}},
    },
    registry.EVENT: {
        "involvedObject": {"kind": "Pod", "name": "p", "namespace": "default"},
        "reason": "R",
        "message": "m",
    },
    registry.PERSISTENT_VOLUME: {
        "spec": {
            "capacity": {"storage": "1Gi"},
            "accessModes": ["ReadWriteOnce"],
            "nfs": {"server": "h", "path": "/x"},
        }
    },
    registry.PERSISTENT_VOLUME_CLAIM: {
        "spec": {
            "accessModes": ["ReadWriteOnce"],
            "resources": {"requests": {"storage": "1Gi"}},
            "selector": {"matchLabels": {"a": "b"}},
        }
    },
    registry.STORAGE_CLASS: {"provisioner": "x.io/p", "parameters": {"a": "b"}},
    registry.LEASE: {"spec": {"holderIdentity": "a", "leaseDurationSeconds": 10}},
}


def paths(value, prefix=()):
    yield prefix
    if isinstance(value, dict):
        for key, child in value.items():
            yield from paths(child, prefix + (key,))
    elif isinstance(value, list):
        for i, child in enumerate(value):
            yield from paths(child, prefix + (i,))


def put(obj, path, value):
    if not path:
        return value
    target = obj
    for step in path[:-1]:
        target = target[step]
    target[path[-1]] = value
    return obj


def exercise(rt, obj):
    created = copy.deepcopy(obj)
    strategy.prepare_for_create(rt, created)
    strategy.validate_create(rt, created)
    new = copy.deepcopy(obj)
    strategy.prepare_for_update(rt, new, created)
    strategy.validate_update(rt, new, created)
    strategy.validate_status_update(rt, new, created)
    strategy.spec_changed(rt, new, created)


@settings(max_examples=400, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(kind=st.sampled_from(sorted(SAMPLES, key=lambda rt: rt.key)), data=st.data(), value=JSON)
def test_no_input_crashes_the_strategy(kind, data, value):
    base = {
        "metadata": {
            "name": "x",
            "namespace": "default",
            "uid": "u",
            "creationTimestamp": "2026-01-01T00:00:00Z",
            "labels": {"a": "b"},
        },
        **copy.deepcopy(SAMPLES[kind]),
    }
    path = data.draw(st.sampled_from(list(paths(base))))
    obj = put(base, path, value)
    if not isinstance(obj, dict):
        obj = {"metadata": {"name": "x"}, "spec": obj}
    exercise(kind, obj)


def _schema_fields() -> list[str]:
    schema = json.loads((Path(registry.__file__).parent / "schema.json").read_text())
    return sorted({name for model in schema["models"].values() for name in model})


FIELD_NAMES = _schema_fields()


@settings(max_examples=400, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(
    kind=st.sampled_from(sorted(SAMPLES, key=lambda rt: rt.key)),
    data=st.data(),
    field=st.sampled_from(FIELD_NAMES),
    value=JSON,
)
def test_any_field_of_any_type_is_survived(kind, data, field, value):
    """Any field Kubernetes knows, set anywhere in the object, with any JSON value."""
    base = {
        "metadata": {"name": "x", "namespace": "default", "uid": "u"},
        **copy.deepcopy(SAMPLES[kind]),
    }
    dicts = [p for p in paths(base) if isinstance(_at(base, p), dict)]
    path = data.draw(st.sampled_from(dicts))
    _at(base, path)[field] = value
    exercise(kind, base)


def _at(obj, path):
    for step in path:
        obj = obj[step]
    return obj
