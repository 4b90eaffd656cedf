"""Runtime bundles: env valueFrom/envFrom, file volumes, claims, and what waits when missing."""

import base64

import pytest

from berth.workers.bundle import build_bundle, field_value

CONFIGMAPS = {
    ("ns", "app"): {
        "data": {"city": "Paris", "LEVEL": "debug"},
        "binaryData": {"blob": base64.b64encode(b"\x00\x01").decode()},
    }
}
SECRETS = {
    ("ns", "creds"): {
        "data": {
            "password": base64.b64encode(b"s3cret").decode(),
            "bad-key!": base64.b64encode(b"x").decode(),
        }
    }
}


def lookup(table):
    return lambda ns, name: table.get((ns, name))


def bundle_of(pod, claims=None):
    return build_bundle(
        pod,
        configmap=lookup(CONFIGMAPS),
        secret=lookup(SECRETS),
        claim_path=lambda ns, c: (claims or {}).get(c),
        host_ip="10.0.0.5",
        allocatable={"cpu": "4", "memory": "8Gi"},
    )


def pod_with(container=None, volumes=None, **meta):
    return {
        "metadata": {
            "name": "p",
            "namespace": "ns",
            "uid": "u-1",
            "labels": {"app": "web", "tier": "a"},
            **meta,
        },
        "spec": {
            "nodeName": "ray-n1",
            "containers": [container or {"name": "c"}],
            "volumes": volumes or [],
        },
    }


def test_env_resolves_every_kind_of_value_from_in_order():
    container = {
        "name": "c",
        "resources": {"limits": {"memory": "64Mi"}, "requests": {"cpu": "250m"}},
        "envFrom": [
            {"configMapRef": {"name": "app"}, "prefix": "CM_"},
            {"secretRef": {"name": "creds"}},
        ],
        "env": [
            {"name": "PLAIN", "value": "v"},
            {"name": "POD", "valueFrom": {"fieldRef": {"fieldPath": "metadata.name"}}},
            {"name": "APP", "valueFrom": {"fieldRef": {"fieldPath": "metadata.labels['app']"}}},
            {"name": "NODE", "valueFrom": {"fieldRef": {"fieldPath": "spec.nodeName"}}},
            {"name": "IP", "valueFrom": {"fieldRef": {"fieldPath": "status.podIP"}}},
            {
                "name": "MEM",
                "valueFrom": {"resourceFieldRef": {"resource": "limits.memory", "divisor": "1Mi"}},
            },
            {"name": "CPU", "valueFrom": {"resourceFieldRef": {"resource": "limits.cpu"}}},
            {"name": "CITY", "valueFrom": {"configMapKeyRef": {"name": "app", "key": "city"}}},
            {"name": "PW", "valueFrom": {"secretKeyRef": {"name": "creds", "key": "password"}}},
            {
                "name": "OPT",
                "valueFrom": {"secretKeyRef": {"name": "nope", "key": "k", "optional": True}},
            },
        ],
    }
    env = bundle_of(pod_with(container))["env"]["c"]
    assert env == [
        ["CM_LEVEL", "debug"],
        ["CM_blob", "\x00\x01"],
        ["CM_city", "Paris"],
        ["password", "s3cret"],
        ["PLAIN", "v"],
        ["POD", "p"],
        ["APP", "web"],
        ["NODE", "ray-n1"],
        ["IP", "10.0.0.5"],
        ["MEM", "64"],
        ["CPU", "4"],
        ["CITY", "Paris"],
        ["PW", "s3cret"],
    ]


@pytest.mark.parametrize(
    "ref, message",
    [
        ({"configMapKeyRef": {"name": "gone", "key": "k"}}, 'configmap "gone" not found'),
        (
            {"configMapKeyRef": {"name": "app", "key": "nokey"}},
            "couldn't find key nokey in ConfigMap ns/app",
        ),
        (
            {"secretKeyRef": {"name": "creds", "key": "nokey"}},
            "couldn't find key nokey in Secret ns/creds",
        ),
    ],
)
def test_a_missing_reference_makes_the_pod_wait(ref, message):
    container = {"name": "c", "env": [{"name": "X", "valueFrom": ref}]}
    assert bundle_of(pod_with(container))["waiting"] == {
        "reason": "CreateContainerConfigError",
        "message": message,
    }


