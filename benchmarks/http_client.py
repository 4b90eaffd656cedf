"""A lean HTTP/1.1 keep-alive client for load generation.

httpx spends about a millisecond of CPU a request; on a two-core machine the client then caps
the rate before the server does, and ``GET /readyz`` measures httpx. This client writes the
request bytes itself and reads a ``Content-Length`` answer (all Berth sends outside watches and
log follows), which costs a few tens of microseconds.
"""

from __future__ import annotations

import asyncio
from dataclasses import dataclass


@dataclass(frozen=True)
class Answer:
    status: int
    content_type: str
    body: bytes


class Connection:
    def __init__(self, host: str, port: int):
        self.host, self.port = host, port
        self._reader: asyncio.StreamReader | None = None
        self._writer: asyncio.StreamWriter | None = None

    async def request(
        self,
        method: str,
        path: str,
        body: bytes | None = None,
        content_type: str = "application/json",
    ) -> Answer:
        if self._reader is None or self._writer is None:
            self._reader, self._writer = await asyncio.open_connection(self.host, self.port)
        head = f"{method} {path} HTTP/1.1\r\nHost: {self.host}:{self.port}\r\n"
        if body is not None:
            head += f"Content-Type: {content_type}\r\nContent-Length: {len(body)}\r\n"
        self._writer.write(head.encode() + b"\r\n" + (body or b""))
        raw = await self._reader.readuntil(b"\r\n\r\n")
        lines = raw.decode("latin-1").split("\r\n")
        headers = {
            k.strip().lower(): v.strip()
            for k, _, v in (line.partition(":") for line in lines[1:] if line)
        }
        if "content-length" not in headers:
            raise ValueError(f"answer without Content-Length to {method} {path}: {lines[0]}")
        payload = await self._reader.readexactly(int(headers["content-length"]))
        if headers.get("connection", "").lower() == "close":
            await self.close()
        return Answer(int(lines[0].split()[1]), headers.get("content-type", ""), payload)

    async def close(self) -> None:
        if self._writer is not None:
            self._writer.close()
            self._writer = None
