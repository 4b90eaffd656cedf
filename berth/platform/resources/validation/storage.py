"""PersistentVolumes, PersistentVolumeClaims and StorageClasses."""

from __future__ import annotations

import copy
import posixpath

from berth.platform.errors import Cause
from berth.platform.resources.validation import names
from berth.platform.resources.validation.fields import (
    as_dict,
    as_list,
    forbidden,
    immutable,
    invalid,
    required,
    unsupported,
)
from berth.platform.resources.validation.meta import (
    validate_label_selector,
    validate_object_meta,
    validate_object_meta_update,
)
from berth.platform.resources.validation.resources import parse_quantity, validate_quantity_value
from berth.platform.resources.validation.scheduling import validate_node_selector
from berth.platform.resources.validation.volumes import PV_SOURCES, validate_pv_sources

ACCESS_MODES = ("ReadOnlyMany", "ReadWriteMany", "ReadWriteOnce", "ReadWriteOncePod")
RECLAIM_POLICIES = ("Delete", "Recycle", "Retain")
VOLUME_MODES = ("Block", "Filesystem")
CLASS_RECLAIM_POLICIES = ("Delete", "Retain")
BINDING_MODES = ("Immediate", "WaitForFirstConsumer")
MAX_PARAMETERS = 512
MAX_PARAMETER_BYTES = 256 * 1024


def _access_modes(modes: object, path: str, empty_detail: str) -> list[Cause]:
    modes = as_list(modes)
    causes = [required(path, empty_detail)] if not modes else []
    for mode in modes:
        if mode not in ACCESS_MODES:
            causes.append(unsupported(path, mode, ACCESS_MODES))
    known = [m for m in modes if m in ACCESS_MODES]
    if "ReadWriteOncePod" in known and any(m != "ReadWriteOncePod" for m in known):
        causes.append(forbidden(path, "may not use ReadWriteOncePod with other access modes"))
    return causes


def _class_name(value: object, path: str) -> list[Cause]:
    if not value:
        return []
    return [invalid(path, value, m) for m in names.name_is_dns_subdomain(str(value))]


def _positive_quantity(value: object, path: str) -> list[Cause]:
    parsed, causes = parse_quantity(value, path)
    if parsed is not None and parsed <= 0:
        causes.append(invalid(path, str(value), "must be greater than zero"))
    return causes


def validate_pv_spec(spec: object, path: str = "spec") -> list[Cause]:
    spec = as_dict(spec)
    causes = _access_modes(spec.get("accessModes"), f"{path}.accessModes", "")
    capacity = as_dict(spec.get("capacity"))
    if not capacity:
        causes.append(required(f"{path}.capacity"))
    if "storage" not in capacity or len(capacity) > 1:
        causes.append(unsupported(f"{path}.capacity", capacity, ("storage",)))
    for name, value in capacity.items():
        causes += _positive_quantity(value, f"{path}.capacity[{name}]")
    policy = spec.get("persistentVolumeReclaimPolicy")
    if policy and policy not in RECLAIM_POLICIES:
        causes.append(
            unsupported(f"{path}.persistentVolumeReclaimPolicy", policy, RECLAIM_POLICIES)
        )
    node_affinity = spec.get("nodeAffinity")
    has_affinity = False
    if node_affinity is not None:
        required_terms = as_dict(node_affinity).get("required")
        if required_terms is not None:
            has_affinity = True
            causes += validate_node_selector(
                as_dict(required_terms), f"{path}.nodeAffinity.required"
            )
        else:
            causes.append(
                required(f"{path}.nodeAffinity.required", "must specify required node constraints")
            )
    causes += validate_pv_sources(spec, path)
    if spec.get("local") is not None and not has_affinity:
        causes.append(required(f"{path}.nodeAffinity", "Local volume requires node affinity"))
    host_path = as_dict(spec.get("hostPath")).get("path")
    if (
        isinstance(host_path, str)
        and host_path
        and posixpath.normpath(host_path) in ("/", "//")
        and policy == "Recycle"
    ):
        causes.append(
            forbidden(
                f"{path}.persistentVolumeReclaimPolicy",
                "may not be 'recycle' for a hostPath mount of '/'",
            )
        )
    causes += _class_name(spec.get("storageClassName"), f"{path}.storageClassName")
    mode = spec.get("volumeMode")
    if mode is not None and mode not in VOLUME_MODES:
        causes.append(unsupported(f"{path}.volumeMode", mode, VOLUME_MODES))
    return causes


