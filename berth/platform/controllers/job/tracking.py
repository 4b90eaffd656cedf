"""Count finished pods exactly once, whatever moment the controller dies at.

Kubernetes' protocol (``trackJobStatusAndRemoveFinalizers``), in three writes that each survive
a crash on their own:

1. a finished pod that still carries the ``batch.kubernetes.io/job-tracking`` finalizer is
   recorded by UID in ``status.uncountedTerminatedPods`` (for an Indexed Job's success, its
   index goes straight into ``status.completedIndexes``, which is idempotent), and the status
   is written;
2. only then is its finalizer removed (the pod may now disappear);
3. a UID in ``uncountedTerminatedPods`` whose pod no longer has the finalizer moves into
   ``status.succeeded`` / ``status.failed`` with the next status write.

A crash before 1 leaves the pod with its finalizer: it is found again. A crash between 1 and 2
leaves it recorded and still held: it is not recorded twice. A crash between 2 and 3 leaves its
UID recorded and the pod released: the next sync moves it into the counter, once.
"""

from __future__ import annotations

from dataclasses import dataclass

from berth.platform.resources.meta import rfc3339

from . import conditions, indexes, keys, pod_failure_policy, pod_state
from .context import SyncContext


@dataclass
class Tracked:
    release: list[dict]  # pods whose finalizer is removed once the status is written
    capped: bool  # MAX_UNCOUNTED_PODS reached: the rest waits for the next sync


def _can_release(ctx: SyncContext, pod: dict, considered_failed: bool) -> bool:
    """Kubernetes ``canRemoveFinalizer``."""
    if ctx.spec.deleting or ctx.finished is not None or pod_state.phase(pod) == keys.SUCCEEDED:
        return True
    if not considered_failed:
        return False
    if ctx.spec.per_index:
        index = pod_state.completion_index(pod)
        held = ctx.delayed.get(index) if index is not None else None
        # Kept until the index's replacement exists, so its failure count can be copied over.
        if held is not None and pod_state.uid(held) == pod_state.uid(pod):
            return False
    return True


def track(ctx: SyncContext, status: dict) -> Tracked:
    """Steps 1 and 3 on ``status`` (in place); returns the pods for step 2."""
    spec = ctx.spec
    pods = ctx.pods
    if spec.indexed:
        pods = sorted(pods, key=lambda p: _index_order(pod_state.completion_index(p)))
    held = {pod_state.uid(p) for p in pods if pod_state.has_tracking_finalizer(p)}

    # Step 3: released pods recorded earlier are counted now.
    uncounted = status.get("uncountedTerminatedPods") or {}
    succeeded = [u for u in uncounted.get("succeeded") or [] if u in held]
    failed = [u for u in uncounted.get("failed") or [] if u in held]
    status["succeeded"] = (
        (status.get("succeeded") or 0) + len(uncounted.get("succeeded") or []) - len(succeeded)
    )
    status["failed"] = (
        (status.get("failed") or 0) + len(uncounted.get("failed") or []) - len(failed)
    )

    # Step 1: record pods that finished since.
    fails_all = ctx.finished is not None and ctx.finished.get("type") != keys.SUCCESS_CRITERIA_MET
    release: list[dict] = []
    new_indexes: set[int] = set()
    capped = False
    for pod in pods:
        if not pod_state.has_tracking_finalizer(pod):
            continue  # counted in an earlier sync
        considered_failed = pod_state.is_failed(pod, spec)
        if not _can_release(ctx, pod, considered_failed):
            continue
        release.append(pod)
        uid = pod_state.uid(pod)
        index = pod_state.valid_index(pod, spec.completions)
        if pod_state.phase(pod) == keys.SUCCEEDED and uid not in ctx.uncounted_failed:
            if spec.indexed:
                if index is not None and index not in ctx.prev_succeeded_indexes:
                    new_indexes.add(index)
            elif uid not in ctx.uncounted_succeeded:
                succeeded.append(uid)
        elif considered_failed or fails_all:
            # A Job that fails takes every unfinished pod down with it: each counts as failed.
            if uid not in ctx.uncounted_failed and (not spec.indexed or index is not None):
                if pod_failure_policy.match(spec.pod_failure_policy, pod).counts:
                    failed.append(uid)
        if len(new_indexes) + len(succeeded) + len(failed) >= keys.MAX_UNCOUNTED_PODS:
            capped = True
            break

    status["uncountedTerminatedPods"] = {
        key: uids for key, uids in (("succeeded", succeeded), ("failed", failed)) if uids
    }
    if spec.indexed:
        done = ctx.succeeded_indexes | new_indexes
        status["completedIndexes"] = indexes.compress(done)
        status["succeeded"] = len(done)
        if ctx.failed_indexes is not None:
            status["failedIndexes"] = indexes.compress(ctx.failed_indexes)
        else:
            status.pop("failedIndexes", None)
    return Tracked(release, capped)


def _index_order(index: int | None) -> int:
    return -1 if index is None else index


def settle(ctx: SyncContext, status: dict, tracked: Tracked) -> dict | None:
    """Write the interim condition and, once nothing is left to count or stop, the final one.

    ``FailureTarget`` / ``SuccessCriteriaMet`` go into the status at once; ``Failed`` /
    ``Complete`` (same reason and message) only when no pod is uncounted, none is still
    terminating and no finalizer is waiting to be released. Returns the final condition when it
    was set in this sync.
    """
    conds = list(status.get("conditions") or [])
    found = ctx.finished
    final = None
    if found is not None:
        kind = found.get("type")
        reason, message = found.get("reason", ""), found.get("message", "")
        if kind == keys.FAILURE_TARGET:
            conds.append(found)
            final = conditions.new_condition(
                keys.FAILED_CONDITION, "True", reason, message, ctx.now
            )
        elif kind == keys.SUCCESS_CRITERIA_MET:
            if not conditions.is_true(conds, keys.SUCCESS_CRITERIA_MET):
                conds.append(found)
            final = conditions.new_condition(keys.COMPLETE, "True", reason, message, ctx.now)
        else:
            final = found
    uncounted = status.get("uncountedTerminatedPods") or {}
    settled = (
        final is not None
        and not tracked.capped
        and not tracked.release
        and not uncounted.get("succeeded")
        and not uncounted.get("failed")
        and ctx.terminating == 0
    )
    if settled and final is not None:
        conds, _ = conditions.ensure(
            conds, final["type"], "True", final.get("reason", ""), final.get("message", ""), ctx.now
        )
        if final["type"] == keys.COMPLETE:
            status["completionTime"] = rfc3339(ctx.now)
    status["conditions"] = conds
    return final if settled else None
