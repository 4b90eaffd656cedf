"""How the ``berth`` commands print: server errors like kubectl, ``meta.k8s.io`` Tables as
columns (rich on a terminal, plain aligned text otherwise), objects as YAML or JSON."""

from __future__ import annotations

import json
import os
import sys
from dataclasses import dataclass
from typing import TYPE_CHECKING, TextIO

import yaml

from berth.platform.resources.meta import dig

if TYPE_CHECKING:
    # rich is imported where it draws: a piped command (scripts, tests) never loads it.
    from rich.console import Console
    from rich.live import Live
    from rich.text import Text


def format_error(status: dict) -> str:
    """A server ``Status`` as kubectl prints it.

    ``Error from server (NotFound): jobs.batch "x" not found``; an ``Invalid`` (422) with causes
    names the object and lists one ``* field: message`` line per cause.
    """
    causes = dig(status, "details", "causes", default=None) or []
    if status.get("code") == 422 and causes:
        details = status.get("details") or {}
        kind, name = details.get("kind", ""), details.get("name", "")
        head = f'The {kind} "{name}" is invalid:' if kind or name else "The request is invalid:"
        lines = [head]
        for cause in causes:
            field, message = cause.get("field", ""), cause.get("message", "")
            lines.append(f"* {field}: {message}" if field else f"* {message}")
        return "\n".join(lines)
    reason = status.get("reason") or ""
    message = status.get("message") or "an unknown error occurred"
    return f"Error from server ({reason}): {message}" if reason else f"Error from server: {message}"


@dataclass(frozen=True)
class TableData:
    headers: list[str]
    rows: list[list[str]]


def format_cell(value: object) -> str:
    if value is None:
        return "<none>"
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, (list, tuple)):
        return ",".join(format_cell(v) for v in value)
    if isinstance(value, dict):
        return json.dumps(value, separators=(",", ":"))
    return str(value)


def table_data(table: dict, *, wide: bool = False, namespace_column: bool = False) -> TableData:
    """The columns a person sees: priority 0 only unless ``wide``; ``NAMESPACE`` first when
    listing across namespaces (taken from each row's object metadata, as kubectl does)."""
    definitions = table.get("columnDefinitions") or []
    shown = [i for i, c in enumerate(definitions) if wide or not c.get("priority")]
    headers = [str(definitions[i].get("name", "")).upper() for i in shown]
    rows = []
    for row in table.get("rows") or []:
        cells = row.get("cells") or []
        values = [format_cell(cells[i]) if i < len(cells) else "" for i in shown]
        if namespace_column:
            values.insert(0, dig(row, "object", "metadata", "namespace", default="") or "")
        rows.append(values)
    if namespace_column:
        headers.insert(0, "NAMESPACE")
    return TableData(headers, rows)


def plain_table(data: TableData) -> str:
    """Columns padded with three spaces, as kubectl's tab writer lays them out."""
    lines = [data.headers] + data.rows
    widths = [max(len(line[i]) for line in lines) for i in range(len(data.headers))]
    out = []
    for line in lines:
        out.append("   ".join(cell.ljust(widths[i]) for i, cell in enumerate(line)).rstrip())
    return "\n".join(out) + "\n"


def rich_table(data: TableData) -> Text:
    """The plain layout with a bold header: columns are never shrunk or cut to fit the
    terminal (a narrow terminal wraps lines, as it does for kubectl)."""
    from rich.text import Text

    header, _, body = plain_table(data).partition("\n")
    text = Text()
    text.append(header, style="bold")
    if body:
        text.append("\n" + body.rstrip("\n"))
    return text


def to_yaml(obj: object) -> str:
    return yaml.safe_dump(obj, sort_keys=False, default_flow_style=False, allow_unicode=True)


def to_json(obj: object) -> str:
    return json.dumps(obj, indent=4, ensure_ascii=False) + "\n"


class Output:
    """Where a command writes: rich on a terminal, plain text when piped (and in tests)."""

    def __init__(self, out: Console | None = None, err: Console | None = None):
        self._out = out
        self._err = err

    @property
    def out(self) -> Console:
        if self._out is None:
            from rich.console import Console

            self._out = Console(soft_wrap=True, highlight=False)
        return self._out

    @property
    def err(self) -> Console:
        if self._err is None:
            from rich.console import Console

            self._err = Console(stderr=True, soft_wrap=True, highlight=False)
        return self._err

    @property
    def rich(self) -> bool:
        if self._out is None and not _may_be_terminal(sys.stdout):
            return False
        return self.out.is_terminal

    @property
    def err_rich(self) -> bool:
        if self._err is None and not _may_be_terminal(sys.stderr):
            return False
        return self.err.is_terminal

    def text(self, text: str) -> None:
        """Exactly ``text`` on stdout, no markup; ``text`` brings its own newlines."""
        sys.stdout.write(text)
        sys.stdout.flush()

    def line(self, text: str) -> None:
        self.text(text + "\n")

    def error(self, text: str) -> None:
        sys.stderr.write(text + "\n")
        sys.stderr.flush()

    def table(self, data: TableData) -> None:
        if self.rich:
            self.out.print(rich_table(data))
        else:
            self.text(plain_table(data))


class StatusLine:
    """Progress on stderr: a spinner line on a terminal, else one plain line per change.

    On a terminal the spinner redraws below whatever is printed meanwhile; stdout is routed
    through it only when stdout is that terminal too, so a redirected stdout stays clean.
    """

    def __init__(self, out: Output):
        self.out = out
        self.shown: str | None = None
        self.live: Live | None = None
        if out.err_rich:
            from rich.live import Live
            from rich.spinner import Spinner

            self.live = Live(
                Spinner("dots", ""),
                console=out.err,
                transient=True,
                redirect_stdout=out.rich,
                redirect_stderr=True,
            )

    def __enter__(self) -> StatusLine:
        if self.live:
            self.live.start()
        return self

    def __exit__(self, *exc) -> None:
        if self.live:
            self.live.stop()

    def update(self, text: str) -> None:
        if text == self.shown:
            return
        self.shown = text
        if self.live:
            from rich.spinner import Spinner

            self.live.update(Spinner("dots", text))
        else:
            self.out.error(text)


def _may_be_terminal(stream: TextIO) -> bool:
    """False where rich would surely not draw (a pipe or file, and no FORCE_COLOR or
    TTY_COMPATIBLE asking it to), so that case decides without importing rich."""
    if os.environ.get("FORCE_COLOR") or os.environ.get("TTY_COMPATIBLE"):
        return True
    try:
        return stream.isatty()
    except (AttributeError, ValueError):
        return False
