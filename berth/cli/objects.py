"""``berth get``, ``berth describe`` and ``berth delete``: kubectl's everyday verbs over HTTP."""

from __future__ import annotations

import time
from datetime import UTC, datetime
from pathlib import Path
from typing import TYPE_CHECKING, Annotated, Any

import typer
import yaml

from berth.cli.apiclient import ApiClient, ApiError
from berth.cli.applying import last_applied, load_documents, three_way_patch, with_last_applied
from berth.cli.common import (
    DEFAULT_NAMESPACE,
    DEFAULT_SERVER,
    Namespace,
    Server,
    UsageProblem,
    reporting,
)
from berth.cli.describe import describe_generic
from berth.cli.describe_workloads import describe_job, describe_pod
from berth.cli.kinds import qualified, split_kind_name
from berth.cli.render import Output, format_error, table_data, to_json, to_yaml
from berth.platform.resources import registry
from berth.platform.resources.registry import ResourceType

if TYPE_CHECKING:
    from berth.platform.resources.types import Event

OUTPUTS = ("wide", "yaml", "json", "name")
MANIFEST_SUFFIXES = (".yaml", ".yml", ".json")
CASCADES = {"background": "Background", "foreground": "Foreground", "orphan": "Orphan"}

Kind = Annotated[str, typer.Argument(help="Kind (job, jobs, cj, po, cm, ...) or KIND/NAME.")]


def as_list(listed: dict, rt: ResourceType) -> dict:
    """A ``JobList`` as kubectl prints it: a ``v1`` ``List`` whose items carry kind and version."""
    items = [
        without_managed_fields({"apiVersion": rt.api_version, "kind": rt.kind, **item})
        for item in listed.get("items") or []
    ]
    return {"apiVersion": "v1", "kind": "List", "items": items, "metadata": {"resourceVersion": ""}}


def without_managed_fields(obj: dict) -> dict:
    """kubectl hides ``metadata.managedFields`` unless asked (``--show-managed-fields``)."""
    meta = {k: v for k, v in (obj.get("metadata") or {}).items() if k != "managedFields"}
    return {**obj, "metadata": meta}


def nothing_found(rt: ResourceType, namespace: str | None) -> str:
    if rt.namespaced and namespace:
        return f"No resources found in {namespace} namespace."
    return "No resources found"


def get(
    kind: Kind,
    name: Annotated[str | None, typer.Argument(help="Object name.")] = None,
    namespace: Namespace = DEFAULT_NAMESPACE,
    all_namespaces: Annotated[
        bool, typer.Option("--all-namespaces", "-A", help="List across every namespace.")
    ] = False,
    selector: Annotated[
        str | None, typer.Option("--selector", "-l", help="Label selector, e.g. app=web,tier!=db.")
    ] = None,
    output: Annotated[
        str | None, typer.Option("--output", "-o", help="wide, yaml, json or name.")
    ] = None,
    server: Server = DEFAULT_SERVER,
):
    """List objects of a kind, or show one."""
    out = Output()
    with reporting(out), ApiClient(server) as client:
        if output is not None and output not in OUTPUTS:
            raise UsageProblem(
                f"unable to match a printer suitable for the output format "
                f'"{output}", allowed formats are: {",".join(sorted(OUTPUTS))}'
            )
        rt, name = split_kind_name(kind, name)
        ns = None if all_namespaces and not name else namespace
        path = rt.path(ns, name)
        params = {} if name else {"labelSelector": selector}
        if output in (None, "wide"):
            data = table_data(
                client.get_table(path, params),
                wide=output == "wide",
                namespace_column=rt.namespaced and ns is None,
            )
            if data.rows:
                out.table(data)
            else:
                out.error(nothing_found(rt, ns))
            return
        found = client.get_json(path, params)
        if output == "name":
            items = [found] if name else found.get("items") or []
            for item in items:
                out.line(f"{qualified(rt)}/{item['metadata']['name']}")
            return
        doc = without_managed_fields(found) if name else as_list(found, rt)
        out.text(to_yaml(doc) if output == "yaml" else to_json(doc))


def events_for(client: ApiClient, obj: dict) -> list[Event]:
    """The object's Events, as kubectl describe asks for them; none if the server refuses."""
    meta = obj.get("metadata") or {}
    namespace = meta.get("namespace")
    selector = f"involvedObject.name={meta.get('name')}"
    if namespace:
        selector += f",involvedObject.namespace={namespace}"
    selector += f",involvedObject.uid={meta.get('uid')}"
    try:
        listed = client.get_json(registry.EVENT.path(namespace), {"fieldSelector": selector})
    except ApiError:
        return []
    return listed.get("items") or []


def page_for(rt: ResourceType, obj: Any, events: list[Event], now: datetime) -> str:
    """``obj``: an object of kind ``rt``, as the API returned it."""
    if rt is registry.JOB:
        return describe_job(obj, events, now)
    if rt is registry.POD:
        return describe_pod(obj, events, now)
    return describe_generic(obj, events, now)


def describe(
    kind: Kind,
    name: Annotated[
        str | None, typer.Argument(help="Object name (all of the kind when left out).")
    ] = None,
    namespace: Namespace = DEFAULT_NAMESPACE,
    selector: Annotated[
        str | None, typer.Option("--selector", "-l", help="Label selector when no name is given.")
    ] = None,
    server: Server = DEFAULT_SERVER,
):
    """Show one object in detail, with its recent Events."""
    out = Output()
    with reporting(out), ApiClient(server) as client:
        rt, name = split_kind_name(kind, name)
        if name:
            objects = [client.get_json(rt.path(namespace, name))]
        else:
            objects = (
                client.get_json(rt.path(namespace), {"labelSelector": selector}).get("items") or []
            )
            if not objects:
                out.error(nothing_found(rt, namespace))
        now = datetime.now(UTC)
        pages = [page_for(rt, obj, events_for(client, obj), now) for obj in objects]
        out.text("\n\n".join(page.rstrip("\n") for page in pages) + ("\n" if pages else ""))


