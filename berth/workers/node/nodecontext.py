"""What a pod's runner is given by its node: the node's facts and settings, and the request
to stop that the agent writes (``pod_task.write_stop``) and the runner polls."""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path

from berth.workers.node import cgroups
from berth.workers.node.restarts import RESTART_BACKOFF_BASE_S, RESTART_BACKOFF_CAP_S

POLL_S = 0.2  # how often a running pod's runner checks for a stop request, deadline, limits


@dataclass
class NodeContext:
    """What a runner knows of the node it runs on."""

    node_name: str
    host_ip: str
    log_root: Path  # container logs: <log_root>/<uid>/<container>/<n>.log
    pod_root: Path  # per-pod state: <pod_root>/<uid>/ (emptyDir volumes ...)
    bwrap: str | None = None  # None: no working sandbox (see ``sandbox_problem``)
    sandbox_problem: str = "bubblewrap (bwrap) is not configured for this node"
    hide: list[str] = field(default_factory=list)
    volume_root: Path | None = None  # tmpfs for in-memory volumes; None: filevolumes.root_for
    devices: list[str] = field(default_factory=list)
    backoff_base: float = RESTART_BACKOFF_BASE_S
    backoff_cap: float = RESTART_BACKOFF_CAP_S
    poll: float = POLL_S
    env: dict[str, str] = field(default_factory=dict)  # added to every container's env
    hierarchy: cgroups.Hierarchy = field(default_factory=lambda: cgroups.Hierarchy(0))


@dataclass(frozen=True)
class StopRequest:
    grace: float | None = None  # None: the pod's terminationGracePeriodSeconds
    reason: str | None = None  # a pod-level reason (DeadlineExceeded ...) or None
    message: str | None = None
