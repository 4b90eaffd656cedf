"""Fill a Berth store with many Jobs fast, for the API benchmark.

Creating 100,000 Jobs through the API or the object client costs one transaction each
(minutes). Here one Job goes through the object client (identity, defaulting, validation,
managedFields) and is marked finished through the status subresource, so it is exactly what the
API would have stored; then copies of it, each with its own name, uid and labels, are written
in bulk straight into the store's tables, the way ``Database.create`` writes a row and its
label rows. The change log gets no entries for them: the revision is marked compacted past
them, as if the store had been running a while (and PostgreSQL's statistics are gathered, as
autovacuum would have).
"""

from __future__ import annotations

import time
import uuid

import orjson
from sqlalchemy import insert, select, text, update

from berth.platform.resources import registry
from berth.platform.runtime import open_platform
from berth.platform.store.tables import LABELS, OBJECTS, REVISION
from berth.settings import Settings

BATCH = 5000


def job_manifest(name: str, namespace: str, labels: dict[str, str]) -> dict:
    return {
        "apiVersion": "batch/v1",
        "kind": "Job",
        "metadata": {"name": name, "namespace": namespace, "labels": labels},
        "spec": {
            "completions": 1,
            "backoffLimit": 2,
            "template": {
                "metadata": {"labels": {"bench": "api"}},
                "spec": {
                    "restartPolicy": "Never",
                    "containers": [
                        {
                            "name": "main",
                            "image": "busybox",
                            "command": ["sh", "-c", "echo hi"],
                            "resources": {"requests": {"cpu": "100m", "memory": "64Mi"}},
                        }
                    ],
                },
            },
        },
    }


def bench_labels(i: int) -> dict[str, str]:
    return {"app": f"app-{i % 1000}", "team": str(i % 10)}


def _finished_status(job: dict) -> dict:
    now = job["metadata"]["creationTimestamp"]
    return {
        "startTime": now,
        "completionTime": now,
        "succeeded": 1,
        "ready": 0,
        "terminating": 0,
        "uncountedTerminatedPods": {},
        "conditions": [
            {
                "type": "SuccessCriteriaMet",
                "status": "True",
                "reason": "CompletionsReached",
                "message": "Reached expected number of succeeded pods",
                "lastProbeTime": now,
                "lastTransitionTime": now,
            },
            {
                "type": "Complete",
                "status": "True",
                "reason": "CompletionsReached",
                "message": "Reached expected number of succeeded pods",
                "lastProbeTime": now,
                "lastTransitionTime": now,
            },
        ],
    }


def preload_jobs(settings: Settings, namespace: str, count: int) -> float:
    """Create ``namespace`` and ``count`` finished Jobs named ``job-000000``...; returns the
    seconds it took."""
    started = time.perf_counter()
    platform = open_platform(settings)
    try:
        client, db = platform.client, platform.db
        client.create(registry.NAMESPACE, {"metadata": {"name": namespace}})
        first = client.create(
            registry.JOB, job_manifest(_name(0), namespace, bench_labels(0)), namespace
        )
        first["status"] = _finished_status(first)
        first = client.update(registry.JOB, first, namespace, subresource="status")
        template = orjson.dumps(first)
        rv = db.current_rv()
        with db.engine.begin() as conn:
            for start in range(1, count, BATCH):
                numbers = range(start, min(start + BATCH, count))
                rows = [
                    _row(template, first, i, rv + n, db.codec) for n, i in enumerate(numbers, 1)
                ]
                ids = (
                    conn.execute(
                        insert(OBJECTS).returning(OBJECTS.c.id, sort_by_parameter_order=True), rows
                    )
                    .scalars()
                    .all()
                )
                conn.execute(
                    insert(LABELS),
                    [
                        {"object_id": object_id, "resource": registry.JOB.key, "key": k, "value": v}
                        for object_id, i in zip(ids, numbers, strict=True)
                        for k, v in _labels(first, i).items()
                    ],
                )
                rv += len(rows)
            current = conn.execute(select(REVISION.c.current)).scalar_one()
            top = max(rv, current)
            conn.execute(update(REVISION).values(current=top, compacted=top))
        if not db.dialect.is_sqlite:
            # A long-running PostgreSQL has statistics (autovacuum analyzes); without them the
            # planner takes the 100k rows for two and joins label rows by nested loop.
            with db.engine.connect().execution_options(isolation_level="AUTOCOMMIT") as conn:
                conn.execute(text("ANALYZE objects"))
                conn.execute(text("ANALYZE labels"))
    finally:
        platform.close()
    return time.perf_counter() - started


def _name(i: int) -> str:
    return f"job-{i:06d}"


def _labels(template: dict, i: int) -> dict[str, str]:
    return {**(template["metadata"].get("labels") or {}), **bench_labels(i)}


def _row(template: bytes, first: dict, i: int, rv: int, codec) -> dict:
    """Job ``i``: the first Job with its own name and uid everywhere they appear (selector,
    template labels), its own labels and resourceVersion."""
    md = first["metadata"]
    name, uid = _name(i), str(uuid.uuid4())
    job = orjson.loads(
        template.replace(md["uid"].encode(), uid.encode()).replace(
            f'"{md["name"]}"'.encode(), f'"{name}"'.encode()
        )
    )
    job["metadata"]["labels"] = _labels(first, i)
    job["metadata"]["resourceVersion"] = str(rv)
    return {
        "resource": registry.JOB.key,
        "namespace": md["namespace"],
        "name": name,
        "uid": uid,
        "rv": rv,
        "data": codec.encode(registry.JOB.key, job),
        "node_name": None,
        "phase": None,
    }
