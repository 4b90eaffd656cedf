"""Run one pod on this node: init containers in order, then all containers together.

``PodRunner.run()`` blocks until the pod is finished (or stopped) and returns its final
status; every change on the way is handed to ``report``. It needs no store and no Ray: the
agent runs it inside the pod's Ray task, tests run it directly. Each attempt of a container
is started by ``container_start.py`` (env, mounts, sandbox, cgroup, log).

Restart policy as the kubelet applies it: ``Never`` runs each container once; ``OnFailure``
restarts a failed container in place, ``Always`` any container that exits, with a back-off of
base, 2*base, ... capped (10 s .. 5 min in Kubernetes; injectable so tests are fast) and reset
once an attempt has run for 10 minutes. A failed init container fails the pod under ``Never``
and is retried otherwise.
"""

from __future__ import annotations

import logging
import threading
import time
import uuid
from collections.abc import Callable
from pathlib import Path

from berth.platform.resources.meta import rfc3339, utcnow
from berth.workers.node import container_start, envs, probes, process
from berth.workers.node.filevolumes import FileVolumes, root_for
from berth.workers.node.nodecontext import NodeContext, StopRequest
from berth.workers.node.outcome import attempt_outcome
from berth.workers.node.podwatch import PodWatch
from berth.workers.node.restarts import backoff_delay, format_delay
from berth.workers.node.sandboxcheck import REFUSED_REASON, refusal_message, sandbox_needs
from berth.workers.node.volumes import over_limit, size_limits
from berth.workers.status import (
    UNKNOWN_MESSAGE,
    UNKNOWN_REASON,
    ContainerState,
    PodView,
    pod_status,
    qos_class,
)

log = logging.getLogger(__name__)

BACKOFF_RESET_S = 600
USAGE_CHECK_S = 2.0  # how often emptyDir sizeLimits are measured
DEFAULT_GRACE_S = 30
DEADLINE_MESSAGE = "Pod was active on the node longer than the specified deadline"


