"""What may change in a running Pod: images, a shorter deadline, added tolerations — and in
its status, nothing that would rewrite history."""

from __future__ import annotations

import copy

from berth.platform.errors import Cause
from berth.platform.resources.validation import names
from berth.platform.resources.validation.fields import (
    as_dict,
    as_list,
    forbidden,
    immutable,
    invalid,
    is_int,
    key_of,
    required,
)
from berth.platform.resources.validation.meta import validate_object_meta_update
from berth.platform.resources.validation.pod import validate_pod
from berth.platform.resources.validation.scheduling import validate_tolerations

UPDATABLE_POD_FIELDS = (
    "`spec.containers[*].image`",
    "`spec.initContainers[*].image`",
    "`spec.activeDeadlineSeconds`",
    "`spec.tolerations` (only additions to existing tolerations)",
    "`spec.terminationGracePeriodSeconds` (allow it to be set to 1 if it was previously negative)",
)
SYSTEM_CONDITIONS = frozenset({"PodScheduled", "Ready", "Initialized"})


def validate_pod_update(new: dict, old: dict) -> list[Cause]:
    causes = validate_object_meta_update(new.get("metadata"), old.get("metadata"))
    causes += validate_pod(new)
    new_spec, old_spec = as_dict(new.get("spec")), as_dict(old.get("spec"))
    for kind in ("containers", "initContainers"):
        errs, stop = _container_updates(
            as_list(new_spec.get(kind)), as_list(old_spec.get(kind)), f"spec.{kind}"
        )
        causes += errs
        if stop:
            return causes
    new_deadline = new_spec.get("activeDeadlineSeconds")
    old_deadline = old_spec.get("activeDeadlineSeconds")
    if new_deadline is not None:
        if not is_int(new_deadline) or not 0 <= new_deadline <= names.MAX_INT32:
            return causes + [
                invalid(
                    "spec.activeDeadlineSeconds",
                    new_deadline,
                    names.inclusive_range_error(0, names.MAX_INT32),
                )
            ]
        if is_int(old_deadline) and old_deadline < new_deadline:
            return causes + [
                invalid(
                    "spec.activeDeadlineSeconds",
                    new_deadline,
                    "must be less than or equal to previous value",
                )
            ]
    elif old_deadline is not None:
        causes.append(
            invalid(
                "spec.activeDeadlineSeconds",
                None,
                "must not update from a positive integer to nil value",
            )
        )
    causes += _only_added_tolerations(
        as_list(new_spec.get("tolerations")), as_list(old_spec.get("tolerations"))
    )
    causes += _only_deleted_gates(
        as_list(new_spec.get("schedulingGates")), as_list(old_spec.get("schedulingGates"))
    )
    if new_spec == old_spec:
        return causes
    munged = _munge(new_spec, old_spec)
    if munged != old_spec:
        diff = "\n".join(_diff(old_spec, munged, "spec"))
        causes.append(
            forbidden(
                "spec",
                "pod updates may not change fields other than "
                + ",".join(UPDATABLE_POD_FIELDS)
                + "\n"
                + diff,
            )
        )
    return causes


def _container_updates(new: list, old: list, path: str) -> tuple[list[Cause], bool]:
    if len(new) != len(old):
        return [forbidden(path, "pod updates may not add or remove containers")], True
    causes: list[Cause] = []
    for i, c in enumerate(new):
        image = as_dict(c).get("image")
        if not image:
            causes.append(required(f"{path}[{i}].image"))
    return causes, False


def _munge(new_spec: dict, old_spec: dict) -> dict:
    """The new spec with every field a user may change put back to its old value."""
    munged = copy.deepcopy(new_spec)
    for kind in ("containers", "initContainers"):
        # The new list may be longer or shorter: only the pairs both have are munged.
        for c, before in zip(as_list(munged.get(kind)), as_list(old_spec.get(kind)), strict=False):
            if isinstance(c, dict) and isinstance(before, dict):
                _put(c, "image", before.get("image"))
    for key in ("activeDeadlineSeconds", "tolerations", "schedulingGates"):
        _put(munged, key, old_spec.get(key))
    old_grace = old_spec.get("terminationGracePeriodSeconds")
    if is_int(old_grace) and old_grace < 0 and munged.get("terminationGracePeriodSeconds") == 1:
        munged["terminationGracePeriodSeconds"] = old_grace
    if as_list(old_spec.get("schedulingGates")):
        # A gated pod may gain node selector terms and affinity before it is scheduled.
        _put(munged, "nodeSelector", old_spec.get("nodeSelector"))
        affinity = as_dict(munged.get("affinity"))
        if "nodeAffinity" in affinity or "nodeAffinity" in as_dict(old_spec.get("affinity")):
            old_affinity = copy.deepcopy(as_dict(old_spec.get("affinity")))
            for key in ("podAffinity", "podAntiAffinity"):
                _put(old_affinity, key, affinity.get(key))
            _put(munged, "affinity", old_affinity or None)
    return munged


