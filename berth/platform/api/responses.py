"""Response bodies of the resource handlers: JSON objects, as Tables for ``kubectl get``, and
the ``Warning`` header that carries admission and field-validation warnings."""

from __future__ import annotations

from datetime import UTC, datetime

import orjson
from fastapi import Request
from starlette.responses import Response

from berth.platform.api import tables
from berth.platform.resources.registry import ResourceType

_WARNING_TEXT = 256
_WARNINGS_TOTAL = 4096


def json_response(body: object, status: int = 200, warnings: list[str] | None = None) -> Response:
    headers = {}
    if warnings:
        headers["Warning"] = warning_header(warnings)
    return Response(
        orjson.dumps(body), status_code=status, media_type="application/json", headers=headers
    )


def warning_header(warnings: list[str]) -> str:
    """``299 - "text"`` entries as kube-apiserver writes them: each text cut to 256 characters
    and the whole to 4096 (a body may name thousands of unknown fields). Whatever is not
    printable ASCII is escaped as Go's ``strconv.QuoteToASCII`` does: uvicorn refuses control
    characters in a header, and clients disagree on how to read the other bytes."""
    entries: list[str] = []
    total = 0
    for text in warnings:
        entry = '299 - "' + _header_quote(text[:_WARNING_TEXT]) + '"'
        total += len(entry) + 2
        if entries and total > _WARNINGS_TOTAL:
            break
        entries.append(entry)
    return ", ".join(entries)


def _header_quote(text: str) -> str:
    return "".join(
        "\\" + ch if ch in '\\"' else ch if " " <= ch <= "~" else _escape(ch) for ch in text
    )


def _escape(ch: str) -> str:
    code = ord(ch)
    return f"\\u{code:04x}" if code <= 0xFFFF else f"\\U{code:08x}"


def wants_table(request: Request) -> bool:
    return "as=Table" in request.headers.get("accept", "")


def object_response(
    request: Request,
    rt: ResourceType,
    obj: dict,
    status: int = 200,
    warnings: list[str] | None = None,
) -> Response:
    if wants_table(request):
        return json_response(
            tables.to_table(
                rt,
                [obj],
                include_object=request.query_params.get("includeObject", "Metadata"),
                now=datetime.now(UTC),
                resource_version=obj["metadata"].get("resourceVersion", ""),
            ),
            status,
            warnings,
        )
    return json_response(obj, status, warnings)
