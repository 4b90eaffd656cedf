"""Carry out a ``Plan`` against the store, in the order that keeps pod counting crash-safe.

The order is ``plan.py``'s (see ``tracking.py`` for why it cannot lose or double-count a pod):
deletions, the status write, finalizer removals, creations, events; everything after the
deletions commits as one transaction (a deletion may release and then delete the same pod,
and a batch reads only committed state, so deletions commit one by one first). The first
error stops the rest and propagates: the runner retries the key with backoff and the next
sync plans again from the store, which is always safe. Writes that find their pod already
gone (or replaced under the same name) count as done.
"""

from __future__ import annotations

from collections.abc import Callable

from berth.platform.errors import BerthError, NotFound
from berth.platform.resources import registry
from berth.platform.store.client import Client
from berth.platform.store.events import EventRecorder

from . import keys
from .backoff import JobTracking
from .plan import Deletion, Plan, PodRef

# Kubernetes' pod-control event reasons for a write that failed.
FAILED_CREATE = "FailedCreate"
FAILED_DELETE = "FailedDelete"


def apply_plan(
    client: Client,
    recorder: EventRecorder,
    job: dict,
    result: Plan,
    remember: Callable[[JobTracking], None],
) -> None:
    """Apply ``result`` for ``job`` (the Job as read before planning: its resourceVersion
    guards the status write, so a status planned from a Job that changed since is refused)."""
    md = job["metadata"]
    namespace = md.get("namespace", "")

    # 1. Deletions; a pod the Plan does not count loses its tracking finalizer first.
    for deletion in result.delete:
        if deletion.release_finalizer:
            release_finalizer(client, namespace, PodRef(deletion.name, deletion.uid))
        _delete_pod(client, recorder, job, namespace, deletion)

    # 2-5 commit together (one transaction, not one per write): the status, the finalizers
    # it accounts for, the new pods and the events. Each write keeps its own resourceVersion,
    # in this order, so watchers see what they saw before; a refused status write undoes the
    # rest. A refused creation is undone alone: what it follows still commits (as when each
    # write committed by itself), and its error is raised after the commit.
    failed_create: BerthError | None = None
    with client.batch():
        # 2. The status.
        if result.write_status:
            client.update(
                registry.JOB,
                {**job, "status": result.status},
                namespace,
                md["name"],
                subresource="status",
            )

        # 3. Finalizers of pods the written status now accounts for.
        for ref in result.remove_finalizers:
            release_finalizer(client, namespace, ref)

        # 4. New pods; the first refusal stops the rest.
        for pod in result.create:
            try:
                client.create(registry.POD, pod, namespace)
            except BerthError as exc:
                recorder.warning(job, FAILED_CREATE, f"Error creating: {exc.message}")
                failed_create = exc
                break

        # 5. Events (the requeue is the caller's).
        if failed_create is None:
            for event in result.events:
                recorder.event(job, event.type, event.reason, event.message)
    # The memory that goes with the status, once the status is stored.
    remember(result.tracking)
    if failed_create is not None:
        raise failed_create


def release_finalizer(client: Client, namespace: str, ref: PodRef) -> None:
    """Remove the tracking finalizer from pod ``ref`` (no-op when gone or already released).

    A pod marked for deletion whose last finalizer goes is removed by the store.
    """

    def drop(pod: dict) -> dict | None:
        md = pod["metadata"]
        finalizers = md.get("finalizers") or []
        if md.get("uid") != ref.uid or keys.TRACKING_FINALIZER not in finalizers:
            return None
        kept = [f for f in finalizers if f != keys.TRACKING_FINALIZER]
        if kept:
            md["finalizers"] = kept
        else:
            md.pop("finalizers", None)
        return pod

    try:
        client.guaranteed_update(registry.POD, namespace, ref.name, drop)
    except NotFound:
        pass


def _delete_pod(
    client: Client, recorder: EventRecorder, job: dict, namespace: str, deletion: Deletion
) -> None:
    try:
        client.delete(registry.POD, namespace, deletion.name, preconditions={"uid": deletion.uid})
    except NotFound:
        return
    except BerthError as exc:
        recorder.warning(job, FAILED_DELETE, f"Error deleting: {exc.message}")
        raise
