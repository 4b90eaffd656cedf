"""The volume binder against a real store: static binding, provisioning, reclaim, protection."""

from __future__ import annotations

import pytest

from berth.platform.controllers.volume.matching import (
    BIND_COMPLETED,
    BOUND_BY_CONTROLLER,
    PROVISIONED_BY,
    PV_PROTECTION,
    PVC_PROTECTION,
    SELECTED_NODE,
)
from berth.platform.resources import registry
from tests.integration.controllers.volume_harness import NS, PV, PVC, Binder, wait_for

pytestmark = pytest.mark.integration


@pytest.fixture
def binder(platform, tmp_path):
    made = Binder(platform, tmp_path / "volumes")
    yield made
    made.close()


def test_a_claim_binds_to_the_smallest_fitting_volume_by_selector(binder):
    binder.volume("big", "10Gi", labels={"type": "hostpath"}, storageClassName="")
    binder.volume("small", "2Gi", labels={"type": "hostpath"}, storageClassName="")
    binder.volume("unlabelled", "1Gi", storageClassName="")
    binder.claim("c", "1Gi", selector={"matchLabels": {"type": "hostpath"}})
    claim = binder.claim_phase("c", "Bound")
    assert claim["spec"]["volumeName"] == "small"
    assert claim["status"]["capacity"] == {"storage": "2Gi"}
    assert claim["status"]["accessModes"] == ["ReadWriteOnce"]
    annotations = claim["metadata"]["annotations"]
    assert (annotations[BIND_COMPLETED], annotations[BOUND_BY_CONTROLLER]) == ("yes", "yes")
    assert PVC_PROTECTION in claim["metadata"]["finalizers"]
    small = binder.volume_phase("small", "Bound")
    assert small["spec"]["claimRef"]["uid"] == claim["metadata"]["uid"]
    assert PV_PROTECTION in small["metadata"]["finalizers"]
    assert binder.volume_phase("big", "Available")
    assert binder.volume_phase("unlabelled", "Available")


def test_a_claim_that_nothing_fits_stays_pending_with_the_reason(binder):
    binder.claim("lonely", "1Gi", storageClassName="")
    binder.claim_phase("lonely", "Pending")
    wait_for(
        lambda: (
            (
                "Normal",
                "FailedBinding",
                "no persistent volumes available for this claim and no storage class is set",
            )
            in binder.events_of("lonely")
        ),
        what="FailedBinding event",
    )
    binder.volume("late", "1Gi", storageClassName="")
    assert binder.claim_phase("lonely", "Bound")["spec"]["volumeName"] == "late"


def test_a_claim_of_a_class_without_our_provisioner_waits_for_it(binder):
    binder.client.create(
        registry.STORAGE_CLASS,
        {"metadata": {"name": "standard"}, "provisioner": "kubernetes.io/gce-pd"},
    )
    binder.claim("c", storageClassName="standard")
    wait_for(
        lambda: any(
            r == "ExternalProvisioning" and "'kubernetes.io/gce-pd'" in m
            for _, r, m in binder.events_of("c")
        ),
        what="ExternalProvisioning",
    )
    binder.claim("missing", storageClassName="nope")
    wait_for(
        lambda: (
            ("Warning", "ProvisioningFailed", 'storageclass.storage.k8s.io "nope" not found')
            in binder.events_of("missing")
        ),
        what="class not found",
    )


def test_a_claim_naming_its_volume_binds_only_to_it(binder):
    binder.volume("other", "5Gi", storageClassName="")
    binder.volume("named", "5Gi", storageClassName="")
    binder.claim("c", "1Gi", storageClassName="", volumeName="named")
    claim = binder.claim_phase("c", "Bound")
    assert claim["spec"]["volumeName"] == "named"
    assert BOUND_BY_CONTROLLER not in claim["metadata"]["annotations"]
    binder.claim("too-big", "50Gi", storageClassName="", volumeName="other")
    wait_for(
        lambda: (
            (
                "Warning",
                "VolumeMismatch",
                'Cannot bind to requested volume "other": requested PV is too small',
            )
            in binder.events_of("too-big")
        ),
        what="VolumeMismatch",
    )
    assert binder.volume_phase("other", "Available")


