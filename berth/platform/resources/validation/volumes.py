"""Volume sources of pods and of PersistentVolumes.

Both count their sources the same way: the first source present is validated, every further
one is "may not specify more than 1 volume type", and none at all is "must specify a volume
type". Sources Berth cannot mount (cloud disks, iSCSI ...) are accepted as long as their
required fields are there, so manifests written for a real cluster still load.
"""

from __future__ import annotations

import posixpath
from collections.abc import Callable

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
from berth.platform.resources.validation.meta import validate_template_meta
from berth.platform.resources.validation.resources import parse_quantity

# Order matters: it is the order Kubernetes checks them in, so "more than 1" lands on the same
# field as it would there.
POD_SOURCES = (
    "emptyDir",
    "hostPath",
    "gitRepo",
    "gcePersistentDisk",
    "awsElasticBlockStore",
    "secret",
    "nfs",
    "iscsi",
    "glusterfs",
    "flocker",
    "persistentVolumeClaim",
    "rbd",
    "cinder",
    "cephfs",
    "quobyte",
    "downwardAPI",
    "fc",
    "flexVolume",
    "configMap",
    "azureFile",
    "vsphereVolume",
    "photonPersistentDisk",
    "portworxVolume",
    "azureDisk",
    "storageos",
    "projected",
    "scaleIO",
    "csi",
    "ephemeral",
    "image",
)
PV_SOURCES = (
    "hostPath",
    "gcePersistentDisk",
    "awsElasticBlockStore",
    "glusterfs",
    "flocker",
    "nfs",
    "rbd",
    "quobyte",
    "cephfs",
    "iscsi",
    "cinder",
    "fc",
    "flexVolume",
    "azureFile",
    "vsphereVolume",
    "photonPersistentDisk",
    "portworxVolume",
    "azureDisk",
    "scaleIO",
    "local",
    "storageos",
    "csi",
)
HOST_PATH_TYPES = (
    "",
    "BlockDevice",
    "CharDevice",
    "Directory",
    "DirectoryOrCreate",
    "File",
    "FileOrCreate",
    "Socket",
)
FILE_MODE_ERROR = "must be a number between 0 and 0777 (octal), both inclusive"
DOWNWARD_VOLUME_FIELDS = (
    "metadata.annotations",
    "metadata.labels",
    "metadata.name",
    "metadata.namespace",
    "metadata.uid",
)
# Required string fields of the sources validated only for presence.
_REQUIRED_KEYS = {
    "gitRepo": ("repository",),
    "gcePersistentDisk": ("pdName",),
    "awsElasticBlockStore": ("volumeID",),
    "iscsi": ("targetPortal", "iqn"),
    "glusterfs": ("endpoints", "path"),
    "rbd": ("monitors", "image"),
    "cinder": ("volumeID",),
    "cephfs": ("monitors",),
    "quobyte": ("registry", "volume"),
    "flexVolume": ("driver",),
    "azureFile": ("secretName", "shareName"),
    "vsphereVolume": ("volumePath",),
    "photonPersistentDisk": ("pdID",),
    "portworxVolume": ("volumeID",),
    "azureDisk": ("diskName", "diskURI"),
    "storageos": ("volumeName",),
    "scaleIO": ("gateway", "system", "volumeName"),
    "image": ("reference",),
}


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


def _host_path(src: dict, path: str) -> list[Cause]:
    if not src.get("path"):
        return [required(f"{path}.path")]
    causes = no_backsteps(str(src["path"]), f"{path}.path")
    kind = src.get("type")
    if kind is not None and kind not in HOST_PATH_TYPES:
        causes.append(unsupported(f"{path}.type", kind, HOST_PATH_TYPES))
    return causes


def _secret(src: dict, path: str) -> list[Cause]:
    causes = [] if src.get("secretName") else [required(f"{path}.secretName")]
    return causes + _file_mode(src.get("defaultMode"), f"{path}.defaultMode") + _items(src, path)


def _config_map(src: dict, path: str) -> list[Cause]:
    causes = [] if src.get("name") else [required(f"{path}.name")]
    return causes + _file_mode(src.get("defaultMode"), f"{path}.defaultMode") + _items(src, path)


def _claim(src: dict, path: str) -> list[Cause]:
    return [] if src.get("claimName") else [required(f"{path}.claimName")]


def _nfs(src: dict, path: str) -> list[Cause]:
    causes = [] if src.get("server") else [required(f"{path}.server")]
    value = src.get("path")
    if not value:
        causes.append(required(f"{path}.path"))
    if not isinstance(value, str) or not posixpath.isabs(value):
        causes.append(invalid(f"{path}.path", value or "", "must be an absolute path"))
    return causes


def _empty_dir(src: dict, path: str) -> list[Cause]:
    if src.get("sizeLimit") is None:
        return []
    parsed, causes = parse_quantity(src["sizeLimit"], f"{path}.sizeLimit")
    if parsed is not None and parsed < 0:
        causes.append(
            forbidden(f"{path}.sizeLimit", "SizeLimit field must be a valid resource quantity")
        )
    return causes


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


