"""A Job's spec read once, with the API server's defaults filled in where a field is missing.

The API layer defaults Jobs on the way in; reading the defaults again here keeps the controller
right for objects that reached the store another way (tests, older versions, direct writes).
"""

from __future__ import annotations

from dataclasses import dataclass

from berth.platform.resources.meta import dig

from . import keys

MAX_INT32 = 2**31 - 1


@dataclass(frozen=True)
class JobSpec:
    name: str
    namespace: str
    uid: str
    completions: int | None  # None: a work queue
    parallelism: int
    backoff_limit: int
    completion_mode: str
    suspend: bool
    deleting: bool
    restart_policy: str
    active_deadline_seconds: int | None
    backoff_limit_per_index: int | None
    max_failed_indexes: int | None
    pod_failure_policy: dict | None
    success_policy: dict | None
    pod_replacement_policy: str
    managed_by: str

    @property
    def indexed(self) -> bool:
        return self.completion_mode == keys.INDEXED

    @property
    def known_completion_mode(self) -> bool:
        return self.completion_mode in (keys.INDEXED, keys.NON_INDEXED)

    @property
    def ours(self) -> bool:
        """False when ``spec.managedBy`` hands the Job to another controller (e.g. MultiKueue)."""
        return self.managed_by == keys.JOB_CONTROLLER_NAME

    @property
    def per_index(self) -> bool:
        return self.indexed and self.backoff_limit_per_index is not None

    @property
    def only_replace_failed(self) -> bool:
        """Replace a pod only once it is Failed, not while it is still terminating.

        Kubernetes forces this whenever a pod failure policy is set: the policy must see how the
        pod actually ended before the controller decides anything about it.
        """
        return (
            self.pod_replacement_policy == keys.REPLACE_FAILED
            or self.pod_failure_policy is not None
        )


def job_spec(job: dict) -> JobSpec:
    spec = job.get("spec") or {}
    completions = spec.get("completions")
    parallelism = spec.get("parallelism")
    if completions is None and parallelism is None:
        # Kubernetes SetDefaults_Job: neither set means one pod that must succeed once.
        completions = 1
    per_index = spec.get("backoffLimitPerIndex")
    backoff_limit = spec.get("backoffLimit")
    if backoff_limit is None:
        backoff_limit = MAX_INT32 if per_index is not None else 6
    failure_policy = spec.get("podFailurePolicy")
    replacement = spec.get("podReplacementPolicy") or (
        keys.REPLACE_FAILED if failure_policy is not None else keys.REPLACE_TERMINATING_OR_FAILED
    )
    return JobSpec(
        name=dig(job, "metadata", "name", default=""),
        namespace=dig(job, "metadata", "namespace", default=""),
        uid=dig(job, "metadata", "uid", default=""),
        completions=completions,
        parallelism=1 if parallelism is None else parallelism,
        backoff_limit=backoff_limit,
        completion_mode=spec.get("completionMode") or keys.NON_INDEXED,
        suspend=bool(spec.get("suspend")),
        deleting=dig(job, "metadata", "deletionTimestamp") is not None,
        restart_policy=dig(spec, "template", "spec", "restartPolicy", default="Never"),
        active_deadline_seconds=spec.get("activeDeadlineSeconds"),
        backoff_limit_per_index=per_index,
        max_failed_indexes=spec.get("maxFailedIndexes"),
        pod_failure_policy=failure_policy,
        success_policy=spec.get("successPolicy"),
        pod_replacement_policy=replacement,
        managed_by=spec.get("managedBy") or keys.JOB_CONTROLLER_NAME,
    )
