"""The Berth side of the end-to-end benchmark: a real ``berth up`` (with workers) in a
subprocess, Jobs submitted over HTTP, and every Job's and Pod's stages timed from watches.

Times are this host's wall clock (``time.time()``), read by the client when a POST is answered
or a watch event arrives; the node agent's files add the times it admitted, spawned and saw the
end of each pod (birth times, see ``e2e_stats.node_stamps``). Same host, same clock.
"""

from __future__ import annotations

import asyncio
import glob
import os
import signal
import sqlite3
import subprocess
import sys
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

import httpx
import orjson
from sqlalchemy import create_engine, text

from benchmarks.e2e_stats import job_outcome, node_stamps, note_pod, parse_stat
from berth.workers.control.local_ray import STATE_FILE, stop_local_ray

REPO = Path(__file__).resolve().parents[1]
NAMESPACE = "e2e"
JOBS = f"/apis/batch/v1/namespaces/{NAMESPACE}/jobs"
PODS = f"/api/v1/namespaces/{NAMESPACE}/pods"
_STOP_WAIT_S = 60


def job_manifest(name: str, cpu: str, command: list[str]) -> dict:
    return {
        "apiVersion": "batch/v1",
        "kind": "Job",
        "metadata": {"name": name},
        "spec": {
            "backoffLimit": 0,
            "template": {
                "spec": {
                    "restartPolicy": "Never",
                    "containers": [
                        {
                            "name": "c",
                            "image": "busybox",
                            "command": command,
                            "resources": {"requests": {"cpu": cpu}},
                        }
                    ],
                }
            },
        },
    }


# ---- the server -----------------------------------------------------------------------------


@dataclass
class BerthUp:
    process: subprocess.Popen
    port: int
    data_dir: Path
    log_path: Path

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def ray_sid(self) -> int | None:
        try:
            return orjson.loads((self.data_dir / "ray" / STATE_FILE).read_bytes())["sid"]
        except (OSError, ValueError, KeyError):
            return None

    def stop(self) -> None:
        """Ctrl-C, as a person would (Berth then stops its own Ray); harder only if it hangs.
        Its Ray is then stopped by session should Berth have left it behind."""
        if self.process.poll() is None:
            self.process.send_signal(signal.SIGINT)
            try:
                self.process.wait(timeout=_STOP_WAIT_S)
            except subprocess.TimeoutExpired:
                os.killpg(self.process.pid, signal.SIGKILL)
                self.process.wait(timeout=10)
        stop_local_ray(self.data_dir / "ray")


def start_berth(
    data_dir: Path,
    port: int,
    launcher: list[str] | None = None,
    deadline_s: float = 180,
    database_url: str | None = None,
    settings: dict[str, str] | None = None,
) -> BerthUp:
    """``berth up`` with workers on a loopback port, SQLite in ``data_dir`` (or the database
    at ``database_url``); returns once the API is ready and a Ray-backed Node is Ready.
    ``launcher`` replaces ``python -m berth.cli.main`` (the profiler's wrapper); ``settings``
    adds Berth settings by their environment names (``BERTH_...``)."""
    log_path = data_dir / "berth.log"
    args = (launcher or [sys.executable, "-m", "berth.cli.main"]) + [
        "up",
        "--port",
        str(port),
        "--data-dir",
        str(data_dir),
        "--log-level",
        "warning",
    ]
    if database_url:
        args += ["--database-url", database_url]
    with open(log_path, "ab") as log_file:
        process = subprocess.Popen(
            args,
            stdout=log_file,
            stderr=subprocess.STDOUT,
            cwd=REPO,
            start_new_session=True,
            env={**os.environ, **(settings or {})},
        )
    berth = BerthUp(process, port, data_dir, log_path)
    try:
        _wait_node(berth, time.monotonic() + deadline_s)
    except BaseException:
        berth.stop()
        raise
    return berth


def _wait_node(berth: BerthUp, deadline: float) -> None:
    while time.monotonic() < deadline:
        if berth.process.poll() is not None:
            raise RuntimeError(
                f"berth up exited with {berth.process.returncode}:\n"
                f"{berth.log_path.read_text(errors='replace')[-3000:]}"
            )
        try:
            nodes = httpx.get(f"{berth.url}/api/v1/nodes", timeout=5).json().get("items", [])
            if any(_ready(n) for n in nodes):
                return
        except (httpx.HTTPError, ValueError):
            pass
        time.sleep(0.3)
    raise RuntimeError(
        f"berth up had no Ready node in time:\n{berth.log_path.read_text(errors='replace')[-3000:]}"
    )


