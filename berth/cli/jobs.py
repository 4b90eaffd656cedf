"""``berth run``: submit a command as a Job and follow it, as ``srun`` does on a cluster."""

from __future__ import annotations

import random
from typing import Annotated

import typer

from berth.cli.apiclient import ApiClient
from berth.cli.common import (
    DEFAULT_NAMESPACE,
    DEFAULT_SERVER,
    Namespace,
    Server,
    UsageProblem,
    reporting,
)
from berth.cli.follow import JobFollower
from berth.cli.jobspec import DEFAULT_IMAGE, RunOptions, build_job, parse_env, random_name
from berth.cli.render import Output
from berth.platform.resources import registry

# Everything after the first argument (or after --) is the command, options included.
RUN_CONTEXT = {"allow_interspersed_args": False}


def run(
    command: Annotated[
        list[str],
        typer.Argument(
            help="The command and its arguments (put -- before it if it has options).",
            show_default=False,
        ),
    ],
    name: Annotated[str | None, typer.Option(help="Job name (default run-<random>).")] = None,
    namespace: Namespace = DEFAULT_NAMESPACE,
    cpu: Annotated[str | None, typer.Option(help="CPU request and limit, e.g. 2 or 500m.")] = None,
    memory: Annotated[str | None, typer.Option(help="Memory request and limit, e.g. 4Gi.")] = None,
    gpus: Annotated[int | None, typer.Option(help="GPUs (nvidia.com/gpu).")] = None,
    completions: Annotated[
        int | None, typer.Option(help="Successful pods needed to complete.")
    ] = None,
    parallelism: Annotated[int | None, typer.Option(help="Pods running at once.")] = None,
    indexed: Annotated[
        bool,
        typer.Option(
            "--indexed", help="Indexed completion mode: each pod gets JOB_COMPLETION_INDEX."
        ),
    ] = False,
    backoff_limit: Annotated[
        int | None, typer.Option(help="Failed pods tolerated before the Job fails.")
    ] = None,
    image: Annotated[
        str,
        typer.Option(help="Container image (recorded; the host runtime runs the node's programs)."),
    ] = DEFAULT_IMAGE,
    env: Annotated[
        list[str] | None,
        typer.Option("--env", "-e", help="KEY=VALUE for the container (repeatable)."),
    ] = None,
    detach: Annotated[
        bool, typer.Option("--detach", "-d", help="Submit and return without following.")
    ] = False,
    server: Server = DEFAULT_SERVER,
):
    """Run a command as a Job and follow it: progress, logs, and its exit status."""
    out = Output()
    with reporting(out), ApiClient(server) as client:
        try:
            options = RunOptions(
                command=list(command),
                name=name or random_name(random.Random()),
                namespace=namespace,
                cpu=cpu,
                memory=memory,
                gpus=gpus,
                completions=completions,
                parallelism=parallelism,
                indexed=indexed,
                backoff_limit=backoff_limit,
                image=image,
                env=parse_env(env or []),
            )
            manifest = build_job(options)
        except ValueError as exc:
            raise UsageProblem(str(exc)) from None
        job = client.create(registry.JOB.path(namespace), manifest)
        created = f"job.batch/{job['metadata']['name']} created"
        if detach:
            out.line(created)
            return
        out.error(created)
        try:
            code = JobFollower(client, job, out).run()
        except KeyboardInterrupt:
            out.error(
                f"Stopped following. job.batch/{options.name} goes on; "
                f"'berth logs -f job/{options.name} -n {namespace}' to watch it, "
                f"'berth delete job {options.name} -n {namespace}' to stop it."
            )
            code = 130
    raise typer.Exit(code)
