"""Tables for Nodes, Namespaces, ConfigMaps, Secrets, Events and Leases (printers.go)."""

from __future__ import annotations

from datetime import datetime

from berth.platform.api.tables.format import Printer, age, age_column, column, name_column, since
from berth.platform.resources.meta import dig

_ROLE_PREFIX = "node-role.kubernetes.io/"
_ROLE_LABEL = "kubernetes.io/role"


def _node_status(node: dict) -> str:
    status = []
    for cond in dig(node, "status", "conditions") or []:
        if cond.get("type") == "Ready":
            status = ["Ready" if cond.get("status") == "True" else "NotReady"]
            break
    if not status:
        status = ["Unknown"]
    if dig(node, "spec", "unschedulable"):
        status.append("SchedulingDisabled")
    return ",".join(status)


def _node_roles(node: dict) -> str:
    roles = set()
    for key, value in (dig(node, "metadata", "labels") or {}).items():
        if key.startswith(_ROLE_PREFIX) and key[len(_ROLE_PREFIX) :]:
            roles.add(key[len(_ROLE_PREFIX) :])
        elif key == _ROLE_LABEL and value:
            roles.add(value)
    return ",".join(sorted(roles)) or "<none>"


def _node_address(node: dict, kind: str) -> str:
    for address in dig(node, "status", "addresses") or []:
        if address.get("type") == kind:
            return address.get("address") or ""
    return "<none>"


def _node_cells(node: dict, now: datetime) -> list:
    info = dig(node, "status", "nodeInfo") or {}
    return [
        dig(node, "metadata", "name", default=""),
        _node_status(node),
        _node_roles(node),
        age(node, now),
        info.get("kubeletVersion") or "",
        _node_address(node, "InternalIP"),
        _node_address(node, "ExternalIP"),
        info.get("osImage") or "<unknown>",
        info.get("kernelVersion") or "<unknown>",
        info.get("containerRuntimeVersion") or "<unknown>",
    ]


NODE = Printer(
    columns=(
        name_column(),
        column("Status", description="The status of the node"),
        column("Roles", description="The roles of the node"),
        age_column(),
        column("Version", description="Kubelet Version reported by the node."),
        column("Internal-IP", priority=1, description="List of addresses reachable to the node."),
        column("External-IP", priority=1, description="List of addresses reachable to the node."),
        column("OS-Image", priority=1, description="OS Image reported by the node."),
        column("Kernel-Version", priority=1, description="Kernel Version reported by the node."),
        column(
            "Container-Runtime",
            priority=1,
            description="ContainerRuntime Version reported by the node.",
        ),
    ),
    cells=_node_cells,
)

NAMESPACE = Printer(
    columns=(
        name_column(),
        column("Status", description="The status of the namespace"),
        age_column(),
    ),
    cells=lambda ns, now: [
        dig(ns, "metadata", "name", default=""),
        dig(ns, "status", "phase", default=""),
        age(ns, now),
    ],
)

CONFIG_MAP = Printer(
    columns=(
        name_column(),
        column("Data", type_="integer", description="Data contains the configuration data."),
        age_column(),
    ),
    cells=lambda cm, now: [
        dig(cm, "metadata", "name", default=""),
        len(cm.get("data") or {}) + len(cm.get("binaryData") or {}),
        age(cm, now),
    ],
)

SECRET = Printer(
    columns=(
        name_column(),
        column("Type", description="Used to facilitate programmatic handling of secret data."),
        column("Data", type_="integer", description="Data contains the secret data."),
        age_column(),
    ),
    cells=lambda s, now: [
        dig(s, "metadata", "name", default=""),
        s.get("type") or "",
        len(s.get("data") or {}),
        age(s, now),
    ],
)

LEASE = Printer(
    columns=(
        name_column(),
        column(
            "Holder",
            description="holderIdentity contains the identity of the holder of a current lease.",
        ),
        age_column(),
    ),
    cells=lambda lease, now: [
        dig(lease, "metadata", "name", default=""),
        dig(lease, "spec", "holderIdentity", default=""),
        age(lease, now),
    ],
)


def _event_cells(event: dict, now: datetime) -> list:
    first = since(event.get("firstTimestamp"), now)
    if not event.get("firstTimestamp"):
        first = since(event.get("eventTime"), now)
    last = since(event.get("lastTimestamp"), now) if event.get("lastTimestamp") else first
    count = event.get("count") or 0
    series = event.get("series")
    if series:
        last = since(series.get("lastObservedTime"), now)
        count = series.get("count") or 0
    elif count == 0:
        count = 1  # singleton events of the events.k8s.io API carry no count
    involved = event.get("involvedObject") or {}
    target = (involved.get("kind") or "").lower()
    if involved.get("name"):
        target = f"{target}/{involved['name']}"
    source = event.get("source") or {}
    component = source.get("component") or event.get("reportingComponent") or ""
    instance = source.get("host") or event.get("reportingInstance") or ""
    return [
        last,
        event.get("type") or "",
        event.get("reason") or "",
        target,
        involved.get("fieldPath") or "",
        f"{component}, {instance}" if instance else component,
        (event.get("message") or "").strip(),
        first,
        count,
        dig(event, "metadata", "name", default=""),
    ]


EVENT = Printer(
    columns=(
        column(
            "Last Seen",
            description="The time at which the most recent occurrence of this event was recorded.",
        ),
        column("Type", description="Type of this event (Normal, Warning)."),
        column(
            "Reason",
            description="This should be a short, machine understandable "
            "string that gives the reason for the transition.",
        ),
        column("Object", description="The object that this event is about."),
        column("Subobject", priority=1, description="The field of the object this event is about."),
        column("Source", priority=1, description="The component reporting this event."),
        column(
            "Message", description="A human-readable description of the status of this operation."
        ),
        column(
            "First Seen", priority=1, description="The time at which the event was first recorded."
        ),
        column("Count", priority=1, description="The number of times this event has occurred."),
        column(
            "Name", priority=1, fmt="name", description="Name must be unique within a namespace."
        ),
    ),
    cells=_event_cells,
)
