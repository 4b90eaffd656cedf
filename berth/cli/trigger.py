"""``berth trigger cronjob NAME``: run a CronJob's Job now (what ``kubectl create job NAME
--from=cronjob/NAME`` does): the Job comes from the CronJob's ``jobTemplate``, owned by the
CronJob and marked ``cronjob.kubernetes.io/instantiate: manual``, so it counts in the
CronJob's ``status.active`` and history but is not a scheduled run."""

from __future__ import annotations

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
from berth.cli.render import Output
from berth.platform.controllers.cronjob.jobs import build_job
from berth.platform.resources import registry
from berth.platform.resources.meta import utcnow

KINDS = ("cronjob", "cronjobs", "cj")


def trigger(
    kind: Annotated[str, typer.Argument(help="cronjob (or cj).")],
    name: Annotated[str, typer.Argument(help="The CronJob to run now.")],
    job_name: Annotated[
        str | None,
        typer.Option("--job-name", help="Name of the Job (default <cronjob>-manual-<random>)."),
    ] = None,
    namespace: Namespace = DEFAULT_NAMESPACE,
    server: Server = DEFAULT_SERVER,
):
    """Run a CronJob's Job now, outside its schedule."""
    out = Output()
    with reporting(out), ApiClient(server) as client:
        if kind.lower() not in KINDS:
            raise UsageProblem(f"only cronjobs can be triggered, not {kind!r}")
        cj = client.get_json(registry.CRON_JOB.path(namespace, name))
        job = build_job(cj, utcnow(), name=job_name or "x", manual=True)
        if not job_name:
            del job["metadata"]["name"]
            job["metadata"]["generateName"] = f"{name}-manual-"
        made = client.create(registry.JOB.path(namespace), job)
        out.line(f"job.batch/{made['metadata']['name']} created")
