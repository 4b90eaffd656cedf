"""The node agent's own CPU per pod, in this process: no Ray cluster, no store, no API.

    python -m benchmarks.bench_agent [--pods 300] [--at-once 20]

A ``NodeAgent`` that starts pods itself (``launch_here``, as under ``berth up``) is given
one-container pods of ``true`` (sandboxed where bubblewrap works), ``--at-once`` at a time, in
``update`` calls of five as the kubelet's sync sends them, while a thread reads its statuses
by long poll as the kubelet's status thread does. It prints the CPU this process used (the
agent's work: admission, the pods' runner threads, status saves and reports) per pod,
separately from the CPU of the pods' own processes (sh, bwrap, ``true``), and the load. The
end-to-end benchmark (``bench_e2e``) shows the same agent inside Ray and beside the whole
control plane, where the machine's load moves the figures more.
"""

from __future__ import annotations

import argparse
import os
import tempfile
import threading
import time
import uuid
from unittest import mock

import ray

from berth.platform.resources.pods import status_is_terminal
from berth.workers.node.agent import NodeAgent

NODE_ID = "b" * 40
BATCH = 5


def a_pod(i: int) -> dict:
    return {
        "pod": {
            "metadata": {"name": f"p{i}", "namespace": "bench", "uid": str(uuid.uuid4())},
            "spec": {
                "nodeName": "bench",
                "restartPolicy": "Never",
                "containers": [
                    {
                        "name": "c",
                        "image": "busybox",
                        "command": ["true"],
                        "resources": {"requests": {"cpu": "100m"}},
                    }
                ],
            },
        },
        "bundle": {},
    }


def make_agent(root: str) -> NodeAgent:
    """An agent for a node of 2 CPUs; Ray's node list is the only thing it asks Ray."""
    node = {"NodeID": NODE_ID, "Resources": {"CPU": 2.0, "memory": 8e9}}
    with mock.patch.object(ray, "nodes", lambda: [node]):
        return NodeAgent(NODE_ID, root, launch_here=True)


def run(pods: int, at_once: int) -> None:
    agent = make_agent(tempfile.mkdtemp(prefix="bench-agent-"))
    stop = threading.Event()
    answers = [0]
    ended: set[str] = set()  # the pods whose end the status reader has seen

    def read_statuses() -> None:
        cursor = 0
        while not stop.is_set():
            cursor, updates = agent.statuses(cursor, 1.0)
            answers[0] += 1
            ended.update(u["uid"] for u in updates if status_is_terminal(u["status"] or {}))

    threading.Thread(target=read_statuses, daemon=True).start()
    load = os.getloadavg()[0]
    started, before = time.monotonic(), os.times()
    sent = 0
    # Counted from what the status reader saw, as the kubelet would: scanning the agent's
    # table for it every few milliseconds cost more CPU than the agent's own work per pod.
    while sent < pods or len(ended) < pods:
        if sent < pods and sent - len(ended) < at_once:
            batch = [a_pod(sent + k) for k in range(min(BATCH, pods - sent))]
            sent += len(batch)
            agent.update(batch, [])
        else:
            time.sleep(0.005)
    after, wall = os.times(), time.monotonic() - started
    stop.set()
    own = after.user - before.user + after.system - before.system
    children = (
        after.children_user - before.children_user + after.children_system - before.children_system
    )
    with agent.table.lock:
        ok = sum(1 for r in agent.pods.values() if (r.status or {}).get("phase") == "Succeeded")
    print(
        f"{pods} pods ({ok} Succeeded, sandboxed: {agent.bwrap is not None}) in {wall:.1f} s; "
        f"agent CPU {own * 1000 / pods:.2f} ms per pod, the pods' processes "
        f"{children * 1000 / pods:.2f} ms per pod; {answers[0]} status answers; "
        f"load average {load:.1f} before, {os.getloadavg()[0]:.1f} after"
    )


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(prog="bench_agent", description=(__doc__ or "").split("\n")[0])
    parser.add_argument("--pods", type=int, default=300)
    parser.add_argument("--at-once", type=int, default=20, help="pods unfinished at a time")
    args = parser.parse_args(argv)
    run(args.pods, args.at_once)


if __name__ == "__main__":
    main()