def test_file_volumes_with_items_modes_and_projection():
    volumes = [
        {
            "name": "cfg",
            "configMap": {
                "name": "app",
                "items": [{"key": "city", "path": "c/city"}],
                "defaultMode": 0o755,
            },
        },
        {"name": "sec", "secret": {"secretName": "creds"}},
        {
            "name": "info",
            "downwardAPI": {
                "items": [{"path": "labels", "fieldRef": {"fieldPath": "metadata.labels"}}]
            },
        },
        {
            "name": "all",
            "projected": {
                "sources": [
                    {"configMap": {"name": "app", "items": [{"key": "LEVEL", "path": "level"}]}},
                    {
                        "secret": {
                            "name": "creds",
                            "items": [{"key": "password", "path": "pw", "mode": 0o400}],
                        }
                    },
                ]
            },
        },
        {"name": "data", "persistentVolumeClaim": {"claimName": "c1"}},
        {"name": "scratch", "emptyDir": {}},
    ]
    vols = bundle_of(pod_with(volumes=volumes), claims={"c1": "/srv/pv/c1"})["volumes"]
    assert vols["cfg"] == {"files": {"c/city": {"data": b"Paris", "mode": 0o755}}}
    assert vols["sec"]["files"]["password"] == {"data": b"s3cret", "mode": 0o644}
    assert vols["info"]["files"]["labels"]["data"] == b'app="web"\ntier="a"'
    assert vols["all"]["files"] == {
        "level": {"data": b"debug", "mode": 0o644},
        "pw": {"data": b"s3cret", "mode": 0o400},
    }
    assert vols["data"] == {"hostPath": "/srv/pv/c1", "readOnly": False}
    assert "scratch" not in vols


@pytest.mark.parametrize(
    "volume, message",
    [
        (
            {"name": "v", "configMap": {"name": "gone"}},
            'MountVolume.SetUp failed for volume "v" : configmap "gone" not found',
        ),
        (
            {"name": "v", "persistentVolumeClaim": {"claimName": "unbound"}},
            'MountVolume.SetUp failed for volume "v" : '
            'persistentvolumeclaim "unbound" is not bound',
        ),
    ],
)
def test_a_missing_volume_source_keeps_the_pod_creating(volume, message):
    assert bundle_of(pod_with(volumes=[volume]))["waiting"] == {
        "reason": "ContainerCreating",
        "message": message,
    }


def test_optional_missing_volume_is_empty():
    vols = bundle_of(
        pod_with(volumes=[{"name": "v", "secret": {"secretName": "gone", "optional": True}}])
    )
    assert vols["volumes"]["v"] == {"files": {}}


def test_field_values():
    pod = pod_with(annotations={"a": "1"})
    assert field_value(pod, "metadata.annotations['a']", "") == "1"
    assert field_value(pod, "metadata.uid", "") == "u-1"
    assert field_value(pod, "spec.serviceAccountName", "") == "default"


@pytest.mark.parametrize(
    "source, modes, read_only",
    [
        ({"claimName": "data"}, ["ReadWriteOnce"], False),
        ({"claimName": "data", "readOnly": True}, ["ReadWriteOnce"], True),
        ({"claimName": "data"}, ["ReadOnlyMany"], True),
        ({"claimName": "data"}, ["ReadOnlyMany", "ReadWriteMany"], False),
    ],
)
def test_a_claim_is_read_only_by_its_volume_or_its_access_modes(source, modes, read_only):
    pod = pod_with(volumes=[{"name": "d", "persistentVolumeClaim": source}])
    claims = {("ns", "data"): {"spec": {"accessModes": modes}}}
    bundle = build_bundle(
        pod,
        configmap=lookup(CONFIGMAPS),
        secret=lookup(SECRETS),
        claim_path=lambda ns, c: "/srv/data",
        claim=lookup(claims),
    )
    assert bundle["volumes"]["d"] == {"hostPath": "/srv/data", "readOnly": read_only}


def test_a_pod_never_gets_another_namespaces_secret():
    pod = pod_with(
        {
            "name": "c",
            "env": [
                {"name": "P", "valueFrom": {"secretKeyRef": {"name": "creds", "key": "password"}}}
            ],
        },
        volumes=[{"name": "s", "secret": {"secretName": "creds"}}],
    )
    pod["metadata"]["namespace"] = "other"  # "creds" exists in "ns" only
    bundle = bundle_of(pod)
    assert bundle["env"] == {} and bundle["volumes"] == {}
    assert bundle["waiting"]["message"].endswith('secret "creds" not found')
    assert "s3cret" not in str(bundle)
