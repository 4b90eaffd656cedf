"""Tables for Jobs, CronJobs and Pods (printJob, printCronJob, printPod in printers.go)."""

from __future__ import annotations

from datetime import datetime

from berth.platform.api.tables.format import (
    Printer,
    age,
    age_column,
    bool_text,
    column,
    condition_true,
    container_cells,
    human_duration,
    label_selector,
    name_column,
    parse_ts,
    since,
)
from berth.platform.resources.meta import dig
from berth.platform.resources.pods import is_terminal

_CONTAINERS = "Names of each container in the template."
_IMAGES = "Images referenced by each container in the template."
_SELECTOR = "A label query over pods that should match the pod count."

# Checked in this order: a finished job reads as finished even while it is being deleted.
_JOB_STATES = (
    "Complete",
    "Failed",
    "Terminating",
    "Suspended",
    "FailureTarget",
    "SuccessCriteriaMet",
)


def _job_status(job: dict) -> str:
    for state in _JOB_STATES:
        if state == "Terminating":
            if dig(job, "metadata", "deletionTimestamp"):
                return state
        elif condition_true(job, state):
            return state
    return "Running"


def _job_completions(job: dict) -> str:
    succeeded = dig(job, "status", "succeeded", default=0)
    completions = dig(job, "spec", "completions")
    if completions is not None:
        return f"{succeeded}/{completions}"
    parallelism = dig(job, "spec", "parallelism", default=0)
    if parallelism > 1:
        return f"{succeeded}/1 of {parallelism}"
    return f"{succeeded}/1"


def _job_duration(job: dict, now: datetime) -> str:
    start = parse_ts(dig(job, "status", "startTime"))
    if start is None:
        return ""
    end = parse_ts(dig(job, "status", "completionTime"))
    return human_duration((end or now) - start)


def _job_cells(job: dict, now: datetime) -> list:
    names, images = container_cells(dig(job, "spec", "template", "spec", "containers"))
    return [
        dig(job, "metadata", "name", default=""),
        _job_status(job),
        _job_completions(job),
        _job_duration(job, now),
        age(job, now),
        names,
        images,
        label_selector(dig(job, "spec", "selector")),
    ]


JOB = Printer(
    columns=(
        name_column(),
        column("Status", description="Status of the job."),
        column("Completions", description="The number of pods which reached phase Succeeded."),
        column("Duration", description="Time required to complete the job."),
        age_column(),
        column("Containers", priority=1, description=_CONTAINERS),
        column("Images", priority=1, description=_IMAGES),
        column("Selector", priority=1, description=_SELECTOR),
    ),
    cells=_job_cells,
)


def _cron_job_cells(cron: dict, now: datetime) -> list:
    last = dig(cron, "status", "lastScheduleTime")
    job_spec = dig(cron, "spec", "jobTemplate", "spec", default={})
    names, images = container_cells(dig(job_spec, "template", "spec", "containers"))
    return [
        dig(cron, "metadata", "name", default=""),
        dig(cron, "spec", "schedule", default=""),
        dig(cron, "spec", "timeZone", default="<none>"),
        bool_text(dig(cron, "spec", "suspend")),
        len(dig(cron, "status", "active", default=[])),
        since(last, now) if last else "<none>",
        age(cron, now),
        names,
        images,
        label_selector(job_spec.get("selector")),
    ]


CRON_JOB = Printer(
    columns=(
        name_column(),
        column("Schedule", description="The schedule in Cron format."),
        column("Timezone", description="The time zone name for the given schedule."),
        column(
            "Suspend",
            type_="boolean",
            description="This flag tells the controller to suspend subsequent executions.",
        ),
        column(
            "Active", type_="integer", description="A list of pointers to currently running jobs."
        ),
        column(
            "Last Schedule",
            description="Information when was the last time the job was successfully scheduled.",
        ),
        age_column(),
        column("Containers", priority=1, description=_CONTAINERS),
        column("Images", priority=1, description=_IMAGES),
        column("Selector", priority=1, description=_SELECTOR),
    ),
    cells=_cron_job_cells,
)


