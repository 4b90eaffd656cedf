"""Pod spec validation: one failing case per rule, with Kubernetes' field path and reason."""

import copy

import pytest

from berth.platform.resources import registry, strategy

META = {
    "name": "p",
    "namespace": "default",
    "uid": "u",
    "creationTimestamp": "2026-01-01T00:00:00Z",
}


def a_pod(**spec):
    body = {
        "containers": [{"name": "main", "image": "busybox", "command": ["sh", "-c", "true"]}],
        "restartPolicy": "Never",
    }
    body.update(spec)
    return {"apiVersion": "v1", "kind": "Pod", "metadata": dict(META), "spec": body}


def container(**fields):
    base = {"name": "main", "image": "busybox"}
    base.update(fields)
    return base


def causes(pod):
    pod = copy.deepcopy(pod)
    strategy.prepare_for_create(registry.POD, pod)
    return [(c.field, c.reason) for c in strategy.validate_create(registry.POD, pod)]


C0 = "spec.containers[0]"

CASES = [
    ("no containers", dict(containers=[]), "spec.containers", "FieldValueRequired"),
    (
        "duplicate container",
        dict(containers=[container(), container()]),
        "spec.containers[1].name",
        "FieldValueDuplicate",
    ),
    (
        "bad container name",
        dict(containers=[container(name="Main")]),
        f"{C0}.name",
        "FieldValueInvalid",
    ),
    ("no image", dict(containers=[{"name": "main"}]), f"{C0}.image", "FieldValueRequired"),
    (
        "args not strings",
        dict(containers=[container(args=["--port", 8080])]),
        f"{C0}.args[1]",
        "FieldValueInvalid",
    ),
    (
        "bad env name",
        dict(containers=[container(env=[{"name": "1BAD", "value": "x"}])]),
        f"{C0}.env[0].name",
        "FieldValueInvalid",
    ),
    (
        "env without name",
        dict(containers=[container(env=[{"value": "x"}])]),
        f"{C0}.env[0].name",
        "FieldValueRequired",
    ),
    (
        "two env sources",
        dict(
            containers=[
                container(
                    env=[
                        {
                            "name": "A",
                            "valueFrom": {
                                "configMapKeyRef": {"name": "c", "key": "k"},
                                "secretKeyRef": {"name": "s", "key": "k"},
                            },
                        }
                    ]
                )
            ]
        ),
        f"{C0}.env[0].valueFrom",
        "FieldValueInvalid",
    ),
    (
        "empty env source",
        dict(containers=[container(env=[{"name": "A", "valueFrom": {}}])]),
        f"{C0}.env[0].valueFrom",
        "FieldValueInvalid",
    ),
    (
        "value and source",
        dict(
            containers=[
                container(
                    env=[
                        {
                            "name": "A",
                            "value": "v",
                            "valueFrom": {"secretKeyRef": {"name": "s", "key": "k"}},
                        }
                    ]
                )
            ]
        ),
        f"{C0}.env[0].valueFrom",
        "FieldValueInvalid",
    ),
    (
        "key ref without key",
        dict(
            containers=[
                container(env=[{"name": "A", "valueFrom": {"configMapKeyRef": {"name": "c"}}}])
            ]
        ),
        f"{C0}.env[0].valueFrom.configMapKeyRef.key",
        "FieldValueRequired",
    ),
    (
        "bad field ref",
        dict(
            containers=[
                container(
                    env=[{"name": "A", "valueFrom": {"fieldRef": {"fieldPath": "spec.nope"}}}]
                )
            ]
        ),
        f"{C0}.env[0].valueFrom.fieldRef.fieldPath",
        "FieldValueNotSupported",
    ),
    (
        "bad resource field ref",
        dict(
            containers=[
                container(
                    env=[
                        {"name": "A", "valueFrom": {"resourceFieldRef": {"resource": "limits.gpu"}}}
                    ]
                )
            ]
        ),
        f"{C0}.env[0].valueFrom.resourceFieldRef.resource",
        "FieldValueNotSupported",
    ),
    (
        "envFrom without source",
        dict(containers=[container(envFrom=[{"prefix": "P_"}])]),
        f"{C0}.envFrom",
        "FieldValueInvalid",
    ),
    (
        "request above limit",
        dict(containers=[container(resources={"requests": {"cpu": "2"}, "limits": {"cpu": "1"}})]),
        f"{C0}.resources.requests",
        "FieldValueInvalid",
    ),
    (
        "negative quantity",
        dict(containers=[container(resources={"requests": {"memory": "-1"}})]),
        f"{C0}.resources.requests[memory]",
        "FieldValueInvalid",
    ),
    (
        "unparsable quantity",
        dict(containers=[container(resources={"limits": {"cpu": "lots"}})]),
        f"{C0}.resources.limits[cpu]",
        "FieldValueInvalid",
    ),
    (
        "fractional gpu",
        dict(containers=[container(resources={"limits": {"nvidia.com/gpu": "0.5"}})]),
        f"{C0}.resources.limits[nvidia.com/gpu]",
        "FieldValueInvalid",
    ),
    (
        "gpu request differs",
        dict(
            containers=[
                container(
                    resources={
                        "requests": {"nvidia.com/gpu": "1"},
                        "limits": {"nvidia.com/gpu": "2"},
                    }
                )
            ]
        ),
        f"{C0}.resources.requests",
        "FieldValueInvalid",
    ),
    (
        "bare resource name",
        dict(containers=[container(resources={"limits": {"gpu": "1"}})]),
        f"{C0}.resources.limits[gpu]",
        "FieldValueInvalid",
    ),
    (
        "restart policy",
        dict(restartPolicy="Sometimes"),
        "spec.restartPolicy",
        "FieldValueNotSupported",
    ),
    ("dns policy", dict(dnsPolicy="Nearby"), "spec.dnsPolicy", "FieldValueNotSupported"),
    (
        "negative grace",
        dict(terminationGracePeriodSeconds=-1),
        "spec.terminationGracePeriodSeconds",
        "FieldValueInvalid",
    ),
    (
        "zero deadline",
        dict(activeDeadlineSeconds=0),
        "spec.activeDeadlineSeconds",
        "FieldValueInvalid",
    ),
    (
        "duplicate volume",
        dict(volumes=[{"name": "v", "emptyDir": {}}, {"name": "v", "emptyDir": {}}]),
        "spec.volumes[1].name",
        "FieldValueDuplicate",
    ),
    (
        "bad volume name",
        dict(volumes=[{"name": "V", "emptyDir": {}}]),
        "spec.volumes[0].name",
        "FieldValueInvalid",
    ),
    (
        "two volume sources",
        dict(volumes=[{"name": "v", "configMap": {"name": "c"}, "hostPath": {"path": "/x"}}]),
        "spec.volumes[0].configMap",
        "FieldValueForbidden",
    ),
    (
        "claim without name",
        dict(volumes=[{"name": "v", "persistentVolumeClaim": {}}]),
        "spec.volumes[0].persistentVolumeClaim.claimName",
        "FieldValueRequired",
    ),
    (
        "secret without name",
        dict(volumes=[{"name": "v", "secret": {}}]),
        "spec.volumes[0].secret.secretName",
        "FieldValueRequired",
    ),
    (
        "config map without name",
        dict(volumes=[{"name": "v", "configMap": {}}]),
        "spec.volumes[0].configMap.name",
        "FieldValueRequired",
    ),
    (
        "bad file mode",
        dict(volumes=[{"name": "v", "secret": {"secretName": "s", "defaultMode": 1024}}]),
        "spec.volumes[0].secret.defaultMode",
        "FieldValueInvalid",
    ),
    (
        "relative nfs path",
        dict(volumes=[{"name": "v", "nfs": {"server": "h", "path": "x"}}]),
        "spec.volumes[0].nfs.path",
        "FieldValueInvalid",
    ),
    (
        "host path backsteps",
        dict(volumes=[{"name": "v", "hostPath": {"path": "/a/../b"}}]),
        "spec.volumes[0].hostPath.path",
        "FieldValueInvalid",
    ),
    (
        "host path type",
        dict(volumes=[{"name": "v", "hostPath": {"path": "/a", "type": "Dir"}}]),
        "spec.volumes[0].hostPath.type",
        "FieldValueNotSupported",
    ),
    (
        "mount of unknown volume",
        dict(containers=[container(volumeMounts=[{"name": "nope", "mountPath": "/x"}])]),
        f"{C0}.volumeMounts[0].name",
        "FieldValueNotFound",
    ),
    (
        "mount without path",
        dict(volumes=[{"name": "v"}], containers=[container(volumeMounts=[{"name": "v"}])]),
        f"{C0}.volumeMounts[0].mountPath",
        "FieldValueRequired",
    ),
    (
        "port zero",
        dict(containers=[container(ports=[{"containerPort": 0}])]),
        f"{C0}.ports[0].containerPort",
        "FieldValueRequired",
    ),
    (
        "port too big",
        dict(containers=[container(ports=[{"containerPort": 70000}])]),
        f"{C0}.ports[0].containerPort",
        "FieldValueInvalid",
    ),
    (
        "port protocol",
        dict(containers=[container(ports=[{"containerPort": 80, "protocol": "HTTP"}])]),
        f"{C0}.ports[0].protocol",
        "FieldValueNotSupported",
    ),
    (
        "duplicate port name",
        dict(
            containers=[
                container(
                    ports=[
                        {"containerPort": 80, "name": "web"},
                        {"containerPort": 81, "name": "web"},
                    ]
                )
            ]
        ),
        f"{C0}.ports[1].name",
        "FieldValueDuplicate",
    ),
    (
        "node selector",
        dict(nodeSelector={"gpu": "n vidia"}),
        "spec.nodeSelector",
        "FieldValueInvalid",
    ),
    (
        "no node selector terms",
        dict(
            affinity={
                "nodeAffinity": {
                    "requiredDuringSchedulingIgnoredDuringExecution": {"nodeSelectorTerms": []}
                }
            }
        ),
        "spec.affinity.nodeAffinity.requiredDuringSchedulingIgnoredDuringExecution."
        "nodeSelectorTerms",
        "FieldValueRequired",
    ),
    (
        "bad affinity operator",
        dict(
            affinity={
                "nodeAffinity": {
                    "requiredDuringSchedulingIgnoredDuringExecution": {
                        "nodeSelectorTerms": [
                            {"matchExpressions": [{"key": "gpu", "operator": "Has"}]}
                        ]
                    }
                }
            }
        ),
        "spec.affinity.nodeAffinity.requiredDuringSchedulingIgnoredDuringExecution."
        "nodeSelectorTerms[0].matchExpressions[0].operator",
        "FieldValueInvalid",
    ),
    (
        "In without values",
        dict(
            affinity={
                "nodeAffinity": {
                    "requiredDuringSchedulingIgnoredDuringExecution": {
                        "nodeSelectorTerms": [
                            {"matchExpressions": [{"key": "gpu", "operator": "In"}]}
                        ]
                    }
                }
            }
        ),
        "spec.affinity.nodeAffinity.requiredDuringSchedulingIgnoredDuringExecution."
        "nodeSelectorTerms[0].matchExpressions[0].values",
        "FieldValueRequired",
    ),
    (
        "Gt with two values",
        dict(
            affinity={
                "nodeAffinity": {
                    "requiredDuringSchedulingIgnoredDuringExecution": {
                        "nodeSelectorTerms": [
                            {
                                "matchExpressions": [
                                    {"key": "cores", "operator": "Gt", "values": ["1", "2"]}
                                ]
                            }
                        ]
                    }
                }
            }
        ),
        "spec.affinity.nodeAffinity.requiredDuringSchedulingIgnoredDuringExecution."
        "nodeSelectorTerms[0].matchExpressions[0].values",
        "FieldValueRequired",
    ),
    (
        "preferred weight",
        dict(
            affinity={
                "nodeAffinity": {
                    "preferredDuringSchedulingIgnoredDuringExecution": [
                        {
                            "weight": 0,
                            "preference": {
                                "matchExpressions": [{"key": "gpu", "operator": "Exists"}]
                            },
                        }
                    ]
                }
            }
        ),
        "spec.affinity.nodeAffinity.preferredDuringSchedulingIgnoredDuringExecution[0].weight",
        "FieldValueInvalid",
    ),
    (
        "Exists with a value",
        dict(tolerations=[{"key": "gpu", "operator": "Exists", "value": "x"}]),
        "spec.tolerations[0].operator",
        "FieldValueInvalid",
    ),
    (
        "bad toleration operator",
        dict(tolerations=[{"key": "gpu", "operator": "Is"}]),
        "spec.tolerations[0].operator",
        "FieldValueNotSupported",
    ),
    (
        "bad toleration effect",
        dict(tolerations=[{"key": "gpu", "operator": "Exists", "effect": "Never"}]),
        "spec.tolerations[0].effect",
        "FieldValueNotSupported",
    ),
    (
        "keyless Equal",
        dict(tolerations=[{"operator": "Equal", "value": "x"}]),
        "spec.tolerations[0].operator",
        "FieldValueInvalid",
    ),
    (
        "seconds without NoExecute",
        dict(tolerations=[{"key": "k", "operator": "Exists", "tolerationSeconds": 5}]),
        "spec.tolerations[0].effect",
        "FieldValueInvalid",
    ),
    (
        "init name clash",
        dict(initContainers=[container()]),
        "spec.initContainers[0].name",
        "FieldValueDuplicate",
    ),
    (
        "init probe",
        dict(
            initContainers=[container(name="init", readinessProbe={"exec": {"command": ["true"]}})]
        ),
        "spec.initContainers[0].readinessProbe",
        "FieldValueForbidden",
    ),
    (
        "liveness success threshold",
        dict(
            containers=[
                container(livenessProbe={"exec": {"command": ["true"]}, "successThreshold": 2})
            ]
        ),
        f"{C0}.livenessProbe.successThreshold",
        "FieldValueInvalid",
    ),
    (
        "probe without handler",
        dict(containers=[container(readinessProbe={"periodSeconds": 5})]),
        f"{C0}.readinessProbe",
        "FieldValueRequired",
    ),
    (
        "probe bad port",
        dict(containers=[container(livenessProbe={"httpGet": {"port": 0}})]),
        f"{C0}.livenessProbe.httpGet.port",
        "FieldValueInvalid",
    ),
    (
        "restart policy on container",
        dict(containers=[container(restartPolicy="Always")]),
        f"{C0}.restartPolicy",
        "FieldValueForbidden",
    ),
    (
        "pull policy",
        dict(containers=[container(imagePullPolicy="Sometimes")]),
        f"{C0}.imagePullPolicy",
        "FieldValueNotSupported",
    ),
    (
        "image whitespace",
        dict(containers=[container(image=" busybox")]),
        f"{C0}.image",
        "FieldValueInvalid",
    ),
    (
        "pull secret extra fields",
        dict(imagePullSecrets=[{"name": "s", "x": 1}]),
        "spec.imagePullSecrets[0]",
        "FieldValueInvalid",
    ),
    (
        "ephemeral on create",
        dict(ephemeralContainers=[{"name": "debug", "image": "busybox"}]),
        "spec.ephemeralContainers",
        "FieldValueForbidden",
    ),
    ("hostname", dict(hostname="Not_A_Label"), "spec.hostname", "FieldValueInvalid"),
    (
        "spread skew",
        dict(
            topologySpreadConstraints=[
                {"maxSkew": 0, "topologyKey": "zone", "whenUnsatisfiable": "DoNotSchedule"}
            ]
        ),
        "spec.topologySpreadConstraints[0].maxSkew",
        "FieldValueInvalid",
    ),
]


