"""A container's volumeMounts as sandbox mounts, from the pod spec and its runtime bundle.

Where each volume's content comes from:

- ``emptyDir``: a directory of the pod on this node (``<pod dir>/volumes/<name>``), shared by
  the pod's containers and removed with the pod;
- ``hostPath``: that host path (created for ``DirectoryOrCreate``);
- anything the bundle names: ``{"hostPath": dir}`` (a bound PersistentVolumeClaim) or
  ``{"files": {relative path: {"data": bytes|str, "mode": int}}}`` (ConfigMap, Secret,
  downward API, projected: read-only, on a tmpfs inside the sandbox).
"""

from __future__ import annotations

import posixpath
from pathlib import Path

from berth.workers.sandbox import FileData, Mount


class VolumeError(Exception):
    """A mount that cannot be made; its text is the container's StartError message."""


def _file_data(item: dict | str | bytes) -> FileData:
    if isinstance(item, (str, bytes)):
        item = {"data": item}
    data = item.get("data", b"")
    raw = data.encode() if isinstance(data, str) else bytes(data)
    return FileData(raw, int(item.get("mode", 0o644)))


def volume_source(pod: dict, name: str, bundle: dict, pod_dir: Path) -> dict:
    """``{"path": host dir}`` or ``{"files": {rel: FileData}}`` for volume ``name``."""
    volumes = {v.get("name"): v for v in (pod.get("spec") or {}).get("volumes") or []}
    volume = volumes.get(name)
    if volume is None:
        raise VolumeError(f'volume "{name}" is not defined in the pod')
    given = (bundle.get("volumes") or {}).get(name)
    if given is not None:
        if "hostPath" in given:
            return {"path": str(given["hostPath"])}
        if "files" in given:
            return {"files": {rel: _file_data(item) for rel, item in given["files"].items()}}
        raise VolumeError(f'volume "{name}": the runtime bundle gives no hostPath or files')
    if "emptyDir" in volume:
        path = pod_dir / "volumes" / name
        path.mkdir(parents=True, exist_ok=True)
        return {"path": str(path)}
    if "hostPath" in volume:
        spec = volume["hostPath"] or {}
        path = Path(spec.get("path", ""))
        if spec.get("type") == "DirectoryOrCreate":
            path.mkdir(parents=True, exist_ok=True)
        if not path.exists():
            raise VolumeError(f'MountVolume.SetUp failed for volume "{name}" : hostPath '
                              f'"{path}" does not exist')
        return {"path": str(path)}
    kind = next((k for k in volume if k != "name"), "unknown")
    raise VolumeError(f'MountVolume.SetUp failed for volume "{name}" : no {kind} content '
                      f'was given for this node')


def mounts_for(pod: dict, container: dict, bundle: dict, pod_dir: Path) -> list[Mount]:
    mounts = []
    for vm in container.get("volumeMounts") or []:
        source = volume_source(pod, vm.get("name", ""), bundle, pod_dir)
        sub = (vm.get("subPath") or "").strip("/")
        read_only = bool(vm.get("readOnly"))
        if "files" in source:
            mounts.append(_files_mount(vm, source["files"], sub))
            continue
        host = source["path"]
        if sub:
            host = posixpath.join(host, sub)
            if not Path(host).exists():
                Path(host).mkdir(parents=True, exist_ok=True)
        mounts.append(Mount(vm["mountPath"], source=host, read_only=read_only))
    return mounts


def _files_mount(vm: dict, files: dict[str, FileData], sub: str) -> Mount:
    if not sub:
        return Mount(vm["mountPath"], files=files, read_only=True)
    if sub in files:
        return Mount(vm["mountPath"], file=files[sub], read_only=True)
    prefix = sub + "/"
    inner = {rel[len(prefix):]: item for rel, item in files.items() if rel.startswith(prefix)}
    return Mount(vm["mountPath"], files=inner, read_only=True)
