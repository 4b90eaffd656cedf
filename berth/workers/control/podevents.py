"""The kubelet's Events about a pod, read off the change between two of its statuses.

Pure: ``events_for(before, after, sandboxed=..., node=...)`` lists ``(type, reason, message)``
for what the newer status shows first. The status writer records them after its write, so a
change is told once however often the agent repeats it.

- the node refused the pod because it has no sandbox: ``Warning FailedCreatePodSandBox``;
- the pod was evicted (an emptyDir over its ``sizeLimit``): ``Warning Evicted``;
- a container could not start: ``Warning Failed  Error: <why>``;
- a pod's first container started on a node without a sandbox: ``Warning Unsandboxed``;
- a volume could not be set up (a claim not bound yet, an NFS volume on a node without an NFS
  client, a ConfigMap that does not exist): ``Warning FailedMount`` with the waiting message.

Messages come from statuses, which never hold configuration values (a Secret's value never
reaches a status), so Events never do either.
"""

from __future__ import annotations

from berth.workers.node.sandboxcheck import (
    REFUSED_EVENT,
    REFUSED_REASON,
    UNSANDBOXED_EVENT,
    unsandboxed_message,
)

EVICTED = "Evicted"
MOUNT_FAILED = "MountVolume.SetUp failed"
_KEYS = ("initContainerStatuses", "containerStatuses")


def _terminated(status: dict | None) -> dict[str, dict]:
    out = {}
    for key in _KEYS:
        for cs in (status or {}).get(key) or []:
            term = (cs.get("state") or {}).get("terminated")
            if term:
                out[cs.get("name", "")] = term
    return out


def _ran(status: dict) -> bool:
    """Whether any container of the pod has started a process."""
    for key in _KEYS:
        for cs in status.get(key) or []:
            state = cs.get("state") or {}
            if "running" in state or (state.get("terminated") or {}).get("reason") not in (
                None,
                "StartError",
                "ContainerStatusUnknown",
            ):
                return True
            if cs.get("lastState", {}).get("terminated"):
                return True
    return False


def _mount_failures(status: dict) -> list[str]:
    out = []
    for key in _KEYS:
        for cs in status.get(key) or []:
            message = ((cs.get("state") or {}).get("waiting") or {}).get("message") or ""
            if message.startswith(MOUNT_FAILED) and message not in out:
                out.append(message)
    return out


def events_for(
    before: dict | None, after: dict | None, *, sandboxed: bool = True, node: str = ""
) -> list[tuple[str, str, str]]:
    before, after = before or {}, after or {}
    events: list[tuple[str, str, str]] = []
    reason = after.get("reason")
    new_reason = reason != before.get("reason")
    if new_reason and reason == REFUSED_REASON:
        return [("Warning", REFUSED_EVENT, after.get("message") or "")]
    if new_reason and reason == EVICTED:
        events.append(("Warning", EVICTED, after.get("message") or ""))
    was = _terminated(before)
    for name, term in _terminated(after).items():
        if term.get("reason") != "StartError" or was.get(name) == term:
            continue
        events.append(("Warning", "Failed", f"Error: {term.get('message') or 'StartError'}"))
    told = _mount_failures(before)
    events += [("Warning", "FailedMount", m) for m in _mount_failures(after) if m not in told]
    if not sandboxed and _ran(after) and not _ran(before):
        events.append(("Warning", UNSANDBOXED_EVENT, unsandboxed_message(node)))
    return events
