"""The one place where errors become HTTP: every failure is a Kubernetes ``Status`` body.

Domain errors (``berth.platform.errors``) map to their code and reason; anything unexpected is
logged with its traceback on the server and answered with a plain 500 Status that carries no
traceback.
"""

from __future__ import annotations

import logging

import orjson
from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from starlette.exceptions import HTTPException as StarletteHTTPException
from starlette.responses import Response

from berth.platform.errors import BerthError

log = logging.getLogger(__name__)

_REASONS = {
    400: "BadRequest",
    401: "Unauthorized",
    403: "Forbidden",
    404: "NotFound",
    405: "MethodNotAllowed",
    406: "NotAcceptable",
    409: "Conflict",
    410: "Expired",
    413: "RequestEntityTooLarge",
    415: "UnsupportedMediaType",
    422: "Invalid",
    429: "TooManyRequests",
    500: "InternalError",
    503: "ServiceUnavailable",
    504: "Timeout",
}


def status_body(code: int, reason: str, message: str, details: dict | None = None) -> dict:
    body = {
        "kind": "Status",
        "apiVersion": "v1",
        "metadata": {},
        "status": "Failure",
        "message": message,
        "reason": reason,
        "code": code,
    }
    if details:
        body["details"] = details
    return body


def status_response(
    code: int, reason: str, message: str, details: dict | None = None, headers: dict | None = None
) -> Response:
    return Response(
        _dumps(status_body(code, reason, message, details)),
        status_code=code,
        media_type="application/json",
        headers=headers,
    )


def _dumps(body: dict) -> bytes:
    try:
        return orjson.dumps(body)
    except TypeError:  # a message echoing a string that is not valid Unicode (a lone surrogate)
        return orjson.dumps(_scrub(body))


def _scrub(value: object) -> object:
    if isinstance(value, str):
        return value.encode("utf-8", "replace").decode("utf-8")
    if isinstance(value, dict):
        return {_scrub(k): _scrub(v) for k, v in value.items()}
    if isinstance(value, list):
        return [_scrub(v) for v in value]
    return value


def error_response(exc: BerthError) -> Response:
    details = {k: v for k, v in exc.details.items() if v not in (None, "", [])}
    return status_response(exc.code, exc.reason, exc.message, details or None)


def install(app: FastAPI) -> None:
    @app.exception_handler(BerthError)
    async def _domain(_request: Request, exc: BerthError) -> Response:
        return error_response(exc)

    @app.exception_handler(StarletteHTTPException)
    async def _http(_request: Request, exc: StarletteHTTPException) -> Response:
        code = exc.status_code
        message = (
            exc.detail
            if isinstance(exc.detail, str)
            else "the server could not find the requested resource"
        )
        if code == 404:
            message = "the server could not find the requested resource"
        return status_response(code, _REASONS.get(code, "Unknown"), message)

    @app.exception_handler(RequestValidationError)
    async def _validation(_request: Request, exc: RequestValidationError) -> Response:
        return status_response(400, "BadRequest", f"invalid request: {exc.errors()[:3]}")

    @app.exception_handler(Exception)
    async def _unexpected(request: Request, exc: Exception) -> Response:
        log.exception("internal error serving %s %s", request.method, request.url.path)
        return status_response(
            500, "InternalError", "an error on the server has prevented the request from succeeding"
        )
