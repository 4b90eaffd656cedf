"""Jobs (batch/v1): the spec shared with CronJob templates, selectors, policies, updates."""

from __future__ import annotations

import copy

from berth.platform.errors import Cause
from berth.platform.resources.validation import names
from berth.platform.resources.validation.fields import (
    as_dict,
    immutable,
    invalid,
    is_int,
    non_negative,
    required,
    too_long,
    unsupported,
)
from berth.platform.resources.validation.job_policies import (
    validate_pod_failure_policy,
    validate_replacement_policy,
    validate_success_policy,
)
from berth.platform.resources.validation.meta import (
    selector_is_valid,
    selector_matches,
    validate_label_selector,
    validate_object_meta,
    validate_object_meta_update,
)
from berth.platform.resources.validation.pod import validate_pod_template

CONTROLLER_UID = "batch.kubernetes.io/controller-uid"
JOB_NAME = "batch.kubernetes.io/job-name"
LEGACY_CONTROLLER_UID = "controller-uid"
LEGACY_JOB_NAME = "job-name"

MAX_PARALLELISM_INDEXED = 100_000
MAX_FAILED_INDEXES = 100_000
COMPLETIONS_SOFT_LIMIT = 100_000
PARALLELISM_LIMIT_HIGH_COMPLETIONS = 10_000
MAX_FAILED_INDEXES_HIGH_COMPLETIONS = 10_000
MAX_MANAGED_BY_LEN = 63

COMPLETION_MODES = ("NonIndexed", "Indexed")


def is_indexed(spec: dict) -> bool:
    return spec.get("completionMode") == "Indexed"


def validate_job_spec(spec: dict, path: str) -> list[Cause]:
    """``validateJobSpec``: everything but the selector (which a CronJob's template lacks)."""
    causes: list[Cause] = []
    for key in (
        "parallelism",
        "completions",
        "activeDeadlineSeconds",
        "backoffLimit",
        "ttlSecondsAfterFinished",
        "backoffLimitPerIndex",
    ):
        causes += non_negative(f"{path}.{key}", spec.get(key))
    per_index, max_failed = spec.get("backoffLimitPerIndex"), spec.get("maxFailedIndexes")
    if max_failed is not None:
        causes += non_negative(f"{path}.maxFailedIndexes", max_failed)
        if per_index is None:
            causes.append(
                required(f"{path}.backoffLimitPerIndex", "when maxFailedIndexes is specified")
            )
    managed_by = spec.get("managedBy")
    if managed_by is not None:
        causes += _domain_prefixed_path(str(managed_by), f"{path}.managedBy")
        if len(str(managed_by)) > MAX_MANAGED_BY_LEN:
            causes.append(too_long(f"{path}.managedBy", MAX_MANAGED_BY_LEN))
    mode = spec.get("completionMode")
    if mode is not None and mode not in COMPLETION_MODES:
        causes.append(unsupported(f"{path}.completionMode", mode, COMPLETION_MODES))
    if mode == "Indexed":
        causes += _indexed_limits(spec, path)
    elif mode in (None, "NonIndexed"):
        if per_index is not None:
            causes.append(
                invalid(
                    f"{path}.backoffLimitPerIndex", per_index, "requires indexed completion mode"
                )
            )
        if max_failed is not None:
            causes.append(
                invalid(f"{path}.maxFailedIndexes", max_failed, "requires indexed completion mode")
            )
    if spec.get("podFailurePolicy") is not None:
        causes += validate_pod_failure_policy(spec, f"{path}.podFailurePolicy")
    if spec.get("successPolicy") is not None:
        if not is_indexed(spec):
            causes.append(
                invalid(
                    f"{path}.successPolicy",
                    spec["successPolicy"],
                    "requires indexed completion mode",
                )
            )
        else:
            causes += validate_success_policy(spec, f"{path}.successPolicy")
    causes += validate_replacement_policy(spec, f"{path}.podReplacementPolicy")
    template = as_dict(spec.get("template"))
    causes += validate_pod_template(template, f"{path}.template")
    restart = as_dict(template.get("spec")).get("restartPolicy")
    restart_path = f"{path}.template.spec.restartPolicy"
    if restart in ("Always", "", None):
        causes.append(required(restart_path, 'valid values: "OnFailure", "Never"'))
    elif restart not in ("OnFailure", "Never"):
        causes.append(unsupported(restart_path, restart, ("OnFailure", "Never")))
    elif spec.get("podFailurePolicy") is not None and restart != "Never":
        causes.append(
            invalid(
                restart_path,
                restart,
                'only "Never" is supported when podFailurePolicy is specified',
            )
        )
    return causes


