"""The ``berth`` command: start Berth, print a kubeconfig, run and inspect jobs.

Each command lives in its own module, imported only when that command runs (or its help is
asked for): ``berth get`` loads the HTTP client, never the server, so it starts in a fraction
of the time ``berth up`` needs to import FastAPI, Ray and the store. ``COMMANDS`` is the table
of them; ``berth --help`` lists it without importing any.
"""

from __future__ import annotations

import importlib
from dataclasses import dataclass, field
from typing import TYPE_CHECKING

import typer
from typer.core import TyperGroup

if TYPE_CHECKING:
    # Annotations only: typer (0.2x) runs on its own bundled click, whose classes differ from
    # those of the click package (which Berth does not depend on).
    from typer import _click as click


@dataclass(frozen=True)
class LazyCommand:
    module: str
    function: str
    summary: str  # the first line of the function's docstring (a unit test keeps them equal)
    context_settings: dict = field(default_factory=dict)

    def load(self, name: str) -> click.Command:
        function = getattr(importlib.import_module(self.module), self.function)
        single = typer.Typer(add_completion=False, rich_markup_mode=None)
        single.command(name=name, context_settings=self.context_settings)(function)
        return typer.main.get_command(single)


COMMANDS: dict[str, LazyCommand] = {
    "run": LazyCommand(
        "berth.cli.jobs",
        "run",
        "Run a command as a Job and follow it: progress, logs, and its exit status.",
        {"allow_interspersed_args": False},
    ),
    "get": LazyCommand("berth.cli.objects", "get", "List objects of a kind, or show one."),
    "describe": LazyCommand(
        "berth.cli.objects", "describe", "Show one object in detail, with its recent Events."
    ),
    "logs": LazyCommand(
        "berth.cli.logs", "logs", "Print the logs of a pod, or of every pod of a Job."
    ),
    "delete": LazyCommand("berth.cli.objects", "delete", "Delete objects by name."),
    "apply": LazyCommand(
        "berth.cli.objects",
        "apply",
        "Create or update objects from YAML/JSON manifests (several documents per file).",
    ),
    "trigger": LazyCommand(
        "berth.cli.trigger", "trigger", "Run a CronJob's Job now, outside its schedule."
    ),
    "up": LazyCommand("berth.cli.up", "up", "Start Berth embedded and serve until Ctrl-C."),
    "kubeconfig": LazyCommand(
        "berth.cli.kubeconfig",
        "kubeconfig",
        "Print a kubeconfig for kubectl: berth kubeconfig > ~/.kube/berth.yaml",
    ),
}


class LazyGroup(TyperGroup):
    """A command group whose commands are imported on first use."""

    def list_commands(self, ctx: click.Context) -> list[str]:
        return list(COMMANDS)

    def get_command(self, ctx: click.Context, name: str) -> click.Command | None:
        if name not in self.commands and name in COMMANDS:
            self.add_command(COMMANDS[name].load(name), name)
        return self.commands.get(name)

    def format_commands(self, ctx: click.Context, formatter: click.HelpFormatter) -> None:
        with formatter.section("Commands"):
            formatter.write_dl([(name, command.summary) for name, command in COMMANDS.items()])


app = typer.Typer(cls=LazyGroup, no_args_is_help=True, add_completion=False, rich_markup_mode=None)


@app.callback()
def berth() -> None:
    """Berth: Kubernetes-style batch jobs on a Ray worker pool."""


if __name__ == "__main__":
    app()
