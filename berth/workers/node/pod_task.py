"""The Ray task that is one pod: it holds exactly the pod's requests on its node while the
pod's containers run, so Ray's accounting and GPU assignment agree with the scheduler.

It is submitted by the node agent (so the agent, a detached actor, owns it and it outlives the
control plane's driver). Status changes go back to the agent as actor calls; a stop request
comes through a small file in the pod's directory on the node, which the agent writes and the
runner polls — both run on the same node.
"""

from __future__ import annotations

import glob
import itertools
import json
import os
from collections.abc import Callable
from dataclasses import asdict
from pathlib import Path

import ray

from berth.workers.node import cgroups
from berth.workers.node.envs import scheduled_gpus
from berth.workers.node.filevolumes import FileVolumes
from berth.workers.node.nodecontext import NodeContext, StopRequest
from berth.workers.node.podwatch import PodWatch
from berth.workers.node.runner import PodRunner

STOP_FILE = "stop"
NODE_ID_ENV = "BERTH_RAY_NODE_ID"  # the Ray node a container runs on, as Ray itself says


def write_stop(pod_dir: Path, request: StopRequest) -> None:
    pod_dir.mkdir(parents=True, exist_ok=True)
    tmp = pod_dir / f".{STOP_FILE}.tmp"
    tmp.write_text(json.dumps(asdict(request)))
    os.replace(tmp, pod_dir / STOP_FILE)


def read_stop(pod_dir: Path) -> StopRequest | None:
    try:
        data = json.loads((pod_dir / STOP_FILE).read_text())
    except (OSError, ValueError):
        return None
    return StopRequest(**data)


def gpu_devices() -> list[str]:
    """NVIDIA device nodes to show in sandboxes; CUDA_VISIBLE_DEVICES picks among them."""
    return sorted(glob.glob("/dev/nvidia*"))


@ray.remote(max_retries=0, retry_exceptions=False)
def run_pod(agent, pod: dict, bundle: dict, node: dict) -> dict:
    """Run the pod to its end on this node; ``{"seq", "status", "gpuIds", "nodeId"}``."""
    # The scheduler's devices win over Ray's: Ray's task asks for the same total (whole
    # GPUs, or the share as a fraction), so Ray's accounting agrees, but Ray picks ids for a
    # fraction by itself; the scheduler's per-device choice is the one that never
    # over-commits a device, and it is what the pod's annotation records.
    gpu_ids = scheduled_gpus(pod) or [str(g) for g in ray.get_gpu_ids()]
    return run_here(
        pod,
        bundle,
        node,
        lambda uid, seq, status: agent.report.remote(uid, seq, status),
        gpu_ids=gpu_ids,
        node_id=ray.get_runtime_context().get_node_id(),
    )


def run_here(
    pod: dict,
    bundle: dict,
    node: dict,
    report: Callable[[str, int, dict], None],
    *,
    gpu_ids: list[str],
    node_id: str,
    hierarchy: cgroups.Hierarchy | None = None,
    memory: FileVolumes | None = None,
    watch: PodWatch | None = None,
) -> dict:
    """Run the pod to its end in this process (a pod task, or the agent itself for a pod it
    launches directly); each status goes to ``report(uid, seq, status)``. ``hierarchy`` and
    ``memory``: this process's cgroups and the node's in-memory volumes, when the caller
    already has them (the agent: read once, not for every pod); ``watch``: the thread that
    makes the periodic checks of all the caller's pods (the agent's)."""
    uid = pod["metadata"]["uid"]
    context = NodeContext(
        **node,
        devices=gpu_devices() if gpu_ids else [],
        env={NODE_ID_ENV: node_id},
        hierarchy=hierarchy if hierarchy is not None else cgroups.detect(),
    )
    pod_dir = context.pod_root / uid
    seq = itertools.count(1)

    runner = PodRunner(
        pod,
        bundle,
        context,
        gpu_ids=gpu_ids,
        report=lambda status: report(uid, next(seq), status),
        stop_check=lambda: read_stop(pod_dir),
        memory=memory,
        watch=watch,
    )
    if read_stop(pod_dir) is not None:
        runner.stop(grace=0)
    try:
        final = runner.run()
    except KeyboardInterrupt:
        # ray.cancel reached a task that had just started: stop what it began, then report.
        final = runner.abort()
    return {"seq": next(seq), "status": final, "gpuIds": gpu_ids, "nodeId": node_id}
