"""Pod status as the kubelet computes it: container statuses, phase, conditions, QoS class.

All pure. ``ContainerState`` is the runner's mutable record of one container; the functions
here turn a pod's records into the Kubernetes ``status`` object.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from berth.platform.resources import quantity

UNKNOWN_REASON = "ContainerStatusUnknown"
UNKNOWN_MESSAGE = "The container could not be located when the pod was terminated"


@dataclass
class ContainerState:
    name: str
    image: str = ""
    state: str = "waiting"  # waiting | running | terminated
    reason: str | None = "ContainerCreating"
    message: str | None = None
    exit_code: int | None = None
    started_at: str | None = None
    finished_at: str | None = None
    container_id: str | None = None
    restart_count: int = 0
    last_terminated: dict | None = None
    probe_ready: bool | None = None  # readiness probe verdict; None: no readiness probe
    probe_started: bool | None = None  # startup probe verdict; None: no startup probe

    @property
    def ready(self) -> bool:
        return self.state == "running" and self.probe_ready is not False

    @property
    def started(self) -> bool:
        return self.state == "running" and self.probe_started is not False

    def set_waiting(self, reason: str, message: str | None = None) -> None:
        self.state, self.reason, self.message = "waiting", reason, message

    def set_running(self, started_at: str, container_id: str) -> None:
        self.state, self.reason, self.message = "running", None, None
        self.started_at, self.finished_at, self.exit_code = started_at, None, None
        self.container_id = container_id

    def set_terminated(
        self,
        exit_code: int,
        reason: str,
        message: str | None,
        finished_at: str,
        started_at: str | None = None,
    ) -> None:
        self.state, self.exit_code, self.reason, self.message = (
            "terminated",
            exit_code,
            reason,
            message,
        )
        self.finished_at = finished_at
        if started_at is not None:
            self.started_at = started_at

    def terminated(self) -> dict:
        out: dict = {
            "exitCode": self.exit_code,
            "reason": self.reason,
            "startedAt": self.started_at,
            "finishedAt": self.finished_at,
        }
        if self.message:
            out["message"] = self.message
        if self.container_id:
            out["containerID"] = self.container_id
        return out

    def retire(self) -> None:
        """Keep the finished attempt as ``lastState`` before the next one."""
        self.last_terminated = self.terminated()


def container_status(cs: ContainerState) -> dict:
    if cs.state == "running":
        state: dict = {"running": {"startedAt": cs.started_at}}
    elif cs.state == "terminated":
        state = {"terminated": cs.terminated()}
    else:
        waiting: dict = {"reason": cs.reason}
        if cs.message:
            waiting["message"] = cs.message
        state = {"waiting": waiting}
    out = {
        "name": cs.name,
        "state": state,
        "lastState": {"terminated": cs.last_terminated} if cs.last_terminated else {},
        "ready": cs.ready,
        "restartCount": cs.restart_count,
        "image": cs.image,
        "imageID": "",
        "started": cs.started,
    }
    if cs.container_id:
        out["containerID"] = cs.container_id
    return out


def pod_phase(
    restart_policy: str,
    init: list[ContainerState],
    regular: list[ContainerState],
    pod_terminal: bool,
) -> str:
    """The kubelet's ``getPhase``, over the runner's records."""
    pending_init = failed_init = 0
    for cs in init:
        if cs.state == "running":
            pending_init += 1
        elif cs.state == "terminated":
            failed_init += cs.exit_code != 0
        elif cs.last_terminated is not None:
            failed_init += cs.last_terminated.get("exitCode") != 0
        else:
            pending_init += 1
    running = waiting = stopped = succeeded = 0
    for cs in regular:
        if cs.state == "running":
            running += 1
        elif cs.state == "terminated":
            stopped += 1
            succeeded += cs.exit_code == 0
        elif cs.last_terminated is not None:
            stopped += 1
        else:
            waiting += 1
    if failed_init and restart_policy == "Never":
        return "Failed"
    started_any = any(cs.state != "waiting" or cs.last_terminated for cs in regular)
    if (pending_init and not started_any) or waiting:
        return "Pending"
    if running:
        return "Running"
    if stopped:
        if pod_terminal:
            return "Succeeded" if stopped == succeeded else "Failed"
        if restart_policy == "Always":
            return "Running"
        if stopped == succeeded:
            return "Succeeded"
        return "Failed" if restart_policy == "Never" else "Running"
    return "Pending"


def _condition(kind: str, ok: bool, reason: str | None = None, message: str | None = None) -> dict:
    out: dict = {"type": kind, "status": "True" if ok else "False", "lastProbeTime": None}
    if reason and not ok:
        out["reason"] = reason
    if message and not ok:
        out["message"] = message
    return out


def pod_conditions(
    phase: str,
    init: list[ContainerState],
    regular: list[ContainerState],
    sandbox_ready: bool,
    previous: list[dict],
    now: str,
) -> list[dict]:
    """PodReadyToStartContainers, Initialized, Ready, ContainersReady, PodScheduled — with
    ``lastTransitionTime`` kept from ``previous`` while a condition's status is unchanged."""
    incomplete = [cs.name for cs in init if not (cs.state == "terminated" and cs.exit_code == 0)]
    unready = [cs.name for cs in regular if not cs.ready]
    if phase == "Succeeded":
        ready_reason, ready_message = "PodCompleted", None
        initialized = _condition("Initialized", True)
    else:
        ready_reason = "ContainersNotReady"
        ready_message = f"containers with unready status: [{' '.join(unready)}]"
        initialized = _condition(
            "Initialized",
            not incomplete,
            "ContainersNotInitialized",
            f"containers with incomplete status: [{' '.join(incomplete)}]",
        )
    ready = not unready and phase != "Succeeded"
    conditions = [
        _condition("PodReadyToStartContainers", sandbox_ready),
        initialized,
        _condition("Ready", ready, ready_reason, ready_message),
        _condition("ContainersReady", ready, ready_reason, ready_message),
        _condition("PodScheduled", True),
    ]
    before = {c.get("type"): c for c in previous}
    for cond in conditions:
        old = before.get(cond["type"])
        if old is not None and old.get("status") == cond["status"]:
            cond["lastTransitionTime"] = old.get("lastTransitionTime")
        else:
            cond["lastTransitionTime"] = now
    return conditions


