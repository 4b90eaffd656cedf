"""Resource requests: get, list, watch, create, update, patch, delete, deletecollection.

Handlers decode the request, call the object client (in a worker thread: the store is
synchronous) and encode the answer (``responses.py``); Kubernetes semantics live in the
client, errors become ``Status`` bodies in ``status.py``.
"""

from __future__ import annotations

from datetime import UTC, datetime

import orjson
from fastapi import Request
from starlette.concurrency import run_in_threadpool
from starlette.responses import Response, StreamingResponse

from berth.platform.api import decoding, discovery, tables
from berth.platform.api.logs_endpoint import pod_log
from berth.platform.api.point_reads import get_object
from berth.platform.api.requestinfo import RequestInfo, parse
from berth.platform.api.responses import json_response, object_response, wants_table
from berth.platform.errors import (
    BadRequest,
    Invalid,
    MethodNotAllowed,
    NotFound,
    RequestEntityTooLarge,
    invalid,
)
from berth.platform.resources import fields, patch, registry, selectors
from berth.platform.resources.registry import ResourceType
from berth.platform.resources.validation import names
from berth.platform.runtime import Platform
from berth.platform.store.watch import ChangeEvent, watch_batches

MAX_BODY = 3 * 1024 * 1024
_TRUE = ("true", "1")


async def read_body(request: Request) -> bytes:
    body = b""
    async for chunk in request.stream():
        body += chunk
        if len(body) > MAX_BODY:
            raise RequestEntityTooLarge("Request entity too large: limit is 3145728")
    return body


def _int(value: str | None, name: str) -> int | None:
    if value in (None, ""):
        return None
    try:
        return int(value)
    except ValueError:
        raise BadRequest(f'invalid value for {name}: "{value}"') from None


async def handle(platform: Platform, request: Request) -> Response:
    info = parse(request.url.path)
    rt = info.resource
    if rt is None:
        if request.method != "GET":
            raise MethodNotAllowed(
                "the server does not allow this method on the requested resource"
            )
        doc = discovery.api_resource_list(
            f"{info.group}/{info.version}" if info.group else info.version
        )
        if doc is None:
            raise NotFound("", "", message="the server could not find the requested resource")
        return json_response(doc)
    method = request.method
    if method == "GET":
        return await _get(platform, request, info, rt)
    if method == "POST":
        return await _post(platform, request, info, rt)
    if method == "PUT":
        return await _put(platform, request, info, rt)
    if method == "PATCH":
        return await _patch(platform, request, info, rt)
    if method == "DELETE":
        return await _delete(platform, request, info, rt)
    raise MethodNotAllowed("the server does not allow this method on the requested resource")


async def _get(
    platform: Platform, request: Request, info: RequestInfo, rt: ResourceType
) -> Response:
    q = request.query_params
    if info.name is None:
        if q.get("watch") in _TRUE:
            return await _watch(platform, request, info, rt)
        # Listing, table building and encoding all run off the event loop: a page of a
        # hundred thousand objects must not stall every other request.
        return await run_in_threadpool(_list_response, platform, request, rt, info.namespace)
    if info.subresource == "log":
        return await pod_log(platform, request, info, info.name)
    obj = await get_object(platform, rt, info.namespace or "", info.name)
    return object_response(request, rt, obj)


def _list_response(
    platform: Platform, request: Request, rt: ResourceType, namespace: str | None
) -> Response:
    q = request.query_params
    result = platform.client.list(
        rt,
        namespace,
        label_selector=q.get("labelSelector", ""),
        field_selector=q.get("fieldSelector", ""),
        limit=_int(q.get("limit"), "limit"),
        continue_token=q.get("continue") or None,
    )
    if wants_table(request):
        return json_response(
            tables.to_table(
                rt,
                result.items,
                include_object=q.get("includeObject", "Metadata"),
                now=datetime.now(UTC),
                resource_version=result.resource_version,
                continue_token=result.continue_token,
            )
        )
    metadata = {"resourceVersion": result.resource_version}
    if result.continue_token:
        metadata["continue"] = result.continue_token
    return json_response(
        {
            "kind": f"{rt.kind}List",
            "apiVersion": rt.api_version,
            "metadata": metadata,
            "items": result.items,
        }
    )


