"""CPU seconds of the processes a ``bench_e2e`` run involves: ``berth up``, its API process,
the node agent and Ray's own, read from ``/proc``."""

from __future__ import annotations

import glob
import os
from pathlib import Path
from typing import TYPE_CHECKING

from berth.workers.control.local_ray import session_members

if TYPE_CHECKING:
    from benchmarks.e2e_berth import BerthUp


CHILDREN = " (of which its reaped child processes)"

_TICK = os.sysconf("SC_CLK_TCK")


def cpu_seconds(pid: int, *, children: bool = True) -> float | None:
    """CPU seconds of a process: its own and its reaped children's (``children=False``: its
    own alone), user and system."""
    try:
        stat = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    except OSError:
        return None
    return sum(int(v) for v in stat[11 : 15 if children else 13]) / _TICK


def process_cpu(pids: list[int]) -> dict[str, float]:
    """CPU seconds by process name (Ray workers by what they run) for the given pids. A
    process whose reaped children used CPU (a node agent that starts pods itself: their
    sandboxes) gets a second line with that part."""
    out: dict[str, float] = {}
    for pid in pids:
        try:
            argv = Path(f"/proc/{pid}/cmdline").read_bytes().decode().split("\0")
        except OSError:
            continue
        seconds, own = cpu_seconds(pid), cpu_seconds(pid, children=False)
        if seconds is not None and own is not None:
            name = _process_name(argv)
            out[name] = out.get(name, 0.0) + seconds
            if seconds > own:
                out[name + CHILDREN] = out.get(name + CHILDREN, 0.0) + seconds - own
    return out


def _process_name(argv: list[str]) -> str:
    if argv[0].startswith("ray::"):
        name = argv[0].split()[0].removeprefix("ray::")
        # Pod tasks are named after their pod: one line for all of them.
        return "ray worker " + ("pod:<pod task>" if name.startswith("pod:") else name)
    script = next((a for a in argv[1:] if a.endswith(".py")), None)
    return Path(script or argv[0]).name or "?"


BERTH_PROCESS = "berth up (API, controllers, scheduler, kubelet)"
BERTH_API_PROCESS = "berth up: its API process"


def berth_cpu(berth: BerthUp) -> dict[str, float]:
    """CPU seconds of ``berth up`` and of every process of its Ray session, by name."""
    sid = berth.ray_sid()
    cpu = process_cpu(session_members(sid) if sid else [])
    cpu[BERTH_PROCESS] = cpu_seconds(berth.process.pid) or 0.0
    # Embedded berth up serves the API from a child process (berth.server_api); with it,
    # the line above is the controllers' process alone.
    children = _children(berth.process.pid)
    if children:
        cpu[BERTH_API_PROCESS] = sum(cpu_seconds(pid) or 0.0 for pid in children)
    return cpu


def _children(pid: int) -> list[int]:
    pids: list[int] = []
    for task in glob.glob(f"/proc/{pid}/task/*/children"):
        try:
            pids += [int(p) for p in Path(task).read_text().split()]
        except OSError:
            pass
    return pids


def cpu_delta(before: dict[str, float], after: dict[str, float]) -> dict[str, float]:
    return {name: after[name] - before.get(name, 0.0) for name in after}
