"""``berth up`` under a sampling CPU profiler, for ``bench_e2e --profile``.

    python -m benchmarks.e2e_profile OUT.json up --port ... --data-dir ...

Embedded ``berth up`` serves the API from a child process (``berth.server_api``); it runs
under the same profiler, writing ``OUT.api.json`` (``api_profile_path``): the child is started
as ``python -m benchmarks.e2e_profile OUT.api.json --api FD URL``.

Runs Berth's CLI in this process with one extra thread that, every ``INTERVAL_S``, reads each
thread's CPU time (``/proc/self/task/<tid>/schedstat``, in nanoseconds) and its Python stack
(``sys._current_frames``), and charges the CPU the thread used since the last look to that
stack. cProfile would see the main thread only; Berth's work is in its other threads. A
thread found waiting (a lock, a queue, ``select``, ``ray.wait``) has just finished what it
ran, so its CPU goes to the stack it was last seen running instead. On exit (Ctrl-C stops
``berth up`` as usual) it writes, as JSON: CPU by thread, by function (inclusive), and by the
innermost line of Berth's own code on the stack (which charges time spent in libraries to
the Berth line that called them). CPU of threads without Python frames (Ray's core) shows
only in the process total.
"""

from __future__ import annotations

import functools
import json
import os
import re
import sys
import threading
import time
from collections import Counter
from collections.abc import Callable
from pathlib import Path

from berth import server_api
from berth.cli.main import app
from berth.platform.leave import on_leave

INTERVAL_S = 0.005
TOP = 40
# Where a thread waits rather than works: (file name, function) of the innermost frame.
_IDLE_LEAVES = {
    ("threading.py", "wait"),
    ("threading.py", "_wait_for_tstate_lock"),
    ("selectors.py", "select"),
    ("queue.py", "get"),
    ("worker.py", "wait"),
    ("worker.py", "get_objects"),
    ("thread.py", "_worker"),
    ("time.py", "sleep"),
}
_BERTH = str(Path(__file__).resolve().parents[1] / "berth") + os.sep
_DIGITS = re.compile(r"[-_]\d+$")


def _thread_ns(native_id: int) -> int | None:
    try:
        with open(f"/proc/self/task/{native_id}/schedstat") as handle:
            return int(handle.read().split()[0])
    except (OSError, ValueError, IndexError):
        return None


def _idle(frame) -> bool:
    code = frame.f_code
    return (Path(code.co_filename).name, code.co_name) in _IDLE_LEAVES


def _stack(frame) -> tuple:
    """(code, line) of each frame, innermost first: a frame object changes as it runs."""
    out = []
    while frame is not None:
        out.append((frame.f_code, frame.f_lineno))
        frame = frame.f_back
    return tuple(out)


def _group(name: str) -> str:
    """Thread pools' members under one name: ``ThreadPoolExecutor-3_1`` -> ``...-3``."""
    return _DIGITS.sub("", name)


def _where(code, line: int | None = None) -> str:
    path = code.co_filename
    short = (
        path[len(_BERTH) - len("berth/") :]
        if path.startswith(_BERTH)
        else "/".join(Path(path).parts[-2:])
    )
    return f"{short}:{code.co_firstlineno if line is None else line} {code.co_name}"


class Sampler:
    def __init__(self, interval: float = INTERVAL_S):
        self.interval = interval
        self.threads: Counter[str] = Counter()
        self.functions: Counter[str] = Counter()
        self.leaves: Counter[str] = Counter()
        self.berth_lines: Counter[str] = Counter()
        self._last: dict[int, int] = {}
        self._running: dict[int, tuple] = {}  # native id -> last stack seen not waiting
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, name="e2e-profiler", daemon=True)
        self.started = time.monotonic()
        self.cpu_start = time.process_time()

    def start(self) -> None:
        self._thread.start()

    def stop(self) -> None:
        self._stop.set()
        self._thread.join(timeout=5)

    def _run(self) -> None:
        own = threading.get_ident()
        while not self._stop.wait(self.interval):
            by_ident = {t.ident: t for t in threading.enumerate()}
            for ident, frame in sys._current_frames().items():
                thread = by_ident.get(ident)
                if ident == own or thread is None or thread.native_id is None:
                    continue
                used = self._used(thread.native_id)
                if used is None:
                    continue
                if not _idle(frame):
                    stack = self._running[thread.native_id] = _stack(frame)
                else:
                    # What it used, it used before it went to wait: charge the last stack
                    # seen running (or the wait itself, if it was never seen running).
                    stack = self._running.get(thread.native_id) or _stack(frame)
                if used > 0:
                    self._charge(_group(thread.name), stack, used / 1e9)

    def _used(self, native_id: int) -> int | None:
        now = _thread_ns(native_id)
        if now is None:
            return None
        used = now - self._last.get(native_id, now)
        self._last[native_id] = now
        return used

    def _charge(self, group: str, stack: tuple, seconds: float) -> None:
        # The Counters sum float seconds (typeshed types a Counter's counts as int).
        self.threads[group] += seconds  # pyright: ignore[reportArgumentType]
        self.leaves[_where(*stack[0])] += seconds  # pyright: ignore[reportArgumentType]
        for where in {_where(code) for code, _ in stack}:
            self.functions[where] += seconds  # pyright: ignore[reportArgumentType]
        berth_line = next(
            (_where(code, line) for code, line in stack if code.co_filename.startswith(_BERTH)),
            None,
        )
        if berth_line:
            self.berth_lines[f"[{group}] {berth_line}"] += seconds  # pyright: ignore[reportArgumentType]

    def report(self) -> dict:
        return {
            "wall_s": time.monotonic() - self.started,
            "process_cpu_s": time.process_time() - self.cpu_start,
            "threads": self.threads.most_common(),
            "functions": self.functions.most_common(TOP),
            "leaves": self.leaves.most_common(TOP),
            "berth_lines": self.berth_lines.most_common(TOP),
        }


def api_profile_path(out: Path) -> Path:
    """Where the API process's profile goes, beside ``berth up``'s at ``out``."""
    return out.with_suffix(".api.json")


def main(argv: list[str]) -> None:
    out, args = Path(argv[0]), argv[1:]
    if args[:1] == ["--api"]:
        run: Callable[[], object] = functools.partial(server_api.main, args[1:])
    else:
        server_api.ENTRY = ["-m", "benchmarks.e2e_profile", str(api_profile_path(out)), "--api"]
        run = functools.partial(app, args, prog_name="berth", standalone_mode=False)
    sampler = Sampler()
    written: list[Path] = []

    def write_report() -> None:
        if not written:
            sampler.stop()
            out.write_text(json.dumps(sampler.report(), indent=1))
            written.append(out)

    # berth up and the API process end through leave() (os._exit), skipping any finally here.
    on_leave(write_report)
    sampler.start()
    try:
        run()
    finally:
        write_report()


if __name__ == "__main__":
    main(sys.argv[1:])
