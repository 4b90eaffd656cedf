"""Follow a submitted Job to its end, as ``srun`` or ``ray job submit`` do.

Two list-watches (the Job, its Pods) feed one queue; the loop keeps the latest of each, shows
progress, starts following each pod's log as soon as the pod has run, and stops at the Job's
``Complete`` or ``Failed`` condition. Progress goes to stderr (a live status line on a
terminal, a line per change otherwise) so stdout carries only the program's own output.
"""

from __future__ import annotations

import queue
import threading
import time
from collections.abc import Callable

from berth.cli.apiclient import ApiClient, ApiError
from berth.cli.jobspec import CONTAINER
from berth.cli.logs import selector_of
from berth.cli.logstream import LinePrinter, LogFollower, LogRequest
from berth.cli.progress import (
    describe_progress,
    describe_verdict,
    has_run,
    log_prefix,
    pod_failure,
    progress,
    verdict,
)
from berth.cli.render import Output, StatusLine
from berth.cli.watching import ListWatch
from berth.platform.resources import registry
from berth.platform.resources.pods import is_terminal

TICK_SECONDS = 0.5
DRAIN_SECONDS = 15.0  # how long to wait, after the verdict, for the last lines of the logs


class JobFollower:
    def __init__(self, client: ApiClient, job: dict, out: Output):
        self.client, self.job, self.out = client, job, out
        self.name = job["metadata"]["name"]
        self.namespace = job["metadata"]["namespace"]
        self.pods: dict[str, dict] = {}
        self.logs: dict[str, LogFollower] = {}
        self.reported_failures: set[str] = set()
        self.events: queue.Queue = queue.Queue()
        self.stop = threading.Event()
        self.emit = LinePrinter(out.text)
        self.deleted = False
        self.problem = ""  # the last watch failure, shown until the watches recover

    # -- the loop -------------------------------------------------------------------------

    def run(self) -> int:
        """0 when the Job completes, 1 when it fails or is deleted; Ctrl-C propagates."""
        self._start_watches()
        try:
            with StatusLine(self.out) as status:
                while True:
                    self._drain()
                    self._follow_new_pods()
                    text = describe_progress(self.name, progress(self.job, self._pods()))
                    status.update(f"{text} [{self.problem}]" if self.problem else text)
                    outcome = verdict(self.job)
                    if outcome or self.deleted:
                        break
            return self._finish(outcome)
        finally:
            self.stop.set()

    def _start_watches(self) -> None:
        by_name = {"fieldSelector": f"metadata.name={self.name}"}
        ListWatch(
            self.client, registry.JOB.path(self.namespace), by_name, "job", self.events, self.stop
        ).start()
        ListWatch(
            self.client,
            registry.POD.path(self.namespace),
            {"labelSelector": selector_of(self.job)},
            "pod",
            self.events,
            self.stop,
        ).start()

    def _drain(self) -> None:
        try:
            item = self.events.get(timeout=TICK_SECONDS)
        except queue.Empty:
            return
        while True:
            self._apply(*item)
            try:
                item = self.events.get_nowait()
            except queue.Empty:
                return

    def _apply(self, topic: str, kind: str, obj) -> None:
        if kind == "ERROR":
            self.problem = str(obj)  # the watch retries by itself
            return
        self.problem = ""
        if topic == "job":
            if kind == "DELETED":
                self.deleted = True
            else:
                self.job = obj
            return
        name = obj["metadata"]["name"]
        if kind == "DELETED":
            self.pods.pop(name, None)
        else:
            self.pods[name] = obj
            self._report_failure(obj)

    def _pods(self) -> list[dict]:
        return list(self.pods.values())

    # -- logs -----------------------------------------------------------------------------

    def _follow_new_pods(self) -> None:
        for name, pod in list(self.pods.items()):
            if name not in self.logs and has_run(pod):
                self._follow(pod)

    def _follow(self, pod: dict) -> None:
        name = pod["metadata"]["name"]
        request = LogRequest(self.namespace, name, CONTAINER, follow=True)
        follower = LogFollower(
            self.client,
            request,
            log_prefix(self.job, pod),
            self.emit,
            self.stop,
            self.out.error,
            finished=self._ended(name),
        )
        self.logs[name] = follower
        follower.start()

    def _ended(self, name: str) -> Callable[[], bool]:
        def ended() -> bool:
            pod = self.pods.get(name)
            return pod is None or is_terminal(pod)

        return ended

    def _report_failure(self, pod: dict) -> None:
        name = pod["metadata"]["name"]
        message = pod_failure(pod)
        if message and name not in self.reported_failures:
            self.reported_failures.add(name)
            self.out.error(message)

    # -- the end --------------------------------------------------------------------------

    def _finish(self, outcome) -> int:
        if self.deleted:
            self.out.error(f"job.batch/{self.name} was deleted")
            return 1
        self._refresh_pods()
        self._follow_new_pods()
        deadline = time.monotonic() + DRAIN_SECONDS
        for follower in self.logs.values():
            follower.join(max(deadline - time.monotonic(), 0))
        self.out.error(describe_verdict(self.name, self.job, outcome))
        return 0 if outcome.succeeded else 1

    def _refresh_pods(self) -> None:
        """The pod watch may trail the Job's verdict: read the pods once more, directly."""
        try:
            listed = self.client.get_json(
                registry.POD.path(self.namespace), {"labelSelector": selector_of(self.job)}
            )
        except ApiError:
            return
        for pod in listed.get("items") or []:
            self.pods[pod["metadata"]["name"]] = pod
            self._report_failure(pod)
