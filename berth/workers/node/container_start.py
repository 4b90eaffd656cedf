"""Start one attempt of a container: its environment and command line, its volumes mounted,
its sandbox (bubblewrap argv) or the plain process where the node has none, its cgroup, and
its output to the attempt's log. What cannot start raises ``CannotStart`` with the message the
container's ``StartError`` shows."""

from __future__ import annotations

import os
from dataclasses import dataclass
from pathlib import Path

from berth.workers.node import cgroups, envs, logs, process
from berth.workers.node.filevolumes import FileVolumes
from berth.workers.node.nodecontext import NodeContext
from berth.workers.node.sandbox import (
    Mount,
    SandboxSpec,
    build_bwrap_argv,
    find_executable,
    memfd_with,
)
from berth.workers.node.volumes import VolumeError, file_volumes, mounts_for


class CannotStart(Exception):
    """The attempt did not start; the message says why."""


@dataclass
class Started:
    process: process.ContainerProcess
    group: cgroups.ContainerGroup
    env: dict[str, str]
    term_file: Path  # mounted at the container's terminationMessagePath


def start(
    pod: dict,
    spec: dict,
    bundle: dict,
    node: NodeContext,
    memory: FileVolumes,
    *,
    container: str,
    attempt: int,
    hostname: str,
    gpu_ids: list[str] | None,
    sandboxed: bool,
) -> Started:
    """Start attempt ``attempt`` of ``container`` (``spec``) of ``pod``."""
    uid = (pod.get("metadata") or {}).get("uid", "")
    env = envs.container_env(
        _pairs(bundle, container),
        hostname=hostname,
        gpu_ids=gpu_ids,
        node_env=node.env,
    )
    argv = envs.command_line(spec, env)
    if not argv:
        raise CannotStart("no command specified")
    term_file = node.pod_root / uid / "termination" / f"{container}-{attempt}"
    try:
        memory.publish(uid, file_volumes(bundle), only_missing=True)
        mounts = mounts_for(pod, spec, bundle, node.pod_root / uid, memory)
    except VolumeError as err:
        raise CannotStart(str(err)) from err
    except OSError as err:
        raise CannotStart(f"MountVolume.SetUp failed: {err}") from err
    term_file.parent.mkdir(parents=True, exist_ok=True)
    term_file.write_bytes(b"")
    term_path = spec.get("terminationMessagePath") or "/dev/termination-log"
    mounts.append(Mount(term_path, source=str(term_file)))
    sandbox = SandboxSpec(
        argv=argv,
        hostname=hostname,
        workdir=spec.get("workingDir"),
        mounts=mounts if sandboxed else [],
        hide=node.hide,
        devices=node.devices,
    )
    runnable, why = find_executable(argv[0], env["PATH"], sandbox)
    if not runnable:
        raise CannotStart(why)
    fds: list[int] = []
    if sandboxed:
        full = build_bwrap_argv(
            sandbox,
            bwrap=node.bwrap or "bwrap",
            open_file=lambda data: _keep(fds, memfd_with(data)),
        )
        cwd = None
    else:
        full, cwd = argv, _existing_dir(spec.get("workingDir"))
    memory_limit, cpu = envs.container_limits(spec)
    group = cgroups.create(
        node.hierarchy, f"{uid}-{container}-{attempt}", cgroups.Limits(memory_limit, cpu)
    )
    writer = logs.LogWriter(logs.attempt_path(node.log_root, uid, container, attempt))
    try:
        cp = process.spawn(
            full,
            env=env,
            cwd=cwd,
            log=writer,
            group=group,
            pass_fds=tuple(fds),
            sandboxed=sandboxed,
        )
    except OSError as err:
        group.remove()
        raise CannotStart(f'exec: "{argv[0]}": {err.strerror or err}') from err
    finally:
        for fd in fds:
            _close(fd)
    return Started(cp, group, env, term_file)


def _pairs(bundle: dict, container: str) -> list[tuple[str, str]]:
    raw = (bundle.get("env") or {}).get(container) or []
    if isinstance(raw, dict):
        return [(str(k), str(v)) for k, v in raw.items()]
    return [(str(k), str(v)) for k, v in raw]


def _keep(fds: list[int], fd: int) -> int:
    fds.append(fd)
    return fd


def _close(fd: int) -> None:
    try:
        os.close(fd)
    except OSError:
        pass


def _existing_dir(path: str | None) -> str | None:
    return path if path and Path(path).is_dir() else None
