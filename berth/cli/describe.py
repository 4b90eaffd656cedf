"""``berth describe``: a readable summary of one object and its Events (pure formatting).

Jobs and Pods get kubectl-like pages (``describe_workloads``); every other kind gets its
metadata and the rest of the object as YAML, with Secret values replaced by their sizes.
"""

from __future__ import annotations

import base64
import binascii
import dataclasses
from collections.abc import Mapping, Sequence
from datetime import datetime
from typing import TYPE_CHECKING, Any

from berth.cli.render import TableData, plain_table, to_yaml
from berth.platform.api.tables.format import human_duration
from berth.platform.resources.meta import dig, parse_time

if TYPE_CHECKING:
    from berth.platform.resources.types import Event

NONE = "<none>"


@dataclasses.dataclass
class Page:
    """Lines of ``Key:  value`` fields, sections and blocks, indented two spaces per level.

    Keys of one level are padded to a common width so the values line up, as kubectl's
    describers do.
    """

    items: list[tuple[int, str, list[str] | None]] = dataclasses.field(default_factory=list)

    def field(self, key: str, value: object, level: int = 0) -> None:
        if isinstance(value, list):
            values = [str(v) for v in value] or [NONE]
        else:
            values = [NONE if value in (None, "") else str(value)]
        self.items.append((level, key, values))

    def section(self, key: str, level: int = 0) -> None:
        self.items.append((level, key, None))

    def block(self, text: str, level: int = 0) -> None:
        for line in text.rstrip("\n").splitlines():
            self.items.append((level, "", [line]))

    def render(self) -> str:
        widths: dict[int, int] = {}
        for level, key, values in self.items:
            if key and values is not None:
                widths[level] = max(widths.get(level, 0), len(key) + 3)
        out = []
        for level, key, values in self.items:
            indent = "  " * level
            if values is None:
                out.append(f"{indent}{key}:")
            elif not key:
                out.append(f"{indent}{values[0]}".rstrip())
            else:
                pad = widths[level]
                out.append(f"{indent}{(key + ':').ljust(pad)}{values[0]}".rstrip())
                out.extend(f"{indent}{' ' * pad}{v}".rstrip() for v in values[1:])
        return "\n".join(out) + "\n"


def pairs(mapping: Mapping[str, Any] | None) -> list[str]:
    return [f"{k}={v}" for k, v in sorted((mapping or {}).items())]


def annotation_lines(obj: Mapping[str, Any]) -> list[str]:
    """Annotations, less the last-applied manifest (long, and shown by ``get -o yaml``)."""
    found = dig(obj, "metadata", "annotations", default={}) or {}
    return [
        f"{k}: {v}"
        for k, v in sorted(found.items())
        if k != "kubectl.kubernetes.io/last-applied-configuration"
    ]


def when(text: str | None) -> str:
    """``Mon, 25 Nov 2026 19:25:41 +0000``, kubectl's RFC 1123 form."""
    if not text:
        return NONE
    try:
        return parse_time(text).strftime("%a, %d %b %Y %H:%M:%S %z")
    except ValueError:
        return text


def age(text: str | None, now: datetime) -> str:
    if not text:
        return "<unknown>"
    try:
        return human_duration(now - parse_time(text))
    except ValueError:
        return "<unknown>"


def header(page: Page, obj: Mapping[str, Any]) -> None:
    page.field("Name", dig(obj, "metadata", "name"))
    if dig(obj, "metadata", "namespace"):
        page.field("Namespace", dig(obj, "metadata", "namespace"))
    page.field("Labels", pairs(dig(obj, "metadata", "labels")))
    page.field("Annotations", annotation_lines(obj))


def events_section(page: Page, events: Sequence[Event], now: datetime) -> None:
    if not events:
        page.field("Events", NONE)
        return
    page.section("Events")
    rows = []
    for ev in sorted(events, key=_event_time):
        last, first = _event_time(ev), ev.get("firstTimestamp")
        count = ev.get("count") or 1
        shown = (
            age(last, now)
            if count <= 1 or not first
            else f"{age(last, now)} (x{count} over {age(first, now)})"
        )
        source = dig(ev, "source", "component") or ev.get("reportingComponent") or ""
        rows.append(
            [ev.get("type", ""), ev.get("reason", ""), shown, source, ev.get("message", "")]
        )
    data = TableData(["Type", "Reason", "Age", "From", "Message"], rows)
    underline = [["-" * len(h) for h in data.headers]]
    page.block(plain_table(TableData(data.headers, underline + data.rows)), level=1)


def _event_time(ev: Event) -> str:
    return (
        ev.get("lastTimestamp")
        or ev.get("eventTime")
        or dig(ev, "metadata", "creationTimestamp")
        or ""
    )


def conditions_section(
    page: Page, conditions: Sequence[Mapping[str, Any]] | None, *, with_reason: bool
) -> None:
    if not conditions:
        page.field("Conditions", NONE)
        return
    page.section("Conditions")
    headers = ["Type", "Status"] + (["Reason", "Message"] if with_reason else [])
    rows = [
        [c.get("type", ""), c.get("status", "")]
        + ([c.get("reason", ""), c.get("message", "")] if with_reason else [])
        for c in conditions
    ]
    underline = [["-" * len(h) for h in headers]]
    page.block(plain_table(TableData(headers, underline + rows)), level=1)


def secret_sizes(data: dict | None) -> dict:
    """Secret values are not shown, only how many bytes each holds (as kubectl describe)."""
    sizes = {}
    for key, value in (data or {}).items():
        try:
            sizes[key] = f"{len(base64.b64decode(value or '', validate=True))} bytes"
        except (binascii.Error, ValueError):
            sizes[key] = "<not base64>"
    return sizes


def describe_generic(obj: dict, events: list[Event], now: datetime) -> str:
    page = Page()
    header(page, obj)
    rest = {k: v for k, v in obj.items() if k not in ("apiVersion", "kind", "metadata")}
    if obj.get("kind") == "Secret":
        rest.pop("stringData", None)
        rest["data"] = secret_sizes(rest.get("data"))
    for key, value in rest.items():
        if isinstance(value, (dict, list)) and value:
            page.section(key[:1].upper() + key[1:])
            page.block(to_yaml(value), level=1)
        else:
            page.field(key[:1].upper() + key[1:], value if value not in ({}, []) else None)
    events_section(page, events, now)
    return page.render()
