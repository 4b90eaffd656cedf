"""API benchmark: request rates and latencies of a real ``berth up --no-workers`` holding
100,000 Jobs, next to the same server over an empty store.

    .venv/bin/python -m benchmarks api [--jobs N] [--concurrency N] [--database-url URL]

Each store gets its own ``berth up --no-workers`` process on a loopback port (controllers on,
Ray off). The 100,000 Jobs (finished; labels ``app=app-<i % 1000>``, ``team=<i % 10>``) are
written straight into the database before the server starts (``api_preload``), and the
benchmark waits until the server has listed them and its controllers have gone quiet. Then, with
``--concurrency`` keep-alive connections in flight (``http_client``), it measures:
``GET /readyz`` (the HTTP stack's floor), a GET of one Job, a LIST with
``labelSelector=app=app-42`` (about 100 items), LIST pages of ``limit=500`` (first and deeper
pages, by ``continue``), one LIST of everything, and creation of ConfigMaps (API and store
alone) and of Jobs (which the job controller, in the same process, then works on). The empty
store (it holds the one Job the GET reads) is the baseline: the difference is what the 100,000
stored objects cost.

The default database is SQLite in a temporary directory. ``--database-url`` (or
``BERTH_BENCH_DATABASE_URL``) runs both stores on PostgreSQL instead: give it a database or
schema the benchmark may wipe (it drops Berth's tables before each store).
"""

from __future__ import annotations

import argparse
import asyncio
import itertools
import os
import random
import statistics
import tempfile
import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

import httpx
import orjson
from sqlalchemy import create_engine
from sqlmodel import SQLModel

from benchmarks.api_preload import job_manifest, preload_jobs
from benchmarks.api_server import BerthProcess, free_port, start_berth
from benchmarks.http_client import Answer, Connection
from berth.platform.store.tables import CHANGES, LABELS, OBJECTS, REVISION
from berth.settings import Settings

NAMESPACE = "bench"
JOBS = f"/apis/batch/v1/namespaces/{NAMESPACE}/jobs"
CONFIG_MAPS = f"/api/v1/namespaces/{NAMESPACE}/configmaps"
Request = tuple[str, str, bytes | None]  # method, path, JSON body


@dataclass
class Result:
    store: str
    name: str
    latencies: list[float]
    seconds: float
    items: int
    size: int
    errors: int
    server_cpu: float

    @property
    def rate(self) -> float:
        return len(self.latencies) / self.seconds

    def percentile(self, q: int) -> float:
        return statistics.quantiles(self.latencies, n=100)[q - 1] * 1000


async def measure(
    server: BerthProcess,
    store: str,
    name: str,
    count: int,
    concurrency: int,
    request: Callable[[int], Request],
    warmup: int = 10,
) -> Result:
    """``count`` requests, ``concurrency`` in flight (one keep-alive connection each);
    ``request(i)`` says what the i-th is."""
    latencies: list[float] = []
    sizes = [0, 0]  # bytes of all answers, items in the first one
    errors = 0
    numbers = itertools.count()
    connections = [Connection("127.0.0.1", server.port) for _ in range(concurrency)]

    async def send(connection: Connection, i: int) -> Answer:
        method, path, body = request(i)
        return await connection.request(method, path, body)

    async def worker(connection: Connection) -> None:
        nonlocal errors
        while (i := next(numbers)) < count:
            started = time.perf_counter()
            try:
                answer = await send(connection, i)
            except (OSError, asyncio.IncompleteReadError, ValueError):
                latencies.append(time.perf_counter() - started)
                errors += 1  # a dropped connection: the next request opens another
                await connection.close()
                continue
            latencies.append(time.perf_counter() - started)
            sizes[0] += len(answer.body)
            if answer.status >= 400:
                errors += 1
            elif i == 0 and answer.content_type == "application/json":
                sizes[1] = len(orjson.loads(answer.body).get("items") or [])

    for i in range(warmup):
        await send(connections[i % concurrency], count + i)
    cpu = server.cpu_seconds()
    started = time.perf_counter()
    await asyncio.gather(*(worker(c) for c in connections))
    seconds = time.perf_counter() - started
    cpu = server.cpu_seconds() - cpu
    for connection in connections:
        await connection.close()
    return Result(
        store, name, latencies, seconds, sizes[1], sizes[0] // count, errors, cpu / seconds
    )


def page_tokens(server: BerthProcess, limit: int) -> tuple[list[str], float, int]:
    """Walk the whole collection ``limit`` at a time; the continue token of every page, the
    seconds the walk took and the items it saw."""
    tokens, token, items = [], None, 0
    started = time.perf_counter()
    with httpx.Client(base_url=server.url, timeout=120) as http:
        while True:
            params = {"limit": limit, **({"continue": token} if token else {})}
            page = http.get(JOBS, params=params).json()
            items += len(page["items"])
            token = page["metadata"].get("continue")
            if not token:
                return tokens, time.perf_counter() - started, items
            tokens.append(token)


