"""Memory and CPU limits for one container attempt.

A container gets its own cgroup, a child of the cgroup the agent's pod task runs in:

- cgroup v1 (memory and cpu controllers mounted separately): ``memory.limit_in_bytes`` (and the
  swap total, so the limit cannot be dodged), ``cpu.cfs_quota_us`` over a 100 ms period;
- cgroup v2 where the parent may delegate the controllers: ``memory.max`` with
  ``memory.swap.max = 0`` and ``cpu.max``;
- otherwise ``RLIMIT_AS`` for memory (an overrun then shows as an allocation failure, not a
  kill) and no CPU limit.

The child process joins its group itself, between fork and exec (see ``process.py``), by writing
``0`` to each ``cgroup.procs`` through descriptors opened here; so nothing it forks escapes.
An OOM kill is read back from the group's counters (``oom_kill``), the way containerd tells
``OOMKilled`` from any other SIGKILL.
"""

from __future__ import annotations

import logging
import os
import signal
from dataclasses import dataclass, field
from pathlib import Path

log = logging.getLogger(__name__)

CPU_PERIOD_US = 100_000
_MIN_QUOTA_US = 1_000


@dataclass(frozen=True)
class Limits:
    memory_bytes: int | None = None
    cpu_milli: int | None = None


@dataclass(frozen=True)
class Hierarchy:
    """Where this process's cgroups live: v1 directories per controller, or one v2 dir."""

    version: int  # 1, 2, or 0 for none usable
    memory: Path | None = None
    cpu: Path | None = None
    unified: Path | None = None


def parse_hierarchy(self_cgroup: str, mounts: str) -> Hierarchy:
    """Pure: the controller directories of ``/proc/self/cgroup`` + ``/proc/self/mounts``."""
    v1_mounts: dict[str, str] = {}
    v2_mount: str | None = None
    for line in mounts.splitlines():
        parts = line.split()
        if len(parts) < 4:
            continue
        if parts[2] == "cgroup":
            for option in parts[3].split(","):
                v1_mounts.setdefault(option, parts[1])
        elif parts[2] == "cgroup2":
            v2_mount = parts[1]
    v1_paths: dict[str, str] = {}
    v2_path: str | None = None
    for line in self_cgroup.splitlines():
        hid, _, rest = line.partition(":")
        controllers, _, path = rest.partition(":")
        if hid == "0" and not controllers:
            v2_path = path
        for controller in controllers.split(","):
            if controller:
                v1_paths[controller] = path
    if "memory" in v1_mounts and "memory" in v1_paths:
        cpu = (
            Path(v1_mounts["cpu"] + v1_paths["cpu"])
            if "cpu" in v1_mounts and "cpu" in v1_paths
            else None
        )
        return Hierarchy(1, memory=Path(v1_mounts["memory"] + v1_paths["memory"]), cpu=cpu)
    if v2_mount and v2_path is not None:
        return Hierarchy(2, unified=Path(v2_mount + v2_path.rstrip("/")))
    return Hierarchy(0)


def detect() -> Hierarchy:
    try:
        return parse_hierarchy(
            Path("/proc/self/cgroup").read_text(), Path("/proc/self/mounts").read_text()
        )
    except OSError:
        return Hierarchy(0)


@dataclass
class ContainerGroup:
    """The cgroup(s) of one container attempt, or the rlimit that stands in for them."""

    dirs: list[Path] = field(default_factory=list)
    version: int = 0
    rlimit_as: int | None = None
    memory_enforced: bool = False
    cpu_enforced: bool = False

    def open_procs(self) -> list[int]:
        """Descriptors the child writes ``0`` into to join; the caller closes them."""
        return [os.open(d / "cgroup.procs", os.O_WRONLY) for d in self.dirs]

    def oom_killed(self) -> bool:
        for d in self.dirs:
            for name in ("memory.oom_control", "memory.events"):
                counters = _read_counters(d / name)
                if counters.get("oom_kill", 0) > 0:
                    return True
        return False

    def pids(self) -> list[int]:
        found: set[int] = set()
        for d in self.dirs:
            try:
                found.update(int(p) for p in (d / "cgroup.procs").read_text().split())
            except OSError:
                continue
        return sorted(found)

    def kill_all(self) -> None:
        """SIGKILL whatever is left in the group, daemons that left the session included."""
        for pid in self.pids():
            try:
                os.kill(pid, signal.SIGKILL)
            except ProcessLookupError:
                pass

    def remove(self) -> None:
        for d in self.dirs:
            try:
                d.rmdir()
            except OSError as err:
                log.debug("cgroup %s not removed: %s", d, err)


