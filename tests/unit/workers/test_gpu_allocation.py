"""The per-device GPU allocation written on nodes for ``kubectl describe node``."""

from __future__ import annotations

from typing import cast

from berth.platform.resources.gpus import asks_for_gpus
from berth.platform.resources.types import Node, Pod
from berth.workers.control.gpu_allocation import (
    DeviceUse,
    annotation_for,
    device_allocation,
    format_allocation,
    parse_allocation,
    reports_on,
)


def a_node(gpus: int, model: str | None = "A100") -> Node:
    labels = {"nvidia.com/gpu.product": model} if model else {}
    capacity = {"cpu": "32", "memory": "128Gi"}
    if gpus:
        capacity["nvidia.com/gpu"] = str(gpus)
    return cast(
        Node, {"metadata": {"name": "n", "labels": labels}, "status": {"capacity": capacity}}
    )


def a_pod(
    name: str,
    *,
    gpu: int = 0,
    milli: int = 0,
    devices: str | None = None,
    phase: str = "Running",
    namespace: str = "ml",
) -> Pod:
    limits = {"cpu": "1"}
    if gpu:
        limits["nvidia.com/gpu"] = str(gpu)
    if milli:
        limits["berth.dev/gpu-milli"] = str(milli)
    metadata: dict[str, object] = {"name": name, "namespace": namespace, "uid": f"uid-{name}"}
    if devices is not None:
        metadata["annotations"] = {"berth.dev/gpu-devices": devices}
    return cast(
        Pod,
        {
            "metadata": metadata,
            "status": {"phase": phase},
            "spec": {
                "nodeName": "n",
                "containers": [{"name": "c", "resources": {"limits": limits}}],
            },
        },
    )


def test_whole_gpus_and_shares_are_counted_on_the_devices_the_pods_name():
    pods = [
        a_pod("train", gpu=2, devices="1,3"),
        a_pod("a", milli=250, devices="0"),
        a_pod("b", milli=500, devices="0", namespace="ab"),
        a_pod("cpu"),
        a_pod("old", gpu=1, devices="2", phase="Succeeded"),
    ]
    assert device_allocation(a_node(4), pods) == [
        DeviceUse(0, "A100", 750, ("ab/b", "ml/a")),
        DeviceUse(1, "A100", 1000, ("ml/train",)),
        DeviceUse(2, "A100", 0, ()),
        DeviceUse(3, "A100", 1000, ("ml/train",)),
    ]


def test_the_annotation_is_one_line_per_device_and_reads_back():
    devices = device_allocation(a_node(2, model=None), [a_pod("s", milli=300, devices="1")])
    text = format_allocation(devices)
    assert text == "0 - 0/1000 -\n1 - 300/1000 ml/s"
    assert parse_allocation(text) == devices


def test_a_node_without_gpus_gets_no_annotation():
    assert annotation_for(a_node(0), [a_pod("cpu")]) is None


def test_only_gpu_pods_and_gpu_nodes_wake_the_reporter():
    assert asks_for_gpus(a_pod("whole", gpu=1))
    assert asks_for_gpus(a_pod("share", milli=250))
    assert not asks_for_gpus(a_pod("cpu"))
    init = a_pod("init")
    init["spec"]["initContainers"] = [
        {"name": "i", "resources": {"requests": {"berth.dev/gpu-milli": "100"}}}
    ]
    assert asks_for_gpus(init)
    assert reports_on(a_node(2))
    assert not reports_on(a_node(0))
    gone = a_node(0)
    gone["metadata"]["annotations"] = {"berth.dev/gpu-allocation": "0 A100 0/1000 -"}
    assert reports_on(gone)  # so the stale annotation is removed
