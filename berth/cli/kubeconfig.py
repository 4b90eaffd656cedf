"""``berth kubeconfig``: a kubeconfig for kubectl pointing at this Berth."""

from __future__ import annotations

import typer
import yaml

from berth.settings import Settings


def kubeconfig(
    server: str = typer.Option(None, help="API URL (default from settings)."),
    namespace: str = typer.Option("default", help="Namespace of the context."),
):
    """Print a kubeconfig for kubectl: berth kubeconfig > ~/.kube/berth.yaml"""
    settings = Settings()
    url = server or f"http://{settings.host}:{settings.port}"
    typer.echo(yaml.safe_dump(kubeconfig_document(url, namespace), sort_keys=False), nl=False)


def kubeconfig_document(url: str, namespace: str = "default") -> dict:
    return {
        "apiVersion": "v1",
        "kind": "Config",
        "clusters": [{"name": "berth", "cluster": {"server": url}}],
        "users": [{"name": "berth", "user": {}}],
        "contexts": [
            {
                "name": "berth",
                "context": {"cluster": "berth", "user": "berth", "namespace": namespace},
            }
        ],
        "current-context": "berth",
    }
