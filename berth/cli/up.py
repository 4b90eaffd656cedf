"""``berth up``: start Berth embedded and serve until Ctrl-C.

The one command that needs the server (FastAPI, Ray, the store): ``berth.cli.main`` imports
this module only when ``up`` runs, so the other commands start without them; the server itself
is imported only once the options are parsed, so ``berth up --help`` starts fast too.
"""

from __future__ import annotations

import logging
from pathlib import Path

import typer


def up(
    port: int | None = typer.Option(None, help="API port (default 8080)."),
    host: str | None = typer.Option(None, help="API address (default 127.0.0.1)."),
    data_dir: Path | None = typer.Option(None, help="State directory (default ./.berth)."),
    database_url: str | None = typer.Option(
        None, help="postgresql+psycopg://user@host/db (default: SQLite in the data dir)."
    ),
    ray_address: str | None = typer.Option(
        None, help="Join this Ray cluster instead of starting a private one."
    ),
    workers: bool | None = typer.Option(
        None, "--workers/--no-workers", help="Run pods on Ray (default on)."
    ),
    role: str | None = typer.Option(
        None,
        help="all (default): API and controllers; api: the API only; controller: "
        "controllers, scheduler and node agents, with /metrics on the port.",
    ),
    log_level: str | None = typer.Option(None, help="debug, info, warning, error."),
):
    """Start Berth embedded and serve until Ctrl-C."""
    from pydantic import ValidationError

    from berth.platform.leave import exit_code, leave
    from berth.server import Server
    from berth.server_http import PortTaken
    from berth.settings import Settings

    overrides = {
        k: v
        for k, v in {
            "port": port,
            "host": host,
            "data_dir": data_dir,
            "database_url": database_url,
            "ray_address": ray_address,
            "workers": workers,
            "role": role,
            "log_level": log_level,
        }.items()
        if v is not None
    }
    try:
        settings = Settings(**overrides)
    except ValidationError as err:
        raise typer.BadParameter(str(err)) from None
    if settings.runs_api and not settings.host_is_loopback and not settings.allow_insecure_host:
        raise typer.BadParameter(
            f"the API has no authentication yet: it listens on loopback only, not on "
            f"{settings.host!r} (set BERTH_ALLOW_INSECURE_HOST=true where something else "
            f"keeps it private, as compose.yaml does)",
            param_hint="--host",
        )
    level = settings.log_level.upper()
    logging.basicConfig(level=level, format="%(asctime)s %(levelname)s %(name)s: %(message)s")
    if level != "DEBUG":
        # APScheduler logs two INFO lines, each with the whole cron trigger, at every wake-up
        # of the CronJob controller; the controller logs what it did itself.
        logging.getLogger("apscheduler").setLevel(logging.WARNING)
    try:
        Server(settings).serve()
    except PortTaken as exc:
        raise typer.BadParameter(str(exc), param_hint="--port") from None
    except SystemExit as exc:
        leave(exit_code(exc))
    leave(0)
