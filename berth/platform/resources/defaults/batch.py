"""Defaults of Jobs and CronJobs, and the selector Kubernetes generates for a new Job."""

from __future__ import annotations

from berth.platform.resources.defaults.pod import default_pod_spec

MAX_INT32 = 2**31 - 1
CONTROLLER_UID = "batch.kubernetes.io/controller-uid"
JOB_NAME = "batch.kubernetes.io/job-name"
LEGACY_CONTROLLER_UID = "controller-uid"
LEGACY_JOB_NAME = "job-name"


def _template_spec(spec: dict) -> None:
    template = spec.get("template")
    if isinstance(template, dict) and isinstance(template.get("spec"), dict):
        default_pod_spec(template["spec"])


def _failure_policy(spec: dict) -> None:
    policy = spec.get("podFailurePolicy")
    rules = policy.get("rules") if isinstance(policy, dict) else None
    for rule in rules if isinstance(rules, list) else []:
        patterns = rule.get("onPodConditions") if isinstance(rule, dict) else None
        for pattern in patterns if isinstance(patterns, list) else []:
            if isinstance(pattern, dict) and not pattern.get("status"):
                pattern["status"] = "True"


def default_job_spec(spec: dict) -> None:
    """``SetDefaults_Job`` for the spec: a single-pod Job unless told otherwise."""
    if spec.get("completions") is None and spec.get("parallelism") is None:
        spec["completions"] = 1
        spec["parallelism"] = 1
    if spec.get("parallelism") is None:
        spec["parallelism"] = 1  # a work queue keeps completions unset
    if spec.get("backoffLimit") is None:
        spec["backoffLimit"] = MAX_INT32 if spec.get("backoffLimitPerIndex") is not None else 6
    if spec.get("completionMode") is None:
        spec["completionMode"] = "NonIndexed"
    if spec.get("suspend") is None:
        spec["suspend"] = False
    if spec.get("podReplacementPolicy") is None:
        spec["podReplacementPolicy"] = (
            "Failed" if spec.get("podFailurePolicy") is not None else "TerminatingOrFailed"
        )
    if spec.get("manualSelector") is None:
        spec["manualSelector"] = False
    _failure_policy(spec)
    _template_spec(spec)


def default_job(job: dict) -> None:
    spec = job.get("spec")
    if not isinstance(spec, dict):
        return
    default_job_spec(spec)
    copy_template_labels(job)


def copy_template_labels(job: dict) -> None:
    """A Job without labels of its own wears its pod template's."""
    md, spec = job.get("metadata"), job.get("spec")
    if not isinstance(md, dict) or md.get("labels") or not isinstance(spec, dict):
        return
    template = spec.get("template")
    template_md = template.get("metadata") if isinstance(template, dict) else None
    labels = template_md.get("labels") if isinstance(template_md, dict) else None
    if isinstance(labels, dict) and labels:
        md["labels"] = dict(labels)


def generate_selector(job: dict) -> None:
    """On create, unless ``manualSelector``: select the Job's pods by its uid, and put the uid
    and name labels on the template (labels the user already set are left for validation to
    judge)."""
    spec, md = job.get("spec"), job.get("metadata")
    if not isinstance(spec, dict) or not isinstance(md, dict) or spec.get("manualSelector"):
        return
    template = spec.get("template")
    if not isinstance(template, dict):
        template = spec["template"] = {}
    if not isinstance(template.get("metadata"), dict):
        template["metadata"] = {}
    labels = template["metadata"].get("labels")
    if not isinstance(labels, dict):
        labels = template["metadata"]["labels"] = {}
    uid, name = str(md.get("uid") or ""), str(md.get("name") or "")
    for key in (LEGACY_JOB_NAME, JOB_NAME):
        labels.setdefault(key, name)
    for key in (LEGACY_CONTROLLER_UID, CONTROLLER_UID):
        labels.setdefault(key, uid)
    selector = spec.get("selector")
    if not isinstance(selector, dict):
        selector = spec["selector"] = {}
    if not isinstance(selector.get("matchLabels"), dict):
        selector["matchLabels"] = {}
    selector["matchLabels"].setdefault(CONTROLLER_UID, uid)


def default_cron_job(cj: dict) -> None:
    """``SetDefaults_CronJob``. The Job template gets only its pod template's defaults (and
    those of pod-condition patterns): Job defaults belong to the Jobs made from it."""
    spec = cj.get("spec")
    if not isinstance(spec, dict):
        return
    if not spec.get("concurrencyPolicy"):
        spec["concurrencyPolicy"] = "Allow"
    if spec.get("suspend") is None:
        spec["suspend"] = False
    if spec.get("successfulJobsHistoryLimit") is None:
        spec["successfulJobsHistoryLimit"] = 3
    if spec.get("failedJobsHistoryLimit") is None:
        spec["failedJobsHistoryLimit"] = 1
    template = spec.get("jobTemplate")
    if isinstance(template, dict) and isinstance(template.get("spec"), dict):
        _failure_policy(template["spec"])
        _template_spec(template["spec"])
