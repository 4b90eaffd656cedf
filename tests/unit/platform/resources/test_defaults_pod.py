"""Pod defaults: the spec defaults every pod spec gets, and those only Pods get."""

import pytest

from berth.platform.resources import registry, strategy
from berth.platform.resources.defaults import pod as pod_defaults

META = {
    "name": "p",
    "namespace": "default",
    "uid": "u",
    "creationTimestamp": "2026-01-01T00:00:00Z",
}


def created(spec: dict) -> dict:
    obj = {"metadata": dict(META), "spec": spec}
    strategy.prepare_for_create(registry.POD, obj)
    return obj


@pytest.mark.parametrize(
    "image,policy",
    [
        ("busybox", "Always"),
        ("busybox:latest", "Always"),
        ("busybox:1.36", "IfNotPresent"),
        ("localhost:5000/team/app", "Always"),
        ("localhost:5000/team/app:v2", "IfNotPresent"),
        ("crdsba6190deveastus001.azurecr.io/instructor_sklearn:latest", "Always"),
        ("busybox@sha256:" + "a" * 64, "IfNotPresent"),
        ("busybox:latest@sha256:" + "a" * 64, "Always"),
        ("Not A Valid Image", "IfNotPresent"),
    ],
)
def test_image_pull_policy(image, policy):
    assert pod_defaults.pull_policy(image) == policy


def test_spec_and_container_defaults():
    pod = created(
        {
            "containers": [
                {
                    "name": "c",
                    "image": "busybox:1.36",
                    "ports": [{"containerPort": 80}],
                    "env": [
                        {"name": "N", "valueFrom": {"fieldRef": {"fieldPath": "metadata.name"}}}
                    ],
                    "livenessProbe": {"httpGet": {"port": 80}},
                }
            ]
        }
    )
    spec = pod["spec"]
    assert {
        k: spec[k]
        for k in (
            "restartPolicy",
            "terminationGracePeriodSeconds",
            "dnsPolicy",
            "schedulerName",
            "securityContext",
            "enableServiceLinks",
            "priority",
            "preemptionPolicy",
        )
    } == {
        "restartPolicy": "Always",
        "terminationGracePeriodSeconds": 30,
        "dnsPolicy": "ClusterFirst",
        "schedulerName": "default-scheduler",
        "securityContext": {},
        "enableServiceLinks": True,
        "priority": 0,
        "preemptionPolicy": "PreemptLowerPriority",
    }
    c = spec["containers"][0]
    assert c["imagePullPolicy"] == "IfNotPresent"
    assert c["terminationMessagePath"] == "/dev/termination-log"
    assert c["terminationMessagePolicy"] == "File"
    assert c["resources"] == {}
    assert c["ports"] == [{"containerPort": 80, "protocol": "TCP"}]
    assert c["env"][0]["valueFrom"]["fieldRef"]["apiVersion"] == "v1"
    assert c["livenessProbe"] == {
        "httpGet": {"port": 80, "path": "/", "scheme": "HTTP"},
        "timeoutSeconds": 1,
        "periodSeconds": 10,
        "successThreshold": 1,
        "failureThreshold": 3,
    }
    assert "tolerations" not in spec


def test_user_values_are_kept():
    pod = created(
        {
            "restartPolicy": "Never",
            "terminationGracePeriodSeconds": 0,
            "containers": [{"name": "c", "image": "busybox", "imagePullPolicy": "Never"}],
        }
    )
    assert pod["spec"]["restartPolicy"] == "Never"
    assert pod["spec"]["terminationGracePeriodSeconds"] == 0
    assert pod["spec"]["containers"][0]["imagePullPolicy"] == "Never"


def test_volume_defaults():
    pod = created(
        {
            "containers": [{"name": "c", "image": "i"}],
            "volumes": [
                {"name": "bare"},
                {"name": "s", "secret": {"secretName": "x"}},
                {"name": "cm", "configMap": {"name": "x"}},
                {"name": "h", "hostPath": {"path": "/data"}},
            ],
        }
    )
    volumes = {v["name"]: v for v in pod["spec"]["volumes"]}
    assert volumes["bare"] == {"name": "bare", "emptyDir": {}}
    assert volumes["s"]["secret"]["defaultMode"] == 420
    assert volumes["cm"]["configMap"]["defaultMode"] == 420
    assert volumes["h"]["hostPath"] == {"path": "/data", "type": ""}


def test_requests_default_to_limits_on_pods_only():
    limits = {"cpu": "1", "nvidia.com/gpu": 1}
    pod = created(
        {
            "containers": [
                {
                    "name": "c",
                    "image": "i",
                    "resources": {"limits": dict(limits), "requests": {"cpu": "500m"}},
                }
            ]
        }
    )
    assert pod["spec"]["containers"][0]["resources"]["requests"] == {
        "cpu": "500m",
        "nvidia.com/gpu": 1,
    }
    job = {
        "metadata": dict(META),
        "spec": {
            "template": {
                "spec": {
                    "restartPolicy": "Never",
                    "containers": [
                        {"name": "c", "image": "i", "resources": {"limits": dict(limits)}}
                    ],
                }
            }
        },
    }
    strategy.prepare_for_create(registry.JOB, job)
    template_container = job["spec"]["template"]["spec"]["containers"][0]
    assert template_container["resources"] == {"limits": limits}
    assert "enableServiceLinks" not in job["spec"]["template"]["spec"]


@pytest.mark.parametrize(
    "resources,qos",
    [
        ([{}], "BestEffort"),
        ([{"requests": {"cpu": "0"}}], "BestEffort"),
        ([{"requests": {"cpu": "100m"}}], "Burstable"),
        ([{"limits": {"cpu": "1", "memory": "1Gi"}}], "Guaranteed"),
        (
            [
                {
                    "limits": {"cpu": "1", "memory": "1Gi"},
                    "requests": {"cpu": "1000m", "memory": "1Gi"},
                }
            ],
            "Guaranteed",
        ),
        ([{"limits": {"cpu": "1", "memory": "1Gi"}, "requests": {"cpu": "500m"}}], "Burstable"),
        ([{"limits": {"cpu": "1"}}], "Burstable"),
        ([{"limits": {"cpu": "1", "memory": "1Gi"}}, {}], "Burstable"),
        ([{"limits": {"nvidia.com/gpu": 1}}], "BestEffort"),
    ],
)
def test_qos_class(resources, qos):
    pod = created(
        {
            "containers": [
                {"name": f"c{i}", "image": "i", "resources": r} for i, r in enumerate(resources)
            ]
        }
    )
    assert pod["status"] == {"phase": "Pending", "qosClass": qos}


def test_client_status_is_replaced_on_create():
    obj = {
        "metadata": dict(META),
        "spec": {"containers": [{"name": "c", "image": "i"}]},
        "status": {"phase": "Running"},
    }
    strategy.prepare_for_create(registry.POD, obj)
    assert obj["status"]["phase"] == "Pending"


def test_scheduling_gates_mark_the_pod_unschedulable():
    pod = created(
        {
            "containers": [{"name": "c", "image": "i"}],
            "schedulingGates": [{"name": "example.com/quota"}],
        }
    )
    assert pod["status"]["conditions"][0]["reason"] == "SchedulingGated"


def test_host_network_ports():
    pod = created(
        {
            "hostNetwork": True,
            "containers": [{"name": "c", "image": "i", "ports": [{"containerPort": 8080}]}],
        }
    )
    assert pod["spec"]["containers"][0]["ports"][0]["hostPort"] == 8080
    assert strategy.validate_create(registry.POD, pod) == []
