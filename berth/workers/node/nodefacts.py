"""What a node says about itself in ``nodeInfo``: CPU architecture, OS, OS image, kernel.

Read by the node agent on its own Ray node (like a kubelet reading its host), reported to the
control plane with the agent's sandbox check, and written into that node's ``Node`` by
``berth.workers.control.pool``: the control plane's host may be another machine entirely.
"""

from __future__ import annotations

import platform
import shlex
from pathlib import Path
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from berth.platform.resources.types import NodeSystemInfo

# os-release(5): /etc/os-release, else /usr/lib/os-release.
OS_RELEASE_FILES = (Path("/etc/os-release"), Path("/usr/lib/os-release"))
# uname -m -> Go's GOARCH, which Kubernetes uses for nodeInfo.architecture and kubernetes.io/arch.
_GOARCH = {
    "x86_64": "amd64",
    "amd64": "amd64",
    "aarch64": "arm64",
    "arm64": "arm64",
    "armv7l": "arm",
    "armv6l": "arm",
    "i386": "386",
    "i686": "386",
    "ppc64le": "ppc64le",
    "s390x": "s390x",
    "riscv64": "riscv64",
}


def go_arch(machine: str) -> str:
    """``platform.machine()`` as Kubernetes names it (``x86_64`` -> ``amd64``)."""
    return _GOARCH.get(machine.lower(), machine.lower())


def os_image(os_release: str) -> str:
    """``PRETTY_NAME`` of an os-release file's text (``Debian GNU/Linux 12 (bookworm)``), else
    ``NAME VERSION``, else empty; values may be quoted as in a shell."""
    values: dict[str, str] = {}
    for line in os_release.splitlines():
        key, sep, raw = line.strip().partition("=")
        if not sep or key.startswith("#"):
            continue
        try:
            words = shlex.split(raw)
        except ValueError:  # an unbalanced quote: take the text as it stands
            words = [raw.strip("\"'")]
        values[key] = " ".join(words)
    if values.get("PRETTY_NAME"):
        return values["PRETTY_NAME"]
    return " ".join(v for v in (values.get("NAME"), values.get("VERSION")) if v)


def read(os_release_files: tuple[Path, ...] = OS_RELEASE_FILES) -> NodeSystemInfo:
    """This host's facts, with the ``nodeInfo`` field names."""
    text = ""
    for path in os_release_files:
        try:
            text = path.read_text(errors="replace")
            break
        except OSError:
            continue
    return {
        "architecture": go_arch(platform.machine()),
        "operatingSystem": platform.system().lower(),
        "osImage": os_image(text) or f"{platform.system()} {platform.release()}",
        "kernelVersion": platform.release(),
    }
