"""Grafana dashboard JSON from a few plain builders: panels, targets, a datasource variable.

Kept to the fields Grafana needs, laid out left to right in rows; ``generate.py`` lists the
dashboards and writes them to ``grafana/dashboards/``.
"""

from __future__ import annotations

from dataclasses import dataclass, field

DATASOURCE = {"type": "prometheus", "uid": "${datasource}"}
RATE = "$__rate_interval"  # Grafana's rate window; the dashboard test substitutes a range
GRID_WIDTH = 24


@dataclass(frozen=True)
class Target:
    expr: str
    legend: str = ""


@dataclass(frozen=True)
class Panel:
    title: str
    targets: tuple[Target, ...]
    description: str
    kind: str = "timeseries"  # or "stat"
    unit: str = "short"
    width: int = 12
    height: int = 8
    options: dict = field(default_factory=dict)


def series(
    title: str,
    description: str,
    *targets: Target,
    unit: str = "short",
    width: int = 12,
    stacked: bool = False,
) -> Panel:
    options = {"stacking": {"mode": "normal"}} if stacked else {}
    return Panel(title, targets, description, "timeseries", unit, width, 8, options)


def stat(title: str, description: str, expr: str, unit: str = "short") -> Panel:
    return Panel(title, (Target(expr),), description, "stat", unit, 6, 4)


def _panel_json(panel: Panel, pid: int, x: int, y: int) -> dict:
    defaults: dict = {"unit": panel.unit}
    if panel.kind == "timeseries":
        defaults["custom"] = {"fillOpacity": 10, "showPoints": "never", **panel.options}
    return {
        "id": pid,
        "type": panel.kind,
        "title": panel.title,
        "description": panel.description,
        "datasource": DATASOURCE,
        "gridPos": {"h": panel.height, "w": panel.width, "x": x, "y": y},
        "fieldConfig": {"defaults": defaults, "overrides": []},
        "options": (
            {"legend": {"displayMode": "list", "placement": "bottom"}, "tooltip": {"mode": "multi"}}
            if panel.kind == "timeseries"
            else {"reduceOptions": {"calcs": ["lastNotNull"]}, "colorMode": "value"}
        ),
        "targets": [
            {
                "refId": chr(ord("A") + i),
                "datasource": DATASOURCE,
                "expr": t.expr,
                "legendFormat": t.legend or "__auto",
            }
            for i, t in enumerate(panel.targets)
        ],
    }


def dashboard(uid: str, title: str, description: str, panels: list[Panel]) -> dict:
    laid, x, y, row_height = [], 0, 0, 0
    for pid, panel in enumerate(panels, start=1):
        if x + panel.width > GRID_WIDTH:
            x, y, row_height = 0, y + row_height, 0
        laid.append(_panel_json(panel, pid, x, y))
        x += panel.width
        row_height = max(row_height, panel.height)
    return {
        "uid": uid,
        "title": title,
        "description": description,
        "tags": ["berth"],
        "timezone": "utc",
        "editable": True,
        "schemaVersion": 39,
        "version": 1,
        "refresh": "30s",
        "time": {"from": "now-1h", "to": "now"},
        "templating": {
            "list": [
                {
                    "name": "datasource",
                    "label": "Data source",
                    "type": "datasource",
                    "query": "prometheus",
                    "current": {},
                    "hide": 0,
                    "refresh": 1,
                }
            ]
        },
        "annotations": {"list": []},
        "panels": laid,
    }


def queries(board: dict) -> list[tuple[str, str]]:
    """(panel title, expression) of every target of a dashboard's JSON."""
    return [
        (panel["title"], target["expr"]) for panel in board["panels"] for target in panel["targets"]
    ]
