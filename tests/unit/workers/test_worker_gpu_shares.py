"""A GPU share on the node: Ray is asked for the fraction; the pod sees the scheduler's device."""

from berth.workers.node.admission import ray_options
from berth.workers.node.envs import scheduled_gpus, split_gpus


def pod(annotation=None, **limits):
    meta: dict[str, object] = {"name": "p", "uid": "u"}
    if annotation is not None:
        meta["annotations"] = {"berth.dev/gpu-devices": annotation}
    containers = [
        {"name": "main", "resources": {"limits": limits}},
        {"name": "side", "resources": {}},
    ]
    return {"metadata": meta, "spec": {"containers": containers}}


def test_a_share_asks_ray_for_a_fraction_of_a_gpu():
    assert ray_options(pod(**{"berth.dev/gpu-milli": "500", "cpu": "250m"}))["num_gpus"] == 0.5
    assert ray_options(pod(**{"nvidia.com/gpu": "2"}))["num_gpus"] == 2.0


def test_the_annotated_device_is_what_the_sharing_container_sees():
    p = pod("1", **{"berth.dev/gpu-milli": "500"})
    ids = scheduled_gpus(p)
    assert ids == ["1"]
    assert split_gpus(p, ids) == {"main": ["1"], "side": []}


def test_whole_gpus_follow_the_annotation_and_no_annotation_means_none():
    p = pod("0,3", **{"nvidia.com/gpu": "2"})
    assert split_gpus(p, scheduled_gpus(p)) == {"main": ["0", "3"], "side": []}
    assert scheduled_gpus(pod()) == [] and scheduled_gpus(pod("x")) == []