async def run_suite(server: BerthProcess, store: str, args, rng: random.Random) -> list[Result]:
    c = args.concurrency
    tokens, walk_s, walked = page_tokens(server, 500)
    print(f"  [{store}] walked {walked} Jobs in {len(tokens) + 1} pages of 500: {walk_s:.1f} s")
    deep = tokens[len(tokens) // 2 :] or [""]
    results = [
        await measure(
            server, store, "GET /readyz", args.requests, c, lambda i: ("GET", "/readyz", None)
        ),
        await measure(
            server,
            store,
            "GET one Job",
            args.requests,
            c,
            lambda i: ("GET", f"{JOBS}/job-000000", None),
        ),
        await measure(
            server,
            store,
            "LIST labelSelector=app=app-42",
            args.list_requests,
            c,
            lambda i: ("GET", f"{JOBS}?labelSelector=app%3Dapp-42", None),
        ),
        await measure(
            server,
            store,
            "LIST limit=500, first page",
            args.list_requests,
            c,
            lambda i: ("GET", f"{JOBS}?limit=500", None),
        ),
        await measure(
            server,
            store,
            "LIST limit=500, a later page",
            args.list_requests,
            c,
            lambda i: ("GET", f"{JOBS}?limit=500&continue={rng.choice(deep)}", None),
        ),
    ]
    results.append(
        await measure(
            server, store, "LIST all Jobs, no limit", 2, 1, lambda i: ("GET", JOBS, None), warmup=0
        )
    )
    run = rng.randrange(16**6)
    # A ConfigMap wakes no controller: its rate is the API and the store alone. A Job also
    # sets the job controller to work (a pod, status), in the same process.
    results.append(
        await measure(
            server,
            store,
            "POST a ConfigMap",
            args.requests,
            c,
            lambda i: (
                "POST",
                CONFIG_MAPS,
                orjson.dumps(
                    {
                        "metadata": {"name": f"cm-{run:06x}-{i}", "labels": {"app": "bench-new"}},
                        "data": {"key": "value"},
                    }
                ),
            ),
        )
    )
    results.append(
        await measure(
            server,
            store,
            "POST a Job",
            args.requests,
            c,
            lambda i: (
                "POST",
                JOBS,
                orjson.dumps(
                    job_manifest(
                        f"new-{run:06x}-{i}", NAMESPACE, {"app": "bench-new", "team": str(i % 10)}
                    )
                ),
            ),
        )
    )
    return results


def serve_store(
    label: str, data_dir: Path, database_url: str | None, jobs: int, args, rng: random.Random
) -> list[Result]:
    print(f"\n== {label} ==")
    if database_url:
        _wipe(database_url)
    settings = Settings(data_dir=data_dir, database_url=database_url)
    preload = preload_jobs(settings, NAMESPACE, jobs)
    print(f"  preloaded {jobs} Job(s) straight into the store in {preload:.1f} s")
    server = start_berth(data_dir, database_url, free_port(), args.settle_limit)
    try:
        print(
            f"  berth up --no-workers: ready after {server.ready_s:.1f} s, controllers quiet "
            f"after {server.settled_s:.1f} s, server RSS {server.rss_mb():.0f} MiB"
        )
        return asyncio.run(run_suite(server, label, args, rng))
    finally:
        if server.process.poll() is not None:
            print(
                f"  berth up exited with {server.process.returncode} during the run; its log "
                f"ends:\n{server.log_path.read_text(errors='replace')[-2000:]}"
            )
        server.stop()


def _wipe(database_url: str) -> None:
    engine = create_engine(database_url)
    SQLModel.metadata.drop_all(engine, tables=[OBJECTS, LABELS, CHANGES, REVISION])
    engine.dispose()


def print_table(results: list[Result]) -> None:
    header = (
        f"{'request':<32} {'store':<12} {'n':>5} {'req/s':>8} {'p50 ms':>8} "
        f"{'p99 ms':>8} {'items':>6} {'bytes':>8} {'err':>4} {'srv cpu':>7}"
    )
    print("\n" + header + "\n" + "-" * len(header))
    for name in dict.fromkeys(r.name for r in results):
        for r in (r for r in results if r.name == name):
            rate = f"{r.rate:.0f}" if r.rate >= 100 else f"{r.rate:.2g}"
            # CPU time comes in 10 ms ticks: too coarse for a run shorter than half a second.
            cpu = f"{r.server_cpu:.0%}" if r.seconds >= 0.5 else "-"
            print(
                f"{r.name:<32} {r.store:<12} {len(r.latencies):>5} {rate:>8} "
                f"{r.percentile(50):>8.1f} {r.percentile(99):>8.1f} {r.items:>6} "
                f"{r.size:>8} {r.errors:>4} {cpu:>7}"
            )
    print(
        "\nitems: items in one answer; bytes: mean answer size; srv cpu: server process CPU "
        "during the run (100% = one core).\nThe client runs on the same machine and shares "
        "its cores with the server."
    )


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=(__doc__ or "").split("\n")[0])
    parser.add_argument("--jobs", type=int, default=100_000)
    parser.add_argument("--concurrency", type=int, default=8)
    parser.add_argument(
        "--requests", type=int, default=2000, help="requests per GET and POST measurement"
    )
    parser.add_argument(
        "--list-requests", type=int, default=200, help="requests per LIST measurement"
    )
    parser.add_argument(
        "--database-url",
        default=os.environ.get("BERTH_BENCH_DATABASE_URL"),
        help="PostgreSQL URL of a database the benchmark may wipe "
        "(default: SQLite in a temporary directory)",
    )
    parser.add_argument(
        "--settle-limit",
        type=float,
        default=300,
        help="seconds to wait for the controllers to go quiet after start",
    )
    parser.add_argument("--seed", type=int, default=7)
    args = parser.parse_args(argv)
    rng = random.Random(args.seed)
    flavour = "PostgreSQL" if args.database_url else "SQLite"
    print(
        f"API benchmark on {flavour}: {args.concurrency} concurrent clients, "
        f"{args.requests} requests per GET/POST, {args.list_requests} per LIST"
    )
    with tempfile.TemporaryDirectory(prefix="berth-bench-api-") as tmp:
        results = serve_store("empty", Path(tmp) / "empty", args.database_url, 1, args, rng)
        results += serve_store(
            f"{args.jobs // 1000}k Jobs",
            Path(tmp) / "full",
            args.database_url,
            args.jobs,
            args,
            rng,
        )
    print_table(results)


if __name__ == "__main__":
    main()