def _pod_reason(pod: dict) -> tuple[str, int, int, datetime | None]:
    """printPod's walk over init and app containers: (reason, ready, restarts, last restart)."""
    spec, status = pod.get("spec") or {}, pod.get("status") or {}
    reason = status.get("reason") or status.get("phase") or ""
    for cond in status.get("conditions") or []:
        if cond.get("type") == "PodScheduled" and cond.get("reason") == "SchedulingGated":
            reason = "SchedulingGated"
    init_specs = {c.get("name"): c for c in spec.get("initContainers") or []}
    sidecar = {name for name, c in init_specs.items() if c.get("restartPolicy") == "Always"}
    ready = restarts = sidecar_restarts = 0
    last_restart: datetime | None = None
    last_sidecar_restart: datetime | None = None

    initializing = False
    init_statuses = status.get("initContainerStatuses") or []
    for index, cs in enumerate(init_statuses):
        restarts += cs.get("restartCount") or 0
        finished = parse_ts(dig(cs, "lastState", "terminated", "finishedAt"))
        last_restart = _later(last_restart, finished)
        if cs.get("name") in sidecar:
            sidecar_restarts += cs.get("restartCount") or 0
            last_sidecar_restart = _later(last_sidecar_restart, finished)
        terminated = dig(cs, "state", "terminated")
        waiting_reason = dig(cs, "state", "waiting", "reason")
        if terminated is not None and terminated.get("exitCode", 0) == 0:
            continue
        if cs.get("name") in sidecar and cs.get("started"):
            ready += 1 if cs.get("ready") else 0
            continue
        if terminated is not None:
            if terminated.get("reason"):
                reason = "Init:" + terminated["reason"]
            elif terminated.get("signal"):
                reason = f"Init:Signal:{terminated['signal']}"
            else:
                reason = f"Init:ExitCode:{terminated.get('exitCode', 0)}"
        elif waiting_reason and waiting_reason != "PodInitializing":
            reason = "Init:" + waiting_reason
        else:
            reason = f"Init:{index}/{len(spec.get('initContainers') or [])}"
        initializing = True
        break

    if not initializing or condition_true(pod, "Initialized"):
        restarts, last_restart = sidecar_restarts, last_sidecar_restart
        has_running = False
        for cs in reversed(status.get("containerStatuses") or []):
            restarts += cs.get("restartCount") or 0
            last_restart = _later(
                last_restart, parse_ts(dig(cs, "lastState", "terminated", "finishedAt"))
            )
            state = cs.get("state") or {}
            waiting, terminated = state.get("waiting"), state.get("terminated")
            if waiting is not None and waiting.get("reason"):
                reason = waiting["reason"]
            elif terminated is not None and terminated.get("reason"):
                reason = terminated["reason"]
            elif terminated is not None:
                reason = (
                    f"Signal:{terminated['signal']}"
                    if terminated.get("signal")
                    else f"ExitCode:{terminated.get('exitCode', 0)}"
                )
            elif cs.get("ready") and state.get("running") is not None:
                has_running = True
                ready += 1
        if reason == "Completed" and has_running:
            reason = "Running" if condition_true(pod, "Ready") else "NotReady"

    if dig(pod, "metadata", "deletionTimestamp"):
        if status.get("reason") == "NodeLost":
            reason = "Unknown"
        elif not is_terminal(pod):
            reason = "Terminating"
    return reason, ready, restarts, last_restart


def _later(a: datetime | None, b: datetime | None) -> datetime | None:
    if a is None:
        return b
    if b is None:
        return a
    return max(a, b)


def _pod_cells(pod: dict, now: datetime) -> list:
    spec, status = pod.get("spec") or {}, pod.get("status") or {}
    reason, ready, restarts, last_restart = _pod_reason(pod)
    total = len(spec.get("containers") or []) + sum(
        1 for c in spec.get("initContainers") or [] if c.get("restartPolicy") == "Always"
    )
    restarts_text = str(restarts)
    if restarts and last_restart is not None:
        restarts_text = f"{restarts} ({human_duration(now - last_restart)} ago)"
    pod_ips = status.get("podIPs") or []
    pod_ip = (pod_ips[0].get("ip") if pod_ips else "") or status.get("podIP") or "<none>"
    gates = spec.get("readinessGates") or []
    gates_text = "<none>"
    if gates:
        by_type = {}
        for cond in status.get("conditions") or []:
            by_type.setdefault(cond.get("type"), cond.get("status"))
        passed = sum(1 for g in gates if by_type.get(g.get("conditionType")) == "True")
        gates_text = f"{passed}/{len(gates)}"
    return [
        dig(pod, "metadata", "name", default=""),
        f"{ready}/{total}",
        reason,
        restarts_text,
        age(pod, now),
        pod_ip,
        spec.get("nodeName") or "<none>",
        status.get("nominatedNodeName") or "<none>",
        gates_text,
    ]


def _pod_conditions(pod: dict) -> list[dict]:
    """Completed pods carry a row condition, as the API server marks them."""
    phase = dig(pod, "status", "phase")
    if phase == "Succeeded":
        return [
            {
                "type": "Completed",
                "status": "True",
                "reason": "Succeeded",
                "message": "The pod has completed successfully.",
            }
        ]
    if phase == "Failed":
        return [
            {
                "type": "Completed",
                "status": "True",
                "reason": "Failed",
                "message": "The pod failed.",
            }
        ]
    return []


POD = Printer(
    columns=(
        name_column(),
        column(
            "Ready", description="The aggregate readiness state of this pod for accepting traffic."
        ),
        column("Status", description="The aggregate status of the containers in this pod."),
        column(
            "Restarts",
            description="The number of times the containers in this pod "
            "have been restarted and when the last container "
            "in this pod has restarted.",
        ),
        age_column(),
        column("IP", priority=1, description="IP address allocated to the pod."),
        column(
            "Node",
            priority=1,
            description="NodeName is a request to schedule this pod onto a specific node.",
        ),
        column(
            "Nominated Node",
            priority=1,
            description="nominatedNodeName is set only when this pod preempts other "
            "pods on the node.",
        ),
        column(
            "Readiness Gates",
            priority=1,
            description="If specified, all readiness gates will be evaluated for pod readiness.",
        ),
    ),
    cells=_pod_cells,
    conditions=_pod_conditions,
)
