"""Pod logs to the terminal: one pod's log read or followed, lines prefixed when several pods
share the screen, each followed pod in its own thread so slow pods do not hold up the rest."""

from __future__ import annotations

import threading
from collections.abc import Callable
from dataclasses import dataclass

from berth.cli.apiclient import ApiClient, ApiError, ConnectionProblem
from berth.cli.progress import INDEX_ANNOTATION
from berth.platform.resources import registry
from berth.platform.resources.meta import dig

# A container that has not started yet answers 400 ("waiting to start"); how often to ask again.
START_RETRIES = 60
START_RETRY_SECONDS = 1.0


@dataclass(frozen=True)
class LogRequest:
    namespace: str
    pod: str
    container: str | None = None
    follow: bool = False
    tail: int | None = None
    timestamps: bool = False

    def path(self) -> str:
        return registry.POD.path(self.namespace, self.pod) + "/log"

    def params(self) -> dict:
        return {
            "container": self.container,
            "follow": "true" if self.follow else None,
            "tailLines": None if self.tail is None else str(self.tail),
            "timestamps": "true" if self.timestamps else None,
        }


class LinePrinter:
    """Whole lines, each with its prefix, from any thread; lines of two pods never interleave."""

    def __init__(self, write: Callable[[str], None]):
        self._write = write
        self._lock = threading.Lock()

    def __call__(self, prefix: str, line: str) -> None:
        with self._lock:
            self._write(f"{prefix}{line}\n")


def print_log(
    client: ApiClient, request: LogRequest, prefix: str, emit: Callable[[str, str], None]
) -> None:
    """Print the pod's log (following it to its end when asked). Raises ApiError."""
    if request.follow:
        for line in client.stream_lines(request.path(), request.params()):
            emit(prefix, line)
        return
    text = client.get_text(request.path(), request.params())
    for line in text.splitlines():
        emit(prefix, line)


class LogFollower(threading.Thread):
    """Follows one pod's log in the background and prints each line once.

    ``finished()`` says whether the pod has ended. A followed log that ends while the pod is
    still running (its log was not there yet, or the connection dropped) is asked for again and
    the lines already printed are skipped: with ``restartPolicy: Never`` a container's log only
    grows. A container still waiting to start answers 400; that is retried ``start_retries``
    times.
    """

    def __init__(
        self,
        client: ApiClient,
        request: LogRequest,
        prefix: str,
        emit: Callable[[str, str], None],
        stop: threading.Event,
        report: Callable[[str], None],
        finished: Callable[[], bool] = lambda: True,
        start_retries: int = START_RETRIES,
    ):
        super().__init__(daemon=True, name=f"log-{request.pod}")
        self.client, self.request, self.prefix = client, request, prefix
        self.emit, self.stop, self.report = emit, stop, report
        self.finished, self.start_retries = finished, start_retries

    def run(self) -> None:
        printed, refused = 0, 0
        while not self.stop.is_set():
            ended_before = self.finished()
            try:
                seen = 0
                for line in self.client.stream_lines(self.request.path(), self.request.params()):
                    seen += 1
                    if seen > printed:
                        self.emit(self.prefix, line)
                        printed = seen
                if ended_before:
                    return
            except ApiError as exc:
                refused += 1
                if exc.code != 400 or refused > self.start_retries:
                    self.report(f"logs of pod/{self.request.pod}: {exc.status.get('message')}")
                    return
            except ConnectionProblem as exc:
                self.report(str(exc))
                return
            self.stop.wait(START_RETRY_SECONDS)


def pod_order(pod: dict) -> tuple:
    """Indexed pods by index, the rest by when they were created, then by name."""
    index = dig(pod, "metadata", "annotations", INDEX_ANNOTATION)
    number = int(index) if isinstance(index, str) and index.isdigit() else -1
    return (
        number,
        dig(pod, "metadata", "creationTimestamp", default=""),
        dig(pod, "metadata", "name", default=""),
    )
