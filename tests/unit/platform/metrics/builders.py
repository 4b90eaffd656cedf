"""Wire objects for the metrics tests."""

from __future__ import annotations


def a_node(
    name: str, cpu: str = "8", memory: str = "32Gi", gpus: int = 0, ready: str = "True"
) -> dict:
    capacity = {"cpu": cpu, "memory": memory, "pods": "110"}
    if gpus:
        capacity["nvidia.com/gpu"] = str(gpus)
    return {
        "apiVersion": "v1",
        "kind": "Node",
        "metadata": {"name": name, "uid": name},
        "status": {
            "capacity": capacity,
            "allocatable": capacity,
            "conditions": [{"type": "Ready", "status": ready}],
        },
    }


def a_pod(
    name: str,
    *,
    node: str | None = None,
    phase: str = "Pending",
    cpu: str = "1",
    gpus: int = 0,
    namespace: str = "default",
    message: str | None = None,
    labels: dict | None = None,
    reason: str | None = None,
    containers: list | None = None,
    gpu_milli: int = 0,
    devices: str | None = None,
) -> dict:
    requests = {"cpu": cpu}
    if gpus:
        requests["nvidia.com/gpu"] = str(gpus)
    if gpu_milli:
        requests["berth.dev/gpu-milli"] = str(gpu_milli)
    pod = {
        "apiVersion": "v1",
        "kind": "Pod",
        "metadata": {
            "name": name,
            "namespace": namespace,
            "uid": f"uid-{name}",
            "labels": labels or {},
        },
        "spec": {"containers": [{"name": "main", "resources": {"requests": requests}}]},
        "status": {"phase": phase},
    }
    if node:
        pod["spec"]["nodeName"] = node
    if devices is not None:
        pod["metadata"]["annotations"] = {"berth.dev/gpu-devices": devices}
    if message:
        pod["status"]["conditions"] = [
            {
                "type": "PodScheduled",
                "status": "False",
                "reason": "Unschedulable",
                "message": message,
            }
        ]
    if reason:
        pod["status"]["reason"] = reason
    if containers is not None:
        pod["status"]["containerStatuses"] = containers
    return pod


def a_job(
    name: str,
    *,
    namespace: str = "default",
    active: int = 0,
    suspend: bool = False,
    finished: str | None = None,
    reason: str = "",
    start: str | None = None,
    end: str | None = None,
) -> dict:
    job = {
        "apiVersion": "batch/v1",
        "kind": "Job",
        "metadata": {"name": name, "namespace": namespace, "uid": f"uid-{name}"},
        "spec": {"suspend": suspend},
        "status": {"active": active},
    }
    if start:
        job["status"]["startTime"] = start
    if finished:
        job["status"]["conditions"] = [
            {"type": finished, "status": "True", "reason": reason, "lastTransitionTime": end}
        ]
        if finished == "Complete" and end:
            job["status"]["completionTime"] = end
    return job
