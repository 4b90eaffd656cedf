"""Options every command shares, and the one place where failures become messages and exit 1."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from typing import Annotated

import typer

from berth.cli.apiclient import ApiError, ConnectionProblem
from berth.cli.kinds import KindError
from berth.cli.render import Output, format_error

DEFAULT_SERVER = "http://127.0.0.1:8080"
DEFAULT_NAMESPACE = "default"

Server = Annotated[
    str, typer.Option("--server", envvar="BERTH_SERVER", show_envvar=True, help="Berth API URL.")
]
Namespace = Annotated[str, typer.Option("--namespace", "-n", help="Namespace of the objects.")]


class UsageProblem(Exception):
    """The command line asks for something that cannot be done; printed as ``error: ...``."""


@contextmanager
def reporting(out: Output) -> Iterator[None]:
    """Print a server refusal as kubectl does, or a local problem as ``error: ...``; exit 1."""
    try:
        yield
    except ApiError as exc:
        out.error(format_error(exc.status))
        raise typer.Exit(1) from None
    except ConnectionProblem as exc:
        out.error(str(exc))
        raise typer.Exit(1) from None
    except (KindError, UsageProblem) as exc:
        out.error(f"error: {exc}")
        raise typer.Exit(1) from None
