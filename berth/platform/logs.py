"""Where pod logs come from: the API asks a ``LogSource``; the workers provide the real one."""

from __future__ import annotations

from collections.abc import AsyncIterator
from dataclasses import dataclass
from typing import Protocol


@dataclass(frozen=True)
class LogOptions:
    container: str
    follow: bool = False
    tail_lines: int | None = None
    since_seconds: int | None = None
    timestamps: bool = False
    previous: bool = False
    limit_bytes: int | None = None


class LogSource(Protocol):
    def read(self, pod: dict, options: LogOptions) -> str: ...

    def follow(self, pod: dict, options: LogOptions) -> AsyncIterator[bytes]: ...


class NoLogs:
    """Until a pod has run somewhere there is nothing to show: an empty log."""

    def read(self, pod: dict, options: LogOptions) -> str:
        return ""

    async def follow(self, pod: dict, options: LogOptions) -> AsyncIterator[bytes]:
        return
        yield b""  # pragma: no cover  (makes this an async generator)
