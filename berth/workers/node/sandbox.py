"""The command line that runs one container: bubblewrap around the container's command.

The sandbox shows the host's programs read-only (the container's ``image`` is recorded, not
pulled), with its own /proc, a minimal /dev, a private /tmp and /root, the pod's volumes at
their ``mountPath`` and fresh PID, IPC and UTS namespaces (hostname = the pod's hostname).

The new root is bubblewrap's own tmpfs with each top-level host entry bound read-only, so a
``mountPath`` such as ``/data`` can be created there. A ``mountPath`` under a host directory
that lacks it (``/usr/share/nginx/html``) needs that directory "opened": a tmpfs over it with
its children bound back read-only, after which the missing levels can be made.

File volumes (ConfigMap, Secret, downward API, projected) never touch the node's disk: each is a
tmpfs inside the sandbox filled from in-memory file descriptors (``--file FD DEST``) and then
remounted read-only.
"""

from __future__ import annotations

import os
import posixpath
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, field

# Host entries the sandbox replaces with its own; never bound from the host.
_OWN = ("/proc", "/dev", "/tmp", "/root")
# Sandbox-made filesystems where bubblewrap can create any mount point.
_TMPFS = ("/tmp", "/root", "/dev")


@dataclass(frozen=True)
class FileData:
    data: bytes
    mode: int = 0o644


@dataclass(frozen=True)
class Mount:
    """One volumeMount as the sandbox sees it: a host directory bound at ``path`` or a set of
    in-memory ``files`` (relative path -> data) shown on a tmpfs at ``path``."""

    path: str
    source: str | None = None
    read_only: bool = False
    files: dict[str, FileData] | None = None
    file: FileData | None = None  # one in-memory file at ``path`` (a ``subPath`` of one)


@dataclass
class SandboxSpec:
    argv: list[str]
    hostname: str
    workdir: str | None = None
    mounts: list[Mount] = field(default_factory=list)
    hide: list[str] = field(default_factory=list)  # host paths shown as empty tmpfs
    devices: list[str] = field(default_factory=list)  # device nodes bound in (GPUs)


class HostView:
    """The few host filesystem reads the builder needs; a test can substitute its own."""

    def listdir(self, path: str) -> list[str]:
        try:
            return sorted(os.listdir(path))
        except OSError:
            return []

    def kind(self, path: str) -> str:
        """``link``, ``dir``, ``file``, ``other`` or ``missing``."""
        if os.path.islink(path):
            return "link"
        if os.path.isdir(path):
            return "dir"
        if os.path.isfile(path):
            return "file"
        return "other" if os.path.lexists(path) else "missing"

    def readlink(self, path: str) -> str:
        return os.readlink(path)

    def executable(self, path: str) -> bool:
        return os.path.isfile(path) and os.access(path, os.X_OK)


class RootBinds:
    """The read-only binds of the host's top-level entries, as ``(path, args)``: what every
    sandbox starts from. Read again only when ``/`` itself changed (an entry made, removed,
    renamed or replaced changes its mtime), not for every container: listing ``/`` and
    telling each entry's kind is dozens of system calls. A listing taken within
    ``settle_s`` of ``/``'s last change is used once, not kept: a second change in the
    same tick of the file system's clock would leave the mtime as it was."""

    def __init__(self, root: str = "/", *, settle_s: float = 1.0, clock=time.time):
        self.root, self.settle_s, self._clock = root, settle_s, clock
        self._key: tuple | None = None
        self._binds: list[tuple[str, list[str]]] = []
        self._lock = threading.Lock()

    def binds(self, host: HostView) -> list[tuple[str, list[str]]]:
        st = os.stat(self.root)
        key = (st.st_dev, st.st_ino, st.st_mtime_ns)
        with self._lock:
            if key == self._key:
                return self._binds
        binds = [
            (path, _bind_entry(path, host))
            for path in (posixpath.join(self.root, entry) for entry in host.listdir(self.root))
        ]
        if self._clock() - st.st_mtime_ns / 1e9 >= self.settle_s:
            with self._lock:
                self._key, self._binds = key, binds
        return binds


_HOST_ROOT = RootBinds()


def _under(path: str, top: str) -> bool:
    return path == top or path.startswith(top.rstrip("/") + "/")


def _depth(path: str) -> int:
    return len([p for p in path.split("/") if p])


def _bind_entry(path: str, host: HostView) -> list[str]:
    kind = host.kind(path)
    if kind == "link":
        return ["--symlink", host.readlink(path), path]
    if kind in ("dir", "file"):
        return ["--ro-bind", path, path]
    if kind == "other":
        return ["--ro-bind-try", path, path]
    return []


class _Room:
    """Tracks which sandbox paths exist or can be created, and opens host directories."""

    def __init__(self, spec: SandboxSpec, host: HostView):
        self.host = host
        self.writable = list(_TMPFS) + list(spec.hide)  # tmpfs: anything can be made there
        self.opened: list[str] = []

    def _writable(self, path: str) -> bool:
        return any(_under(path, top) for top in self.writable + self.opened)

    def make(self, target: str) -> list[str]:
        """Args that let bubblewrap create ``target`` (and missing parents) in the sandbox."""
        if self._writable(posixpath.dirname(target)) or self._writable(target):
            return []
        if self.host.kind(target) in ("dir", "file"):
            return []  # shown by a read-only bind already: a mount point exists
        ancestor = posixpath.dirname(target)
        while _depth(ancestor) > 0 and self.host.kind(ancestor) != "dir":
            ancestor = posixpath.dirname(ancestor)
        if _depth(ancestor) == 0:
            return []  # the new root is bubblewrap's tmpfs
        self.opened.append(ancestor)
        args = ["--tmpfs", ancestor]
        for child in self.host.listdir(ancestor):
            args += _bind_entry(posixpath.join(ancestor, child), self.host)
        return args

    def mounted(self, path: str) -> None:
        self.writable.append(path)