def _read_counters(path: Path) -> dict[str, int]:
    try:
        text = path.read_text()
    except OSError:
        return {}
    out: dict[str, int] = {}
    for line in text.splitlines():
        key, _, value = line.partition(" ")
        if value.strip().isdigit():
            out[key] = int(value)
    return out


def _write(path: Path, value: str) -> None:
    path.write_text(value)


def create(hierarchy: Hierarchy, name: str, limits: Limits) -> ContainerGroup:
    """A group named ``berth/<name>`` under this process's cgroup with ``limits`` applied;
    falls back to RLIMIT_AS when no cgroup can be made here. Never raises for lack of
    cgroups: limits are best effort, and the result says what is enforced."""
    if limits.memory_bytes is None and limits.cpu_milli is None:
        return ContainerGroup()
    try:
        if hierarchy.version == 1:
            return _create_v1(hierarchy, name, limits)
        if hierarchy.version == 2:
            return _create_v2(hierarchy, name, limits)
    except OSError as err:
        log.warning(
            "cgroup for %s not available (%s); memory limit falls back to RLIMIT_AS", name, err
        )
    return ContainerGroup(
        rlimit_as=limits.memory_bytes, memory_enforced=limits.memory_bytes is not None
    )


def _create_v1(h: Hierarchy, name: str, limits: Limits) -> ContainerGroup:
    group = ContainerGroup(version=1)
    try:
        if h.memory is not None:
            mem = h.memory / "berth" / name
            mem.mkdir(parents=True, exist_ok=True)
            group.dirs.append(mem)
            if limits.memory_bytes is not None:
                _write(mem / "memory.limit_in_bytes", str(limits.memory_bytes))
                swap = mem / "memory.memsw.limit_in_bytes"
                if swap.exists():
                    _write(swap, str(limits.memory_bytes))
                group.memory_enforced = True
        if h.cpu is not None and limits.cpu_milli is not None:
            cpu = h.cpu / "berth" / name
            cpu.mkdir(parents=True, exist_ok=True)
            group.dirs.append(cpu)
            _write(cpu / "cpu.cfs_period_us", str(CPU_PERIOD_US))
            _write(cpu / "cpu.cfs_quota_us", str(_quota_us(limits.cpu_milli)))
            group.cpu_enforced = True
    except OSError:
        group.remove()
        raise
    return group


def _create_v2(h: Hierarchy, name: str, limits: Limits) -> ContainerGroup:
    if h.unified is None:
        raise OSError("no cgroup v2 directory")
    parent = h.unified / "berth"
    parent.mkdir(exist_ok=True)
    wanted = [
        c
        for c, on in (
            ("memory", limits.memory_bytes is not None),
            ("cpu", limits.cpu_milli is not None),
        )
        if on
    ]
    # Delegation needs the controller enabled on every level down to the new group; this
    # fails where our own group holds processes (the "no internal processes" rule).
    for level in (h.unified, parent):
        enabled = (level / "cgroup.subtree_control").read_text().split()
        missing = [c for c in wanted if c not in enabled]
        if missing:
            _write(level / "cgroup.subtree_control", " ".join("+" + c for c in missing))
    leaf = parent / name
    leaf.mkdir(exist_ok=True)
    group = ContainerGroup(dirs=[leaf], version=2)
    try:
        if limits.memory_bytes is not None:
            _write(leaf / "memory.max", str(limits.memory_bytes))
            if (leaf / "memory.swap.max").exists():
                _write(leaf / "memory.swap.max", "0")
            group.memory_enforced = True
        if limits.cpu_milli is not None:
            _write(leaf / "cpu.max", f"{_quota_us(limits.cpu_milli)} {CPU_PERIOD_US}")
            group.cpu_enforced = True
    except OSError:
        group.remove()
        raise
    return group


def _quota_us(cpu_milli: int) -> int:
    return max(cpu_milli * CPU_PERIOD_US // 1000, _MIN_QUOTA_US)
