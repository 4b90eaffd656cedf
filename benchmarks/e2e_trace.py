"""``berth up`` with trace points on one place's turnover, for ``bench_e2e`` (on by default).

    python -m benchmarks.e2e_trace OUT.json up --port ... --data-dir ...

Runs Berth's CLI in this process (as ``e2e_profile`` does) with a few of its methods wrapped to
stamp, per pod uid, the wall-clock time (``time.time()``, the clock of the node agent's file
stamps) each step of the path from one pod's end to the next pod's start is reached in
``berth up``'s own process:

* ``heard_end``: the kubelet's status thread tells the scheduler a pod ended
  (``SchedulerLoop.pods_ended``, before the status is written);
* ``freed``: the scheduler's thread applies that end to its state (``ClusterState.pod_ended``);
* ``placed``: a cycle chose the pod's node and handed the bind to the writer (``Writer.bind``);
* ``bind_committed``: the bind's group commit is done (``SchedulerLoop._bound``);
* ``kubelet_saw``: the kubelet's pod informer handler sees the pod bound
  (``KubeletSync._on_pod``);
* ``sent``: the kubelet's sync thread puts it in a call to the node's agent
  (``KubeletSync._item``).

The agent's own steps (admitted, spawned, exited) come from its files (``node_stamps``).
It also records the main process's garbage-collector pauses by generation (``gc.callbacks``).
The wrappers cost a ``time.time()`` and a dict write each; on exit (through ``leave``) the
stamps are written as JSON: ``{"stamps": {uid: {stage: t}}, "gc": {generation: [pauses]}}``.
"""

from __future__ import annotations

import functools
import gc
import json
import sys
import time
from collections.abc import Callable
from pathlib import Path

from berth.cli.main import app
from berth.platform.leave import on_leave
from berth.scheduler.loop import SchedulerLoop
from berth.scheduler.state import ClusterState
from berth.scheduler.writer import Writer
from berth.workers.control.kubelet import KubeletSync
from berth.workers.control.reports import StatusReports

STAMPS: dict[str, dict[str, float]] = {}
GC_PAUSES: dict[int, list[float]] = {0: [], 1: [], 2: []}
TAKES: list[tuple[float, float]] = []  # the kubelet's status answers: (taken at, seconds)
_gc_started: list[float] = []


def stamp(uid: str | None, stage: str) -> None:
    """The first time ``uid`` reaches ``stage``."""
    if uid:
        STAMPS.setdefault(uid, {}).setdefault(stage, time.time())


def _wrap(cls: type, name: str, before: Callable[..., None]) -> None:
    original = getattr(cls, name)

    @functools.wraps(original)
    def traced(*args, **kwargs):
        before(*args, **kwargs)
        return original(*args, **kwargs)

    setattr(cls, name, traced)


def _on_pod(_self, old: dict | None, new: dict | None) -> None:
    if new is not None and (new.get("spec") or {}).get("nodeName"):
        if old is None or not (old.get("spec") or {}).get("nodeName"):
            stamp(new["metadata"].get("uid"), "kubelet_saw")


def _pods_ended(_self, uids: list[str]) -> None:
    for uid in uids:
        stamp(uid, "heard_end")


def _bound(_self, pod, _node: str, error: Exception | None) -> None:
    if error is None:
        stamp(pod.uid, "bind_committed")


def _timed_take(original: Callable) -> Callable:
    @functools.wraps(original)
    def take(self, *args, **kwargs):
        started = time.time()
        try:
            return original(self, *args, **kwargs)
        finally:
            TAKES.append((started, time.time() - started))

    return take


def install() -> None:
    StatusReports.take = _timed_take(StatusReports.take)
    _wrap(SchedulerLoop, "pods_ended", _pods_ended)
    _wrap(ClusterState, "pod_ended", lambda _self, uid: stamp(uid, "freed"))
    _wrap(Writer, "bind", lambda _self, pod, *_a, **_k: stamp(pod.uid, "placed"))
    _wrap(SchedulerLoop, "_bound", _bound)
    _wrap(KubeletSync, "_on_pod", _on_pod)
    _wrap(KubeletSync, "_item", lambda _self, pod, _ref: stamp(pod["metadata"].get("uid"), "sent"))
    gc.callbacks.append(_gc_callback)


def _gc_callback(phase: str, info: dict) -> None:
    if phase == "start":
        _gc_started[:] = [time.perf_counter()]
    elif _gc_started:
        GC_PAUSES[info["generation"]].append(time.perf_counter() - _gc_started[0])


def main(argv: list[str]) -> None:
    out, args = Path(argv[0]), argv[1:]
    install()
    written: list[Path] = []

    def write_report() -> None:
        if not written:
            out.write_text(json.dumps({"stamps": STAMPS, "gc": GC_PAUSES, "takes": TAKES}))
            written.append(out)

    on_leave(write_report)  # berth up ends through leave() (os._exit), skipping any finally
    try:
        app(args, prog_name="berth", standalone_mode=False)
    finally:
        write_report()


if __name__ == "__main__":
    main(sys.argv[1:])
