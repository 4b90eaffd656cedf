"""Container logs on the node, the way the kubelet keeps them.

One file per container attempt: ``<root>/<pod uid>/<container>/<attempt>.log`` where the
attempt is the container's ``restartCount`` when it started. The container's stdout and stderr
arrive merged on one pipe (as ``kubectl logs`` shows them) and every record is stored in the CRI
log format the kubelet uses::

    2026-11-25T19:17:52.123456789Z stdout F one whole line
    2026-11-25T19:17:52.223456789Z stdout P a partial line (no newline yet) ...

so ``timestamps``, ``sinceSeconds``/``sinceTime``, ``tailLines`` and ``limitBytes`` can be answered
from the file alone. A ``<attempt>.done`` marker is written when the writer has flushed the
last byte: a follower that sees it and then reaches the end of the file has everything.
"""

from __future__ import annotations

import os
import re
import threading
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path

from berth.platform.errors import BadRequest

_STREAM = "stdout"
_LOG_NAME = re.compile(r"^(\d+)\.log$")


def format_ts(ns: int) -> str:
    """RFC3339 with exactly nine fractional digits, as ``kubectl logs --timestamps`` prints."""
    seconds, frac = divmod(ns, 1_000_000_000)
    base = datetime.fromtimestamp(seconds, UTC).strftime("%Y-%m-%dT%H:%M:%S")
    return f"{base}.{frac:09d}Z"


def parse_ts(text: str) -> int:
    """Nanoseconds since the epoch of an RFC3339(Nano) timestamp."""
    match = re.match(r"^(\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d)(?:\.(\d+))?(Z|[+-]\d\d:\d\d)$", text)
    if not match:
        raise ValueError(f"not an RFC3339 time: {text!r}")
    zone = "+00:00" if match.group(3) == "Z" else match.group(3)
    whole = datetime.fromisoformat(match.group(1) + zone)
    frac = (match.group(2) or "").ljust(9, "0")[:9]
    return int(whole.timestamp()) * 1_000_000_000 + int(frac)


def container_dir(root: Path, uid: str, container: str) -> Path:
    return Path(root) / uid / container


def attempt_path(root: Path, uid: str, container: str, attempt: int) -> Path:
    return container_dir(root, uid, container) / f"{attempt}.log"


def attempts(root: Path, uid: str, container: str) -> list[int]:
    """Attempt numbers that have a log file, oldest first."""
    folder = container_dir(root, uid, container)
    if not folder.is_dir():
        return []
    found = [int(m.group(1)) for m in map(_LOG_NAME.match, os.listdir(folder)) if m]
    return sorted(found)


def is_done(path: Path) -> bool:
    return path.with_suffix(".done").exists()


class LogWriter:
    """Writes one container's output into its log file, record by record (what the
    output's pipe brings: ``logpump.py``).

    ``clock_ns`` is injectable so tests can write records with chosen times.
    """

    def __init__(self, path: Path, clock_ns: Callable[[], int] = time.time_ns):
        self.path = Path(path)
        self.path.parent.mkdir(parents=True, exist_ok=True)
        self._clock_ns = clock_ns
        self._file = open(self.path, "ab", buffering=0)
        self._lock = threading.Lock()
        self._closed = False

    def write(self, data: bytes) -> None:
        """Store ``data``: each finished line as an F record, a trailing fragment as P."""
        if not data:
            return
        stamp = format_ts(self._clock_ns()).encode()
        out = bytearray()
        lines = data.split(b"\n")
        for line in lines[:-1]:
            out += stamp + b" " + _STREAM.encode() + b" F " + line + b"\n"
        if lines[-1]:
            out += stamp + b" " + _STREAM.encode() + b" P " + lines[-1] + b"\n"
        with self._lock:
            self._file.write(bytes(out))

    def close(self) -> None:
        with self._lock:
            if self._closed:
                return
            self._closed = True
            self._file.close()
        self.path.with_suffix(".done").touch()


@dataclass(frozen=True)
class Record:
    ns: int
    partial: bool
    text: bytes


def parse_records(data: bytes) -> Iterator[Record]:
    """Records of a log file's bytes; a torn last record (no newline) is skipped."""
    for raw in data.split(b"\n"):
        if not raw:
            continue
        parts = raw.split(b" ", 3)
        if len(parts) < 3:
            continue
        try:
            ns = parse_ts(parts[0].decode())
        except ValueError:
            continue
        text = parts[3] if len(parts) == 4 else b""
        yield Record(ns, parts[2] == b"P", text)


def join_lines(records: Iterator[Record]) -> list[tuple[int, bytes]]:
    """Whole lines as ``(time of first fragment, text with newline)``; P records are glued
    to what follows, and a trailing fragment stays a line of its own without a newline."""
    lines: list[tuple[int, bytes]] = []
    pending: tuple[int, bytearray] | None = None
    for rec in records:
        if pending is None:
            pending = (rec.ns, bytearray())
        pending[1].extend(rec.text)
        if not rec.partial:
            pending[1].extend(b"\n")
            lines.append((pending[0], bytes(pending[1])))
            pending = None
    if pending is not None:
        lines.append((pending[0], bytes(pending[1])))
    return lines


def render(lines: list[tuple[int, bytes]], timestamps: bool) -> bytes:
    if not timestamps:
        return b"".join(text for _, text in lines)
    return b"".join(format_ts(ns).encode() + b" " + text for ns, text in lines)