def _domain_prefixed_path(value: str, path: str) -> list[Cause]:
    host, sep, rest = value.partition("/")
    if not sep or not host or not rest:
        return [invalid(path, value, 'must be a domain-prefixed path (such as "acme.io/foo")')]
    return [invalid(path, host, m) for m in names.dns1123_subdomain(host)]


def _indexed_limits(spec: dict, path: str) -> list[Cause]:
    causes: list[Cause] = []
    completions, parallelism = spec.get("completions"), spec.get("parallelism")
    max_failed, per_index = spec.get("maxFailedIndexes"), spec.get("backoffLimitPerIndex")
    if completions is None:
        causes.append(required(f"{path}.completions", "when completion mode is Indexed"))
    if is_int(parallelism) and parallelism > MAX_PARALLELISM_INDEXED:
        causes.append(
            invalid(
                f"{path}.parallelism",
                parallelism,
                f"must be less than or equal to {MAX_PARALLELISM_INDEXED} when "
                f"completion mode is Indexed",
            )
        )
    if is_int(completions) and is_int(max_failed) and max_failed > completions:
        causes.append(
            invalid(
                f"{path}.maxFailedIndexes", max_failed, "must be less than or equal to completions"
            )
        )
    if is_int(max_failed) and max_failed > MAX_FAILED_INDEXES:
        causes.append(
            invalid(
                f"{path}.maxFailedIndexes",
                max_failed,
                f"must be less than or equal to {MAX_FAILED_INDEXES}",
            )
        )
    if is_int(completions) and completions > COMPLETIONS_SOFT_LIMIT and per_index is not None:
        tail = (
            f"when completions are above {COMPLETIONS_SOFT_LIMIT} and used with backoff "
            f"limit per index"
        )
        if max_failed is None:
            causes.append(
                required(
                    f"{path}.maxFailedIndexes",
                    f"must be specified when completions is above {COMPLETIONS_SOFT_LIMIT}",
                )
            )
        if is_int(parallelism) and parallelism > PARALLELISM_LIMIT_HIGH_COMPLETIONS:
            causes.append(
                invalid(
                    f"{path}.parallelism",
                    parallelism,
                    f"must be less than or equal to {PARALLELISM_LIMIT_HIGH_COMPLETIONS} {tail}",
                )
            )
        if is_int(max_failed) and max_failed > MAX_FAILED_INDEXES_HIGH_COMPLETIONS:
            causes.append(
                invalid(
                    f"{path}.maxFailedIndexes",
                    max_failed,
                    f"must be less than or equal to {MAX_FAILED_INDEXES_HIGH_COMPLETIONS} {tail}",
                )
            )
    return causes


def validate_job_selector(spec: dict, path: str = "spec") -> list[Cause]:
    selector = spec.get("selector")
    if selector is None:
        causes = [required(f"{path}.selector")]
    else:
        causes = validate_label_selector(selector, f"{path}.selector")
    labels = as_dict(as_dict(as_dict(spec.get("template")).get("metadata")).get("labels"))
    if (
        selector is not None
        and selector_is_valid(selector)
        and not selector_matches(selector, labels)
    ):
        causes.append(
            invalid(
                f"{path}.template.metadata.labels",
                labels,
                "`selector` does not match template `labels`",
            )
        )
    return causes


def _generated_selector(job: dict, require_prefixed: bool) -> list[Cause]:
    spec, md = as_dict(job.get("spec")), as_dict(job.get("metadata"))
    if spec.get("manualSelector") is True or spec.get("selector") is None:
        return []
    causes = [] if md.get("uid") else [required("metadata.uid")]
    labels = as_dict(as_dict(as_dict(spec.get("template")).get("metadata")).get("labels"))
    uid, name = str(md.get("uid") or ""), str(md.get("name") or "")
    expected = {LEGACY_CONTROLLER_UID: uid, LEGACY_JOB_NAME: name}
    if require_prefixed:
        expected.update({CONTROLLER_UID: uid, JOB_NAME: name})
    for key in (LEGACY_CONTROLLER_UID, LEGACY_JOB_NAME, CONTROLLER_UID, JOB_NAME):
        if key not in expected:
            continue
        lpath = f"spec.template.metadata.labels[{key}]"
        if key not in labels:
            causes.append(required(lpath, f"must be '{expected[key]}'"))
        elif labels[key] != expected[key]:
            causes.append(invalid(lpath, labels, f"must be '{expected[key]}'"))
    selector = spec["selector"]
    if selector_is_valid(selector) and not selector_matches(selector, expected):
        causes.append(invalid("spec.selector", selector, "`selector` not auto-generated"))
    return causes


