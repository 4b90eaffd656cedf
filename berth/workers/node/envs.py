"""A container's environment and command line, and how a pod's GPUs split among containers.

Pure functions. ``$(VAR)`` references expand as Kubernetes expands them: a defined name is
replaced, an undefined one stays as written, and ``$$`` escapes a ``$``.
"""

from __future__ import annotations

from collections.abc import Mapping

from berth.platform.resources import quantity
from berth.platform.resources.gpus import DEVICES_ANNOTATION, GPU, GPU_MILLI

DEFAULT_PATH = "/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin"


def expand(text: str, env: Mapping[str, str]) -> str:
    out: list[str] = []
    i, n = 0, len(text)
    while i < n:
        ch = text[i]
        if ch != "$" or i + 1 == n:
            out.append(ch)
            i += 1
            continue
        nxt = text[i + 1]
        if nxt == "$":
            out.append("$")
            i += 2
        elif nxt == "(":
            close = text.find(")", i + 2)
            if close == -1:
                out.append(text[i:])
                break
            name = text[i + 2 : close]
            out.append(env[name] if name in env else text[i : close + 1])
            i = close + 1
        else:
            out.append(ch)
            i += 1
    return "".join(out)


def container_env(
    pairs: list[tuple[str, str]],
    *,
    hostname: str,
    gpu_ids: list[str] | None,
    node_env: Mapping[str, str] | None = None,
) -> dict[str, str]:
    """The process environment: a container's defaults (and ``node_env``, what the node adds
    for every container), then the pod's variables in order
    (each may refer to the ones before it), then the GPU visibility the node decided.

    ``gpu_ids`` None or empty: the container asked for no GPU and must see none."""
    env = {"PATH": DEFAULT_PATH, "HOSTNAME": hostname, "HOME": "/root", **(node_env or {})}
    for name, value in pairs:
        env[name] = expand(value, env)
    visible = ",".join(gpu_ids or [])
    env["CUDA_VISIBLE_DEVICES"] = visible
    env["NVIDIA_VISIBLE_DEVICES"] = visible or "void"
    return env


def command_line(container: dict, env: Mapping[str, str]) -> list[str]:
    """``command`` + ``args`` with ``$(VAR)`` expanded. Without an image there is no
    entrypoint: ``args`` alone are taken as the command line."""
    argv = list(container.get("command") or []) + list(container.get("args") or [])
    return [expand(str(a), env) for a in argv]


def gpu_count(container: dict) -> int:
    res = container.get("resources") or {}
    value = (res.get("limits") or {}).get(GPU, (res.get("requests") or {}).get(GPU))
    return quantity.to_int(value) if value is not None else 0


def shares_gpu(container: dict) -> bool:
    res = container.get("resources") or {}
    value = (res.get("limits") or {}).get(GPU_MILLI, (res.get("requests") or {}).get(GPU_MILLI))
    return value is not None and quantity.to_int(value) > 0


def scheduled_gpus(pod: dict) -> list[str]:
    """The GPU devices the scheduler chose for the pod (its ``berth.dev/gpu-devices``
    annotation), or none when it names none."""
    value = ((pod.get("metadata") or {}).get("annotations") or {}).get(DEVICES_ANNOTATION)
    return [part for part in (value or "").split(",") if part.strip().isdigit()]


def split_gpus(pod: dict, ids: list[str]) -> dict[str, list[str]]:
    """Which of the pod's GPU ids each container sees: regular containers take their counts in
    turn; an init container, which runs alone, takes its count from the start. A container
    with a share of a GPU (``berth.dev/gpu-milli``) sees the pod's shared device, the last."""
    spec = pod.get("spec") or {}
    out: dict[str, list[str]] = {}
    cursor = 0
    shared = ids[-1:]
    for c in spec.get("containers") or []:
        count = gpu_count(c)
        out[c["name"]] = (
            ids[cursor : cursor + count] if count else (shared if shares_gpu(c) else [])
        )
        cursor += count
    for c in spec.get("initContainers") or []:
        count = gpu_count(c)
        out[c["name"]] = ids[:count] if count else (shared if shares_gpu(c) else [])
    return out


def pod_requests(pod: dict) -> dict[str, int]:
    """The pod's effective requests as Kubernetes counts them: max(sum of the containers,
    largest init container) per resource, plus overhead. CPU in millicores, memory in bytes,
    others whole units; a limit stands in for a missing request."""
    spec = pod.get("spec") or {}

    def of(container: dict) -> dict[str, int]:
        res = container.get("resources") or {}
        merged = {**(res.get("limits") or {}), **(res.get("requests") or {})}
        return {
            name: (quantity.to_milli(v) if name == "cpu" else quantity.to_int(v))
            for name, v in merged.items()
        }

    total: dict[str, int] = {}
    for c in spec.get("containers") or []:
        for name, v in of(c).items():
            total[name] = total.get(name, 0) + v
    for c in spec.get("initContainers") or []:
        for name, v in of(c).items():
            total[name] = max(total.get(name, 0), v)
    for name, v in (spec.get("overhead") or {}).items():
        total[name] = total.get(name, 0) + (
            quantity.to_milli(v) if name == "cpu" else quantity.to_int(v)
        )
    return total


def container_limits(container: dict) -> tuple[int | None, int | None]:
    """(memory bytes, cpu millicores) limits of one container, None where unset."""
    limits = (container.get("resources") or {}).get("limits") or {}
    memory = quantity.to_int(limits["memory"]) if "memory" in limits else None
    cpu = quantity.to_milli(limits["cpu"]) if "cpu" in limits else None
    return memory, cpu
