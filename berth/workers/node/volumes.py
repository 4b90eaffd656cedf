"""A container's volumeMounts as sandbox mounts, from the pod spec and its runtime bundle.

Where each volume's content comes from:

- ``emptyDir``: a directory of the pod on this node (``<pod dir>/volumes/<name>``), shared by
  the pod's containers and removed with the pod; ``medium: Memory`` puts it on the node's
  tmpfs instead (``filevolumes.FileVolumes.memory_dir``). ``sizeLimit`` is enforced as the
  kubelet does, by evicting the pod whose volume outgrows it (``over_limit``);
- ``hostPath``: that host path (created for ``DirectoryOrCreate``, ``FileOrCreate``);
- anything the bundle names: ``{"hostPath": dir, "readOnly": bool}`` (a bound
  PersistentVolumeClaim) or ``{"files": {relative path: {"data": bytes|str, "mode": int}}}``
  (ConfigMap, Secret, downward API, projected: read-only, on the node's tmpfs, updated in place
  by the agent; a ``subPath`` of one is a copy taken when the container starts).
"""

from __future__ import annotations

import os
import posixpath
from pathlib import Path

from berth.platform.resources import quantity
from berth.workers.node.filevolumes import FileVolumes, VolumeError
from berth.workers.node.sandbox import FileData, Mount


def _file_data(item: dict | str | bytes) -> FileData:
    if isinstance(item, (str, bytes)):
        item = {"data": item}
    data = item.get("data", b"")
    raw = data.encode() if isinstance(data, str) else bytes(data)
    return FileData(raw, int(item.get("mode", 0o644)))


def file_volumes(bundle: dict) -> dict[str, dict[str, FileData]]:
    """The bundle's file volumes (ConfigMap, Secret, downward API, projected) as FileData."""
    return {
        name: {rel: _file_data(item) for rel, item in given["files"].items()}
        for name, given in (bundle.get("volumes") or {}).items()
        if "files" in given
    }


def _uid(pod: dict) -> str:
    return (pod.get("metadata") or {}).get("uid", "")


def volume_source(pod: dict, name: str, bundle: dict, pod_dir: Path, memory: FileVolumes) -> dict:
    """``{"path": host dir, "readOnly": bool}`` or ``{"files": {rel: FileData}, "path": dir}``
    for volume ``name``."""
    volumes = {v.get("name"): v for v in (pod.get("spec") or {}).get("volumes") or []}
    volume = volumes.get(name)
    if volume is None:
        raise VolumeError(f'volume "{name}" is not defined in the pod')
    given = (bundle.get("volumes") or {}).get(name)
    if given is not None:
        if "hostPath" in given:
            return {"path": str(given["hostPath"]), "readOnly": bool(given.get("readOnly"))}
        if "files" in given:
            return {
                "files": {rel: _file_data(item) for rel, item in given["files"].items()},
                "path": str(memory.path(_uid(pod), name)),
            }
        raise VolumeError(f'volume "{name}": the runtime bundle gives no hostPath or files')
    if "emptyDir" in volume:
        if ((volume["emptyDir"] or {}).get("medium") or "") == "Memory":
            return {"path": str(memory.memory_dir(_uid(pod), name))}
        path = pod_dir / "volumes" / name
        path.mkdir(parents=True, exist_ok=True)
        return {"path": str(path)}
    if "hostPath" in volume:
        spec = volume["hostPath"] or {}
        path = Path(spec.get("path", ""))
        if spec.get("type") == "DirectoryOrCreate":
            path.mkdir(parents=True, exist_ok=True)
        elif spec.get("type") == "FileOrCreate" and not path.exists():
            path.parent.mkdir(parents=True, exist_ok=True)
            path.touch(mode=0o644)
        if not path.exists():
            raise VolumeError(
                f'MountVolume.SetUp failed for volume "{name}" : hostPath "{path}" does not exist'
            )
        return {"path": str(path)}
    kind = next((k for k in volume if k != "name"), "unknown")
    raise VolumeError(
        f'MountVolume.SetUp failed for volume "{name}" : no {kind} content was given for this node'
    )


def mounts_for(
    pod: dict, container: dict, bundle: dict, pod_dir: Path, memory: FileVolumes
) -> list[Mount]:
    mounts = []
    for vm in container.get("volumeMounts") or []:
        source = volume_source(pod, vm.get("name", ""), bundle, pod_dir, memory)
        sub = (vm.get("subPath") or "").strip("/")
        if "files" in source:
            mounts.append(_files_mount(vm, source, sub))
            continue
        read_only = bool(vm.get("readOnly")) or source.get("readOnly", False)
        host = source["path"]
        if sub:
            host = posixpath.join(host, sub)
            if not Path(host).exists():
                Path(host).mkdir(parents=True, exist_ok=True)
        mounts.append(Mount(vm["mountPath"], source=host, read_only=read_only))
    return mounts


def _files_mount(vm: dict, source: dict, sub: str) -> Mount:
    files: dict[str, FileData] = source["files"]
    if not sub:  # the node's live copy: updates show through
        return Mount(vm["mountPath"], source=source["path"], read_only=True)
    if sub in files:
        return Mount(vm["mountPath"], file=files[sub], read_only=True)
    prefix = sub + "/"
    inner = {rel[len(prefix) :]: item for rel, item in files.items() if rel.startswith(prefix)}
    return Mount(vm["mountPath"], files=inner, read_only=True)


def size_limits(pod: dict, pod_dir: Path, memory: FileVolumes) -> list[tuple[str, Path, str]]:
    """``(volume, folder, sizeLimit)`` of each emptyDir with a ``sizeLimit``."""
    out = []
    for volume in (pod.get("spec") or {}).get("volumes") or []:
        empty = volume.get("emptyDir")
        if empty is None or not (empty or {}).get("sizeLimit"):
            continue
        name = volume.get("name", "")
        folder = (
            memory.path(_uid(pod), name)
            if empty.get("medium") == "Memory"
            else pod_dir / "volumes" / name
        )
        out.append((name, folder, str(empty["sizeLimit"])))
    return out


def usage_bytes(folder: Path) -> int:
    """Space the files under ``folder`` take, as ``du`` counts it (allocated blocks)."""
    total = 0
    for top, dirs, files in os.walk(folder):
        for entry in dirs + files:
            try:
                total += os.lstat(os.path.join(top, entry)).st_blocks * 512
            except OSError:
                continue
    return total


def over_limit(limits: list[tuple[str, Path, str]]) -> str | None:
    """The kubelet's eviction message for the first emptyDir over its ``sizeLimit``."""
    for name, folder, limit in limits:
        if usage_bytes(folder) > quantity.to_int(limit):
            return f'Usage of EmptyDir volume "{name}" exceeds the limit "{limit}".'
    return None
