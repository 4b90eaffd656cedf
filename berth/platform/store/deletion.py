"""What a delete request does to an object: remove it now, or mark it and let others finish.

Kubernetes semantics, as pure functions:
- an object with finalizers, or deleted with propagation Foreground / Orphan, gets a
  ``deletionTimestamp`` (and the ``foregroundDeletion`` / ``orphan`` finalizer) and stays until
  its finalizers are gone; the garbage collector does the propagation;
- a pod bound to a node and still running is deleted gracefully: marked with
  ``deletionTimestamp = now + grace`` so its node agent can stop it (SIGTERM, grace, SIGKILL)
  and then delete it for good;
- anything else is removed at once, and with Background propagation the garbage collector
  deletes its dependents afterwards.
"""

from __future__ import annotations

import copy
from dataclasses import dataclass
from datetime import datetime, timedelta

from berth.platform.errors import BadRequest
from berth.platform.resources import registry
from berth.platform.resources.meta import rfc3339
from berth.platform.resources.pods import is_terminal
from berth.platform.resources.registry import ResourceType

FOREGROUND = "foregroundDeletion"
ORPHAN = "orphan"
POLICIES = ("Background", "Foreground", "Orphan")

# batch/v1 Jobs orphan their pods unless told otherwise (kubectl always says Background);
# Kubernetes kept that default for compatibility, and so do we.
_DEFAULT_POLICY = {registry.JOB.key: "Orphan"}


@dataclass(frozen=True)
class Outcome:
    remove_now: bool
    obj: dict  # the object to write when not removed now


def default_policy(rt: ResourceType) -> str:
    return _DEFAULT_POLICY.get(rt.key, "Background")


def plan_delete(
    rt: ResourceType, obj: dict, policy: str | None, grace: int | None, now: datetime
) -> Outcome:
    if policy is not None and policy not in POLICIES:
        raise BadRequest(
            f'unsupported value for propagationPolicy: "{policy}"; '
            f'supported values: "Background", "Foreground", "Orphan"'
        )
    policy = policy or default_policy(rt)
    md = obj["metadata"]
    if md.get("deletionTimestamp"):
        # Already on its way out. A delete with grace 0 (the agent has stopped the pod)
        # finishes it now, or — while finalizers remain — lets their removal finish it.
        if grace != 0:
            return Outcome(False, obj)
        if not md.get("finalizers"):
            return Outcome(True, obj)
        shortened = copy.deepcopy(obj)
        shortened["metadata"]["deletionGracePeriodSeconds"] = 0
        return Outcome(False, shortened)
    finalizers = list(md.get("finalizers") or [])
    if rt.key == registry.NAMESPACE.key:
        # A namespace is emptied by the namespace controller before it goes.
        marked = _with_policy_finalizer(obj, policy, now)
        marked.setdefault("status", {})["phase"] = "Terminating"
        return Outcome(False, marked)
    if rt.key == registry.POD.key and _runs_on_a_node(obj):
        grace = _pod_grace(obj, grace)
        if grace > 0:
            marked = _with_policy_finalizer(obj, policy, now + timedelta(seconds=grace))
            marked["metadata"]["deletionGracePeriodSeconds"] = grace
            return Outcome(False, marked)
    if finalizers or policy in ("Foreground", "Orphan"):
        marked = _with_policy_finalizer(obj, policy, now)
        marked["metadata"]["deletionGracePeriodSeconds"] = 0
        return Outcome(False, marked)
    return Outcome(True, obj)


def _with_policy_finalizer(obj: dict, policy: str, when: datetime) -> dict:
    out = copy.deepcopy(obj)
    md = out["metadata"]
    # A user's finalizers are never dropped; only the propagation finalizer is chosen here.
    finalizers = [f for f in md.get("finalizers") or [] if f not in (FOREGROUND, ORPHAN)]
    if policy == "Foreground":
        finalizers.append(FOREGROUND)
    elif policy == "Orphan":
        finalizers.append(ORPHAN)
    if finalizers:
        md["finalizers"] = finalizers
    else:
        md.pop("finalizers", None)
    md["deletionTimestamp"] = rfc3339(when)
    return out


def _runs_on_a_node(pod: dict) -> bool:
    return bool((pod.get("spec") or {}).get("nodeName")) and not is_terminal(pod)


def _pod_grace(pod: dict, requested: int | None) -> int:
    if requested is not None:
        return max(0, int(requested))
    return int((pod.get("spec") or {}).get("terminationGracePeriodSeconds", 30))


def ready_to_remove(obj: dict) -> bool:
    """A marked object whose last finalizer is gone is removed for good."""
    md = obj.get("metadata") or {}
    # spec.finalizers: a Namespace's "kubernetes" finalizer, removed once it is empty.
    # A graceful deletion (a pod its agent is still stopping) waits for the grace-0 delete.
    return (
        bool(md.get("deletionTimestamp"))
        and not md.get("finalizers")
        and not (obj.get("spec") or {}).get("finalizers")
        and not md.get("deletionGracePeriodSeconds")
    )
