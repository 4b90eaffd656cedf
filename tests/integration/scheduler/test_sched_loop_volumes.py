"""The scheduler with the volume binder on a real store and simulated nodes: claims steer
pods to nodes, and WaitForFirstConsumer claims are provisioned where their pod goes."""

from __future__ import annotations

import pytest

from berth.platform.controllers.volume.binder import VolumeBinder
from berth.platform.controllers.volume.provisioner import LocalPathProvisioner, ensure_default_class
from berth.platform.resources import registry
from tests.integration.scheduler.sched_harness import NS, SimCluster, pod_manifest, wait_for

pytestmark = pytest.mark.integration

PV, PVC = registry.PERSISTENT_VOLUME, registry.PERSISTENT_VOLUME_CLAIM


@pytest.fixture
def sim(platform, tmp_path):
    ensure_default_class(platform.client)
    cluster = SimCluster(
        platform,
        controllers=lambda p: [
            VolumeBinder(
                p.client,
                p.recorder("persistentvolume-controller"),
                LocalPathProvisioner(tmp_path / "volumes"),
            )
        ],
    ).start()
    yield cluster
    cluster.stop()


def add_claim(sim, name: str, **spec) -> dict:
    return sim.client.create(
        PVC,
        {
            "metadata": {"name": name, "namespace": NS},
            "spec": {
                "accessModes": ["ReadWriteOnce"],
                "resources": {"requests": {"storage": "1Gi"}},
                **spec,
            },
        },
    )


def add_pod_with(sim, name: str, claim: str, **kwargs) -> dict:
    pod = pod_manifest(name, **kwargs)
    pod["spec"]["volumes"] = [{"name": "d", "persistentVolumeClaim": {"claimName": claim}}]
    return sim.client.create(registry.POD, pod, NS)


def test_a_claim_of_the_default_class_is_provisioned_for_the_node_its_pod_goes_to(sim):
    for name in ("n1", "n2"):
        sim.add_node(name)
    add_claim(sim, "data")
    add_pod_with(sim, "p", "data")
    pod = sim.wait_running("p")
    claim = wait_for(
        lambda: (c := sim.client.get(PVC, NS, "data"))["status"].get("phase") == "Bound" and c,
        what="claim Bound",
    )
    assert (
        claim["metadata"]["annotations"]["volume.kubernetes.io/selected-node"]
        == pod["spec"]["nodeName"]
    )


def test_a_local_volume_takes_its_pod_to_its_node(sim):
    for name in ("n1", "n2", "n3"):
        sim.add_node(name, labels={"kubernetes.io/hostname": name})
    sim.client.create(
        PV,
        {
            "metadata": {"name": "disk-n2"},
            "spec": {
                "capacity": {"storage": "1Gi"},
                "accessModes": ["ReadWriteOnce"],
                "storageClassName": "",
                "local": {"path": "/mnt/disk"},
                "nodeAffinity": {
                    "required": {
                        "nodeSelectorTerms": [
                            {
                                "matchExpressions": [
                                    {
                                        "key": "kubernetes.io/hostname",
                                        "operator": "In",
                                        "values": ["n2"],
                                    }
                                ]
                            }
                        ]
                    }
                },
            },
        },
    )
    add_claim(sim, "disk", storageClassName="")
    add_pod_with(sim, "p", "disk")
    assert sim.wait_running("p")["spec"]["nodeName"] == "n2"


def test_a_read_write_once_claim_in_use_keeps_its_next_pod_on_that_node(sim):
    for name in ("n1", "n2"):
        sim.add_node(name, cpu="2")
    add_claim(sim, "shared")
    add_pod_with(sim, "first", "shared", cpu="1500m")
    node = sim.wait_running("first")["spec"]["nodeName"]
    add_pod_with(sim, "second", "shared", cpu="1500m")
    condition = sim.wait_unschedulable("second")
    assert condition["message"].startswith(
        "0/2 nodes are available: 1 Insufficient cpu, 1 node(s) didn't have the pod's "
        "ReadWriteOnce volume, which is in use on another node."
    )
    sim.client.delete(registry.POD, NS, "first", grace_period_seconds=0)
    second = sim.wait_running("second", timeout=30)
    assert second["spec"]["nodeName"] in ("n1", "n2")
    assert node in ("n1", "n2")