def test_two_claims_never_share_one_volume(binder):
    binder.volume("only", "1Gi", storageClassName="")
    for i in range(6):
        binder.claim(f"c{i}", "1Gi", storageClassName="")
    winner = wait_for(
        lambda: [
            c
            for c in binder.client.list(PVC, NS).items
            if (c.get("status") or {}).get("phase") == "Bound"
        ],
        what="one claim bound",
    )
    volume = binder.volume_phase("only", "Bound")
    bound = [c for c in binder.client.list(PVC, NS).items if c["spec"].get("volumeName")]
    assert [c["metadata"]["name"] for c in bound] == [winner[0]["metadata"]["name"]]
    assert volume["spec"]["claimRef"]["name"] == winner[0]["metadata"]["name"]


def test_the_default_class_provisions_when_the_consumer_is_scheduled(binder, tmp_path):
    claim = binder.claim("data", "1Gi")
    assert claim["spec"]["storageClassName"] == "local-path"  # DefaultStorageClass
    wait_for(
        lambda: (
            (
                "Normal",
                "WaitForFirstConsumer",
                "waiting for first consumer to be created before binding",
            )
            in binder.events_of("data")
        ),
        what="WaitForFirstConsumer",
    )
    binder.client.guaranteed_update(
        PVC,
        NS,
        "data",
        lambda c: {**c, "metadata": {**c["metadata"], "annotations": {SELECTED_NODE: "node-1"}}},
    )
    claim = binder.claim_phase("data", "Bound")
    name = f"pvc-{claim['metadata']['uid']}"
    assert claim["spec"]["volumeName"] == name
    volume = binder.volume_phase(name, "Bound")
    assert volume["metadata"]["annotations"][PROVISIONED_BY] == "berth.io/local-path"
    assert volume["spec"]["persistentVolumeReclaimPolicy"] == "Delete"
    assert volume["spec"]["storageClassName"] == "local-path"
    path = volume["spec"]["hostPath"]["path"]
    assert path.startswith(str(tmp_path / "volumes")) and (tmp_path / "volumes").is_dir()
    assert (
        claim["metadata"]["annotations"]["volume.kubernetes.io/storage-provisioner"]
        == "berth.io/local-path"
    )

    # Delete policy: the claim goes, the volume and its directory go with it.
    (tmp_path / "volumes" / path.rsplit("/", 1)[1] / "f").write_text("x")
    binder.client.delete(PVC, NS, "data")
    wait_for(lambda: binder.get_volume(name) is None, what="the volume deleted")
    assert not (tmp_path / "volumes" / path.rsplit("/", 1)[1]).exists()


def test_a_retained_volume_is_released_with_its_data_when_its_claim_goes(binder, tmp_path):
    binder.volume("keep", "1Gi", storageClassName="", persistentVolumeReclaimPolicy="Retain")
    binder.claim("c", storageClassName="")
    binder.volume_phase("keep", "Bound")
    binder.client.delete(PVC, NS, "c")
    wait_for(lambda: binder.get_claim("c") is None, what="the claim gone")
    volume = binder.volume_phase("keep", "Released")
    assert volume["spec"]["claimRef"]["name"] == "c"
    binder.claim("c", storageClassName="")  # a new claim of that name does not get it
    binder.claim_phase("c", "Pending")
    assert binder.volume_phase("keep", "Released")


def test_a_static_volume_with_delete_policy_fails_to_delete(binder):
    binder.volume("nfs-ish", "1Gi", storageClassName="", persistentVolumeReclaimPolicy="Delete")
    binder.claim("c", storageClassName="")
    binder.volume_phase("nfs-ish", "Bound")
    binder.client.delete(PVC, NS, "c")
    volume = binder.volume_phase("nfs-ish", "Failed")
    assert "no deletable volume plugin matched" in volume["status"]["message"]


