"""The runtime bundle: what a pod needs from the store, resolved before it reaches its node.

The agent has no store access. Whoever calls ``NodeAgent.sync`` passes, with each pod, a
bundle built here from lookups it supplies::

    {
      "env": {"<container>": [["NAME", "value"], ...]},   # every container, init ones too:
                                                         # envFrom first, then env, in order,
                                                         # valueFrom resolved ($(VAR) is not:
                                                         # the agent expands it)
      "volumes": {
        "<volume>": {"hostPath": "/dir/on/node", "readOnly": bool},
                                                         # persistentVolumeClaim (readOnly:
                                                         # the volume's, or a ReadOnlyMany
                                                         # claim's)
        "<volume>": {"files": {"rel/path": {"data": bytes, "mode": 0o644}}},
                                                         # configMap, secret, downwardAPI,
                                                         # projected
      },
      "waiting": {"reason": ..., "message": ...},        # only when something is missing:
                                                         # the pod waits, as in Kubernetes
    }

emptyDir and hostPath volumes need nothing here: the agent makes them from the pod spec.
Lookups: ``configmap(namespace, name)`` and ``secret(namespace, name)`` return the object as on
the wire (``data`` of a Secret base64-encoded) or None; ``claim_path(namespace, claim)`` the
node directory of a bound claim or None; ``claim(namespace, name)`` (optional) the claim
object, whose access modes can make its mount read-only.
"""

from __future__ import annotations

import base64
import math
import re
from collections.abc import Callable

from berth.platform.resources import quantity

Lookup = Callable[[str, str], "dict | None"]
PathLookup = Callable[[str, str], "str | None"]  # (namespace, claim) -> a host path
_ENV_NAME = re.compile(r"^[-._a-zA-Z][-._a-zA-Z0-9]*$")
_SUBSCRIPT = re.compile(r"^metadata\.(labels|annotations)\['(.+)'\]$")
DEFAULT_MODE = 0o644


class Missing(Exception):
    """Something the pod refers to is not there: ``reason`` and ``message`` as the kubelet."""

    def __init__(self, reason: str, message: str):
        super().__init__(message)
        self.reason, self.message = reason, message


def _data(obj: dict, secret: bool) -> dict[str, bytes]:
    out: dict[str, bytes] = {}
    if secret:
        for key, value in (obj.get("data") or {}).items():
            out[key] = base64.b64decode(value or "")
        for key, value in (obj.get("stringData") or {}).items():
            out[key] = value.encode()
    else:
        for key, value in (obj.get("data") or {}).items():
            out[key] = (value or "").encode()
        for key, value in (obj.get("binaryData") or {}).items():
            out[key] = base64.b64decode(value or "")
    return out


def field_value(pod: dict, path: str, host_ip: str) -> str:
    """A downward-API ``fieldRef``: ``metadata.name``, ``metadata.labels['x']`` ..."""
    meta, spec = pod.get("metadata") or {}, pod.get("spec") or {}
    match = _SUBSCRIPT.match(path)
    if match:
        return (meta.get(match.group(1)) or {}).get(match.group(2), "")
    if path in ("metadata.labels", "metadata.annotations"):
        items = meta.get(path.split(".")[1]) or {}
        return "\n".join(f'{k}="{v}"' for k, v in sorted(items.items()))
    simple = {
        "metadata.name": meta.get("name"),
        "metadata.namespace": meta.get("namespace"),
        "metadata.uid": meta.get("uid"),
        "spec.nodeName": spec.get("nodeName"),
        "spec.serviceAccountName": spec.get("serviceAccountName") or "default",
        "status.hostIP": host_ip,
        "status.hostIPs": host_ip,
        "status.podIP": host_ip,
        "status.podIPs": host_ip,
    }
    if path not in simple:
        raise Missing("CreateContainerConfigError", f"unsupported fieldRef: {path}")
    return simple[path] or ""


def resource_value(
    pod: dict, container: dict | None, ref: dict, allocatable: dict[str, str]
) -> str:
    """A ``resourceFieldRef``: the container's limit or request over ``divisor``, rounded
    up; an unset limit is the node's allocatable amount, as in Kubernetes."""
    name = ref.get("containerName")
    if name:
        containers = ((pod.get("spec") or {}).get("containers") or []) + (
            (pod.get("spec") or {}).get("initContainers") or []
        )
        container = next((c for c in containers if c.get("name") == name), None)
    kind, _, resource = (ref.get("resource") or "").partition(".")
    res = (container or {}).get("resources") or {}
    value = (res.get(kind) or {}).get(resource)
    if value is None and kind == "requests":
        value = (res.get("limits") or {}).get(resource)
    if value is None:
        value = allocatable.get(resource, "0")
    divisor = quantity.parse(ref.get("divisor") or "1")
    return str(math.ceil(quantity.parse(value) / divisor))