def qos_class(pod: dict) -> str:
    """Guaranteed, Burstable or BestEffort, from the containers' requests and limits."""
    containers = (pod.get("spec") or {}).get("containers") or []
    containers = containers + ((pod.get("spec") or {}).get("initContainers") or [])
    any_set = False
    guaranteed = True
    for c in containers:
        res = c.get("resources") or {}
        requests, limits = res.get("requests") or {}, res.get("limits") or {}
        if requests or limits:
            any_set = True
        for name in ("cpu", "memory"):
            limit = limits.get(name)
            if limit is None or quantity.parse(requests.get(name, limit)) != quantity.parse(limit):
                guaranteed = False
    if not any_set:
        return "BestEffort"
    return "Guaranteed" if guaranteed else "Burstable"


@dataclass
class PodView:
    """Everything besides the containers that goes into a pod's status."""

    restart_policy: str
    host_ip: str
    start_time: str | None = None
    sandbox_ready: bool = False
    terminal: bool = False
    reason: str | None = None
    message: str | None = None
    conditions: list[dict] = field(default_factory=list)
    qos: str = "BestEffort"


def pod_status(
    view: PodView, init: list[ContainerState], regular: list[ContainerState], now: str
) -> dict:
    # A pod the node itself failed (DeadlineExceeded, OutOfcpu, ...) is Failed whatever its
    # containers did.
    phase = (
        "Failed" if view.reason else pod_phase(view.restart_policy, init, regular, view.terminal)
    )
    conditions = pod_conditions(phase, init, regular, view.sandbox_ready, view.conditions, now)
    out: dict = {
        "phase": phase,
        "conditions": conditions,
        "hostIP": view.host_ip,
        "hostIPs": [{"ip": view.host_ip}],
        "podIP": view.host_ip,
        "podIPs": [{"ip": view.host_ip}],
        "qosClass": view.qos,
        "containerStatuses": [container_status(cs) for cs in regular],
    }
    if view.start_time:
        out["startTime"] = view.start_time
    if init:
        out["initContainerStatuses"] = [container_status(cs) for cs in init]
    if view.reason:
        out["reason"] = view.reason
    if view.message:
        out["message"] = view.message
    return out


def _states(pod: dict, reason: str, message: str | None = None) -> tuple[list, list]:
    spec = pod.get("spec") or {}
    init = [
        ContainerState(c["name"], image=c.get("image", ""), reason="PodInitializing")
        for c in spec.get("initContainers") or []
    ]
    first = reason if not init else "PodInitializing"
    regular = [
        ContainerState(
            c["name"], image=c.get("image", ""), reason=first, message=message if not init else None
        )
        for c in spec.get("containers") or []
    ]
    if init:
        init[0].reason, init[0].message = reason, message
    return init, regular


def waiting_status(
    pod: dict, host_ip: str, now: str, reason: str = "ContainerCreating", message: str | None = None
) -> dict:
    """A pod the node has accepted but not started (waiting for resources or config)."""
    init, regular = _states(pod, reason, message)
    view = PodView(
        (pod.get("spec") or {}).get("restartPolicy") or "Always",
        host_ip,
        start_time=now,
        qos=qos_class(pod),
    )
    return pod_status(view, init, regular, now)


def rejected_status(pod: dict, host_ip: str, now: str, reason: str, message: str) -> dict:
    """A pod the node refused to run (``OutOfnvidia.com/gpu`` ...): Failed, no containers."""
    return {
        "phase": "Failed",
        "reason": reason,
        "message": message,
        "hostIP": host_ip,
        "hostIPs": [{"ip": host_ip}],
        "startTime": now,
        "qosClass": qos_class(pod),
        "conditions": [
            {
                "type": "PodScheduled",
                "status": "True",
                "lastProbeTime": None,
                "lastTransitionTime": now,
            }
        ],
    }


def lost_status(pod: dict, previous: dict | None, host_ip: str, now: str, message: str) -> dict:
    """A pod whose processes are gone with no exit recorded (agent or task died): Failed,
    with every unfinished container ``ContainerStatusUnknown`` as the kubelet shows it."""
    previous = previous or waiting_status(pod, host_ip, now)
    out = dict(previous)
    out["phase"] = "Failed"
    out["message"] = message
    for key in ("initContainerStatuses", "containerStatuses"):
        statuses = []
        for st in previous.get(key) or []:
            st = dict(st)
            if "terminated" not in (st.get("state") or {}):
                st["state"] = {
                    "terminated": {
                        "exitCode": 137,
                        "reason": UNKNOWN_REASON,
                        "message": UNKNOWN_MESSAGE,
                        "startedAt": None,
                        "finishedAt": now,
                    }
                }
                st["ready"] = st["started"] = False
            statuses.append(st)
        if key in previous:
            out[key] = statuses
    out["conditions"] = [
        dict(c, status="False", lastTransitionTime=now)
        if c.get("type") in ("Ready", "ContainersReady") and c.get("status") == "True"
        else c
        for c in previous.get("conditions") or []
    ]
    return out
