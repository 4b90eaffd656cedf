"""A pod's in-memory volumes on the node: ConfigMap, Secret, downward API and projected
volumes as files, and ``emptyDir: {medium: Memory}``, all on a tmpfs the node owns (a folder per
agent under ``/dev/shm``), never on the node's disk.

File volumes are written as the kubelet's atomic writer writes them, so that a running pod sees
an update whole or not at all: the payload goes into a fresh ``..<timestamp>`` folder, the
``..data`` symlink is swapped to it by one ``rename``, and each top-level entry the pod sees is a
symlink through ``..data``. The sandbox binds the volume's folder read-only, so the swap shows
inside the pod within one sync of the object changing. (A ``subPath`` mount is a copy made when
the container starts and never updates, as on Kubernetes.)

Layout: ``<root>/<pod uid>/<volume name>/``. ``root`` is ``0700``: only the node's own processes
(and a pod, through its sandbox's read-only bind of its own volumes) can read it.
"""

from __future__ import annotations

import datetime
import hashlib
import os
import shutil
import tempfile
import threading
from pathlib import Path

from berth.workers.node.sandbox import FileData

SHM = Path("/dev/shm")
DATA = "..data"
_MEMORY_FS = ("tmpfs", "ramfs")


class VolumeError(Exception):
    """A mount that cannot be made; its text is the container's StartError message."""


def root_for(node_dir: Path | str) -> Path:
    """The tmpfs folder of the agent whose state lives in ``node_dir`` (one per agent, so
    several Berth instances on one machine never share it)."""
    digest = hashlib.sha256(str(Path(node_dir).resolve()).encode()).hexdigest()[:16]
    return SHM / "berth" / digest


def filesystem_type(path: Path, mounts: str = "/proc/mounts") -> str:
    """The type of the filesystem ``path`` is on (the longest mount point above it)."""
    best, kind = "", ""
    target = str(path.resolve()) if path.exists() else str(path)
    with open(mounts) as handle:
        for line in handle:
            fields = line.split()
            if len(fields) < 3:
                continue
            point = fields[1].replace("\\040", " ")
            if (target == point or target.startswith(point.rstrip("/") + "/")) and len(
                point
            ) >= len(best):
                best, kind = point, fields[2]
    return kind


def digest(files: dict[str, FileData]) -> str:
    h = hashlib.sha256()
    for rel in sorted(files):
        h.update(f"{rel}\0{files[rel].mode}\0{len(files[rel].data)}\0".encode())
        h.update(files[rel].data)
    return h.hexdigest()


def write_atomic(target: Path, files: dict[str, FileData]) -> None:
    """Make ``target`` show exactly ``files`` (relative path -> data, mode), switching from
    what it showed before in one rename."""
    target.mkdir(parents=True, exist_ok=True)
    os.chmod(target, 0o755)
    stamp = datetime.datetime.now(datetime.UTC).strftime("..%Y_%m_%d_%H_%M_%S.")
    payload = Path(tempfile.mkdtemp(prefix=stamp, dir=target))
    os.chmod(payload, 0o755)
    for rel, item in files.items():
        path = payload / rel
        path.parent.mkdir(parents=True, exist_ok=True, mode=0o755)
        fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
        try:
            os.write(fd, item.data)
            os.fchmod(fd, item.mode & 0o7777)
        finally:
            os.close(fd)
    old = os.readlink(target / DATA) if os.path.islink(target / DATA) else None
    tmp_link = target / "..data_tmp"
    if os.path.lexists(tmp_link):
        os.unlink(tmp_link)
    os.symlink(payload.name, tmp_link)
    os.rename(tmp_link, target / DATA)
    tops = {rel.split("/", 1)[0] for rel in files}
    for name in tops:
        link = target / name
        if not os.path.lexists(link):
            os.symlink(f"{DATA}/{name}", link)
    for entry in os.listdir(target):
        if not entry.startswith("..") and entry not in tops:
            os.unlink(target / entry)  # a key the object no longer has
    if old and old != payload.name:
        shutil.rmtree(target / old, ignore_errors=True)


class FileVolumes:
    """The in-memory volumes of every pod of one node agent."""

    def __init__(self, root: Path):
        self.root = Path(root)
        self._written: dict[tuple[str, str], str] = {}  # (uid, volume) -> digest shown
        self._lock = threading.Lock()
        self.problem = self._prepare()

    def _prepare(self) -> str:
        """Why in-memory volumes cannot be made here ("" when they can); makes nothing."""
        existing = self.root
        while not existing.exists() and existing != existing.parent:
            existing = existing.parent
        kind = filesystem_type(existing)
        if kind not in _MEMORY_FS:
            return (
                f"{self.root} is on {kind or 'an unknown filesystem'}, not tmpfs: "
                f"ConfigMap, Secret and memory volumes are never put on the node's disk"
            )
        return ""

    def path(self, uid: str, volume: str) -> Path:
        return self.root / uid / volume

    def memory_dir(self, uid: str, volume: str) -> Path:
        """An ``emptyDir: {medium: Memory}``: a folder on this tmpfs, shared by the pod's
        containers."""
        self._check()
        path = self.path(uid, volume)
        path.mkdir(parents=True, exist_ok=True)
        return path

    def publish(
        self, uid: str, volumes: dict[str, dict[str, FileData]], *, only_missing: bool = False
    ) -> list[str]:
        """Show each file volume's content (``volume -> files``); the names that changed.
        ``only_missing``: write only volumes not shown yet (the runner, where no agent did)."""
        if not volumes:
            return []
        self._check()
        changed = []
        with self._lock:
            for name, files in volumes.items():
                key = (uid, name)
                target = self.path(uid, name)
                if only_missing and os.path.islink(target / DATA):
                    continue
                sums = digest(files)
                if self._written.get(key) == sums and os.path.islink(target / DATA):
                    continue
                write_atomic(target, files)
                self._written[key] = sums
                changed.append(name)
        return changed

    def remove(self, uid: str) -> None:
        with self._lock:
            for key in [k for k in self._written if k[0] == uid]:
                del self._written[key]
        shutil.rmtree(self.root / uid, ignore_errors=True)

    def prune(self, keep: set[str]) -> None:
        """Drop the folders of pods this agent no longer holds (left by a predecessor)."""
        try:
            entries = os.listdir(self.root)
        except OSError:
            return
        for uid in entries:
            if uid not in keep:
                self.remove(uid)

    def _check(self) -> None:
        """Before a first write: the root exists, readable by the node's processes only."""
        if self.problem:
            raise VolumeError(f"MountVolume.SetUp failed: {self.problem}")
        if not self.root.is_dir():
            self.root.mkdir(parents=True, exist_ok=True)
            os.chmod(self.root.parent, 0o700)
            os.chmod(self.root, 0o700)
