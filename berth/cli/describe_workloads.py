"""``berth describe job`` and ``berth describe pod``: the pages kubectl's describers print."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from datetime import datetime
from typing import TYPE_CHECKING, Any

from berth.cli.describe import (
    NONE,
    Page,
    annotation_lines,
    conditions_section,
    events_section,
    header,
    pairs,
    when,
)
from berth.platform.api.tables.format import human_duration
from berth.platform.resources.meta import controller_of, dig, parse_time

if TYPE_CHECKING:
    from berth.platform.resources.types import Event, Job, Pod, Toleration


def _unset(value: object) -> object:
    return "<unset>" if value is None else value


def _resources(page: Page, resources: Mapping[str, Any] | None, level: int) -> None:
    for title, key in (("Limits", "limits"), ("Requests", "requests")):
        amounts = (resources or {}).get(key) or {}
        if amounts:
            page.section(title, level)
            for name, amount in sorted(amounts.items()):
                page.field(name, amount, level + 1)


def _env(container: Mapping[str, Any]) -> list[str]:
    out = []
    for var in container.get("env") or []:
        if "value" in var:
            out.append(f"{var['name']}: {var['value']}")
        else:
            source = next(iter(var.get("valueFrom") or {}), "valueFrom")
            out.append(f"{var['name']}: <set from {source}>")
    return out


def _state(state: Mapping[str, Any] | None) -> list[tuple[str, object]]:
    """``State:`` and its details from a container status's state (or last state)."""
    if not state:
        return [("State", "Waiting")]
    kind, detail = next(iter(state.items()))
    detail = detail or {}
    if kind == "running":
        return [("State", "Running"), ("Started", when(detail.get("startedAt")))]
    if kind == "terminated":
        fields = [
            ("State", "Terminated"),
            ("Reason", detail.get("reason")),
            ("Exit Code", detail.get("exitCode")),
        ]
        if detail.get("message"):
            fields.append(("Message", detail["message"]))
        return fields + [
            ("Started", when(detail.get("startedAt"))),
            ("Finished", when(detail.get("finishedAt"))),
        ]
    fields = [("State", "Waiting"), ("Reason", detail.get("reason"))]
    if detail.get("message"):
        fields.append(("Message", detail["message"]))
    return fields


def _containers(
    page: Page, containers: Sequence[Mapping[str, Any]], statuses: dict | None, level: int
) -> None:
    page.section("Containers", level)
    for c in containers:
        page.section(c.get("name", ""), level + 1)
        inner = level + 2
        page.field("Image", c.get("image"), inner)
        for title, key in (("Command", "command"), ("Args", "args")):
            if c.get(key):
                page.section(title, inner)
                for part in c[key]:
                    page.block(str(part), inner + 1)
        if statuses is not None:
            status = statuses.get(c.get("name", ""), {})
            for key, value in _state(status.get("state")):
                page.field(key, value, inner)
            page.field("Ready", "True" if status.get("ready") else "False", inner)
            page.field("Restart Count", status.get("restartCount", 0), inner)
        _resources(page, c.get("resources"), inner)
        page.field("Environment", _env(c), inner)


def describe_job(job: Job, events: list[Event], now: datetime) -> str:
    spec, status = job.get("spec") or {}, job.get("status") or {}
    page = Page()
    header(page, job)
    page.field("Selector", ",".join(pairs(dig(spec, "selector", "matchLabels"))) or NONE)
    page.field("Parallelism", _unset(spec.get("parallelism")))
    page.field("Completions", _unset(spec.get("completions")))
    page.field("Completion Mode", spec.get("completionMode", "NonIndexed"))
    page.field("Suspend", str(bool(spec.get("suspend"))).lower())
    page.field("Backoff Limit", _unset(spec.get("backoffLimit")))
    if spec.get("activeDeadlineSeconds") is not None:
        page.field("Active Deadline Seconds", f"{spec['activeDeadlineSeconds']}s")
    if spec.get("ttlSecondsAfterFinished") is not None:
        page.field("TTL Seconds After Finished", spec["ttlSecondsAfterFinished"])
    page.field("Start Time", when(status.get("startTime")))
    if status.get("completionTime"):
        page.field("Completed At", when(status["completionTime"]))
    if status.get("startTime"):
        end = parse_time(status["completionTime"]) if status.get("completionTime") else now
        page.field("Duration", human_duration(end - parse_time(status["startTime"])))
    page.field(
        "Pods Statuses",
        f"{status.get('active', 0)} Active "
        f"({status.get('ready', 0)} Ready) / "
        f"{status.get('succeeded', 0)} Succeeded / "
        f"{status.get('failed', 0)} Failed",
    )
    if spec.get("completionMode") == "Indexed":
        page.field("Completed Indexes", status.get("completedIndexes"))
        if status.get("failedIndexes"):
            page.field("Failed Indexes", status["failedIndexes"])
    page.section("Pod Template")
    template = spec.get("template") or {}
    page.field("Labels", pairs(dig(template, "metadata", "labels")), 1)
    _containers(page, dig(template, "spec", "containers", default=[]), None, 1)
    conditions_section(page, status.get("conditions"), with_reason=True)
    events_section(page, events, now)
    return page.render()


def describe_pod(pod: Pod, events: list[Event], now: datetime) -> str:
    spec, status = pod.get("spec") or {}, pod.get("status") or {}
    page = Page()
    page.field("Name", dig(pod, "metadata", "name"))
    page.field("Namespace", dig(pod, "metadata", "namespace"))
    page.field("Node", spec.get("nodeName"))
    page.field("Start Time", when(status.get("startTime")))
    page.field("Labels", pairs(dig(pod, "metadata", "labels")))
    page.field("Annotations", annotation_lines(pod))
    if dig(pod, "metadata", "deletionTimestamp"):
        since = when(pod["metadata"]["deletionTimestamp"])
        page.field("Status", f"Terminating (lasts since {since})")
    else:
        page.field("Status", status.get("phase", "Pending"))
    if status.get("reason"):
        page.field("Reason", status["reason"])
    if status.get("message"):
        page.field("Message", status["message"])
    owner = controller_of(pod)
    page.field("Controlled By", f"{owner['kind']}/{owner['name']}" if owner else None)
    statuses = {s.get("name"): s for s in status.get("containerStatuses") or []}
    _containers(page, spec.get("containers") or [], statuses, 0)
    conditions_section(page, status.get("conditions"), with_reason=False)
    page.field("Node-Selectors", pairs(spec.get("nodeSelector")))
    page.field("Tolerations", [_toleration(t) for t in spec.get("tolerations") or []])
    events_section(page, events, now)
    return page.render()


def _toleration(t: Toleration) -> str:
    """``key=value:Effect op=Exists for 300s``, kubectl's way."""
    text = t.get("key", "")
    if t.get("value"):
        text += f"={t['value']}"
    if t.get("effect"):
        text += f":{t['effect']}"
    if t.get("operator") == "Exists":
        text += " op=Exists"
    if t.get("tolerationSeconds") is not None:
        text += f" for {t['tolerationSeconds']}s"
    return text.strip()
