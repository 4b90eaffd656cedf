"""Carry out the Plans of many Jobs against the store: one group commit for all of them, in
the order that keeps pod counting crash-safe.

The order per Job is ``plan.py``'s (see ``tracking.py`` for why it cannot lose or double-count
a pod): deletions, the status write, finalizer removals, creations, events. Deletions commit
one by one first (a deletion may release and then delete the same pod, and a batch reads only
committed state); they are rare (a scale-down, a suspension, a Job that ended with pods still
running). Everything else of every Job commits as ONE transaction (``Client.batch``: one write
lock, one fence read, one sync to disk): the status writes and finalizer removals Job by Job,
then the pods of all Jobs in one ``create_many``, then the events. Each write keeps its own
resourceVersion, in that order, so a watcher sees each Job's status before the finalizers it
accounts for are gone and before its new pods. The commit is all or nothing: a crash or a
refused commit leaves every Job as before, and its next sync plans again (always safe).

Within the transaction a Job is isolated from the others: each write is a savepoint of its
own. A Job's status write is a compare-and-set on the resourceVersion it was planned from; a
refused one (``Conflict``: the Job changed since) writes nothing of that Job and the others
stand. A refused finalizer removal leaves its Job's status stored (as a crash between the two
would: the next sync releases it), unless that status already counts the pod (a folded Plan,
``fold.py``): then it undoes the whole transaction, as an error that is not a refusal does
(a removal is retried on a fresh read when the pod changed, and one whose pod is gone counts
as done, so this is rare). A refused pod creation is undone alone (the Job's other
pods and its status stand) and its Job records ``FailedCreate`` instead of its events. Each of
these errors is that Job's outcome (``Applied.error``): its key is retried. An error that is
not a refusal (the database, a lost lease: ``Fenced``) undoes the whole transaction and
propagates. Writes that find their pod already gone (or replaced under the same name) count
as done.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass, field

from berth.platform.errors import BerthError, Conflict, NotFound
from berth.platform.resources import registry
from berth.platform.resources.meta import clone
from berth.platform.store.client import Client
from berth.platform.store.events import EventRecorder

from . import keys
from .backoff import JobTracking
from .plan import Deletion, Plan, PodRef

# Kubernetes' pod-control event reasons for a write that failed.
FAILED_CREATE = "FailedCreate"
FAILED_DELETE = "FailedDelete"


@dataclass
class Pending:
    """One Job's Plan to apply: ``job`` as read before planning (its resourceVersion guards
    the status write, so a status planned from a Job that changed since is refused), and
    ``remember`` for the tracking that goes with the status once it is stored.

    ``cached``: the Job and its pods (by uid) as the informers hold them, read-only: the
    status write and the finalizer removals are made against these copies instead of reading
    each object again (``Client.update(current=...)``); one that has moved on since is
    refused by its compare-and-set, and a refused finalizer removal is retried from a fresh
    read."""

    job: dict
    plan: Plan
    remember: Callable[[JobTracking], None]
    cached: dict | None = None
    cached_pods: Mapping[str, dict] = field(default_factory=dict)


@dataclass
class Applied:
    """What became of one Job's Plan: ``rv``, the resourceVersion of its last write (None
    when it wrote nothing); ``error``, the refusal that stopped it (its key is retried);
    ``stored``, whether its status (and so its tracking) stands."""

    rv: int | None = None
    error: BerthError | None = None
    stored: bool = False

    def wrote(self, obj: dict) -> None:
        rv = int(obj["metadata"]["resourceVersion"])
        self.rv = rv if self.rv is None else max(self.rv, rv)


def apply_plan(
    client: Client,
    recorder: EventRecorder,
    job: dict,
    result: Plan,
    remember: Callable[[JobTracking], None],
) -> Applied:
    """Apply one Job's Plan (``apply_plans`` of one); raises the refusal that stopped it."""
    (applied,) = apply_plans(client, recorder, [Pending(job, result, remember)])
    if applied.error is not None:
        raise applied.error
    return applied


