"""The baseline of ``bench_controlplane``: the store alone making the writes the control
plane made, with no controller, informer or scheduler deciding them.

Per Job, one thread creates the Job and its pod (already bound), then writes the pod's status
and the Job's status, and records Events, as many times each as the control plane's run wrote
them per Job (its change log, rounded), with the same objects. The CPU this takes per Job is
the floor those writes cost in this store; what the control plane spends above it is the
deciding (reads, watches, planning, scheduling) and the copies around it.
"""

from __future__ import annotations

import time
from collections.abc import Callable

from berth.platform.resources import registry
from berth.platform.runtime import Platform

Manifest = Callable[[str], dict]


def per_job(writes: list[tuple[str, str, int]], jobs: int) -> dict[str, int]:
    """How many writes of each sort the control plane made per Job, rounded: ``pod_status``
    (pods MODIFIED less the bind), ``job_status`` (Jobs MODIFIED) and ``events`` (ADDED)."""
    totals = {"pods": 0, "jobs": 0, "events": 0}
    for resource, kind, n in writes:
        if resource == registry.POD.key and kind == "MODIFIED":
            totals["pods"] += n
        elif resource == registry.JOB.key and kind == "MODIFIED":
            totals["jobs"] += n
        elif resource == registry.EVENT.key and kind.startswith("ADDED"):
            totals["events"] += n
    return {
        "pod_status": max(0, round(totals["pods"] / jobs) - 1),  # the bind is in the create
        "job_status": round(totals["jobs"] / jobs),
        "events": round(totals["events"] / jobs),
    }


def store_floor(
    platform: Platform,
    namespace: str,
    node: str,
    job_manifest: Manifest,
    counts: dict[str, int],
    jobs: int,
) -> float:
    """CPU seconds per Job (this process's, the change feed's share included) of one thread
    making ``counts`` writes per Job (``per_job``), each in a commit of its own."""
    client = platform.client
    recorder = platform.recorder("floor")
    started = time.process_time()  # the change feed's share counts, as in the run
    for i in range(jobs):
        job = client.create(registry.JOB, job_manifest(f"floor-{i:05d}"), namespace)
        template = job["spec"]["template"]
        pod = client.create(
            registry.POD,
            {
                "metadata": {"name": f"floor-{i:05d}-pod", "namespace": namespace},
                "spec": {**template["spec"], "nodeName": node},
            },
            namespace,
        )
        for step in range(counts["pod_status"]):
            pod = client.update(
                registry.POD,
                {
                    **pod,
                    "status": {**pod["status"], "phase": "Running", "message": f"write {step}"},
                },
                namespace,
                pod["metadata"]["name"],
                subresource="status",
            )
        for step in range(counts["job_status"]):
            job = client.update(
                registry.JOB,
                {**job, "status": {**job.get("status", {}), "active": 1, "ready": step}},
                namespace,
                job["metadata"]["name"],
                subresource="status",
            )
        for step in range(counts["events"]):
            recorder.event(pod, "Normal", f"Floor{step}", "a write as the control plane's")
    return (time.process_time() - started) / jobs
