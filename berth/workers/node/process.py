"""Start, wait for and stop one container process.

Each container runs in its own session and process group (``start_new_session``), joins its
cgroup before exec, and writes stdout and stderr into one pipe that the process's log pump
(``logpump.py``, one thread for every container) copies into the log file. A sandboxed
container is started without a Python ``preexec_fn``: that forces a full ``fork()`` of the
calling process (a Ray worker or node agent of hundreds of MiB: tens of milliseconds, more
under load, per pod), where without one Python uses ``vfork``. A tiny
``sh`` joins the cgroup and sets the address-space limit instead, then execs ``bwrap``, whose
``--die-with-parent`` stands in for the parent-death signal. An unsandboxed container keeps
the ``preexec_fn``.

When the main process ends, whatever it left behind in its group or cgroup is killed, as a
container runtime tears down the container's PID namespace; the leader is reaped only after
that, so its process-group id cannot be reused by an unrelated process meanwhile.

Stopping sends SIGTERM to every member of the group (except the outer ``bwrap``, whose death
would SIGKILL the sandbox at once), waits up to the grace period, then SIGKILLs the rest.
"""

from __future__ import annotations

import ctypes
import os
import resource
import signal
import subprocess
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, field

from berth.workers.node.cgroups import ContainerGroup
from berth.workers.node.logpump import Stream, pump
from berth.workers.node.logs import LogWriter

_PR_SET_PDEATHSIG = 1
_LIBC = ctypes.CDLL(None, use_errno=True)
_PUMP_JOIN_S = 5.0


@dataclass
class ContainerProcess:
    proc: subprocess.Popen
    group: ContainerGroup
    output: Stream  # its pipe into the log; ``done`` once all of it is written
    sandboxed: bool
    started_ns: int = field(default_factory=time.time_ns)
    reaped: threading.Event = field(default_factory=threading.Event)  # set once it has ended

    @property
    def pid(self) -> int:
        return self.proc.pid


def exit_code(returncode: int) -> int:
    """A wait status as Kubernetes shows it: a signal N becomes 128 + N."""
    return 128 - returncode if returncode < 0 else returncode


def _preexec(procs_fds: list[int], rlimit_as: int | None) -> Callable[[], None]:
    def join() -> None:
        for fd in procs_fds:
            os.write(fd, b"0")
        if rlimit_as is not None:
            resource.setrlimit(resource.RLIMIT_AS, (rlimit_as, rlimit_as))
        # Die with the thread that started us, should the whole agent task be killed.
        _LIBC.prctl(_PR_SET_PDEATHSIG, signal.SIGKILL, 0, 0, 0)

    return join


# $1: how many cgroup.procs files follow; then those files; then the address-space limit in
# KiB ("" for none); then the command. Each write of "0" moves the writer (this shell, soon the
# command: exec keeps the pid) into that cgroup.
_JOIN_SCRIPT = (
    'n=$1; shift; while [ "$n" -gt 0 ]; do echo 0 > "$1" || '
    '{ echo "berth: could not join cgroup $1" >&2; exit 126; }; shift; n=$((n - 1)); done; '
    'if [ -n "$1" ]; then ulimit -v "$1" || exit 126; fi; shift; exec "$@"'
)


