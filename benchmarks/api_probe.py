"""GET one object every ``interval`` seconds from a process of its own, for ``bench_e2e``.

    python -m benchmarks.api_probe PORT PATH [INTERVAL_S]

It prints each answer's latency in milliseconds, one a line, until stdin closes, then exits
(a GET that does not answer 200 ends it with the status on stderr and exit status 1).

Why a process: run in the benchmark's own event loop, beside four submitting clients and two
watches that parse ten thousand events, the prober measured that loop's lag as much as the
API. In one loaded run (load 17 on 2 cores) the API process answered the probe's GETs in
5 ms at the median (its own clock, ASGI entry to response) while the prober saw 54 ms.
"""

from __future__ import annotations

import asyncio
import sys
import time

from benchmarks.http_client import Connection


async def probe(port: int, path: str, interval_s: float) -> int:
    connection = Connection("127.0.0.1", port)
    loop = asyncio.get_running_loop()
    stdin_closed = loop.run_in_executor(None, sys.stdin.read)
    try:
        while not stdin_closed.done():
            began = time.monotonic()
            answer = await connection.request("GET", path)
            elapsed_ms = (time.monotonic() - began) * 1000
            if answer.status != 200:
                print(f"GET {path}: {answer.status} {answer.body[:300]!r}", file=sys.stderr)
                return 1
            print(f"{elapsed_ms:.3f}", flush=True)
            await asyncio.wait([stdin_closed], timeout=interval_s)
    finally:
        await connection.close()
    return 0


def main(argv: list[str]) -> int:
    port, path = int(argv[0]), argv[1]
    interval_s = float(argv[2]) if len(argv) > 2 else 0.1
    return asyncio.run(probe(port, path, interval_s))


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
