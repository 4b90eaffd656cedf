"""``python -m benchmarks [NAME ...]``: run every ``benchmarks/bench_*.py`` (or the named ones:
``python -m benchmarks api`` runs ``bench_api``), each ``main()`` in turn under a header. A
benchmark that fails is reported and the others still run; the exit status says whether any
failed."""

from __future__ import annotations

import importlib
import inspect
import sys
import time
import traceback
from pathlib import Path

HERE = Path(__file__).resolve().parent


def available() -> list[str]:
    return sorted(p.stem.removeprefix("bench_") for p in HERE.glob("bench_*.py"))


def run(name: str) -> bool:
    print(f"\n{'=' * 100}\n== benchmark: {name}\n{'=' * 100}", flush=True)
    started = time.perf_counter()
    try:
        main = importlib.import_module(f"benchmarks.bench_{name}").main
        # A main that parses arguments gets none: the selection on this command line is ours.
        main([]) if inspect.signature(main).parameters else main()
        ok = True
    except SystemExit as exc:  # argparse and friends
        ok = exc.code in (0, None)
        if not ok:
            traceback.print_exc()
    except Exception:
        traceback.print_exc()
        ok = False
    verdict = "done" if ok else "FAILED"
    print(f"== benchmark {name} {verdict} after {time.perf_counter() - started:.0f} s", flush=True)
    return ok


def main(argv: list[str]) -> int:
    names = available()
    chosen = [a.removeprefix("bench_").removesuffix(".py") for a in argv] or names
    unknown = [n for n in chosen if n not in names]
    if unknown:
        print(
            f"no such benchmark: {', '.join(unknown)}; available: {', '.join(names)}",
            file=sys.stderr,
        )
        return 2
    failed = [name for name in chosen if not run(name)]
    if failed:
        print(f"\nfailed: {', '.join(failed)}", file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
