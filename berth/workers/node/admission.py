"""A pod's requests in Ray's terms, and the node's admission check (as the kubelet's).

Kubernetes names map to Ray resources: ``cpu`` -> ``CPU`` (millicores / 1000; Ray takes
fractions), ``memory`` -> ``memory`` (bytes), ``nvidia.com/gpu`` -> ``GPU``,
``berth.dev/gpu-milli`` -> a fraction of ``GPU`` (milli / 1000), ``ray.io/<name>`` -> the
custom resource ``<name>``. Resources Ray does not schedule (ephemeral storage, huge
pages, pods) are left to the scheduler.
"""

from __future__ import annotations

from collections.abc import Callable

from berth.platform.resources.gpus import GPU_MILLI
from berth.workers.node.envs import pod_requests

_IGNORED_PREFIXES = ("ephemeral-storage", "hugepages-", "pods", "storage")


def ray_name(k8s_name: str) -> str | None:
    if k8s_name == "cpu":
        return "CPU"
    if k8s_name == "memory":
        return "memory"
    if k8s_name in ("nvidia.com/gpu", GPU_MILLI):
        return "GPU"
    if k8s_name.startswith("ray.io/"):
        return k8s_name[len("ray.io/") :]
    if k8s_name.startswith(_IGNORED_PREFIXES):
        return None
    return k8s_name


def ray_resources(pod: dict) -> dict[str, float]:
    """The pod's requests as Ray resource amounts (CPU in cores)."""
    out: dict[str, float] = {}
    for name, value in pod_requests(pod).items():
        target = ray_name(name)
        if target is None or value <= 0:
            continue
        amount = value / 1000 if name in ("cpu", GPU_MILLI) else float(value)
        out[target] = out.get(target, 0.0) + amount
    return out


def ray_options(pod: dict) -> dict:
    """``.options(...)`` for the pod's task: exactly its requests, nothing by default."""
    res = ray_resources(pod)
    options: dict = {"num_cpus": res.pop("CPU", 0), "num_gpus": res.pop("GPU", 0)}
    memory = res.pop("memory", 0)
    if memory:
        options["memory"] = int(memory)
    if res:
        options["resources"] = res
    return options


def _k8s_name(ray_resource: str) -> str:
    return {"CPU": "cpu", "memory": "memory", "GPU": "nvidia.com/gpu"}.get(
        ray_resource, f"ray.io/{ray_resource}"
    )


def _show(ray_resource: str, amount: float) -> str:
    if ray_resource == "CPU":
        return f"{round(amount * 1000)}m" if amount != int(amount) else str(int(amount))
    return str(int(amount)) if amount == int(amount) else str(amount)


def admit(
    requested: dict[str, float],
    capacity: dict[str, float],
    used: Callable[[], dict[str, float]],
) -> tuple[str, str] | None:
    """``None`` when the node could ever run a pod that asks for ``requested`` (its
    ``ray_resources``), else the kubelet's ``(OutOf<resource>, message)``. Only the node's
    total counts: a pod that fits once others finish waits in Ray's queue (Pending) rather
    than failing. ``used()``, what the node's running pods hold, is read for the message
    alone (it sums every running pod: not worth doing for each pod admitted)."""
    for name, amount in sorted(requested.items()):
        total = capacity.get(name, 0.0)
        if amount > total + 1e-9:
            k8s = _k8s_name(name)
            return (
                f"OutOf{k8s}",
                f"Pod was rejected: Node didn't have enough resource: {k8s}, requested: "
                f"{_show(name, amount)}, used: {_show(name, used().get(name, 0.0))}, "
                f"capacity: {_show(name, total)}",
            )
    return None
