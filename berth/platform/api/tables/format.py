"""Cell formatting shared by the table printers, as Kubernetes' printers.go writes it."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime, timedelta

from berth.platform.resources.meta import dig, parse_time


def column(
    name: str, *, type_: str = "string", priority: int = 0, fmt: str = "", description: str = ""
) -> dict:
    return {
        "name": name,
        "type": type_,
        "format": fmt,
        "description": description or name,
        "priority": priority,
    }


def name_column() -> dict:
    return column("Name", fmt="name", description="Name must be unique within a namespace.")


def age_column() -> dict:
    return column(
        "Age",
        description="CreationTimestamp is a timestamp representing the server "
        "time when this object was created.",
    )


def human_duration(d: timedelta) -> str:
    """apimachinery ``duration.HumanDuration``: ``63s``, ``2m3s``, ``5m``, ``3h4m``, ``2d3h``."""
    total = d.total_seconds()
    seconds = int(total)  # Go's int() truncates toward zero
    if seconds < -1:
        return "<invalid>"
    if seconds < 0:
        return "0s"
    if seconds < 60 * 2:
        return f"{seconds}s"
    minutes = seconds // 60
    if minutes < 10:
        rest = seconds % 60
        return f"{minutes}m" if rest == 0 else f"{minutes}m{rest}s"
    if minutes < 60 * 3:
        return f"{minutes}m"
    hours = seconds // 3600
    if hours < 8:
        rest = minutes % 60
        return f"{hours}h" if rest == 0 else f"{hours}h{rest}m"
    if hours < 48:
        return f"{hours}h"
    if hours < 24 * 8:
        rest = hours % 24
        return f"{hours // 24}d" if rest == 0 else f"{hours // 24}d{rest}h"
    if hours < 24 * 365 * 2:
        return f"{hours // 24}d"
    if hours < 24 * 365 * 8:
        rest = (hours // 24) % 365
        years = hours // 24 // 365
        return f"{years}y" if rest == 0 else f"{years}y{rest}d"
    return f"{hours // 24 // 365}y"


def parse_ts(value: object) -> datetime | None:
    if not isinstance(value, str) or not value:
        return None
    try:
        return parse_time(value)
    except ValueError:
        return None


def since(value: object, now: datetime) -> str:
    """``translateTimestampSince``: the age of a timestamp, ``<unknown>`` without one."""
    moment = parse_ts(value)
    if moment is None:
        return "<unknown>"
    return human_duration(now - moment)


def age(obj: dict, now: datetime) -> str:
    return since(dig(obj, "metadata", "creationTimestamp"), now)


def container_cells(containers: list[dict] | None) -> tuple[str, str]:
    """``layoutContainerCells``: names and images, comma-joined in spec order."""
    containers = containers or []
    return (
        ",".join(c.get("name") or "" for c in containers),
        ",".join(c.get("image") or "" for c in containers),
    )


_SELECTOR_OPS = {"In": " in ", "NotIn": " notin "}


def label_selector(selector: dict | None) -> str:
    """``metav1.FormatLabelSelector``: ``a=b,tier in (x,y)``; ``<none>`` when it selects all
    or nothing."""
    if not selector:
        return "<none>"
    requirements: list[tuple[str, str]] = []
    for key, value in (selector.get("matchLabels") or {}).items():
        requirements.append((key, f"{key}={value}"))
    for expr in selector.get("matchExpressions") or []:
        key, op, values = expr.get("key", ""), expr.get("operator"), expr.get("values") or []
        if op in _SELECTOR_OPS:
            shown = values[0] if len(values) == 1 else ",".join(sorted(values))
            requirements.append((key, f"{key}{_SELECTOR_OPS[op]}({shown})"))
        elif op == "Exists":
            requirements.append((key, key))
        elif op == "DoesNotExist":
            requirements.append((key, f"!{key}"))
        else:
            return "<error>"
    text = ",".join(r for _, r in sorted(requirements, key=lambda r: r[0]))
    return text or "<none>"


def condition_true(obj: dict, kind: str) -> bool:
    for cond in dig(obj, "status", "conditions") or []:
        if cond.get("type") == kind and cond.get("status") == "True":
            return True
    return False


def bool_text(value: object) -> str:
    """``printBoolPtr``: ``True``/``False``, ``<unset>`` when absent."""
    if value is None:
        return "<unset>"
    return "True" if value else "False"


def quantity_text(value: object) -> str:
    """A quantity as the API prints it: ``0`` when missing."""
    if value is None or value == "":
        return "0"
    if isinstance(value, float) and value.is_integer():
        return str(int(value))
    return str(value)


def access_modes(modes: list[str] | None) -> str:
    """``GetAccessModesAsString``: fixed order, each at most once."""
    modes = modes or []
    short = (
        ("ReadWriteOnce", "RWO"),
        ("ReadOnlyMany", "ROX"),
        ("ReadWriteMany", "RWX"),
        ("ReadWriteOncePod", "RWOP"),
    )
    return ",".join(abbrev for mode, abbrev in short if mode in modes)


@dataclass(frozen=True)
class Printer:
    """One kind's table: its columns, the cells of one object, and optional row conditions."""

    columns: tuple[dict, ...]
    cells: Callable[[dict, datetime], list]
    conditions: Callable[[dict], list[dict]] | None = None