def _downward_api(src: dict, path: str) -> list[Cause]:
    causes = _file_mode(src.get("defaultMode"), f"{path}.defaultMode")
    for item in as_list(src.get("items")):
        causes += _downward_file(as_dict(item), path)
    return causes


def _projected(src: dict, path: str) -> list[Cause]:
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


def _csi(src: dict, path: str) -> list[Cause]:
    driver = src.get("driver")
    if not driver:
        return [required(f"{path}.driver")]
    causes = [
        invalid(f"{path}.driver", driver, m) for m in names.dns1123_subdomain(str(driver).lower())
    ]
    if len(str(driver)) > 63:
        causes.append(
            Cause(f"{path}.driver", "Too long: must have at most 63 bytes", "FieldValueTooLong")
        )
    return causes


def _csi_pv(src: dict, path: str) -> list[Cause]:
    causes = _csi(src, path)
    if not src.get("volumeHandle"):
        causes.append(required(f"{path}.volumeHandle"))
    return causes


def _local(src: dict, path: str) -> list[Cause]:
    if not src.get("path"):
        return [required(f"{path}.path")]
    return no_backsteps(str(src["path"]), f"{path}.path")


def _ephemeral(
    src: dict, path: str, claim_spec_fn: Callable[[dict, str], list[Cause]]
) -> list[Cause]:
    template = src.get("volumeClaimTemplate")
    if template is None:
        return [required(f"{path}.volumeClaimTemplate")]
    template = as_dict(template)
    tpath = f"{path}.volumeClaimTemplate"
    return validate_template_meta(template.get("metadata"), f"{tpath}.metadata") + claim_spec_fn(
        as_dict(template.get("spec")), f"{tpath}.spec"
    )


def _presence(kind: str) -> Callable[[dict, str], list[Cause]]:
    def check(src: dict, path: str) -> list[Cause]:
        return [required(f"{path}.{key}") for key in _REQUIRED_KEYS[kind] if not src.get(key)]

    return check


_POD_CHECKS: dict[str, Callable[[dict, str], list[Cause]]] = {
    "emptyDir": _empty_dir,
    "hostPath": _host_path,
    "secret": _secret,
    "nfs": _nfs,
    "persistentVolumeClaim": _claim,
    "downwardAPI": _downward_api,
    "configMap": _config_map,
    "projected": _projected,
    "csi": _csi,
    **{k: _presence(k) for k in _REQUIRED_KEYS},
}
_PV_CHECKS: dict[str, Callable[[dict, str], list[Cause]]] = {
    **_POD_CHECKS,
    "csi": _csi_pv,
    "local": _local,
}


def count_sources(
    spec: dict,
    sources: tuple[str, ...],
    path: str,
    checks: dict[str, Callable[[dict, str], list[Cause]]],
) -> list[Cause]:
    causes: list[Cause] = []
    found = 0
    for kind in sources:
        if spec.get(kind) is None:
            continue
        if found:
            causes.append(forbidden(f"{path}.{kind}", "may not specify more than 1 volume type"))
            continue
        found += 1
        check = checks.get(kind)
        if check is not None:
            causes += check(as_dict(spec[kind]), f"{path}.{kind}")
    if not found:
        causes.append(required(path, "must specify a volume type"))
    return causes


def validate_volumes(
    volumes: object, path: str, claim_spec_fn: Callable[[dict, str], list[Cause]]
) -> tuple[dict[str, dict], list[Cause]]:
    """Returns the valid volumes by name (for the mounts to refer to) and the causes."""
    causes: list[Cause] = []
    by_name: dict[str, dict] = {}
    seen: set = set()
    checks = {**_POD_CHECKS, "ephemeral": lambda src, p: _ephemeral(src, p, claim_spec_fn)}
    for i, volume in enumerate(as_list(volumes)):
        volume, vpath = as_dict(volume), f"{path}[{i}]"
        errs = count_sources(volume, POD_SOURCES, vpath, checks)
        name = volume.get("name")
        if not name:
            errs.append(required(f"{vpath}.name"))
        elif not isinstance(name, str):
            errs.append(invalid(f"{vpath}.name", name, "must be a string"))
        else:
            errs += [invalid(f"{vpath}.name", name, m) for m in names.dns1123_label(name)]
        if isinstance(name, str) and name in seen:
            errs.append(Cause(f"{vpath}.name", f'Duplicate value: "{name}"', "FieldValueDuplicate"))
        if errs:
            causes += errs
        elif isinstance(name, str):  # always, with no errors
            seen.add(name)
            by_name[name] = volume
    return by_name, causes


def validate_pv_sources(spec: dict, path: str) -> list[Cause]:
    return count_sources(spec, PV_SOURCES, path, _PV_CHECKS)
