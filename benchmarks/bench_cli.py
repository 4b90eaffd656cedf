"""CLI start-up: how long ``berth`` commands take from exec to exit, without a server to talk
to (``--server`` points at a closed port: the command fails at its first request, so the
figure is start-up plus one refused connection).

    .venv/bin/python -m benchmarks cli [--runs 5]

Baselines from the same run: a bare ``python -c pass``, and ``python -c "import berth.server"``
(what every command paid before the commands were loaded lazily: the server's imports).
Figures are wall-clock medians and best of ``--runs`` runs.
"""

from __future__ import annotations

import argparse
import socket
import statistics
import subprocess
import sys
import time
from pathlib import Path

BERTH = str(Path(sys.executable).with_name("berth"))


def _closed_url() -> str:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return f"http://127.0.0.1:{s.getsockname()[1]}"


def _time(argv: list[str], runs: int) -> list[float]:
    times = []
    for _ in range(runs):
        started = time.perf_counter()
        subprocess.run(argv, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, timeout=60)
        times.append(time.perf_counter() - started)
    return times


def cases(url: str) -> list[tuple[str, list[str]]]:
    return [
        ("baseline: python -c pass", [sys.executable, "-c", "pass"]),
        ("baseline: import berth.server", [sys.executable, "-c", "import berth.server"]),
        ("berth --help", [BERTH, "--help"]),
        ("berth get --help", [BERTH, "get", "--help"]),
        ("berth kubeconfig --help", [BERTH, "kubeconfig", "--help"]),
        ("berth kubeconfig", [BERTH, "kubeconfig"]),
        ("berth get jobs (refused)", [BERTH, "get", "jobs", "--server", url]),
        ("berth up --help", [BERTH, "up", "--help"]),
    ]


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(prog="bench_cli", description=(__doc__ or "").split("\n")[0])
    parser.add_argument("--runs", type=int, default=5)
    args = parser.parse_args(sys.argv[1:] if argv is None else argv)
    print(f"  {'command':<34} {'median ms':>10} {'best ms':>10}")
    for label, command in cases(_closed_url()):
        times = _time(command, args.runs)
        print(
            f"  {label:<34} {statistics.median(times) * 1000:10.0f} {min(times) * 1000:10.0f}",
            flush=True,
        )


if __name__ == "__main__":
    main()