def build_bwrap_argv(
    spec: SandboxSpec,
    *,
    bwrap: str = "/usr/bin/bwrap",
    open_file: Callable[[bytes], int],
    host: HostView | None = None,
) -> list[str]:
    """The full ``bwrap ... -- command`` argv. ``open_file(data)`` returns a readable file
    descriptor holding ``data`` (a memfd in production) for each in-memory file; the caller
    passes those descriptors to the child and closes them after it starts. Without ``host``,
    the real host, whose top-level entries are read once while ``/`` is unchanged."""
    if host is None:
        host, top = HostView(), _HOST_ROOT.binds(HostView())
    else:
        top = [("/" + entry, _bind_entry("/" + entry, host)) for entry in host.listdir("/")]
    args = [bwrap]
    for path, binds in top:
        if path in _OWN or path in spec.hide:
            continue
        args += binds
    args += ["--proc", "/proc", "--dev", "/dev", "--tmpfs", "/tmp", "--tmpfs", "/root"]
    for path in spec.hide:
        if host.kind(path) == "dir":
            args += ["--tmpfs", path]
    for device in spec.devices:
        args += ["--dev-bind-try", device, device]
    room = _Room(spec, host)
    for mount in sorted(spec.mounts, key=lambda m: _depth(m.path)):
        args += room.make(mount.path)
        if mount.files is not None:
            args += _file_volume(mount, open_file)
        elif mount.file is not None:
            args += [
                "--perms",
                f"{mount.file.mode & 0o7777:04o}",
                "--ro-bind-data",
                str(open_file(mount.file.data)),
                mount.path,
            ]
        else:
            args += ["--ro-bind" if mount.read_only else "--bind", mount.source, mount.path]
        room.mounted(mount.path)
    if spec.workdir:
        args += room.make(spec.workdir) + ["--dir", spec.workdir, "--chdir", spec.workdir]
    args += [
        "--unshare-pid",
        "--unshare-ipc",
        "--unshare-uts",
        "--hostname",
        spec.hostname,
        "--die-with-parent",
        "--",
    ]
    return args + list(spec.argv)


def _file_volume(mount: Mount, open_file: Callable[[bytes], int]) -> list[str]:
    args = ["--perms", "0755", "--tmpfs", mount.path]
    made: set[str] = set()
    for rel in sorted(mount.files or {}):
        item = (mount.files or {})[rel]
        parent = posixpath.dirname(rel)
        parts = [p for p in parent.split("/") if p]
        for i in range(len(parts)):
            sub = "/".join(parts[: i + 1])
            if sub not in made:
                made.add(sub)
                args += ["--perms", "0755", "--dir", posixpath.join(mount.path, sub)]
        args += [
            "--perms",
            f"{item.mode & 0o7777:04o}",
            "--file",
            str(open_file(item.data)),
            posixpath.join(mount.path, rel),
        ]
    return args + ["--remount-ro", mount.path]


def memfd_with(data: bytes) -> int:
    """A file descriptor whose content is ``data``, read from the start; never on disk."""
    fd = os.memfd_create("berth-file", 0)
    os.write(fd, data)
    os.lseek(fd, 0, os.SEEK_SET)
    return fd


def find_executable(
    argv0: str, path_env: str, spec: SandboxSpec, host: HostView | None = None
) -> tuple[bool, str]:
    """Whether ``argv0`` will exec inside the sandbox, and if not the runtime's message
    (worded as containerd words it, which ``kubectl describe`` users know)."""
    host = host or HostView()
    if "/" in argv0:
        path = argv0 if argv0.startswith("/") else posixpath.join(spec.workdir or "/", argv0)
        state = _state(posixpath.normpath(path), spec, host)
        if state == "exec":
            return True, ""
        if state == "noexec":
            return False, f'exec: "{argv0}": permission denied'
        return False, f'exec: "{argv0}": stat {argv0}: no such file or directory'
    denied = False
    for folder in path_env.split(":"):
        state = _state(posixpath.join(folder or ".", argv0), spec, host)
        if state == "exec":
            return True, ""
        denied = denied or state == "noexec"
    if denied:
        return False, f'exec: "{argv0}": permission denied'
    return False, f'exec: "{argv0}": executable file not found in $PATH'


def _state(path: str, spec: SandboxSpec, host: HostView) -> str:
    """``exec``, ``noexec`` or ``missing`` for a path as the sandbox shows it."""
    for mount in sorted(spec.mounts, key=lambda m: -_depth(m.path)):
        if not _under(path, mount.path):
            continue
        rel = posixpath.relpath(path, mount.path)
        if mount.file is not None:
            return "exec" if rel == "." and mount.file.mode & 0o111 else "missing"
        if mount.files is not None:
            item = mount.files.get(rel)
            if item is None:
                return "missing"
            return "exec" if item.mode & 0o111 else "noexec"
        return _host_state(posixpath.join(mount.source or "/", rel), host)
    if any(_under(path, top) for top in list(_TMPFS) + list(spec.hide)):
        return "missing"
    return _host_state(path, host)


def _host_state(path: str, host: HostView) -> str:
    if host.executable(path):
        return "exec"
    return "noexec" if host.kind(path) in ("file", "link") else "missing"