def validate_job(job: dict, *, require_prefixed: bool = True) -> list[Cause]:
    spec, md = as_dict(job.get("spec")), as_dict(job.get("metadata"))
    causes = validate_object_meta(md, True, names.name_is_dns_subdomain)
    causes += _generated_selector(job, require_prefixed)
    causes += validate_job_spec(spec, "spec") + validate_job_selector(spec)
    completions, name = spec.get("completions"), md.get("name")
    if is_indexed(spec) and is_int(completions) and completions > 0 and isinstance(name, str):
        hostname = f"{name}-{completions - 1}"
        if names.dns1123_label(hostname):
            causes.append(
                invalid(
                    "metadata.name",
                    name,
                    f"will not able to create pod with invalid DNS label: {hostname}",
                )
            )
    return causes


def validate_job_update(new: dict, old: dict) -> list[Cause]:
    old_labels = as_dict(
        as_dict(as_dict(as_dict(old.get("spec")).get("template")).get("metadata")).get("labels")
    )
    # Jobs made before the prefixed labels existed keep validating without them.
    prefixed = CONTROLLER_UID in old_labels and JOB_NAME in old_labels
    causes = validate_job(new, require_prefixed=prefixed)
    causes += validate_object_meta_update(new.get("metadata"), old.get("metadata"))
    spec, old_spec = as_dict(new.get("spec")), as_dict(old.get("spec"))
    causes += _completions_update(spec, old_spec)
    for key in (
        "selector",
        "completionMode",
        "podFailurePolicy",
        "backoffLimitPerIndex",
        "managedBy",
        "successPolicy",
    ):
        if spec.get(key) != old_spec.get(key):
            causes.append(immutable(f"spec.{key}", spec.get(key)))
    template, old_template = spec.get("template"), old_spec.get("template")
    suspended = old_spec.get("suspend") is True
    never_started = not as_dict(old.get("status")).get("startTime")
    if suspended and never_started:
        old_template = _with_scheduling_of(old_template, template)
    if template != old_template:
        causes.append(immutable("spec.template", template))
    return causes


def _completions_update(spec: dict, old_spec: dict) -> list[Cause]:
    """Completions are fixed, except that an Indexed Job may scale them in step with
    parallelism (elastic Indexed Jobs)."""
    new, old = spec.get("completions"), old_spec.get("completions")
    if new == old or (is_indexed(spec) and new is None):
        return []
    if not is_indexed(spec):
        return [immutable("spec.completions", new)]
    if new != spec.get("parallelism"):
        return [
            invalid("spec.completions", new, "can only be modified in tandem with spec.parallelism")
        ]
    return []


def _with_scheduling_of(old_template: object, new_template: object) -> dict:
    """The old template with the new one's scheduling directives: a suspended Job that never
    ran may still be steered (node affinity, node selector, tolerations, labels,
    annotations, scheduling gates) before it starts."""
    old, new = copy.deepcopy(as_dict(old_template)), as_dict(new_template)
    old_spec, new_spec = as_dict(old.get("spec")), as_dict(new.get("spec"))
    for key in ("nodeSelector", "tolerations", "schedulingGates"):
        _put(old_spec, key, new_spec.get(key))
    old_affinity = as_dict(old_spec.get("affinity"))
    new_affinity = new_spec.get("affinity")
    if new_affinity is None:
        old_affinity.pop("nodeAffinity", None)
        _put(old_spec, "affinity", old_affinity or None)
    else:
        old_affinity = dict(old_affinity)
        _put(old_affinity, "nodeAffinity", as_dict(new_affinity).get("nodeAffinity"))
        _put(old_spec, "affinity", old_affinity)
    if old_spec or "spec" in old:
        old["spec"] = old_spec
    old_md, new_md = as_dict(old.get("metadata")), as_dict(new.get("metadata"))
    for key in ("labels", "annotations"):
        _put(old_md, key, new_md.get(key))
    if old_md or "metadata" in old:
        old["metadata"] = old_md
    return old


def _put(target: dict, key: str, value: object) -> None:
    if value is None:
        target.pop(key, None)
    else:
        target[key] = copy.deepcopy(value)
