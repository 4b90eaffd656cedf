"""The ``berth`` command: start Berth, print a kubeconfig, run and inspect jobs.

``up`` and ``kubeconfig`` live here; the commands that talk to a running Berth over its HTTP
API are registered from their modules (``jobs``, ``objects``, ``logs``).
"""

from __future__ import annotations

import logging
from pathlib import Path
from typing import Optional

import typer
import yaml
from pydantic import ValidationError

from berth.cli import jobs, logs, objects
from berth.server import Server
from berth.settings import Settings

app = typer.Typer(help="Berth: Kubernetes-style batch jobs on a Ray worker pool.",
                  no_args_is_help=True, add_completion=False)
app.command(context_settings=jobs.RUN_CONTEXT)(jobs.run)
app.command()(objects.get)
app.command()(objects.describe)
app.command()(logs.logs)
app.command()(objects.delete)
app.command()(objects.apply)


@app.command()
def up(port: Optional[int] = typer.Option(None, help="API port (default 8080)."),
       host: Optional[str] = typer.Option(None, help="API address (default 127.0.0.1)."),
       data_dir: Optional[Path] = typer.Option(None, help="State directory (default ./.berth)."),
       database_url: Optional[str] = typer.Option(
           None, help="postgresql+psycopg://user@host/db (default: SQLite in the data dir)."),
       ray_address: Optional[str] = typer.Option(
           None, help="Join this Ray cluster instead of starting a private one."),
       workers: Optional[bool] = typer.Option(
           None, "--workers/--no-workers", help="Run pods on Ray (default on)."),
       role: Optional[str] = typer.Option(
           None, help="all (default): API and controllers; api: the API only; controller: "
           "controllers, scheduler and node agents, with /metrics on the port."),
       log_level: Optional[str] = typer.Option(None, help="debug, info, warning, error.")):
    """Start Berth embedded and serve until Ctrl-C."""
    overrides = {k: v for k, v in {"port": port, "host": host, "data_dir": data_dir,
                                   "database_url": database_url, "ray_address": ray_address,
                                   "workers": workers, "role": role,
                                   "log_level": log_level}.items()
                 if v is not None}
    try:
        settings = Settings(**overrides)
    except ValidationError as err:
        raise typer.BadParameter(str(err)) from None
    if settings.runs_api and not settings.host_is_loopback and not settings.allow_insecure_host:
        raise typer.BadParameter(
            f"the API has no authentication yet: it listens on loopback only, not on "
            f"{settings.host!r} (set BERTH_ALLOW_INSECURE_HOST=true where something else "
            f"keeps it private, as compose.yaml does)", param_hint="--host")
    logging.basicConfig(level=settings.log_level.upper(),
                        format="%(asctime)s %(levelname)s %(name)s: %(message)s")
    Server(settings).serve()


@app.command()
def kubeconfig(server: str = typer.Option(None, help="API URL (default from settings)."),
               namespace: str = typer.Option("default", help="Namespace of the context.")):
    """Print a kubeconfig for kubectl: berth kubeconfig > ~/.kube/berth.yaml"""
    settings = Settings()
    url = server or f"http://{settings.host}:{settings.port}"
    typer.echo(yaml.safe_dump(kubeconfig_document(url, namespace), sort_keys=False), nl=False)


def kubeconfig_document(url: str, namespace: str = "default") -> dict:
    return {
        "apiVersion": "v1", "kind": "Config",
        "clusters": [{"name": "berth", "cluster": {"server": url}}],
        "users": [{"name": "berth", "user": {}}],
        "contexts": [{"name": "berth", "context": {"cluster": "berth", "user": "berth",
                                                   "namespace": namespace}}],
        "current-context": "berth",
    }


if __name__ == "__main__":
    app()
