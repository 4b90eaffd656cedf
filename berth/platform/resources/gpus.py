"""The vocabulary of GPU shares, one place for validation, the scheduler and the workers.

``berth.dev/gpu-milli`` is an extended resource of 1000 per GPU device: a pod asking for 460
takes 460 of one device, never split across devices. The scheduler writes the devices it chose
on the pod as the ``berth.dev/gpu-devices`` annotation (``"1"``, ``"0,3"``), and the node
agent shows the pod exactly those devices.
"""

from collections.abc import Mapping
from typing import Any

GPU = "nvidia.com/gpu"
GPU_MILLI = "berth.dev/gpu-milli"
DEVICES_ANNOTATION = "berth.dev/gpu-devices"
DEVICE_MILLI = 1000


def asks_for_gpus(pod: Mapping[str, Any]) -> bool:
    """Whether any container of ``pod`` requests or limits whole GPUs or shares of one."""
    spec = pod.get("spec") or {}
    for container in (spec.get("initContainers") or []) + (spec.get("containers") or []):
        resources = container.get("resources") or {}
        for amounts in (resources.get("requests") or {}, resources.get("limits") or {}):
            if GPU in amounts or GPU_MILLI in amounts:
                return True
    return False