def joining_argv(argv: list[str], procs_files: list[str], rlimit_as: int | None) -> list[str]:
    """``argv`` run by a shell that first joins the cgroups (``procs_files``) and limits the
    address space (bytes; rounded down to KiB): what ``_preexec`` does, without a fork of
    this process. Unchanged when there is nothing to do."""
    if not procs_files and rlimit_as is None:
        return list(argv)
    limit = "" if rlimit_as is None else str(max(rlimit_as // 1024, 1))
    return [
        "/bin/sh",
        "-c",
        _JOIN_SCRIPT,
        "berth-join",
        str(len(procs_files)),
        *procs_files,
        limit,
        *argv,
    ]


def spawn(
    argv: list[str],
    *,
    env: dict[str, str],
    cwd: str | None,
    log: LogWriter,
    group: ContainerGroup,
    pass_fds: tuple[int, ...] = (),
    sandboxed: bool,
) -> ContainerProcess:
    """Start ``argv``; raises ``OSError`` when it cannot be started at all. ``sandboxed``:
    ``argv`` runs ``bwrap --die-with-parent``."""
    read_fd, write_fd = os.pipe()
    procs_fds = [] if sandboxed else group.open_procs()
    preexec = None if sandboxed else _preexec(procs_fds, group.rlimit_as)
    if sandboxed:
        argv = joining_argv(argv, [str(d / "cgroup.procs") for d in group.dirs], group.rlimit_as)
    try:
        proc = subprocess.Popen(
            argv,
            env=env,
            cwd=cwd,
            stdin=subprocess.DEVNULL,
            stdout=write_fd,
            stderr=write_fd,
            start_new_session=True,
            pass_fds=pass_fds,
            close_fds=True,
            preexec_fn=preexec,
        )
    except BaseException:
        os.close(read_fd)
        log.close()
        raise
    finally:
        os.close(write_fd)
        for fd in procs_fds:
            os.close(fd)
    return ContainerProcess(proc, group, pump(read_fd, log), sandboxed)


def wait_exit(cp: ContainerProcess) -> int:
    """Block until the main process ends; kill what it left; return its exit code."""
    os.waitid(os.P_PID, cp.pid, os.WEXITED | os.WNOWAIT)
    # The unreaped leader keeps its pgid reserved: safe to signal the group.
    _kill_group(cp.pid, signal.SIGKILL)
    cp.group.kill_all()
    code = exit_code(cp.proc.wait())
    cp.reaped.set()
    cp.output.done.wait(_PUMP_JOIN_S)
    return code


def terminate(cp: ContainerProcess, grace: float, *, poll: float = 0.05) -> None:
    """SIGTERM the container's processes, SIGKILL them if they outlive ``grace`` seconds."""
    if cp.reaped.is_set():
        return
    outer = {cp.pid} if cp.sandboxed else set()
    for pid in group_members(cp.pid):
        if pid not in outer:
            _signal(pid, signal.SIGTERM)
    deadline = time.monotonic() + max(grace, 0.0)
    while time.monotonic() < deadline:
        if cp.reaped.wait(poll) or _exited(cp.pid):
            return
    if not cp.reaped.is_set():
        _kill_group(cp.pid, signal.SIGKILL)
        cp.group.kill_all()


def _exited(pid: int) -> bool:
    try:
        info = os.waitid(os.P_PID, pid, os.WEXITED | os.WNOWAIT | os.WNOHANG)
    except ChildProcessError:
        return True
    return info is not None


def _signal(pid: int, sig: int) -> None:
    try:
        os.kill(pid, sig)
    except ProcessLookupError:
        pass


def _kill_group(pgid: int, sig: int) -> None:
    try:
        os.killpg(pgid, sig)
    except (ProcessLookupError, PermissionError):
        pass


def parse_pgrp(stat: str) -> int:
    """The process group field of a ``/proc/<pid>/stat`` line (comm may hold spaces)."""
    return int(stat[stat.rindex(")") + 2 :].split()[2])


def group_members(pgid: int, proc_root: str = "/proc") -> list[int]:
    members = []
    for entry in os.listdir(proc_root):
        if not entry.isdigit():
            continue
        try:
            with open(f"{proc_root}/{entry}/stat") as handle:
                if parse_pgrp(handle.read()) == pgid:
                    members.append(int(entry))
        except (OSError, ValueError):
            continue
    return members


def _children(pid: int) -> list[int]:
    try:
        with open(f"/proc/{pid}/task/{pid}/children") as handle:
            return [int(p) for p in handle.read().split()]
    except OSError:
        return []


def exec_in(
    cp: ContainerProcess, argv: list[str], *, env: dict[str, str], cwd: str | None, timeout: float
) -> int:
    """Run ``argv`` beside the container's main process, in its sandbox when it has one
    (``nsenter`` into the namespaces of the sandboxed command); its exit code."""
    if cp.sandboxed:
        target = cp.pid
        for _ in range(2):  # outer bwrap -> the sandbox's init -> the command
            kids = _children(target)
            if not kids:
                break
            target = kids[0]
        argv = ["nsenter", "-t", str(target), "-m", "-u", "-i", "-p", "-r", "-w", "--", *argv]
        cwd = None
    done = subprocess.run(
        argv,
        env=env,
        cwd=cwd,
        stdin=subprocess.DEVNULL,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
        timeout=timeout,
    )
    return done.returncode