def _ready(node: dict) -> bool:
    return any(
        c.get("type") == "Ready" and c.get("status") == "True"
        for c in (node.get("status") or {}).get("conditions") or []
    )


def node_capacity(url: str) -> list[tuple[str, dict, dict]]:
    items = httpx.get(f"{url}/api/v1/nodes", timeout=10).json()["items"]
    return [
        (n["metadata"]["name"], n["status"].get("capacity", {}), n["status"].get("allocatable", {}))
        for n in items
    ]


def read_node_files(data_dir: Path) -> dict[str, dict[str, float]]:
    """Per pod uid, the agent's admitted / spawned / exited times (see ``node_stamps``)."""
    root = data_dir / "nodes"
    paths = [
        p
        for pattern in ("*/pods/*", "*/pods/*/termination/*-0", "*/logs/*/*/0.done")
        for p in glob.glob(pattern, root_dir=root)
    ]
    stats: dict[str, tuple[float, float]] = {}
    for i in range(0, len(paths), 500):
        out = subprocess.run(
            ["stat", "-c", "%n|%.9W|%.9Y", *paths[i : i + 500]],
            cwd=root,
            capture_output=True,
            text=True,
            check=False,
        ).stdout
        stats.update(parse_stat(out))
    return node_stamps(stats)


_WRITES_SQL = (
    "SELECT resource, type, count(*), sum(length(data)) FROM changes "
    "WHERE namespace = :ns OR resource = 'nodes' GROUP BY resource, type "
    "ORDER BY count(*) DESC"
)


def store_writes(
    data_dir: Path, database_url: str | None = None
) -> list[tuple[str, str, int, int]]:
    """Writes the change log holds for the benchmark's namespace (and Nodes), by resource and
    type: (resource, type, count, bytes of the objects written)."""
    return _read_store(data_dir, database_url, _WRITES_SQL, {"ns": NAMESPACE})


def change_log_compacted(data_dir: Path, database_url: str | None = None) -> int:
    """The newest resourceVersion the store's compaction has dropped from the change log (0:
    none): a long run outlives the log's window, and the writes counted then cover only its
    tail."""
    rows = _read_store(data_dir, database_url, "SELECT compacted FROM revision WHERE id = 1")
    return int(rows[0][0]) if rows else 0


def _read_store(
    data_dir: Path, database_url: str | None, sql: str, params: dict | None = None
) -> list[tuple]:
    """The rows of ``sql``, read after Berth stopped, from the SQLite file in ``data_dir`` or
    the database at ``database_url``."""
    params = params or {}
    if database_url:
        engine = create_engine(database_url)
        try:
            with engine.connect() as conn:
                return [tuple(row) for row in conn.execute(text(sql), params)]
        finally:
            engine.dispose()
    with sqlite3.connect(data_dir / "berth.db") as db:
        return db.execute(sql, params).fetchall()


# ---- the client -----------------------------------------------------------------------------


@dataclass
class Tracker:
    """Every job's stages by name; ``finished(name)`` is set once its Job is Complete/Failed."""

    jobs: dict[str, dict[str, float]] = field(default_factory=dict)
    uids: dict[str, str] = field(default_factory=dict)
    outcomes: dict[str, str] = field(default_factory=dict)
    events: int = 0
    _done: dict[str, asyncio.Event] = field(default_factory=dict)

    def finished(self, name: str) -> asyncio.Event:
        return self._done.setdefault(name, asyncio.Event())

    def on_pod(self, pod: dict, now: float) -> None:
        name = (pod["metadata"].get("labels") or {}).get("job-name")
        if name:
            note_pod(self.jobs.setdefault(name, {}), pod, now)
            self.uids.setdefault(name, pod["metadata"]["uid"])

    def on_job(self, job: dict, now: float) -> None:
        name = job["metadata"]["name"]
        outcome = job_outcome(job)
        if outcome and name not in self.outcomes:
            self.outcomes[name] = outcome
            self.jobs.setdefault(name, {})["complete"] = now
            self.finished(name).set()

    def add_node_files(self, by_uid: dict[str, dict[str, float]]) -> None:
        for name, uid in self.uids.items():
            self.jobs[name].update(by_uid.get(uid, {}))


