"""The Kubernetes-shaped HTTP API: health, version, discovery, OpenAPI and the resources."""

from __future__ import annotations

import httpx
from fastapi import FastAPI, Request
from starlette.concurrency import run_in_threadpool
from starlette.responses import Response

from berth.platform.api import discovery, handlers, openapi, responses, status
from berth.platform.api.forward import ControllerProcess, merge_exposition
from berth.platform.api.health import health_response
from berth.platform.errors import NotFound
from berth.platform.metrics.http import RequestMetrics, exposition, metrics_response
from berth.platform.metrics.series import Metrics
from berth.platform.runtime import Platform

_METHODS = ["GET", "POST", "PUT", "PATCH", "DELETE"]


def _aggregated_response(doc: dict) -> Response:
    response = responses.json_response(doc)
    response.headers["content-type"] = discovery.AGGREGATED_MEDIA_TYPE
    return response


def _health_routes(
    app: FastAPI, platform: Platform, metrics: Metrics, controllers: ControllerProcess | None
) -> None:
    if controllers is not None:
        _forwarded_health_routes(app, metrics, controllers)
        return

    @app.get("/healthz")
    @app.get("/livez")
    @app.get("/readyz")
    @app.get("/healthz/{check}")
    @app.get("/livez/{check}")
    @app.get("/readyz/{check}")
    async def _health(request: Request, check: str | None = None) -> Response:
        return await run_in_threadpool(health_response, platform, request, check)

    @app.get("/metrics")
    async def _metrics() -> Response:
        return metrics_response(metrics)


def _forwarded_health_routes(app: FastAPI, metrics: Metrics, controllers: ControllerProcess):
    """Health is the controller process's (its checks are berth up's); /metrics is its
    series with this process's request series in place of its own."""

    @app.get("/healthz")
    @app.get("/livez")
    @app.get("/readyz")
    @app.get("/healthz/{check}")
    @app.get("/livez/{check}")
    @app.get("/readyz/{check}")
    async def _health(request: Request) -> Response:
        return await controllers.forward(request)

    @app.get("/metrics")
    async def _metrics() -> Response:
        response = metrics_response(metrics)
        try:
            text = await controllers.metrics_text()
        except httpx.HTTPError:
            return response  # this process's own series, while the other does not answer
        return Response(merge_exposition(text, exposition(metrics)), media_type=response.media_type)


def create_ops_app(platform: Platform, metrics: Metrics) -> FastAPI:
    """What a controller-only process serves: health, readiness and metrics; no API."""
    app = FastAPI(title="Berth controller", openapi_url=None, docs_url=None, redoc_url=None)
    _health_routes(app, platform, metrics, None)
    return app


def create_app(
    platform: Platform,
    metrics: Metrics | None = None,
    controllers: ControllerProcess | None = None,
) -> FastAPI:
    """The API. With ``controllers`` (the API process of embedded ``berth up``), health,
    metrics and pod logs are answered with the help of that controller process."""
    metrics = metrics or Metrics()
    app = FastAPI(title="Berth", openapi_url=None, docs_url=None, redoc_url=None)
    app.state.platform = platform
    app.add_middleware(RequestMetrics, metrics=metrics)
    status.install(app)
    # The resources first: routes are tried in order, and these answer nearly every request
    # (their paths never match the ones below: those have no "/api/" or "/apis/x/" prefix).
    if controllers is not None:
        # The node agents are driven from the controller process: it reads the pod's log.
        @app.get("/api/v1/namespaces/{namespace}/pods/{name}/log")
        async def _pod_log(request: Request) -> Response:
            return await controllers.forward(request)

    async def _resources(request: Request) -> Response:
        return await handlers.handle(platform, request)

    # Plain Starlette routes: the handler takes the request alone, and FastAPI's parameter
    # resolution around it was ~10% of a GET's CPU.
    app.router.add_route("/api/{rest:path}", _resources, methods=_METHODS)
    app.router.add_route("/apis/{group}/{rest:path}", _resources, methods=_METHODS)

    _health_routes(app, platform, metrics, controllers)

    @app.get("/version")
    async def _version() -> Response:
        return responses.json_response(discovery.version_info())

    @app.get("/api")
    async def _api(request: Request) -> Response:
        if discovery.wants_aggregated(request.headers.get("accept", "")):
            return _aggregated_response(discovery.aggregated_core())
        return responses.json_response(discovery.api_versions())

    @app.get("/apis")
    async def _apis(request: Request) -> Response:
        if discovery.wants_aggregated(request.headers.get("accept", "")):
            return _aggregated_response(discovery.aggregated_groups())
        return responses.json_response(discovery.api_group_list())

    @app.get("/apis/{group}")
    async def _group(group: str) -> Response:
        for entry in discovery.api_group_list()["groups"]:
            if entry["name"] == group:
                return responses.json_response({"kind": "APIGroup", "apiVersion": "v1", **entry})
        raise NotFound("", "", message="the server could not find the requested resource")

    @app.get("/openapi/v3")
    async def _openapi_root() -> Response:
        return responses.json_response(openapi.root())

    @app.get("/openapi/v3/{gv:path}")
    async def _openapi_gv(gv: str) -> Response:
        body = openapi.group_version_bytes(gv)
        if body is None:
            raise NotFound("", "", message="the server could not find the requested resource")
        # The URL carries the document's hash, so a cached copy can never be stale.
        return Response(
            body, media_type="application/json", headers={"Cache-Control": "public, immutable"}
        )

    return app
