"""Build a Job's pod from its template, as the Kubernetes job controller creates it.

The controller picks the name itself (``<job>-<5 chars>``, or ``<job>-<index>-<5 chars>`` for
Indexed Jobs) from an injected random source, the way the API server fills in ``generateName``,
so that tests are repeatable and the Plan names every pod before it exists.
"""

from __future__ import annotations

import random

from berth.platform.resources.meta import clone, dig

from . import keys

# Kubernetes utilrand alphabet: no vowels (no accidental words), no 0/1/3 (no look-alikes).
_ALPHABET = "bcdfghjklmnpqrstvwxz2456789"
_SUFFIX_LENGTH = 5
_MAX_GENERATED_NAME_LENGTH = 63 - _SUFFIX_LENGTH


def random_suffix(rng: random.Random) -> str:
    return "".join(rng.choice(_ALPHABET) for _ in range(_SUFFIX_LENGTH))


def generate_name(job_name: str, index: int | None) -> str:
    """The ``generateName`` prefix, trimmed so that the final name fits in 63 characters."""
    if index is None:
        return f"{job_name}-"[:_MAX_GENERATED_NAME_LENGTH]
    tail = f"-{index}-"
    prefix = job_name + tail
    if len(prefix) > _MAX_GENERATED_NAME_LENGTH:
        prefix = prefix[: _MAX_GENERATED_NAME_LENGTH - len(tail)] + tail
    return prefix


def pod_for(
    job: dict,
    index: int | None,
    rng: random.Random,
    *,
    index_failure_count: int | None = None,
    index_ignored_failure_count: int = 0,
) -> dict:
    """A full Pod dict for ``job`` (``index`` for Indexed Jobs), ready to be created.

    ``index_failure_count`` is given for Jobs with ``backoffLimitPerIndex``: how many pods of
    this index failed before, carried from pod to pod in an annotation.
    """
    meta = job.get("metadata") or {}
    job_name = meta.get("name", "")
    template = clone(dig(job, "spec", "template", default={}))
    tmeta = template.get("metadata") or {}
    spec = template.get("spec") or {}

    labels = dict(tmeta.get("labels") or {})
    # The API server puts these on the template when it defaults the Job; added here as well so
    # that a Job written to the store directly still owns pods the selector finds.
    for key, value in (
        (keys.CONTROLLER_UID, meta.get("uid", "")),
        (keys.JOB_NAME, job_name),
        (keys.LEGACY_CONTROLLER_UID, meta.get("uid", "")),
        (keys.LEGACY_JOB_NAME, job_name),
    ):
        labels.setdefault(key, value)
    annotations = dict(tmeta.get("annotations") or {})
    finalizers = list(tmeta.get("finalizers") or [])
    if keys.TRACKING_FINALIZER not in finalizers:
        finalizers.append(keys.TRACKING_FINALIZER)

    if index is not None:
        annotations[keys.COMPLETION_INDEX] = str(index)
        labels[keys.COMPLETION_INDEX] = str(index)
        for container in (spec.get("initContainers") or []) + (spec.get("containers") or []):
            _add_index_env(container)
        spec["hostname"] = f"{job_name}-{index}"
        if index_failure_count is not None:
            annotations[keys.INDEX_FAILURE_COUNT] = str(index_failure_count)
            if index_ignored_failure_count > 0:
                annotations[keys.INDEX_IGNORED_FAILURE_COUNT] = str(index_ignored_failure_count)

    prefix = generate_name(job_name, index)
    metadata = {
        "name": prefix + random_suffix(rng),
        "generateName": prefix,
        "namespace": meta.get("namespace", ""),
        "labels": labels,
        "annotations": annotations,
        "ownerReferences": [
            {
                "apiVersion": "batch/v1",
                "kind": "Job",
                "name": job_name,
                "uid": meta.get("uid", ""),
                "controller": True,
                "blockOwnerDeletion": True,
            }
        ],
        "finalizers": finalizers,
    }
    if not annotations:
        del metadata["annotations"]
    return {
        "apiVersion": "v1",
        "kind": "Pod",
        "metadata": metadata,
        "spec": spec,
        "status": {"phase": keys.PENDING},
    }


def _add_index_env(container: dict) -> None:
    env = container.setdefault("env", [])
    if any(var.get("name") == keys.COMPLETION_INDEX_ENV for var in env):
        return
    # The downward API, exactly as Kubernetes writes it (PodIndexLabel is GA): the agent that
    # runs the pod resolves the field reference from the pod's own labels.
    env.append(
        {
            "name": keys.COMPLETION_INDEX_ENV,
            "valueFrom": {
                "fieldRef": {
                    "apiVersion": "v1",
                    "fieldPath": f"metadata.labels['{keys.COMPLETION_INDEX}']",
                }
            },
        }
    )
