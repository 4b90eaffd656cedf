"""Sandbox benchmark: sandboxed pod launches per second against plain process launches.

    .venv/bin/python -m benchmarks.bench_sandbox [--launches N] [--parallel N] [--rounds N]

Each launch runs ``true`` to its end. Three ways, measured in the same run, alternating in
rounds so that load on the machine falls on all of them alike:

* **plain**: ``subprocess.run(["true"])``, the floor (what a process start costs here);
* **sandboxed**: the bubblewrap command line exactly as the runner builds it for a pod with a
  few mounts (an emptyDir, a read-only hostPath, a ConfigMap volume from the node's tmpfs, a
  ``subPath`` file from memory, the termination-log file), its own PID/IPC/UTS namespaces and
  hostname, read-only host; the argv is built for every launch, as the runner does;
* **same, ConfigMap under /etc**: one mount under a host directory that lacks it, which the
  sandbox opens (a tmpfs with each of the directory's entries bound back: one mount each);
* **argv only**: building that command line without running it (its share of the cost).

``--parallel N`` launches from N threads at once (a node runs several pods at a time).
Figures are launches per second (median of the rounds) and the sandbox's cost as a ratio.
"""

from __future__ import annotations

import argparse
import os
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

from berth.workers.node.filevolumes import FileVolumes
from berth.workers.node.sandbox import FileData, Mount, SandboxSpec, build_bwrap_argv, memfd_with
from berth.workers.node.sandboxcheck import probe


def pod_sandbox(work: Path, files: FileVolumes, under_etc: bool = False) -> SandboxSpec:
    """A pod's container as the runner sees it: a handful of mounts of each kind, at the
    lecture's paths (or with the ConfigMap under ``/etc``, a host directory the sandbox must
    then open: a tmpfs over it with each of its entries bound back)."""
    for name in ("scratch", "data", "term"):
        (work / name).mkdir(exist_ok=True)
    files.publish(
        "bench-pod", {"config": {"city": FileData(b"Ann Arbor"), "state": FileData(b"Michigan")}}
    )
    mounts = [
        Mount("/shared-data", source=str(work / "scratch")),
        Mount("/mnt/datalake", source=str(work / "data"), read_only=True),
        Mount(
            "/etc/app" if under_etc else "/myconfig",
            source=str(files.path("bench-pod", "config")),
            read_only=True,
        ),
        Mount("/mysecret/username", file=FileData(b"example", 0o400), read_only=True),
        Mount("/dev/termination-log", source=str(work / "term")),
    ]
    return SandboxSpec(argv=["true"], hostname="bench-pod-0", mounts=mounts, hide=[str(work)])


def launch_plain() -> None:
    subprocess.run(["true"], check=True)


def launcher(bwrap: str, spec: SandboxSpec, run: bool = True) -> Callable[[], None]:
    def launch() -> None:
        fds: list[int] = []
        argv = build_bwrap_argv(
            spec, bwrap=bwrap, open_file=lambda data: fds.append(memfd_with(data)) or fds[-1]
        )
        try:
            if run:
                subprocess.run(argv, check=True, pass_fds=tuple(fds))
        finally:
            for fd in fds:
                os.close(fd)

    return launch


def rate(launch: Callable[[], None], launches: int, parallel: int) -> float:
    started = time.perf_counter()
    if parallel <= 1:
        for _ in range(launches):
            launch()
    else:
        with ThreadPoolExecutor(parallel) as pool:
            list(pool.map(lambda _: launch(), range(launches)))
    return launches / (time.perf_counter() - started)


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=(__doc__ or "").split("\n")[0])
    parser.add_argument("--launches", type=int, default=100, help="launches per way per round")
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--parallel", type=int, default=1, help="threads launching at once")
    args = parser.parse_args(argv)
    found = probe("bwrap")
    if not found.works or found.path is None:
        sys.exit(f"no sandbox to measure: {found.problem}")
    work = Path(tempfile.mkdtemp(prefix="bench-sandbox-"))
    files = FileVolumes(Path("/dev/shm/berth") / f"bench-{os.getpid()}")
    try:
        spec = pod_sandbox(work, files)
        ways = {
            "plain process (true)": launch_plain,
            "sandboxed pod (bwrap, as the runner)": launcher(found.path, spec),
            "same, ConfigMap under /etc": launcher(
                found.path, pod_sandbox(work, files, under_etc=True)
            ),
            "argv only (built, not run)": launcher(found.path, spec, run=False),
        }
        for launch in ways.values():
            launch()  # warm up: page cache, first fork
        rates: dict[str, list[float]] = {name: [] for name in ways}
        for _ in range(args.rounds):
            for name, launch in ways.items():
                rates[name].append(rate(launch, args.launches, args.parallel))
    finally:
        files.prune(set())
        shutil.rmtree(files.root, ignore_errors=True)
        shutil.rmtree(work, ignore_errors=True)
    mounts = len(spec.mounts)
    print(
        f"bubblewrap {found.version} at {found.path}; {mounts} mounts; {args.launches} "
        f"launches x {args.rounds} rounds, {args.parallel} at a time"
    )
    base = statistics.median(rates["plain process (true)"])
    print(f"{'way':40} {'launches/s':>11} {'ms each':>8} {'rate/plain':>10}")
    for name, values in rates.items():
        median = statistics.median(values)
        print(f"{name:40} {median:11.0f} {1000 / median:8.2f} {median / base:9.2f}x")


if __name__ == "__main__":
    main(sys.argv[1:])