@pytest.mark.parametrize("spec,field,reason", [c[1:] for c in CASES], ids=[c[0] for c in CASES])
def test_rule(spec, field, reason):
    assert (field, reason) in causes(a_pod(**spec))


VALID = [
    ("minimal", {}),
    ("gpu limit only", dict(containers=[container(resources={"limits": {"nvidia.com/gpu": 1}})])),
    (
        "requests within limits",
        dict(
            containers=[
                container(
                    resources={
                        "requests": {"cpu": "500m", "memory": "1Gi"},
                        "limits": {"cpu": 1, "memory": "2Gi"},
                    }
                )
            ]
        ),
    ),
    (
        "env sources",
        dict(
            containers=[
                container(
                    env=[
                        {
                            "name": "CITY",
                            "valueFrom": {
                                "configMapKeyRef": {"name": "manifest-example", "key": "city"}
                            },
                        },
                        {"name": "POD", "valueFrom": {"fieldRef": {"fieldPath": "metadata.name"}}},
                        {
                            "name": "LBL",
                            "valueFrom": {"fieldRef": {"fieldPath": "metadata.labels['app']"}},
                        },
                        {
                            "name": "CPU",
                            "valueFrom": {"resourceFieldRef": {"resource": "limits.cpu"}},
                        },
                    ],
                    envFrom=[{"configMapRef": {"name": "c"}, "prefix": "C_"}],
                )
            ]
        ),
    ),
    (
        "volumes",
        dict(
            volumes=[
                {"name": "a", "emptyDir": {"medium": "Memory", "sizeLimit": "1Gi"}},
                {"name": "b", "hostPath": {"path": "/data", "type": "DirectoryOrCreate"}},
                {"name": "c", "configMap": {"name": "c", "items": [{"key": "k", "path": "f"}]}},
                {"name": "d", "secret": {"secretName": "s", "defaultMode": 0o400}},
                {"name": "e", "persistentVolumeClaim": {"claimName": "pvc"}},
                {
                    "name": "f",
                    "downwardAPI": {
                        "items": [{"path": "labels", "fieldRef": {"fieldPath": "metadata.labels"}}]
                    },
                },
                {
                    "name": "g",
                    "projected": {
                        "sources": [{"configMap": {"name": "c"}}, {"secret": {"name": "s"}}]
                    },
                },
                {"name": "h", "csi": {"driver": "csi.example.com"}},
                {
                    "name": "i",
                    "ephemeral": {
                        "volumeClaimTemplate": {
                            "spec": {
                                "accessModes": ["ReadWriteOnce"],
                                "resources": {"requests": {"storage": "1Gi"}},
                            }
                        }
                    },
                },
            ],
            containers=[
                container(
                    volumeMounts=[
                        {"name": "a", "mountPath": "/a"},
                        {"name": "b", "mountPath": "/b", "readOnly": True},
                    ]
                )
            ],
        ),
    ),
    (
        "affinity and tolerations",
        dict(
            affinity={
                "nodeAffinity": {
                    "requiredDuringSchedulingIgnoredDuringExecution": {
                        "nodeSelectorTerms": [
                            {
                                "matchExpressions": [
                                    {"key": "gpu", "operator": "In", "values": ["nvidia"]},
                                    {"key": "cores", "operator": "Gt", "values": ["4"]},
                                    {"key": "spot", "operator": "DoesNotExist"},
                                ]
                            }
                        ]
                    }
                },
                "podAntiAffinity": {
                    "preferredDuringSchedulingIgnoredDuringExecution": [
                        {
                            "weight": 10,
                            "podAffinityTerm": {
                                "topologyKey": "kubernetes.io/hostname",
                                "labelSelector": {"matchLabels": {"a": "b"}},
                            },
                        }
                    ]
                },
            },
            tolerations=[
                {"key": "nvidia.com/gpu", "operator": "Exists", "effect": "NoSchedule"},
                {"operator": "Exists"},
                {
                    "key": "k",
                    "operator": "Equal",
                    "value": "v",
                    "effect": "NoExecute",
                    "tolerationSeconds": 30,
                },
            ],
        ),
    ),
    (
        "probes and init",
        dict(
            initContainers=[container(name="init")],
            containers=[
                container(
                    livenessProbe={"httpGet": {"path": "/healthz", "port": 8080}},
                    readinessProbe={"tcpSocket": {"port": "http"}},
                    ports=[{"containerPort": 8080, "name": "http"}],
                )
            ],
        ),
    ),
]


@pytest.mark.parametrize("spec", [v[1] for v in VALID], ids=[v[0] for v in VALID])
def test_valid_pod(spec):
    assert causes(a_pod(**spec)) == []


def test_request_above_limit_message():
    pod = a_pod(
        containers=[container(resources={"requests": {"cpu": "2"}, "limits": {"cpu": "1"}})]
    )
    strategy.prepare_for_create(registry.POD, pod)
    messages = [c.message for c in strategy.validate_create(registry.POD, pod)]
    assert messages == ['Invalid value: "2": must be less than or equal to cpu limit of 1']


def test_gpu_request_without_limit_on_a_template():
    job = {
        "metadata": {"name": "j", "namespace": "default", "uid": "u"},
        "spec": {
            "template": {
                "spec": {
                    "restartPolicy": "Never",
                    "containers": [container(resources={"requests": {"nvidia.com/gpu": 1}})],
                }
            }
        },
    }
    strategy.prepare_for_create(registry.JOB, job)
    found = [(c.field, c.message) for c in strategy.validate_create(registry.JOB, job)]
    assert found == [
        (
            "spec.template.spec.containers[0].resources.limits",
            "Required value: Limit must be set for non overcommitable resources",
        )
    ]
