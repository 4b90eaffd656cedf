"""``GET .../pods/NAME/log``: plain text, or a chunked stream with ``follow=true``."""

from __future__ import annotations

from fastapi import Request
from starlette.concurrency import run_in_threadpool
from starlette.responses import Response, StreamingResponse

from berth.platform.api.requestinfo import RequestInfo
from berth.platform.errors import BadRequest
from berth.platform.logs import LogOptions
from berth.platform.resources import registry
from berth.platform.runtime import Platform


def _opt_int(value: str | None, name: str, minimum: int) -> int | None:
    if value in (None, ""):
        return None
    try:
        number = int(value)
    except ValueError:
        raise BadRequest(f'invalid value for {name}: "{value}"') from None
    if number < minimum:
        raise BadRequest(
            f"{name}: Invalid value: {number}: must be greater than or equal to {minimum}"
        )
    return number


def _container(pod: dict, requested: str | None) -> str:
    spec = pod.get("spec") or {}
    names = [c.get("name") for c in spec.get("containers") or []]
    init = [c.get("name") for c in spec.get("initContainers") or []]
    name = pod["metadata"]["name"]
    if requested:
        if requested not in names and requested not in init:
            raise BadRequest(f"container {requested} is not valid for pod {name}")
        return requested
    if len(names) == 1:
        return names[0]
    raise BadRequest(
        f"a container name must be specified for pod {name}, choose one of: "
        f"[{' '.join(names)}]"
        + (f" or one of the init containers: [{' '.join(init)}]" if init else "")
    )


async def pod_log(platform: Platform, request: Request, info: RequestInfo, name: str) -> Response:
    q = request.query_params
    pod = await run_in_threadpool(platform.client.get, registry.POD, info.namespace or "", name)
    options = LogOptions(
        container=_container(pod, q.get("container")),
        follow=q.get("follow") in ("true", "1"),
        tail_lines=_opt_int(q.get("tailLines"), "tailLines", 0),
        since_seconds=_opt_int(q.get("sinceSeconds"), "sinceSeconds", 1),
        timestamps=q.get("timestamps") in ("true", "1"),
        previous=q.get("previous") in ("true", "1"),
        limit_bytes=_opt_int(q.get("limitBytes"), "limitBytes", 1),
    )
    if options.follow:
        return StreamingResponse(platform.logs.follow(pod, options), media_type="text/plain")
    text = await run_in_threadpool(platform.logs.read, pod, options)
    return Response(text, media_type="text/plain")
