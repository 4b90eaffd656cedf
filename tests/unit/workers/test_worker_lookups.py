"""A bound claim's node directory: the volume's hostPath or local path; nfs says why not."""

from __future__ import annotations

import pytest

from berth.workers.bundle import Missing
from berth.workers.control.lookups import volume_path


def pv(**source):
    return {"metadata": {"name": "v"}, "spec": {"capacity": {"storage": "1Gi"}, **source}}


@pytest.mark.parametrize(
    "source,expected",
    [
        ({"hostPath": {"path": "/srv/data", "type": ""}}, "/srv/data"),
        ({"local": {"path": "/mnt/disk1"}, "nodeAffinity": {"required": {}}}, "/mnt/disk1"),
    ],
)
def test_the_directory_of_a_volume(source, expected):
    assert volume_path(pv(**source), "c") == expected


def test_an_nfs_volume_says_the_node_cannot_mount_it():
    with pytest.raises(Missing) as err:
        volume_path(pv(nfs={"server": "172.22.0.42", "path": "/exports"}), "pvc-sc-example")
    assert err.value.reason == "ContainerCreating"
    assert err.value.message.startswith(
        'MountVolume.SetUp failed for volume "v" (claim "pvc-sc-example") : nfs '
        "172.22.0.42:/exports: this node has no NFS client"
    )


def test_an_unknown_source_is_named():
    with pytest.raises(Missing, match="volume source iscsi is not supported"):
        volume_path(pv(iscsi={"targetPortal": "x"}), "c")
