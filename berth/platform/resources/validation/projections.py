"""Volumes that project files into a pod: Secret, ConfigMap, downward API and projected
volumes, with their items' paths (relative, never through ``..``) and file modes; and the
downward API's field selector, which env vars use as well.
"""

from __future__ import annotations

from berth.platform.errors import Cause
from berth.platform.resources.validation import names
from berth.platform.resources.validation.fields import (
    as_dict,
    as_list,
    forbidden,
    invalid,
    required,
    unsupported,
)

FILE_MODE_ERROR = "must be a number between 0 and 0777 (octal), both inclusive"
DOWNWARD_VOLUME_FIELDS = (
    "metadata.annotations",
    "metadata.labels",
    "metadata.name",
    "metadata.namespace",
    "metadata.uid",
)


def no_backsteps(value: str, path: str) -> list[Cause]:
    if ".." in value.replace("\\", "/").split("/"):
        return [invalid(path, value, "must not contain '..'")]
    return []


def local_descending_path(value: str, path: str) -> list[Cause]:
    causes = [invalid(path, value, "must be a relative path")] if value.startswith("/") else []
    return causes + no_backsteps(value, path)


def local_non_reserved_path(value: str, path: str) -> list[Cause]:
    causes = local_descending_path(value, path)
    if value.startswith("..") and not value.startswith("../"):
        causes.append(invalid(path, value, "must not start with '..'"))
    return causes


def _file_mode(value: object, path: str) -> list[Cause]:
    if value is None:
        return []
    if not isinstance(value, int) or isinstance(value, bool) or not 0 <= value <= 0o777:
        return [invalid(path, value, FILE_MODE_ERROR)]
    return []


def _key_to_path(item: dict, path: str) -> list[Cause]:
    causes = []
    if not item.get("key"):
        causes.append(required(f"{path}.key"))
    if not item.get("path"):
        causes.append(required(f"{path}.path"))
    causes += local_non_reserved_path(str(item.get("path") or ""), f"{path}.path")
    return causes + _file_mode(item.get("mode"), f"{path}.mode")


def _items(source: dict, path: str) -> list[Cause]:
    causes = []
    for i, item in enumerate(as_list(source.get("items"))):
        causes += _key_to_path(as_dict(item), f"{path}.items[{i}]")
    return causes


def secret(src: dict, path: str) -> list[Cause]:
    causes = [] if src.get("secretName") else [required(f"{path}.secretName")]
    return causes + _file_mode(src.get("defaultMode"), f"{path}.defaultMode") + _items(src, path)


def config_map(src: dict, path: str) -> list[Cause]:
    causes = [] if src.get("name") else [required(f"{path}.name")]
    return causes + _file_mode(src.get("defaultMode"), f"{path}.defaultMode") + _items(src, path)


def _downward_file(item: dict, path: str) -> list[Cause]:
    causes = [] if item.get("path") else [required(f"{path}.path")]
    causes += local_non_reserved_path(str(item.get("path") or ""), f"{path}.path")
    if item.get("fieldRef") is not None:
        causes += field_selector(
            as_dict(item["fieldRef"]), DOWNWARD_VOLUME_FIELDS, f"{path}.fieldRef"
        )
        if item.get("resourceFieldRef") is not None:
            causes.append(
                invalid(
                    path,
                    "resource",
                    "fieldRef and resourceFieldRef can not be specified simultaneously",
                )
            )
    elif item.get("resourceFieldRef") is not None:
        ref = as_dict(item["resourceFieldRef"])
        if not ref.get("containerName"):
            causes.append(required(f"{path}.resourceFieldRef.containerName"))
        elif not ref.get("resource"):
            causes.append(required(f"{path}.resourceFieldRef.resource"))
    else:
        causes.append(required(path, "one of fieldRef and resourceFieldRef is required"))
    return causes + _file_mode(item.get("mode"), f"{path}.mode")


def field_selector(ref: dict, allowed: tuple[str, ...], path: str) -> list[Cause]:
    """``ObjectFieldSelector`` (downward API), for env vars and volume files."""
    if not ref.get("apiVersion"):
        return [required(f"{path}.apiVersion")]
    field_path = ref.get("fieldPath")
    if not field_path:
        return [required(f"{path}.fieldPath")]
    if not isinstance(field_path, str):
        return [invalid(f"{path}.fieldPath", field_path, "must be a string")]
    base, _, subscript = field_path.partition("[")
    if subscript:
        key = subscript.rstrip("]").strip("'\"")
        if base in ("metadata.annotations", "metadata.labels"):
            key = key.lower() if base == "metadata.annotations" else key
            return [invalid(path, key, m) for m in names.qualified_name(key)]
        return [invalid(path, base, "does not support subscript")]
    if field_path not in allowed:
        return [unsupported(f"{path}.fieldPath", field_path, sorted(allowed))]
    return []


def downward_api(src: dict, path: str) -> list[Cause]:
    causes = _file_mode(src.get("defaultMode"), f"{path}.defaultMode")
    for item in as_list(src.get("items")):
        causes += _downward_file(as_dict(item), path)
    return causes


def projected(src: dict, path: str) -> list[Cause]:
    causes = _file_mode(src.get("defaultMode"), f"{path}.defaultMode")
    seen: set[str] = set()
    for i, source in enumerate(as_list(src.get("sources"))):
        source, spath = as_dict(source), f"{path}.sources[{i}]"
        present = [
            k
            for k in (
                "secret",
                "configMap",
                "downwardAPI",
                "serviceAccountToken",
                "clusterTrustBundle",
                "podCertificate",
            )
            if source.get(k) is not None
        ]
        for kind in ("secret", "configMap"):
            if kind in present:
                sub = as_dict(source[kind])
                if not sub.get("name"):
                    causes.append(required(f"{spath}.{kind}.name"))
                causes += _items(sub, f"{spath}.{kind}")
                for item in as_list(sub.get("items")):
                    causes += _unique_path(as_dict(item).get("path"), seen, path, sub.get("name"))
        if "downwardAPI" in present:
            for item in as_list(as_dict(source["downwardAPI"]).get("items")):
                causes += _downward_file(as_dict(item), f"{spath}.downwardAPI")
        if "serviceAccountToken" in present:
            token = as_dict(source["serviceAccountToken"])
            if not token.get("path"):
                causes.append(required(f"{path}.path"))
        if len(present) > 1:
            causes.append(forbidden(spath, "may not specify more than 1 volume type per source"))
    return causes


def _unique_path(value: object, seen: set[str], path: str, shown: object) -> list[Cause]:
    if not isinstance(value, str) or not value:
        return []
    if value in seen:
        return [invalid(path, shown or "", "conflicting duplicate paths")]
    seen.add(value)
    return []
