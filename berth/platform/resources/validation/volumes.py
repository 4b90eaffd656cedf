"""Volume sources of pods and of PersistentVolumes.

Both count their sources the same way: the first source present is validated, every further
one is "may not specify more than 1 volume type", and none at all is "must specify a volume
type". Sources Berth cannot mount (cloud disks, iSCSI ...) are accepted as long as their
required fields are there, so manifests written for a real cluster still load. The sources
that project files (Secret, ConfigMap, downward API, projected) are checked in
``projections.py``.
"""

from __future__ import annotations

import posixpath
from collections.abc import Callable

from berth.platform.errors import Cause
from berth.platform.resources.validation import names, projections
from berth.platform.resources.validation.fields import (
    as_dict,
    as_list,
    forbidden,
    invalid,
    required,
    unsupported,
)
from berth.platform.resources.validation.meta import validate_template_meta
from berth.platform.resources.validation.projections import no_backsteps
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


def _host_path(src: dict, path: str) -> list[Cause]:
    if not src.get("path"):
        return [required(f"{path}.path")]
    causes = no_backsteps(str(src["path"]), f"{path}.path")
    kind = src.get("type")
    if kind is not None and kind not in HOST_PATH_TYPES:
        causes.append(unsupported(f"{path}.type", kind, HOST_PATH_TYPES))
    return causes


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
    "secret": projections.secret,
    "nfs": _nfs,
    "persistentVolumeClaim": _claim,
    "downwardAPI": projections.downward_api,
    "configMap": projections.config_map,
    "projected": projections.projected,
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
