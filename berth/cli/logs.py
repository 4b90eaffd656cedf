"""``berth logs POD | job/NAME``: a pod's log, or every pod of a Job with each line prefixed."""

from __future__ import annotations

import threading
from dataclasses import replace
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
from berth.cli.kinds import split_kind_name
from berth.cli.logstream import LinePrinter, LogFollower, LogRequest, pod_order, print_log
from berth.cli.render import Output
from berth.platform.resources import registry
from berth.platform.resources.meta import dig


def selector_of(job: dict) -> str:
    labels = dig(job, "spec", "selector", "matchLabels", default={}) or {}
    if not labels:
        raise UsageProblem(
            f"job.batch/{dig(job, 'metadata', 'name')} has no spec.selector.matchLabels"
        )
    return ",".join(f"{k}={v}" for k, v in sorted(labels.items()))


def pods_of(client: ApiClient, target: str, namespace: str) -> list[dict]:
    """The pods a ``logs`` target names: one pod, or the pods of ``job/NAME`` in order."""
    rt, name = split_kind_name(target) if "/" in target else (registry.POD, target)
    if not name:
        raise UsageProblem(f'a name is required: "{target}"')
    if rt is registry.POD:
        return [client.get_json(rt.path(namespace, name))]
    if rt is not registry.JOB:
        raise UsageProblem(f"cannot get logs of a {rt.kind}: give a pod name or job/NAME")
    job = client.get_json(rt.path(namespace, name))
    listed = client.get_json(registry.POD.path(namespace), {"labelSelector": selector_of(job)})
    pods = sorted(listed.get("items") or [], key=pod_order)
    if not pods:
        raise UsageProblem(f"job.batch/{name} has no pods (yet)")
    return pods


def logs(
    target: Annotated[str, typer.Argument(help="POD, pod/NAME or job/NAME.")],
    container: Annotated[
        str | None,
        typer.Option("--container", "-c", help="Container (needed when a pod has several)."),
    ] = None,
    follow: Annotated[
        bool, typer.Option("--follow", "-f", help="Keep streaming until the containers end.")
    ] = False,
    tail: Annotated[int | None, typer.Option(help="Only the last N lines of each log.")] = None,
    timestamps: Annotated[
        bool, typer.Option(help="Begin each line with its RFC 3339 time.")
    ] = False,
    namespace: Namespace = DEFAULT_NAMESPACE,
    server: Server = DEFAULT_SERVER,
):
    """Print the logs of a pod, or of every pod of a Job."""
    out = Output()
    emit = LinePrinter(out.text)
    with reporting(out), ApiClient(server) as client:
        pods = pods_of(client, target, namespace)
        several = len(pods) > 1
        base = LogRequest(namespace, "", container, follow, tail, timestamps)
        requests = [
            (
                replace(base, pod=p["metadata"]["name"]),
                f"[{p['metadata']['name']}] " if several else "",
            )
            for p in pods
        ]
        if not (follow and several):
            for request, prefix in requests:
                print_log(client, request, prefix, emit)
            return
        stop = threading.Event()
        followers = [
            LogFollower(client, request, prefix, emit, stop, out.error, start_retries=0)
            for request, prefix in requests
        ]
        for follower in followers:
            follower.start()
        try:
            for follower in followers:
                follower.join()
        except KeyboardInterrupt:
            stop.set()
            raise typer.Exit(130) from None
