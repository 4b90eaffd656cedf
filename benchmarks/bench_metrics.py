"""Metrics benchmark: what a Prometheus scrape of the controller costs as the cluster grows,
and what the API's request middleware adds to each request.

    .venv/bin/python -m benchmarks metrics [--jobs N] [--nodes N] [--requests N]

Scrape: the state collector over informers filled in memory (no store: a scrape never queries
it) with ``--jobs`` Jobs, three pods each, on ``--nodes`` nodes (a tenth of them with 8 GPUs,
some GPU pods pending); the median time of ``generate_latest`` over 5 scrapes, next to the
same over an empty cluster (the baseline). Middleware: ``--requests`` calls of a bare ASGI app
that answers at once, with and without ``RequestMetrics``, in one process.
"""

from __future__ import annotations

import argparse
import asyncio
import statistics
import time

from prometheus_client import generate_latest

from berth.platform.cache.informers import InformerHub
from berth.platform.metrics.collectors import StateCollector
from berth.platform.metrics.http import RequestMetrics
from berth.platform.metrics.series import Metrics
from berth.platform.resources import registry


def _node(i: int) -> dict:
    capacity = {"cpu": "64", "memory": "256Gi", "pods": "500"}
    if i % 10 == 0:
        capacity["nvidia.com/gpu"] = "8"
    return {
        "metadata": {"name": f"node-{i}", "uid": f"n{i}"},
        "status": {
            "capacity": capacity,
            "allocatable": capacity,
            "conditions": [{"type": "Ready", "status": "True"}],
        },
    }


def _cluster(jobs: int, nodes: int) -> tuple[list, list, list]:
    job_objs, pods = [], []
    for j in range(jobs):
        uid = f"job-{j}"
        done = j % 2 == 0
        job_objs.append(
            {
                "metadata": {"name": uid, "namespace": f"ns-{j % 20}", "uid": uid},
                "spec": {},
                "status": {
                    "active": 0 if done else 3,
                    "conditions": [{"type": "Complete", "status": "True"}] if done else [],
                },
            }
        )
        for p in range(3):
            gpu = j % 50 == 0
            requests = {"cpu": "500m", "memory": "1Gi", **({"nvidia.com/gpu": "2"} if gpu else {})}
            pod = {
                "metadata": {
                    "name": f"{uid}-{p}",
                    "namespace": f"ns-{j % 20}",
                    "uid": f"{uid}-{p}",
                    "labels": {"batch.kubernetes.io/controller-uid": uid},
                },
                "spec": {"containers": [{"name": "c", "resources": {"requests": requests}}]},
                "status": {"phase": "Succeeded" if done else "Running"},
            }
            if not done or p:
                pod["spec"]["nodeName"] = f"node-{(j * 3 + p) % nodes}"
            if j % 97 == 0 and not done:
                pod["spec"].pop("nodeName", None)
                pod["status"]["phase"] = "Pending"
            pods.append(pod)
    return job_objs, pods, [_node(i) for i in range(nodes)]


def _scrape_ms(jobs: int, nodes: int) -> float:
    # Informers filled by hand: no store to list, no feed to follow.
    hub = InformerHub(client=None, feed=None)  # pyright: ignore[reportArgumentType]
    metrics = Metrics()
    metrics.registry.register(StateCollector(hub))
    job_objs, pods, node_objs = _cluster(jobs, nodes)
    for rt, items in (
        (registry.JOB, job_objs),
        (registry.POD, pods),
        (registry.NODE, node_objs),
        (registry.CRON_JOB, []),
    ):
        hub.informer(rt)._replace(items)
    times = []
    for _ in range(5):
        started = time.perf_counter()
        generate_latest(metrics.registry)
        times.append((time.perf_counter() - started) * 1000)
    return statistics.median(times)


async def _bare(scope, receive, send) -> None:
    await send({"type": "http.response.start", "status": 200, "headers": []})
    await send({"type": "http.response.body", "body": b"{}"})


async def _calls(app, n: int) -> float:
    scope = {
        "type": "http",
        "method": "GET",
        "query_string": b"labelSelector=app%3Dx",
        "path": "/apis/batch/v1/namespaces/default/jobs",
    }

    async def receive():
        return {"type": "http.request", "body": b""}

    async def send(message):
        return None

    started = time.perf_counter()
    for _ in range(n):
        await app(scope, receive, send)
    return (time.perf_counter() - started) / n * 1e6


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(prog="python -m benchmarks metrics")
    parser.add_argument("--jobs", type=int, default=10_000)
    parser.add_argument("--nodes", type=int, default=100)
    parser.add_argument("--requests", type=int, default=20_000)
    args = parser.parse_args(argv)
    base = _scrape_ms(0, 0)
    loaded = _scrape_ms(args.jobs, args.nodes)
    print("scrape of the controller's /metrics (median of 5)")
    print(f"  empty cluster (baseline)                         {base:8.2f} ms")
    print(
        f"  {args.jobs} Jobs, {3 * args.jobs} pods, {args.nodes} nodes"
        f"{'':<{max(0, 20 - len(str(args.jobs)) * 2)}}{loaded:8.2f} ms"
    )
    bare = asyncio.run(_calls(_bare, args.requests))
    wrapped = asyncio.run(_calls(RequestMetrics(_bare, Metrics()), args.requests))
    print(f"API request through a bare ASGI app ({args.requests} calls)")
    print(f"  without RequestMetrics (baseline)                {bare:8.1f} µs")
    print(
        f"  with RequestMetrics                              {wrapped:8.1f} µs"
        f"  (+{wrapped - bare:.1f} µs per request)"
    )


if __name__ == "__main__":
    main()