def _key_of(
    kind: str, namespace: str, name: str, key: str, lookup: Lookup, optional: bool
) -> str | None:
    obj = lookup(namespace, name)
    if obj is None:
        if optional:
            return None
        raise Missing("CreateContainerConfigError", f'{kind.lower()} "{name}" not found')
    data = _data(obj, secret=kind == "Secret")
    if key not in data:
        if optional:
            return None
        raise Missing(
            "CreateContainerConfigError", f"couldn't find key {key} in {kind} {namespace}/{name}"
        )
    return data[key].decode("utf-8", errors="replace")


def container_env(
    pod: dict,
    container: dict,
    *,
    configmap: Lookup,
    secret: Lookup,
    host_ip: str = "",
    allocatable: dict[str, str] | None = None,
) -> list[list[str]]:
    namespace = (pod.get("metadata") or {}).get("namespace", "")
    pairs: list[list[str]] = []
    for source in container.get("envFrom") or []:
        prefix = source.get("prefix") or ""
        for kind, ref in (
            ("ConfigMap", source.get("configMapRef")),
            ("Secret", source.get("secretRef")),
        ):
            if not ref:
                continue
            obj = (configmap if kind == "ConfigMap" else secret)(namespace, ref.get("name", ""))
            if obj is None:
                if ref.get("optional"):
                    continue
                raise Missing(
                    "CreateContainerConfigError",
                    f'{kind.lower()} "{ref.get("name", "")}" not found',
                )
            for key, data in sorted(_data(obj, secret=kind == "Secret").items()):
                if _ENV_NAME.match(prefix + key):
                    pairs.append([prefix + key, data.decode("utf-8", errors="replace")])
    for var in container.get("env") or []:
        source = var.get("valueFrom")
        if not source:
            pairs.append([var["name"], str(var.get("value", ""))])
            continue
        value: str | None
        if "fieldRef" in source:
            value = field_value(pod, source["fieldRef"].get("fieldPath", ""), host_ip)
        elif "resourceFieldRef" in source:
            value = resource_value(pod, container, source["resourceFieldRef"], allocatable or {})
        elif "configMapKeyRef" in source or "secretKeyRef" in source:
            kind = "ConfigMap" if "configMapKeyRef" in source else "Secret"
            ref = source.get("configMapKeyRef") or source.get("secretKeyRef") or {}
            value = _key_of(
                kind,
                namespace,
                ref.get("name", ""),
                ref.get("key", ""),
                configmap if kind == "ConfigMap" else secret,
                bool(ref.get("optional")),
            )
        else:
            value = ""
        if value is not None:
            pairs.append([var["name"], value])
    return pairs


def _files_from(
    kind: str, pod: dict, spec: dict, lookup: Lookup, default_mode: int, volume: str
) -> dict[str, dict] | None:
    namespace = (pod.get("metadata") or {}).get("namespace", "")
    name = (spec.get("secretName") if kind == "Secret" else None) or spec.get("name")
    obj = lookup(namespace, name or "")
    if obj is None:
        if spec.get("optional"):
            return {}
        raise Missing(
            "ContainerCreating",
            f'MountVolume.SetUp failed for volume "{volume}" : {kind.lower()} "{name}" not found',
        )
    data = _data(obj, secret=kind == "Secret")
    mode = spec.get("defaultMode", default_mode)
    items = spec.get("items")
    if not items:
        return {key: {"data": value, "mode": mode} for key, value in data.items()}
    files = {}
    for item in items:
        if item.get("key") not in data:
            if spec.get("optional"):
                continue
            raise Missing(
                "ContainerCreating",
                f'MountVolume.SetUp failed for volume "{volume}" : configmap '
                f"references non-existent config key: {item.get('key')}"
                if kind == "ConfigMap"
                else f'MountVolume.SetUp failed for volume "{volume}" : references '
                f"non-existent secret key: {item.get('key')}",
            )
        files[item["path"]] = {"data": data[item["key"]], "mode": item.get("mode", mode)}
    return files


