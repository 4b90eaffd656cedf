"""The Kubernetes-shaped HTTP API: health, version, discovery, OpenAPI and the resources."""

from __future__ import annotations

from fastapi import FastAPI, Request
from starlette.concurrency import run_in_threadpool
from starlette.responses import Response

from berth.platform.api import discovery, handlers, openapi, status
from berth.platform.api.health import health_response
from berth.platform.errors import NotFound
from berth.platform.metrics.http import RequestMetrics, metrics_response
from berth.platform.metrics.series import Metrics
from berth.platform.runtime import Platform

_METHODS = ["GET", "POST", "PUT", "PATCH", "DELETE"]


def _aggregated_response(doc: dict) -> Response:
    response = handlers.json_response(doc)
    response.headers["content-type"] = discovery.AGGREGATED_MEDIA_TYPE
    return response


def _health_routes(app: FastAPI, platform: Platform, metrics: Metrics) -> None:
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


def create_ops_app(platform: Platform, metrics: Metrics) -> FastAPI:
    """What a controller-only process serves: health, readiness and metrics; no API."""
    app = FastAPI(title="Berth controller", openapi_url=None, docs_url=None, redoc_url=None)
    _health_routes(app, platform, metrics)
    return app


def create_app(platform: Platform, metrics: Metrics | None = None) -> FastAPI:
    metrics = metrics or Metrics()
    app = FastAPI(title="Berth", openapi_url=None, docs_url=None, redoc_url=None)
    app.state.platform = platform
    app.add_middleware(RequestMetrics, metrics=metrics)
    status.install(app)
    _health_routes(app, platform, metrics)

    @app.get("/version")
    async def _version() -> Response:
        return handlers.json_response(discovery.version_info())

    @app.get("/api")
    async def _api(request: Request) -> Response:
        if discovery.wants_aggregated(request.headers.get("accept", "")):
            return _aggregated_response(discovery.aggregated_core())
        return handlers.json_response(discovery.api_versions())

    @app.get("/apis")
    async def _apis(request: Request) -> Response:
        if discovery.wants_aggregated(request.headers.get("accept", "")):
            return _aggregated_response(discovery.aggregated_groups())
        return handlers.json_response(discovery.api_group_list())

    @app.get("/apis/{group}")
    async def _group(group: str) -> Response:
        for entry in discovery.api_group_list()["groups"]:
            if entry["name"] == group:
                return handlers.json_response({"kind": "APIGroup", "apiVersion": "v1", **entry})
        raise NotFound("", "", message="the server could not find the requested resource")

    @app.get("/openapi/v3")
    async def _openapi_root() -> Response:
        return handlers.json_response(openapi.root())

    @app.get("/openapi/v3/{gv:path}")
    async def _openapi_gv(gv: str) -> Response:
        body = openapi.group_version_bytes(gv)
        if body is None:
            raise NotFound("", "", message="the server could not find the requested resource")
        # The URL carries the document's hash, so a cached copy can never be stale.
        return Response(
            body, media_type="application/json", headers={"Cache-Control": "public, immutable"}
        )

    @app.api_route("/api/{rest:path}", methods=_METHODS)
    @app.api_route("/apis/{group}/{rest:path}", methods=_METHODS)
    async def _resources(request: Request) -> Response:
        return await handlers.handle(platform, request)

    return app