def test_a_claim_in_use_by_a_running_pod_stays_until_the_pod_ends(binder):
    binder.volume("v", "1Gi", storageClassName="")
    binder.claim("c", storageClassName="")
    binder.claim_phase("c", "Bound")
    binder.client.create(
        registry.POD,
        {
            "metadata": {"name": "user", "namespace": NS},
            "spec": {
                "containers": [{"name": "c", "image": "busybox"}],
                "volumes": [{"name": "d", "persistentVolumeClaim": {"claimName": "c"}}],
            },
        },
    )
    binder.client.delete(PVC, NS, "c")
    claim = binder.get_claim("c")
    assert claim["metadata"]["deletionTimestamp"]
    assert binder.volume_phase("v", "Bound")
    binder.client.guaranteed_update(
        registry.POD,
        NS,
        "user",
        lambda p: {**p, "status": {**p["status"], "phase": "Succeeded"}},
        subresource="status",
    )
    wait_for(lambda: binder.get_claim("c") is None, what="the claim removed")
    binder.volume_phase("v", "Released")


def test_a_bound_volume_being_deleted_waits_for_its_claim(binder):
    binder.volume("v", "1Gi", storageClassName="")
    binder.claim("c", storageClassName="")
    binder.volume_phase("v", "Bound")
    binder.client.delete(PV, "", "v")
    assert binder.get_volume("v")["metadata"]["deletionTimestamp"]
    binder.client.delete(PVC, NS, "c")
    wait_for(lambda: binder.get_volume("v") is None, what="the volume removed")


def test_a_claim_whose_volume_vanished_is_lost(binder):
    binder.volume("v", "1Gi", storageClassName="")
    binder.claim("c", storageClassName="")
    binder.volume_phase("v", "Bound")
    # Deleted, and its protection forced off (as `kubectl patch` of the finalizers would):
    # once deleting, nothing can add the finalizer back.
    binder.client.delete(PV, "", "v")
    binder.client.guaranteed_update(
        PV, "", "v", lambda v: {**v, "metadata": {**v["metadata"], "finalizers": []}}
    )
    assert binder.get_volume("v") is None
    binder.claim_phase("c", "Lost")
    wait_for(
        lambda: any(r == "ClaimLost" for _, r, _m in binder.events_of("c")),
        what="the ClaimLost event",
    )


def test_a_binding_cut_short_by_a_crash_is_finished_on_restart(platform, tmp_path):
    """The binder died after writing the volume's claimRef (the first step), before the
    claim's side: the next binder finishes that binding and takes no other volume."""
    client = platform.client
    claim = client.create(
        PVC,
        {
            "metadata": {"name": "c", "namespace": NS},
            "spec": {
                "accessModes": ["ReadWriteOnce"],
                "storageClassName": "",
                "resources": {"requests": {"storage": "1Gi"}},
            },
        },
    )
    client.create(
        PV,
        {
            "metadata": {"name": "smaller"},
            "spec": {
                "capacity": {"storage": "1Gi"},
                "accessModes": ["ReadWriteOnce"],
                "hostPath": {"path": "/tmp/smaller"},
            },
        },
    )
    client.create(
        PV,
        {
            "metadata": {"name": "half-bound", "annotations": {BOUND_BY_CONTROLLER: "yes"}},
            "spec": {
                "capacity": {"storage": "5Gi"},
                "accessModes": ["ReadWriteOnce"],
                "hostPath": {"path": "/tmp/half"},
                "claimRef": {"namespace": NS, "name": "c", "uid": claim["metadata"]["uid"]},
            },
        },
    )
    binder = Binder(platform, tmp_path / "volumes", default_class=False)
    try:
        bound = binder.claim_phase("c", "Bound")
        assert bound["spec"]["volumeName"] == "half-bound"
        assert binder.volume_phase("half-bound", "Bound")
        assert binder.volume_phase("smaller", "Available")
    finally:
        binder.close()


def test_a_claim_made_before_any_default_class_gets_the_default_later(platform, tmp_path):
    binder = Binder(platform, tmp_path / "volumes", default_class=False)
    try:
        binder.claim("early")
        binder.claim_phase("early", "Pending")
        assert "storageClassName" not in binder.get_claim("early")["spec"]
        binder.client.create(
            registry.STORAGE_CLASS,
            {
                "metadata": {
                    "name": "fast",
                    "annotations": {"storageclass.kubernetes.io/is-default-class": "true"},
                },
                "provisioner": "berth.io/local-path",
            },
        )
        claim = binder.claim_phase("early", "Bound")  # Immediate: provisioned at once
        assert claim["spec"]["storageClassName"] == "fast"
    finally:
        binder.close()
