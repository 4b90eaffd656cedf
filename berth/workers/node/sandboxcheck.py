"""Whether this node can sandbox pods, and which pods cannot run without a sandbox.

The sandbox is bubblewrap (``bwrap``). A node finds out by running it once, with the same kind
of command line the runner builds (read-only host, tmpfs, new PID, IPC and UTS namespaces), not
by looking for it on ``PATH``: a ``bwrap`` that cannot create namespaces here is no sandbox.

Without a working sandbox, a pod that needs one (any volume mount, or a hostname of its own)
must fail with a message naming the missing program and how to install it, never run without
its volumes; a pod that needs none may run unsandboxed, with a warning.
"""

from __future__ import annotations

import os
import shutil
import subprocess
from dataclasses import dataclass

from berth.workers.node.sandbox import SandboxSpec, build_bwrap_argv, memfd_with

INSTALL_HINT = (
    "install it on the node: `apt-get install -y bubblewrap` (Debian/Ubuntu, as "
    "root; run `apt-get update` first if the package is not found) or "
    "`dnf install -y bubblewrap` (Fedora/RHEL); `make run` does this where it can"
)
RUNTIME_PREFIX = "berth://"
NO_SANDBOX_RUNTIME = "berth://unsandboxed"
UNKNOWN_RUNTIME = "berth://unknown"
REFUSED_REASON = "SandboxUnavailable"  # the pod's status reason
REFUSED_EVENT = "FailedCreatePodSandBox"  # the kubelet's Event reason for the same
UNSANDBOXED_EVENT = "Unsandboxed"
_PROBE_TIMEOUT_S = 20.0


@dataclass(frozen=True)
class SandboxRuntime:
    """The outcome of probing one node: ``path`` of a working bwrap, or ``problem``."""

    path: str | None
    version: str = ""
    problem: str = ""

    @property
    def works(self) -> bool:
        return self.path is not None

    @property
    def runtime_version(self) -> str:
        """``nodeInfo.containerRuntimeVersion`` as Kubernetes writes it (``containerd://1.7``)."""
        if not self.works:
            return NO_SANDBOX_RUNTIME
        return f"{RUNTIME_PREFIX}bubblewrap-{self.version or 'unknown'}"

    def info(self) -> dict:
        """What the node agent reports to the control plane (plain data, crosses Ray)."""
        return {
            "sandboxed": self.works,
            "runtimeVersion": self.runtime_version,
            "path": self.path,
            "problem": self.problem,
        }


def probe(program: str | None = "bwrap", *, timeout: float = _PROBE_TIMEOUT_S) -> SandboxRuntime:
    """Run ``program`` (a name looked up on PATH, or a path) once as a sandbox around ``true``.
    ``None`` or an empty name: the node is configured to run without a sandbox."""
    if not program:
        return SandboxRuntime(
            None, problem="the node is configured without a sandbox (bwrap setting empty)"
        )
    path = program if "/" in program else shutil.which(program)
    if not path or not os.access(path, os.X_OK):
        where = program if "/" in program else f"{program!r} on PATH"
        return SandboxRuntime(
            None,
            problem=f"bubblewrap (bwrap) is not installed on this node "
            f"(no {where}); {INSTALL_HINT}",
        )
    fds: list[int] = []
    argv = build_bwrap_argv(
        SandboxSpec(argv=["true"], hostname="berth-probe"),
        bwrap=path,
        open_file=lambda data: fds.append(memfd_with(data)) or fds[-1],
    )
    try:
        done = subprocess.run(argv, stdin=subprocess.DEVNULL, capture_output=True, timeout=timeout)
    except (OSError, subprocess.TimeoutExpired) as err:
        return SandboxRuntime(
            None,
            problem=f"bubblewrap at {path} does not run here: {err}; "
            f"pods that need a sandbox cannot run",
        )
    finally:
        for fd in fds:
            os.close(fd)
    if done.returncode != 0:
        said = done.stderr.decode(errors="replace").strip().splitlines()
        why = said[-1] if said else f"exit status {done.returncode}"
        return SandboxRuntime(
            None,
            problem=f"bubblewrap at {path} does not work on this node: "
            f"{why}; pods that need a sandbox cannot run",
        )
    return SandboxRuntime(path, version=_version(path))


def _version(path: str) -> str:
    try:
        out = subprocess.run([path, "--version"], capture_output=True, text=True, timeout=10)
    except (OSError, subprocess.TimeoutExpired):
        return ""
    words = out.stdout.split()
    return words[-1] if words else ""


def sandbox_needs(pod: dict) -> list[str]:
    """What in ``pod`` only a sandbox can give, worded for people; empty when nothing does."""
    spec = pod.get("spec") or {}
    needs = []
    paths = [
        vm.get("mountPath", "")
        for c in (spec.get("initContainers") or []) + (spec.get("containers") or [])
        for vm in c.get("volumeMounts") or []
    ]
    if paths:
        needs.append(f"volume mounts ({', '.join(sorted(set(paths)))})")
    own = [f"spec.{key}" for key in ("hostname", "subdomain", "setHostnameAsFQDN") if spec.get(key)]
    if own:
        needs.append(f"a hostname of its own ({', '.join(own)})")
    return needs


def refusal_message(node_name: str, problem: str, needs: list[str]) -> str:
    """Why a pod that needs a sandbox does not run on this node, and how to fix that."""
    return (
        f"Failed to create pod sandbox on node {node_name}: the pod needs "
        f"{' and '.join(needs)}, which only the bubblewrap sandbox gives, and {problem}. "
        f"The pod was not run without them."
    )


def unsandboxed_message(node_name: str) -> str:
    return (
        f"Node {node_name} has no working sandbox (bubblewrap, bwrap): the pod runs "
        f"without one and sees the host's processes and files; {INSTALL_HINT}"
    )