async def watch(
    client: httpx.AsyncClient, path: str, handle: Callable[[dict, float], None], tracker: Tracker
) -> None:
    """Follow ``path`` from now on, handing each object and its arrival time to ``handle``;
    reconnects from the last version seen should the server end the watch."""
    version = (await client.get(path)).json()["metadata"]["resourceVersion"]
    while True:
        params = {"watch": "true", "resourceVersion": version, "timeoutSeconds": "3600"}
        async with client.stream("GET", path, params=params, timeout=None) as response:
            async for line in response.aiter_lines():
                if not line:
                    continue
                now = time.time()
                event = orjson.loads(line)
                if event["type"] == "ERROR":
                    raise RuntimeError(f"watch of {path} failed: {event['object']}")
                tracker.events += 1
                version = event["object"]["metadata"]["resourceVersion"]
                handle(event["object"], now)


async def submit(
    client: httpx.AsyncClient, tracker: Tracker, name: str, cpu: str, command: list[str]
) -> None:
    record = tracker.jobs.setdefault(name, {})
    body = orjson.dumps(job_manifest(name, cpu, command))
    record["submitted"] = time.time()
    response = await client.post(JOBS, content=body, headers={"Content-Type": "application/json"})
    record["accepted"] = time.time()
    if response.status_code != 201:
        raise RuntimeError(f"POST {name}: {response.status_code} {response.text[:300]}")


async def run_one(
    client: httpx.AsyncClient,
    tracker: Tracker,
    name: str,
    cpu: str,
    command: list[str],
    timeout: float = 60,
) -> None:
    """Submit one Job and wait until it has finished."""
    await submit(client, tracker, name, cpu, command)
    await asyncio.wait_for(tracker.finished(name).wait(), timeout)


async def run_burst(
    client: httpx.AsyncClient,
    tracker: Tracker,
    names: list[str],
    cpu: str,
    command: list[str],
    clients: int,
    timeout: float,
) -> list[str]:
    """Submit every Job with ``clients`` requests in flight, then wait for all to finish (up
    to ``timeout`` seconds from the first submit); the names still unfinished."""
    queue = iter(names)

    async def one_client() -> None:
        for name in queue:  # shared: each name is taken by exactly one client
            await submit(client, tracker, name, cpu, command)

    started = time.monotonic()
    await asyncio.gather(*(one_client() for _ in range(clients)))
    waiting = [asyncio.ensure_future(tracker.finished(n).wait()) for n in names]
    left = timeout - (time.monotonic() - started)
    if waiting:
        await asyncio.wait(waiting, timeout=max(left, 1.0))
    for future in waiting:
        future.cancel()
    return [n for n in names if n not in tracker.outcomes]


async def probe_gets(port: int, path: str, latencies: list[float], interval_s: float = 0.1) -> None:
    """GET ``path`` every ``interval_s`` from a process of its own (``api_probe``: this
    process's event loop is busy with the submits and the watches) until cancelled, appending
    each answer's latency in seconds (a GET that fails raises: the figures would be wrong)."""
    prober = await asyncio.create_subprocess_exec(
        sys.executable,
        "-m",
        "benchmarks.api_probe",
        str(port),
        path,
        str(interval_s),
        stdin=asyncio.subprocess.PIPE,
        stdout=asyncio.subprocess.PIPE,
    )
    assert prober.stdin is not None and prober.stdout is not None
    try:
        async for line in prober.stdout:
            latencies.append(float(line) / 1000)
    finally:
        prober.stdin.close()
        rc = await prober.wait()
    if rc != 0:
        raise RuntimeError(f"the GET prober failed (exit status {rc})")


async def pod_log(client: httpx.AsyncClient, job: str) -> str:
    pods = (await client.get(PODS, params={"labelSelector": f"job-name={job}"})).json()
    name = pods["items"][0]["metadata"]["name"]
    return (await client.get(f"{PODS}/{name}/log")).text
