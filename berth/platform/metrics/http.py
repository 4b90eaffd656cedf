"""The API's request metrics (an ASGI middleware) and the ``/metrics`` response.

Requests are labelled by verb and resource as kube-apiserver labels them, never by path, so
the series stay bounded whatever names and namespaces clients use.
"""

from __future__ import annotations

import time
from urllib.parse import parse_qs

from prometheus_client import CONTENT_TYPE_LATEST, generate_latest
from starlette.responses import Response
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from berth.platform.api import requestinfo
from berth.platform.errors import NotFound
from berth.platform.metrics.series import Metrics

_VERBS = {"POST": "create", "PUT": "update", "PATCH": "patch"}


def request_labels(method: str, path: str, query: str) -> tuple[str, str]:
    """(verb, resource) of a request, e.g. ("list", "jobs"), ("watch", "pods"),
    ("get", "pods/log"); non-resource paths get the method and an empty resource."""
    try:
        info = requestinfo.parse(path)
    except NotFound:
        return method.lower(), ""
    if info.resource is None:
        return method.lower(), ""
    resource = info.resource.plural + (f"/{info.subresource}" if info.subresource else "")
    if method == "GET":
        watch = "watch=" in query and parse_qs(query).get("watch", [""])[0] in ("1", "true")
        verb = "watch" if watch else ("get" if info.name else "list")
    elif method == "DELETE":
        verb = "delete" if info.name else "deletecollection"
    else:
        verb = _VERBS.get(method, method.lower())
    return verb, resource


class RequestMetrics:
    """Counts every HTTP request; times all but watches; gauges open watches."""

    def __init__(self, app: ASGIApp, metrics: Metrics):
        self.app = app
        self.metrics = metrics

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        verb, resource = request_labels(
            scope["method"], scope["path"], scope.get("query_string", b"").decode("latin-1")
        )
        status = {"code": 500}

        async def send_status(message: Message) -> None:
            if message["type"] == "http.response.start":
                status["code"] = message["status"]
            await send(message)

        m = self.metrics
        started = time.perf_counter()
        watching = m.watch_connections.labels(resource) if verb == "watch" else None
        if watching is not None:
            watching.inc()
        try:
            await self.app(scope, receive, send_status)
        finally:
            if watching is not None:
                watching.dec()
            else:
                m.api_latency.labels(verb, resource).observe(time.perf_counter() - started)
            m.api_requests.labels(verb, resource, str(status["code"])).inc()


def exposition(metrics: Metrics) -> str:
    return generate_latest(metrics.registry).decode()


def metrics_response(metrics: Metrics) -> Response:
    return Response(generate_latest(metrics.registry), media_type=CONTENT_TYPE_LATEST)