def apply_plans(client: Client, recorder: EventRecorder, pending: list[Pending]) -> list[Applied]:
    """Apply every Plan of ``pending`` (at most one per Job); per Job, in order, what became
    of it. Raises (after undoing the transaction) only what is not one Job's refusal."""
    applied = [Applied() for _ in pending]

    # 1. Deletions, each committed alone; a pod the Plan does not count loses its tracking
    #    finalizer first. A refused one stops its Job here.
    for item, out in zip(pending, applied, strict=True):
        if item.plan.delete:
            try:
                _delete_pods(client, recorder, item.job, item.plan.delete)
            except BerthError as exc:
                out.error = exc
            out.rv = client.db.current_rv()

    # 2-5: one transaction for every Job.
    with client.batch():
        for item, out in zip(pending, applied, strict=True):
            if out.error is None:
                _store_status(client, item, out)
        _create_pods(client, recorder, pending, applied)
        recorder.record_many(
            [
                (item.job, event.type, event.reason, event.message)
                for item, out in zip(pending, applied, strict=True)
                if out.stored and out.error is None
                for event in item.plan.events
            ]
        )

    # The memory that goes with each status, once the status is stored.
    for item, out in zip(pending, applied, strict=True):
        if out.stored:
            item.remember(item.plan.tracking)
    return applied


def _store_status(client: Client, item: Pending, out: Applied) -> None:
    """2. The status (a compare-and-set); 3. the finalizers of the pods it accounts for."""
    job, result = item.job, item.plan
    md = job["metadata"]
    namespace = md.get("namespace", "")
    if result.write_status:
        try:
            stored = client.update(
                registry.JOB,
                {**job, "status": result.status},
                namespace,
                md["name"],
                subresource="status",
                current=item.cached,
            )
        except BerthError as exc:
            out.error = exc  # nothing of this Job is written
            return
        out.wrote(stored)
    out.stored = True
    for ref in result.remove_finalizers:
        try:
            released = release_finalizer(client, namespace, ref, item.cached_pods.get(ref.uid))
        except BerthError as exc:
            if result.counts_released:
                raise  # the status counts this pod: undo the transaction, status included
            out.error = exc  # the status stands; the next sync releases the rest
            return
        if released is not None:
            out.wrote(released)


def _create_pods(
    client: Client, recorder: EventRecorder, pending: list[Pending], applied: list[Applied]
) -> None:
    """4. The new pods of every Job whose status stands, in one ``create_many``."""
    owners: list[int] = []
    pods: list[dict] = []
    for i, (item, out) in enumerate(zip(pending, applied, strict=True)):
        if out.stored and out.error is None:
            owners.extend([i] * len(item.plan.create))
            pods.extend(item.plan.create)
    if not pods:
        return
    for i, made in zip(owners, client.create_many(registry.POD, pods), strict=True):
        out = applied[i]
        if isinstance(made, BerthError):
            if out.error is None:
                recorder.warning(pending[i].job, FAILED_CREATE, f"Error creating: {made.message}")
                out.error = made
        else:
            out.wrote(made)


def release_finalizer(
    client: Client, namespace: str, ref: PodRef, cached: dict | None = None
) -> dict | None:
    """Remove the tracking finalizer from pod ``ref`` (no-op when gone or already released);
    the pod as it is after (None when gone).

    ``cached``: the pod as an informer holds it (read-only). The removal is first tried
    against it, with no read; when the pod has changed since (``Conflict``), or the copy
    shows nothing to remove, it is done as before, from a fresh read.
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
        if cached is not None:
            released = drop(clone(cached))
            if released is not None:
                try:
                    return client.update(
                        registry.POD, released, namespace, ref.name, current=cached
                    )
                except Conflict:
                    pass  # changed since the cache saw it: read it afresh
        return client.guaranteed_update(registry.POD, namespace, ref.name, drop)
    except NotFound:
        return None


def _delete_pods(
    client: Client, recorder: EventRecorder, job: dict, deletions: list[Deletion]
) -> None:
    namespace = job["metadata"].get("namespace", "")
    for deletion in deletions:
        if deletion.release_finalizer:
            release_finalizer(client, namespace, PodRef(deletion.name, deletion.uid))
        try:
            client.delete(
                registry.POD, namespace, deletion.name, preconditions={"uid": deletion.uid}
            )
        except NotFound:
            continue
        except BerthError as exc:
            recorder.warning(job, FAILED_DELETE, f"Error deleting: {exc.message}")
            raise