def validate_pv(pv: dict) -> list[Cause]:
    return validate_object_meta(
        pv.get("metadata"), False, names.name_is_dns_subdomain
    ) + validate_pv_spec(pv.get("spec"))


def validate_pv_update(new: dict, old: dict) -> list[Cause]:
    causes = validate_object_meta_update(new.get("metadata"), old.get("metadata"))
    causes += validate_pv(new)
    new_spec, old_spec = as_dict(new.get("spec")), as_dict(old.get("spec"))
    new_sources = {k: new_spec.get(k) for k in PV_SOURCES if new_spec.get(k) is not None}
    old_sources = {k: old_spec.get(k) for k in PV_SOURCES if old_spec.get(k) is not None}
    if new_sources != old_sources:
        causes.append(
            forbidden(
                "spec.persistentvolumesource",
                "spec.persistentvolumesource is immutable after creation",
            )
        )
    if new_spec.get("volumeMode") != old_spec.get("volumeMode"):
        causes.append(immutable("volumeMode", new_spec.get("volumeMode")))
    if old_spec.get("nodeAffinity") is not None and new_spec.get("nodeAffinity") != old_spec.get(
        "nodeAffinity"
    ):
        causes.append(immutable("nodeAffinity", new_spec.get("nodeAffinity")))
    return causes


def validate_pvc_spec(spec: dict, path: str) -> list[Cause]:
    causes = _access_modes(
        spec.get("accessModes"), f"{path}.accessModes", "at least 1 access mode is required"
    )
    causes += validate_label_selector(spec.get("selector"), f"{path}.selector")
    requests = as_dict(as_dict(spec.get("resources")).get("requests"))
    # Kubernetes names this field "resources[storage]", not "resources.requests[storage]".
    storage_path = f"{path}.resources[storage]"
    if "storage" not in requests:
        causes.append(required(storage_path))
    else:
        errs = _positive_quantity(requests["storage"], storage_path)
        causes += errs or validate_quantity_value("storage", requests["storage"], storage_path)[1]
    causes += _class_name(spec.get("storageClassName"), f"{path}.storageClassName")
    mode = spec.get("volumeMode")
    if mode is not None and mode not in VOLUME_MODES:
        causes.append(unsupported(f"{path}.volumeMode", mode, VOLUME_MODES))
    for kind in ("dataSource", "dataSourceRef"):
        if spec.get(kind) is not None:
            causes += _data_source(as_dict(spec[kind]), f"{path}.{kind}")
    return causes


def _data_source(ref: dict, path: str) -> list[Cause]:
    causes = [] if ref.get("name") else [required(f"{path}.name")]
    if not ref.get("kind"):
        causes.append(required(f"{path}.kind"))
    group = ref.get("apiGroup") or ""
    if not group and ref.get("kind") != "PersistentVolumeClaim":
        causes.append(
            invalid(
                path,
                ref.get("kind") or "",
                "must be 'PersistentVolumeClaim' when referencing the default apiGroup",
            )
        )
    if group:
        causes += [invalid(f"{path}.apiGroup", group, m) for m in names.dns1123_subdomain(group)]
    return causes


def validate_pvc(pvc: dict) -> list[Cause]:
    return validate_object_meta(
        pvc.get("metadata"), True, names.name_is_dns_subdomain
    ) + validate_pvc_spec(as_dict(pvc.get("spec")), "spec")