async def _watch(
    platform: Platform, request: Request, info: RequestInfo, rt: ResourceType
) -> Response:
    q = request.query_params
    table = wants_table(request)
    batches = watch_batches(
        platform.client,
        platform.feed,
        rt,
        info.namespace,
        resource_version=q.get("resourceVersion"),
        label_selector=q.get("labelSelector", ""),
        field_selector=q.get("fieldSelector", ""),
        allow_bookmarks=q.get("allowWatchBookmarks") in _TRUE,
        timeout_seconds=_int(q.get("timeoutSeconds"), "timeoutSeconds"),
    )
    # Bad selectors or versions answer 400 before the stream starts; then the headers go out
    # at once (kubectl wait and delete block until they see them).
    selectors.parse(q.get("labelSelector", ""))
    fields.parse(q.get("fieldSelector", ""), rt.kind)
    rv = q.get("resourceVersion")
    if rv not in (None, "", "0") and not rv.isdigit():
        raise BadRequest(f'invalid resource version "{rv}"')

    def line(event: dict | ChangeEvent) -> bytes:
        if isinstance(event, ChangeEvent):
            if not table:
                return event.line()
            event = {"type": event.type, "object": event.object}
        if table and event["type"] in ("ADDED", "MODIFIED", "DELETED"):
            event = {
                "type": event["type"],
                "object": tables.to_table(
                    rt,
                    [event["object"]],
                    include_object=q.get("includeObject", "Metadata"),
                    now=datetime.now(UTC),
                    resource_version=event["object"]["metadata"].get("resourceVersion", ""),
                ),
            }
        return orjson.dumps(event) + b"\n"

    async def stream():
        # One chunk per read of the change feed, not one per event: each chunk is a pass
        # through the ASGI send path and a write to the socket, and under load a read holds
        # dozens of events. The client still reads one JSON document per line.
        async for events in batches:
            yield b"".join(line(event) for event in events)

    return StreamingResponse(stream(), media_type="application/json")


def field_manager(request: Request) -> str:
    """``?fieldManager=``, else the user agent's product name, as kube-apiserver does."""
    given = request.query_params.get("fieldManager")
    if given:
        return given
    agent = request.headers.get("user-agent", "")
    return agent.split("/")[0].strip()[:128] or "unknown"


def _dry_run(request: Request) -> bool:
    values = request.query_params.getlist("dryRun")
    for value in values:
        if value != "All":
            raise BadRequest(f'unsupported dry run value "{value}"; supported values: "All"')
    return bool(values)


async def _post(
    platform: Platform, request: Request, info: RequestInfo, rt: ResourceType
) -> Response:
    body = await read_body(request)
    if info.name is not None:
        if rt.key == registry.POD.key and info.subresource == "binding":
            target = _binding_target(
                info.name, decoding.parse_document(body, request.headers.get("content-type"))
            )
            await run_in_threadpool(platform.client.bind, info.namespace or "", info.name, target)
            return json_response(
                {
                    "kind": "Status",
                    "apiVersion": "v1",
                    "metadata": {},
                    "status": "Success",
                    "code": 201,
                },
                201,
            )
        raise MethodNotAllowed("the server does not allow this method on the requested resource")
    # Decoding a 3 MiB YAML body takes seconds: off the event loop, like the store call,
    # and in the same worker thread (one hand-over per request, not two).
    created, warnings = await run_in_threadpool(_create, platform, request, info, rt, body)
    return object_response(request, rt, created, 201, warnings)


def _create(
    platform: Platform, request: Request, info: RequestInfo, rt: ResourceType, body: bytes
) -> tuple[dict, list[str]]:
    obj, warnings = decoding.decode_object(
        rt,
        body,
        request.headers.get("content-type"),
        request.query_params.get("fieldValidation"),
    )
    created = platform.client.create(
        rt,
        obj,
        info.namespace,
        dry_run=_dry_run(request),
        field_manager=field_manager(request),
    )
    return created, warnings