def wait_gone(client: ApiClient, path: str, timeout: float, interval: float = 0.5) -> bool:
    """Poll until the object answers 404; False when ``timeout`` (0: no limit) passes first."""
    deadline = time.monotonic() + timeout if timeout > 0 else None
    while True:
        try:
            client.get_json(path)
        except ApiError as exc:
            if exc.code == 404:
                return True
            raise
        if deadline is not None and time.monotonic() >= deadline:
            return False
        time.sleep(interval)


def delete(
    kind: Kind,
    names: Annotated[list[str] | None, typer.Argument(help="Object names.")] = None,
    namespace: Namespace = DEFAULT_NAMESPACE,
    cascade: Annotated[
        str, typer.Option(help="background, foreground or orphan (what happens to dependents).")
    ] = "background",
    wait: Annotated[
        bool, typer.Option("--wait/--no-wait", help="Wait until the objects are gone.")
    ] = True,
    timeout: Annotated[
        float, typer.Option(help="Seconds to wait for each object (0: no limit).")
    ] = 0,
    server: Server = DEFAULT_SERVER,
):
    """Delete objects by name."""
    out = Output()
    with reporting(out), ApiClient(server) as client:
        policy = CASCADES.get(cascade.lower())
        if policy is None:
            raise UsageProblem(
                f'invalid --cascade "{cascade}": must be one of {", ".join(CASCADES)}'
            )
        first = names[0] if names else None
        rt, own = split_kind_name(kind, first)
        targets = [own] + list(names or [])[1:] if own else []
        if not targets:
            raise UsageProblem("resource(s) were provided, but no name was specified")
        for target in targets:
            path = rt.path(namespace, target)
            client.delete(path, policy)
            out.line(f'{qualified(rt)} "{target}" deleted')
            if wait and not wait_gone(client, path, timeout):
                raise UsageProblem(
                    f'timed out waiting for {qualified(rt)} "{target}" to be deleted'
                )


def read_sources(files: list[str]) -> list[tuple[str, str]]:
    """``(source, text)`` for each ``-f``: a file, ``-`` (stdin) or a directory's manifests."""
    sources = []
    for given in files:
        if given == "-":
            sources.append(("STDIN", typer.get_text_stream("stdin").read()))
            continue
        path = Path(given)
        if path.is_dir():
            sources.extend(
                (str(p), p.read_text())
                for p in sorted(path.iterdir())
                if p.suffix in MANIFEST_SUFFIXES and p.is_file()
            )
        elif path.is_file():
            sources.append((given, path.read_text()))
        else:
            raise UsageProblem(f'the path "{given}" does not exist')
    return sources


def apply_one(client: ApiClient, doc: dict, namespace: str | None, source: str) -> str:
    """Create or update one manifest; answers ``job.batch/x created|configured|unchanged``."""
    api_version, kind = doc.get("apiVersion", ""), doc.get("kind", "")
    meta = doc.setdefault("metadata", {})
    name = meta.get("name")
    rt = registry.by_kind(api_version, kind)
    if rt is None:
        raise UsageProblem(
            f'resource mapping not found for name: "{name}" namespace: '
            f'"{meta.get("namespace", namespace or "")}" from "{source}": no '
            f'matches for kind "{kind}" in version "{api_version}"'
        )
    if not name:
        raise UsageProblem(f'{qualified(rt)} from "{source}": resource name may not be empty')
    ns = None
    if rt.namespaced:
        own = meta.get("namespace")
        if own and namespace and own != namespace:
            raise UsageProblem(
                f'the namespace from the provided object "{own}" does not match '
                f'the namespace "{namespace}". You must pass '
                f"'--namespace={own}' to perform this operation."
            )
        ns = meta["namespace"] = own or namespace or DEFAULT_NAMESPACE
    desired = with_last_applied(doc)
    path = rt.path(ns, name)
    try:
        live = client.get_json(path)
    except ApiError as exc:
        if exc.code != 404:
            raise
        client.create(rt.path(ns), desired)
        return f"{qualified(rt)}/{name} created"
    patch = three_way_patch(last_applied(live), desired, live)
    if not patch:
        return f"{qualified(rt)}/{name} unchanged"
    client.merge_patch(path, patch)
    return f"{qualified(rt)}/{name} configured"


def apply(
    files: Annotated[
        list[str],
        typer.Option(
            "--filename", "-f", help="Manifest file, directory or - for stdin (repeatable)."
        ),
    ],
    namespace: Annotated[
        str | None,
        typer.Option("--namespace", "-n", help="Namespace for manifests that name none."),
    ] = None,
    server: Server = DEFAULT_SERVER,
):
    """Create or update objects from YAML/JSON manifests (several documents per file)."""
    out = Output()
    failed = False
    with reporting(out), ApiClient(server) as client:
        for source, text in read_sources(files):
            try:
                docs = load_documents(text)
            except (yaml.YAMLError, ValueError) as exc:
                raise UsageProblem(f"error parsing {source}: {exc}") from None
            for doc in docs:
                try:
                    out.line(apply_one(client, doc, namespace, source))
                except ApiError as exc:
                    out.error(format_error(exc.status))
                    failed = True
                except UsageProblem as exc:
                    out.error(f"error: {exc}")
                    failed = True
    if failed:
        raise typer.Exit(1)