def validate_pvc_update(new: dict, old: dict) -> list[Cause]:
    """A claim's spec is fixed, except that the binder fills ``volumeName`` once, a missing
    class may be set, and a bound claim may ask for more storage (never less)."""
    causes = validate_object_meta_update(new.get("metadata"), old.get("metadata"))
    causes += validate_pvc(new)
    new_spec, old_spec = as_dict(new.get("spec")), as_dict(old.get("spec"))
    new_clone, old_clone = copy.deepcopy(new_spec), copy.deepcopy(old_spec)
    if not old_spec.get("volumeName"):
        _set(old_clone, "volumeName", new_spec.get("volumeName"))
    if old_spec.get("storageClassName") is None:
        _set(old_clone, "storageClassName", new_spec.get("storageClassName"))
    bound = as_dict(new.get("status")).get("phase") == "Bound"
    old_storage = as_dict(as_dict(old_spec.get("resources")).get("requests")).get("storage")
    if bound and isinstance(as_dict(new_clone.get("resources")).get("requests"), dict):
        _set(new_clone["resources"]["requests"], "storage", old_storage)
    if new_clone != old_clone:
        causes.append(
            forbidden(
                "spec",
                "spec is immutable after creation except "
                "resources.requests and volumeAttributesClassName for bound "
                "claims",
            )
        )
    new_storage = as_dict(as_dict(new_spec.get("resources")).get("requests")).get("storage")
    old_q, _ = parse_quantity(old_storage, "")
    new_q, _ = parse_quantity(new_storage, "")
    if old_q is not None and new_q is not None and new_q < old_q:
        causes.append(
            forbidden(
                "spec.resources.requests.storage", "field can not be less than previous value"
            )
        )
    if new_spec.get("volumeMode") != old_spec.get("volumeMode"):
        causes.append(immutable("volumeMode", new_spec.get("volumeMode")))
    return causes


def _set(target: dict, key: str, value: object) -> None:
    if value is None:
        target.pop(key, None)
    else:
        target[key] = value


def validate_storage_class(sc: dict) -> list[Cause]:
    causes = validate_object_meta(sc.get("metadata"), False, names.name_is_dns_subdomain)
    provisioner = sc.get("provisioner")
    if not provisioner:
        causes.append(required("provisioner"))
    else:
        causes += [
            invalid("provisioner", str(provisioner).lower(), m)
            for m in names.qualified_name(str(provisioner).lower())
        ]
    params = sc.get("parameters")
    if params is not None:
        params = as_dict(params)
        if len(params) > MAX_PARAMETERS:
            causes.append(
                Cause(
                    "parameters",
                    f"Too long: must have at most {MAX_PARAMETERS} bytes",
                    "FieldValueTooLong",
                )
            )
        size = 0
        for key, value in params.items():
            if not key:
                causes.append(invalid("parameters", key, "field can not be empty."))
            if not isinstance(value, str):
                causes.append(invalid(f"parameters[{key}]", value, "must be a string"))
                continue
            size += len(key) + len(value)
        if size > MAX_PARAMETER_BYTES:
            causes.append(
                Cause(
                    "parameters",
                    f"Too long: must have at most {MAX_PARAMETER_BYTES} bytes",
                    "FieldValueTooLong",
                )
            )
    policy = sc.get("reclaimPolicy")
    if policy and policy not in CLASS_RECLAIM_POLICIES:
        causes.append(unsupported("reclaimPolicy", policy, CLASS_RECLAIM_POLICIES))
    mode = sc.get("volumeBindingMode")
    if mode is None:
        causes.append(required("volumeBindingMode"))
    elif mode not in BINDING_MODES:
        causes.append(unsupported("volumeBindingMode", mode, BINDING_MODES))
    return causes


def validate_storage_class_update(new: dict, old: dict) -> list[Cause]:
    causes = validate_object_meta_update(new.get("metadata"), old.get("metadata"))
    causes += validate_storage_class(new)
    if (new.get("parameters") or {}) != (old.get("parameters") or {}):
        causes.append(forbidden("parameters", "updates to parameters are forbidden."))
    if new.get("provisioner") != old.get("provisioner"):
        causes.append(forbidden("provisioner", "updates to provisioner are forbidden."))
    if new.get("reclaimPolicy") != old.get("reclaimPolicy"):
        causes.append(forbidden("reclaimPolicy", "updates to reclaimPolicy are forbidden."))
    if new.get("volumeBindingMode") != old.get("volumeBindingMode"):
        causes.append(immutable("volumeBindingMode", new.get("volumeBindingMode")))
    return causes