class PodRunner:
    def __init__(
        self,
        pod: dict,
        bundle: dict,
        node: NodeContext,
        *,
        gpu_ids: list[str],
        report: Callable[[dict], None],
        stop_check: Callable[[], StopRequest | None] = lambda: None,
        clock: Callable[[], object] = utcnow,
        memory: FileVolumes | None = None,
        watch: PodWatch | None = None,
    ):
        self.pod, self.bundle, self.node = pod, bundle or {}, node
        self.spec = pod.get("spec") or {}
        meta = pod.get("metadata") or {}
        self.uid, self.name = meta.get("uid", ""), meta.get("name", "")
        self.namespace = meta.get("namespace", "")
        self.hostname = (self.spec.get("hostname") or self.name)[:63]
        self.policy = self.spec.get("restartPolicy") or "Always"
        self._report, self._stop_check, self._clock = report, stop_check, clock
        self._gpus = envs.split_gpus(pod, gpu_ids)
        self._lock = threading.RLock()
        self._stopping = threading.Event()
        self._done = threading.Event()
        self._procs: dict[str, process.ContainerProcess] = {}
        self._last: dict | None = None
        self.init = [
            self._state(c, "PodInitializing") for c in self.spec.get("initContainers") or []
        ]
        waiting = "PodInitializing" if self.init else "ContainerCreating"
        self.regular = [self._state(c, waiting) for c in self.spec.get("containers") or []]
        self.view = PodView(self.policy, node.host_ip, qos=qos_class(pod))
        self.sandboxed = node.bwrap is not None
        # ``memory``: the node's in-memory volumes, when the caller already has them (the
        # agent, for a pod it runs itself: one reading of the mounts per node, not per pod).
        self.memory = memory or FileVolumes(node.volume_root or root_for(node.pod_root))
        # ``watch``: a thread that makes every pod's periodic checks (``check``), when the
        # caller has one (the agent, for the pods it runs itself); else the runner's own.
        self._watch = watch
        self._deadline: float | None = None
        self._limits: list[tuple[str, Path, str]] = []  # emptyDirs with a sizeLimit
        self._next_usage = 0.0

    def _state(self, container: dict, reason: str) -> ContainerState:
        return ContainerState(container["name"], image=container.get("image", ""), reason=reason)

    def _now(self) -> str:
        return rfc3339(self._clock())  # type: ignore[arg-type]

    # -- reporting ---------------------------------------------------------------------------

    def status(self) -> dict:
        with self._lock:
            st = pod_status(self.view, self.init, self.regular, self._now())
            self.view.conditions = st["conditions"]
            return st

    def _publish(self) -> None:
        # Reported under the lock so that updates leave in the order they were made.
        with self._lock:
            st = self.status()
            if st == self._last:
                return
            self._last = st
            self._report(st)

    # -- lifecycle ---------------------------------------------------------------------------

    def run(self) -> dict:
        """Run the pod to its end; the final status."""
        if not self.sandboxed:
            needs = sandbox_needs(self.pod)
            if needs:
                node = self.spec.get("nodeName") or self.node.node_name
                return self._refuse(refusal_message(node, self.node.sandbox_problem, needs))
            log.warning(
                "pod %s/%s runs without a sandbox: %s",
                self.namespace,
                self.name,
                self.node.sandbox_problem,
            )
        with self._lock:
            self.view.start_time = self._now()
            self.view.sandbox_ready = True
        self._publish()
        deadline_s = self.spec.get("activeDeadlineSeconds")
        self._deadline = time.monotonic() + deadline_s if deadline_s is not None else None
        self._limits = size_limits(self.pod, self.node.pod_root / self.uid, self.memory)
        self._next_usage = time.monotonic() + USAGE_CHECK_S
        if self._watch is not None:
            self._watch.add(self)
            try:
                self._lifecycle()
            finally:
                self._watch.remove(self)
        else:
            worker = threading.Thread(target=self._lifecycle, name=f"pod-{self.name}", daemon=True)
            worker.start()
            while not self._done.wait(self.node.poll):
                self.check()
            worker.join()
        self._finish()
        self._publish()
        return self._last or self.status()

    def check(self) -> None:
        """The periodic checks of a running pod: a stop request, its deadline, its emptyDir
        size limits."""
        request = self._stop_check()
        if request is not None:
            self.stop(request.grace, request.reason, request.message)
        if self._deadline is not None and time.monotonic() >= self._deadline:
            self.stop(None, "DeadlineExceeded", DEADLINE_MESSAGE)
            self._deadline = None
        if self._limits and time.monotonic() >= self._next_usage:
            self._next_usage = time.monotonic() + USAGE_CHECK_S
            exceeded = over_limit(self._limits)
            if exceeded:
                self.stop(0, "Evicted", exceeded)

    def _refuse(self, message: str) -> dict:
        """Fail the pod without running anything: it needs a sandbox this node lacks. Every
        container says why, whatever the restart policy (no restart can mend it)."""
        log.warning("pod %s/%s not run: %s", self.namespace, self.name, message)
        with self._lock:
            now = self._now()
            self.view.start_time = now
            self.view.terminal = True
            self.view.reason, self.view.message = REFUSED_REASON, message
            for state in self.init + self.regular:
                state.set_terminated(128, "StartError", message, now, started_at=now)
        self._publish()
        return self._last or self.status()

    def abort(self) -> dict:
        """Stop at once after ``run()`` was interrupted; the final status."""
        self.stop(grace=0)
        self._done.wait()
        self._finish()
        self._publish()
        return self._last or self.status()

    def stop(
        self, grace: float | None = None, reason: str | None = None, message: str | None = None
    ) -> None:
        """Stop every container: SIGTERM, then SIGKILL after the grace period. Idempotent."""
        with self._lock:
            if self._stopping.is_set():
                return
            self._stopping.set()
            self.view.terminal = True
            if reason:
                self.view.reason, self.view.message = reason, message
            running = list(self._procs.values())
        if grace is None:
            grace = self._grace()
        for cp in running:
            threading.Thread(target=process.terminate, args=(cp, grace), daemon=True).start()

    def _lifecycle(self) -> None:
        try:
            containers = {c["name"]: c for c in self.spec.get("initContainers") or []}
            for state in self.init:
                if not self._run_container(state, containers[state.name], init=True):
                    return
            for state in self.regular:
                state.set_waiting("ContainerCreating")
            self._publish()
            specs = {c["name"]: c for c in self.spec.get("containers") or []}
            if len(self.regular) == 1:  # most pods: the container runs on this thread
                self._run_container(self.regular[0], specs[self.regular[0].name], init=False)
                return
            threads = [
                threading.Thread(
                    target=self._run_container,
                    args=(s, specs[s.name]),
                    kwargs={"init": False},
                    daemon=True,
                )
                for s in self.regular
            ]
            for t in threads:
                t.start()
            for t in threads:
                t.join()
        finally:
            self._done.set()

    def _run_container(self, state: ContainerState, spec: dict, *, init: bool) -> bool:
        """Run one container until it needs no restart; True when it ended successfully."""
        failures = 0
        while True:
            began = time.monotonic()
            code = self._attempt(state, spec)
            if self._stopping.is_set():
                return False
            if self.policy == "Never" or (code == 0 and (init or self.policy == "OnFailure")):
                return code == 0
            failures = 1 if time.monotonic() - began >= BACKOFF_RESET_S else failures + 1
            delay = backoff_delay(failures, self.node.backoff_base, self.node.backoff_cap)
            with self._lock:
                state.retire()
                state.set_waiting(
                    "CrashLoopBackOff",
                    f"back-off {format_delay(delay)} restarting "
                    f"failed container={state.name} pod={self.name}_"
                    f"{self.namespace}({self.uid})",
                )
            self._publish()
            if self._stopping.wait(delay):
                return False
            with self._lock:
                state.restart_count += 1

    def _attempt(self, state: ContainerState, spec: dict) -> int:
        """Start one attempt and wait for it; its exit code (128 if it could not start)."""
        if self._stopping.is_set():
            return 137
        attempt = state.restart_count
        try:
            started = container_start.start(
                self.pod,
                spec,
                self.bundle,
                self.node,
                self.memory,
                container=state.name,
                attempt=attempt,
                hostname=self.hostname,
                gpu_ids=self._gpus.get(state.name),
                sandboxed=self.sandboxed,
            )
        except container_start.CannotStart as err:
            return self._cannot_start(state, str(err))
        cp, group, env, term_file = started.process, started.group, started.env, started.term_file
        startup, liveness, readiness = (
            probes.parse(spec.get(key), spec)
            for key in ("startupProbe", "livenessProbe", "readinessProbe")
        )
        with self._lock:
            state.set_running(self._now(), f"berth://{uuid.uuid4().hex}")
            state.probe_started = False if startup else None
            state.probe_ready = False if readiness else None
            self._procs[state.name] = cp
            stopping = self._stopping.is_set()
        if stopping:
            threading.Thread(
                target=process.terminate, args=(cp, self._grace()), daemon=True
            ).start()
        self._publish()
        if startup or liveness or readiness:
            hooks = self._probe_hooks(state, cp, env, spec.get("workingDir"))
            threading.Thread(
                target=probes.watch,
                args=(startup, liveness, readiness),
                kwargs={"pod_ip": self.node.host_ip, "hooks": hooks},
                daemon=True,
                name=f"probe-{state.name}",
            ).start()
        code = process.wait_exit(cp)
        oom = group.oom_killed()
        group.remove()
        reason, message = attempt_outcome(
            code,
            oom,
            spec,
            term_file,
            self.node.log_root,
            self.uid,
            state.name,
            attempt,
            self.sandboxed,
        )
        if reason == "StartError":
            code = 128
        with self._lock:
            self._procs.pop(state.name, None)
            state.set_terminated(code, reason, message, self._now())
        self._publish()
        return code

    def _grace(self) -> float:
        return self.spec.get("terminationGracePeriodSeconds", DEFAULT_GRACE_S)

    def _probe_hooks(
        self,
        state: ContainerState,
        cp: process.ContainerProcess,
        env: dict[str, str],
        workdir: str | None,
    ) -> probes.Hooks:
        def update(**fields) -> None:
            with self._lock:
                if state.state == "running":
                    for key, value in fields.items():
                        setattr(state, key, value)
            self._publish()

        def kill(message: str) -> None:
            log.info(
                "pod %s/%s container %s: %s; restarting it",
                self.namespace,
                self.name,
                state.name,
                message,
            )
            process.terminate(cp, self._grace())

        return probes.Hooks(
            exec_fn=lambda argv, timeout: process.exec_in(
                cp, argv, env=env, cwd=workdir, timeout=timeout
            ),
            set_started=lambda: update(probe_started=True),
            set_ready=lambda ready: update(probe_ready=ready),
            kill=kill,
            running=lambda: not cp.reaped.is_set() and not self._stopping.is_set(),
            sleep=lambda seconds: cp.reaped.wait(seconds),
        )

    def _cannot_start(self, state: ContainerState, message: str) -> int:
        with self._lock:
            now = self._now()
            state.container_id = f"berth://{uuid.uuid4().hex}"
            state.set_terminated(128, "StartError", message, now, started_at=now)
        self._publish()
        return 128

    def _finish(self) -> None:
        """A stopped pod's containers that never ran are terminated as the kubelet shows
        them; one waiting to restart shows its last run."""
        if not self._stopping.is_set():
            return
        now = self._now()
        with self._lock:
            for state in self.init + self.regular:
                if state.state != "waiting":
                    continue
                if state.last_terminated is not None:
                    last = state.last_terminated
                    state.last_terminated = None
                    state.set_terminated(
                        last["exitCode"],
                        last["reason"],
                        last.get("message"),
                        last["finishedAt"],
                        started_at=last["startedAt"],
                    )
                else:
                    state.set_terminated(137, UNKNOWN_REASON, UNKNOWN_MESSAGE, now, started_at=None)