def select(
    lines: list[tuple[int, bytes]], *, tail_lines: int | None = None, since_ns: int | None = None
) -> list[tuple[int, bytes]]:
    """The lines ``kubectl logs`` would show: newer than ``since_ns``, then the last N."""
    if since_ns is not None:
        lines = [line for line in lines if line[0] >= since_ns]
    if tail_lines is not None:
        lines = lines[-tail_lines:] if tail_lines > 0 else []
    return lines


def pick_attempt(root: Path, uid: str, container: str, previous: bool) -> Path | None:
    """The file of the latest attempt, or of the one before it when ``previous``."""
    found = attempts(root, uid, container)
    index = -2 if previous else -1
    if len(found) < (2 if previous else 1):
        return None
    return attempt_path(root, uid, container, found[index])


def read_log(
    root: Path,
    uid: str,
    container: str,
    *,
    tail_lines: int | None = None,
    since_seconds: int | None = None,
    since_time: str | None = None,
    timestamps: bool = False,
    previous: bool = False,
    limit_bytes: int | None = None,
    now_ns: int | None = None,
    pod_name: str | None = None,
) -> str:
    """The text of one container's log, filtered as the options of ``kubectl logs`` ask."""
    path = pick_attempt(root, uid, container, previous)
    if path is None:
        if previous:
            raise BadRequest(
                f'previous terminated container "{container}" in pod "{pod_name or uid}" not found'
            )
        return ""
    since_ns = _since_ns(since_seconds, since_time, now_ns)
    lines = select(
        join_lines(parse_records(path.read_bytes())), tail_lines=tail_lines, since_ns=since_ns
    )
    data = render(lines, timestamps)
    if limit_bytes is not None:
        data = data[: max(limit_bytes, 0)]
    return data.decode("utf-8", errors="replace")


def tail_text(path: Path, lines: int, max_bytes: int = 64 * 1024) -> str:
    """The last ``lines`` lines of a log file, reading at most its last ``max_bytes``: cheap
    on a large log (for termination messages and start-error checks)."""
    try:
        with open(path, "rb") as handle:
            size = handle.seek(0, os.SEEK_END)
            handle.seek(max(size - max_bytes, 0))
            data = handle.read()
    except OSError:
        return ""
    if size > max_bytes:
        data = data[data.find(b"\n") + 1 :]  # drop the torn first record
    picked = select(join_lines(parse_records(data)), tail_lines=lines)
    return render(picked, timestamps=False).decode("utf-8", errors="replace")


def _since_ns(since_seconds: int | None, since_time: str | None, now_ns: int | None) -> int | None:
    if since_seconds is not None:
        return (now_ns if now_ns is not None else time.time_ns()) - since_seconds * 1_000_000_000
    if since_time is not None:
        return parse_ts(since_time)
    return None


def start_offset(
    path: Path,
    *,
    tail_lines: int | None = None,
    since_seconds: int | None = None,
    since_time: str | None = None,
    now_ns: int | None = None,
) -> int:
    """Byte offset of the first record a follower should show, honouring tail and since."""
    if tail_lines is None and since_seconds is None and since_time is None:
        return 0
    data = path.read_bytes()
    since_ns = _since_ns(since_seconds, since_time, now_ns)
    # (offset, time) of each record that begins a whole line: P records glue to the next.
    starts: list[tuple[int, int]] = []
    offset = 0
    glued = False
    for raw in data.split(b"\n")[:-1]:
        for rec in parse_records(raw):
            if not glued:
                starts.append((offset, rec.ns))
            glued = rec.partial
        offset += len(raw) + 1
    if since_ns is not None:
        starts = [s for s in starts if s[1] >= since_ns]
    if tail_lines is not None:
        starts = starts[-tail_lines:] if tail_lines > 0 else []
    return starts[0][0] if starts else offset


def read_from(
    path: Path, offset: int, *, timestamps: bool = False, max_bytes: int = 1 << 20
) -> tuple[str, int, bool]:
    """Whole records from ``offset`` on: ``(text, next offset, finished)``.

    ``finished`` is true when the writer is done and everything has been returned, so a
    ``kubectl logs -f`` may end. A partial record at the end of the file is left for the
    next call.
    """
    done = is_done(path)  # checked before reading, so nothing written after is missed
    try:
        with open(path, "rb") as handle:
            handle.seek(offset)
            data = handle.read(max_bytes)
    except FileNotFoundError:
        return "", offset, done
    end = data.rfind(b"\n") + 1
    whole = data[:end]
    # A P record is shown as it arrives when following: the bytes are real output.
    text = b""
    for rec in parse_records(whole):
        prefix = format_ts(rec.ns).encode() + b" " if timestamps else b""
        text += prefix + rec.text + (b"" if rec.partial else b"\n")
    next_offset = offset + end
    finished = done and len(data) == end and len(data) < max_bytes
    return text.decode("utf-8", errors="replace"), next_offset, finished


def follow(
    path: Path,
    offset: int = 0,
    *,
    timestamps: bool = False,
    poll: float = 0.1,
    stopped: Callable[[], bool] = lambda: False,
    sleep: Callable[[float], None] = time.sleep,
) -> Iterator[str]:
    """Yield new text from ``path`` until the writer is done (or ``stopped()``)."""
    while True:
        text, offset, finished = read_from(path, offset, timestamps=timestamps)
        if text:
            yield text
        if finished or stopped():
            return
        if not text:
            sleep(poll)