def _binding_target(pod: str, binding: object) -> str:
    """The node a ``pods/binding`` body names. It becomes ``spec.nodeName``, which the store
    indexes, so it must be a node name (any other target is refused, not stored)."""
    target = binding.get("target") if isinstance(binding, dict) else None
    name = target.get("name") if isinstance(target, dict) else None
    if not name:
        raise BadRequest("Binding: target.name is required")
    problems = names.dns1123_subdomain(name) if isinstance(name, str) else ["must be a string"]
    if problems:
        raise Invalid("Binding", pod, [invalid("target.name", name, "; ".join(problems))])
    return name


async def _put(
    platform: Platform, request: Request, info: RequestInfo, rt: ResourceType
) -> Response:
    if info.name is None or info.subresource not in (None, "status", "finalize"):
        raise MethodNotAllowed("the server does not allow this method on the requested resource")
    obj, warnings = await run_in_threadpool(
        decoding.decode_object,
        rt,
        await read_body(request),
        request.headers.get("content-type"),
        request.query_params.get("fieldValidation"),
    )
    sub = "status" if info.subresource in ("status", "finalize") else None
    updated = await run_in_threadpool(
        platform.client.update,
        rt,
        obj,
        info.namespace,
        info.name,
        subresource=sub,
        dry_run=_dry_run(request),
        field_manager=field_manager(request),
    )
    return object_response(request, rt, updated, 200, warnings)


async def _patch(
    platform: Platform, request: Request, info: RequestInfo, rt: ResourceType
) -> Response:
    q = request.query_params
    if info.name is None or info.subresource not in (None, "status"):
        raise MethodNotAllowed("the server does not allow this method on the requested resource")
    body = await read_body(request)
    content_type = request.headers.get("content-type", "")
    force = q.get("force") in _TRUE
    validation = q.get("fieldValidation")
    warnings: list[str] = []
    if patch.is_apply(content_type):
        body, warnings = await run_in_threadpool(decoding.apply_configuration, rt, body, validation)
    elif patch.media_type(content_type) in patch.SUPPORTED:
        await run_in_threadpool(decoding.check_patch, body)
    found: list[str] = []
    obj, created = await run_in_threadpool(
        platform.client.patch,
        rt,
        info.namespace or "",
        info.name,
        content_type,
        body,
        subresource=info.subresource,
        field_manager=q.get("fieldManager", "")
        if patch.is_apply(content_type)
        else field_manager(request),
        force=force,
        dry_run=_dry_run(request),
        decode=decoding.patched_object_check(rt, validation, found),
    )
    return object_response(request, rt, obj, 201 if created else 200, warnings + found)


async def _delete(
    platform: Platform, request: Request, info: RequestInfo, rt: ResourceType
) -> Response:
    q = request.query_params
    body = await read_body(request)
    options = decoding.parse_document(body, "application/json") if body.strip() else {}
    if not isinstance(options, dict):
        raise BadRequest("DeleteOptions must be a JSON object")
    policy = options.get("propagationPolicy") or q.get("propagationPolicy")
    orphan = options.get("orphanDependents", q.get("orphanDependents"))
    if policy is None and orphan is not None:
        policy = "Orphan" if str(orphan).lower() in _TRUE else "Background"
    grace = options.get(
        "gracePeriodSeconds", _int(q.get("gracePeriodSeconds"), "gracePeriodSeconds")
    )
    if grace is not None and not isinstance(grace, int):
        raise BadRequest("gracePeriodSeconds must be an integer")
    dry_run = _dry_run(request) or bool(options.get("dryRun"))
    if info.name is None:
        deleted = await run_in_threadpool(
            platform.client.delete_collection,
            rt,
            info.namespace,
            label_selector=q.get("labelSelector", ""),
            field_selector=q.get("fieldSelector", ""),
            propagation_policy=policy,
            grace_period_seconds=grace,
            dry_run=dry_run,
        )
        return json_response(
            {
                "kind": f"{rt.kind}List",
                "apiVersion": rt.api_version,
                "metadata": {},
                "items": deleted,
            }
        )
    obj = await run_in_threadpool(
        platform.client.delete,
        rt,
        info.namespace or "",
        info.name,
        propagation_policy=policy,
        grace_period_seconds=grace,
        preconditions=options.get("preconditions"),
        dry_run=dry_run,
    )
    return json_response(obj)