def _downward_files(
    pod: dict, items: list[dict], mode: int, host_ip: str, allocatable: dict[str, str]
) -> dict[str, dict]:
    files = {}
    for item in items:
        if "fieldRef" in item:
            value = field_value(pod, item["fieldRef"].get("fieldPath", ""), host_ip)
        else:
            value = resource_value(pod, None, item.get("resourceFieldRef") or {}, allocatable)
        files[item["path"]] = {"data": value.encode(), "mode": item.get("mode", mode)}
    return files


def volume_content(
    pod: dict,
    volume: dict,
    *,
    configmap: Lookup,
    secret: Lookup,
    claim_path: PathLookup,
    host_ip: str = "",
    allocatable: dict[str, str] | None = None,
    claim_object: Lookup | None = None,
) -> dict | None:
    """The bundle entry of one volume, or None for the kinds the agent makes itself."""
    name = volume.get("name", "")
    namespace = (pod.get("metadata") or {}).get("namespace", "")
    allocatable = allocatable or {}
    if "configMap" in volume:
        return {
            "files": _files_from(
                "ConfigMap", pod, volume["configMap"] or {}, configmap, DEFAULT_MODE, name
            )
        }
    if "secret" in volume:
        return {
            "files": _files_from("Secret", pod, volume["secret"] or {}, secret, DEFAULT_MODE, name)
        }
    if "downwardAPI" in volume:
        spec = volume["downwardAPI"] or {}
        return {
            "files": _downward_files(
                pod,
                spec.get("items") or [],
                spec.get("defaultMode", DEFAULT_MODE),
                host_ip,
                allocatable,
            )
        }
    if "projected" in volume:
        spec = volume["projected"] or {}
        mode = spec.get("defaultMode", DEFAULT_MODE)
        files: dict[str, dict] = {}
        for source in spec.get("sources") or []:
            if "configMap" in source:
                files.update(
                    _files_from("ConfigMap", pod, source["configMap"] or {}, configmap, mode, name)
                    or {}
                )
            elif "secret" in source:
                files.update(
                    _files_from("Secret", pod, source["secret"] or {}, secret, mode, name) or {}
                )
            elif "downwardAPI" in source:
                files.update(
                    _downward_files(
                        pod,
                        (source["downwardAPI"] or {}).get("items") or [],
                        mode,
                        host_ip,
                        allocatable,
                    )
                )
        return {"files": files}
    if "persistentVolumeClaim" in volume:
        source = volume["persistentVolumeClaim"] or {}
        claim = source.get("claimName", "")
        path = claim_path(namespace, claim)
        if path is None:
            raise Missing(
                "ContainerCreating",
                f'MountVolume.SetUp failed for volume "{name}" '
                f': persistentvolumeclaim "{claim}" is not bound',
            )
        pvc = claim_object(namespace, claim) if claim_object else None
        return {
            "hostPath": str(path),
            "readOnly": bool(source.get("readOnly")) or read_only_claim(pvc),
        }
    return None


def read_only_claim(pvc: dict | None) -> bool:
    """A claim that may only be read (its access modes are ``ReadOnlyMany`` alone) is mounted
    read-only whatever the pod says."""
    modes = set(((pvc or {}).get("spec") or {}).get("accessModes") or [])
    return modes == {"ReadOnlyMany"}


def build_bundle(
    pod: dict,
    *,
    configmap: Lookup,
    secret: Lookup,
    claim_path: PathLookup,
    host_ip: str = "",
    allocatable: dict[str, str] | None = None,
    claim: Lookup | None = None,
) -> dict:
    """The runtime bundle of ``pod``; never raises for missing objects (the bundle then
    carries ``waiting`` and the pod waits, as a kubelet keeps it in ContainerCreating)."""
    spec = pod.get("spec") or {}
    bundle: dict = {"env": {}, "volumes": {}}
    try:
        for volume in spec.get("volumes") or []:
            content = volume_content(
                pod,
                volume,
                configmap=configmap,
                secret=secret,
                claim_path=claim_path,
                host_ip=host_ip,
                allocatable=allocatable,
                claim_object=claim,
            )
            if content is not None:
                bundle["volumes"][volume["name"]] = content
        for container in (spec.get("initContainers") or []) + (spec.get("containers") or []):
            bundle["env"][container["name"]] = container_env(
                pod,
                container,
                configmap=configmap,
                secret=secret,
                host_ip=host_ip,
                allocatable=allocatable,
            )
    except Missing as missing:
        return {
            "env": {},
            "volumes": {},
            "waiting": {"reason": missing.reason, "message": missing.message},
        }
    return bundle
