"""A ``berth up --no-workers`` subprocess for benchmarks: start, wait until it is ready and its
controllers have gone quiet, read its CPU time and memory, stop."""

from __future__ import annotations

import os
import signal
import socket
import subprocess
import sys
import time
from dataclasses import dataclass
from pathlib import Path

import httpx

REPO = Path(__file__).resolve().parents[1]
_TICK = os.sysconf("SC_CLK_TCK")
# Quiet: under 5% of a core over a 2 s window (the idle server polls its change feed).
QUIET_SHARE = 0.05
QUIET_WINDOW = 2.0


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@dataclass
class BerthProcess:
    process: subprocess.Popen
    port: int
    log_path: Path
    ready_s: float = 0.0
    settled_s: float = 0.0

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def cpu_seconds(self) -> float:
        """User + system CPU of the server process (all its threads)."""
        fields = Path(f"/proc/{self.process.pid}/stat").read_text().rsplit(")", 1)[1].split()
        return (int(fields[11]) + int(fields[12])) / _TICK

    def rss_mb(self) -> float:
        for line in Path(f"/proc/{self.process.pid}/status").read_text().splitlines():
            if line.startswith("VmRSS:"):
                return int(line.split()[1]) / 1024
        return 0.0

    def stop(self) -> None:
        if self.process.poll() is None:
            os.killpg(self.process.pid, signal.SIGTERM)
            try:
                self.process.wait(timeout=30)
            except subprocess.TimeoutExpired:
                os.killpg(self.process.pid, signal.SIGKILL)
                self.process.wait(timeout=10)


def start_berth(
    data_dir: Path, database_url: str | None, port: int, settle_limit: float
) -> BerthProcess:
    log_path = data_dir / "berth.log"
    args = [
        sys.executable,
        "-m",
        "berth.cli.main",
        "up",
        "--no-workers",
        "--port",
        str(port),
        "--data-dir",
        str(data_dir),
        "--log-level",
        "warning",
    ]
    if database_url:
        args += ["--database-url", database_url]
    with open(log_path, "ab") as log_file:
        process = subprocess.Popen(
            args, stdout=log_file, stderr=subprocess.STDOUT, cwd=REPO, start_new_session=True
        )
    server = BerthProcess(process, port, log_path)
    started = time.monotonic()
    try:
        _wait_ready(server, started + 300)
        server.ready_s = time.monotonic() - started
        _wait_quiet(server, started + settle_limit)
        server.settled_s = time.monotonic() - started
    except BaseException:
        server.stop()
        raise
    return server


def _wait_ready(server: BerthProcess, deadline: float) -> None:
    while time.monotonic() < deadline:
        if server.process.poll() is not None:
            raise RuntimeError(
                f"berth up exited with {server.process.returncode}:\n"
                f"{server.log_path.read_text(errors='replace')[-3000:]}"
            )
        try:
            if httpx.get(f"{server.url}/readyz", timeout=2).status_code == 200:
                return
        except httpx.HTTPError:
            pass
        time.sleep(0.2)
    raise RuntimeError(
        f"berth up did not become ready:\n{server.log_path.read_text(errors='replace')[-3000:]}"
    )


def _wait_quiet(server: BerthProcess, deadline: float) -> None:
    """Until the controllers have worked through what the start-up listing queued."""
    before = server.cpu_seconds()
    while time.monotonic() < deadline:
        time.sleep(QUIET_WINDOW)
        now = server.cpu_seconds()
        if now - before < QUIET_SHARE * QUIET_WINDOW:
            return
        before = now
    print("  (the controllers were still busy at --settle-limit; measuring anyway)")