def _put(target: dict, key: str, value: object) -> None:
    if value is None:
        target.pop(key, None)
    else:
        target[key] = copy.deepcopy(value)


def _diff(old: object, new: object, path: str) -> list[str]:
    """A short, readable account of what differs (Kubernetes prints a go-cmp diff here)."""
    if isinstance(old, dict) and isinstance(new, dict):
        out: list[str] = []
        for key in sorted(set(old) | set(new)):
            out += _diff(old.get(key), new.get(key), f"{path}.{key}")
        return out
    if isinstance(old, list) and isinstance(new, list) and len(old) == len(new):
        out = []
        for i, (a, b) in enumerate(zip(old, new, strict=True)):
            out += _diff(a, b, f"{path}[{i}]")
        return out
    return [] if old == new else [f"  {path}: {old!r} -> {new!r}"]


def _only_added_tolerations(new: list, old: list) -> list[Cause]:
    def without_seconds(t: object) -> dict:
        return {k: v for k, v in as_dict(t).items() if k != "tolerationSeconds"}

    kept = [without_seconds(t) for t in new]
    for t in old:
        if without_seconds(t) not in kept:
            return [
                forbidden(
                    "spec.tolerations",
                    "existing toleration can not be modified except its tolerationSeconds",
                )
            ]
    return validate_tolerations(new, "spec.tolerations")


def _only_deleted_gates(new: list, old: list) -> list[Cause]:
    old_names = {key_of(as_dict(g).get("name")) for g in old}
    return [
        forbidden(
            f"spec.schedulingGates[{i}].name",
            f"only deletion is allowed, but found new scheduling gate '{as_dict(g).get('name')}'",
        )
        for i, g in enumerate(new)
        if key_of(as_dict(g).get("name")) not in old_names
    ]


def validate_pod_status_update(new: dict, old: dict) -> list[Cause]:
    causes = validate_object_meta_update(new.get("metadata"), old.get("metadata"))
    new_status, old_status = as_dict(new.get("status")), as_dict(old.get("status"))
    for i, cond in enumerate(as_list(new_status.get("conditions"))):
        ctype = str(as_dict(cond).get("type") or "")
        if ctype not in SYSTEM_CONDITIONS:
            causes += [
                invalid(f"metadata.conditions[{i}].Type", ctype, m)
                for m in names.qualified_name(ctype)
            ]
    if as_dict(new.get("spec")).get("nodeName") != as_dict(old.get("spec")).get("nodeName"):
        causes.append(forbidden("status.nodeName", "may not be changed directly"))
    if (new_status.get("qosClass") or "") != (old_status.get("qosClass") or ""):
        causes.append(immutable("status.qosClass", new_status.get("qosClass") or ""))
    restart = as_dict(old.get("spec")).get("restartPolicy")
    for kind in ("containerStatuses", "initContainerStatuses"):
        causes += _state_transitions(
            as_list(new_status.get(kind)), as_list(old_status.get(kind)), f"status.{kind}", restart
        )
    return causes


def _state_transitions(new: list, old: list, path: str, restart: object) -> list[Cause]:
    """A container that ended for good may not be reported as running again."""
    if restart == "Always":
        return []
    causes: list[Cause] = []
    for i, before in enumerate(old):
        before = as_dict(before)
        ended = as_dict(as_dict(before.get("state")).get("terminated"))
        if not ended:
            continue
        if ended.get("exitCode", 0) != 0 and restart == "OnFailure":
            continue
        for after in new:
            after = as_dict(after)
            if (
                after.get("name") == before.get("name")
                and as_dict(after.get("state")).get("terminated") is None
            ):
                causes.append(
                    forbidden(
                        f"{path}[{i}].state", "may not be transitioned to non-terminated state"
                    )
                )
    return causes
