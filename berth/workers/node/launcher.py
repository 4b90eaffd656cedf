"""How a node agent starts the pods it admits, stops them, and collects their ends.

A pod starts as a Ray task pinned to the node that asks for exactly the pod's requests
(``pod_task.run_pod``), or, when the agent launches CPU-only pods itself, on a thread of the
agent's own process (``runs_here``). A stop is a small file the pod's runner polls. Each end,
the pod's final status or why its task failed, goes to the agent's ``ended`` callback.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Callable

import ray
import ray.exceptions
from ray.util.scheduling_strategies import NodeAffinitySchedulingStrategy

from berth.platform.resources.meta import rfc3339, utcnow
from berth.workers.node import cgroups
from berth.workers.node.admission import admit, ray_options, ray_resources
from berth.workers.node.filevolumes import FileVolumes, VolumeError
from berth.workers.node.nodecontext import POLL_S, StopRequest
from berth.workers.node.pod_task import run_here, run_pod, write_stop
from berth.workers.node.podtable import PodTable
from berth.workers.node.podwatch import PodWatch
from berth.workers.node.records import PodRecord
from berth.workers.node.threadreuse import ThreadReuse
from berth.workers.node.volumes import file_volumes
from berth.workers.starting import starting
from berth.workers.status import lost_status, rejected_status, waiting_status

log = logging.getLogger(__name__)

_WAIT_S = 0.2
DELETED_MESSAGE = "The pod was deleted before it started"

# ``report(uid, seq, status)``: a status from the pod's runner; ``ended(rec, seq, status)``:
# its task is over (``seq`` None: the status is the agent's own, the runner's was lost).
Report = Callable[[str, int, dict], None]
Ended = Callable[[PodRecord, int | None, dict], None]


class Launcher:
    """Called under the table's lock, but for ``monitor``, the thread that collects ends."""

    def __init__(
        self,
        table: PodTable,
        node_id: str,
        host_ip: str,
        capacity: dict[str, float],
        files: FileVolumes,
        node_config: dict,
        *,
        launch_here: bool,
        report: Report,
        ended: Ended,
    ):
        self.table = table
        self.node_id, self.host_ip, self.capacity = node_id, host_ip, capacity
        self.files, self.node_config = files, node_config
        self.launch_here = launch_here
        self._report, self._ended = report, ended
        # The agent's own cgroups, read once: the pods it runs itself are its processes.
        self.hierarchy = cgroups.detect() if launch_here else None
        # One thread checks every pod it runs itself for stop requests, deadlines, limits;
        # each such pod runs on a thread reused from pod to pod.
        self.watch = PodWatch(POLL_S)
        self._threads = ThreadReuse("pod")

    def _now(self) -> str:
        return rfc3339(utcnow())

    def admit(self, rec: PodRecord) -> None:
        """Start the pod's task, or record why it cannot start (yet)."""
        meta = rec.pod.get("metadata") or {}
        now = self._now()
        if meta.get("deletionTimestamp"):
            self.table.set_status(
                rec, lost_status(rec.pod, None, self.host_ip, now, DELETED_MESSAGE)
            )
            return
        waiting = rec.bundle.get("waiting")
        if waiting:
            self.table.set_status(
                rec,
                waiting_status(
                    rec.pod,
                    self.host_ip,
                    now,
                    waiting.get("reason", "ContainerCreating"),
                    waiting.get("message"),
                ),
            )
            return
        rec.resources = ray_resources(rec.pod)
        refusal = admit(rec.resources, self.capacity, self.table.used)
        if refusal is not None:
            self.table.set_status(rec, rejected_status(rec.pod, self.host_ip, now, *refusal))
            return
        self.show_files(rec, rec.bundle)
        if self.launch_here and runs_here(rec.resources):
            rec.ref = LocalPod()
            self._threads.run(lambda: self._run_here(rec))
            status = waiting_status(rec.pod, self.host_ip, now)
            self.table.set_status(rec, status, wake=not starting(status))
            return
        options = ray_options(rec.pod)
        rec.ref = run_pod.options(
            **options,
            name=f"pod:{rec.namespace}/{rec.name}",
            scheduling_strategy=NodeAffinitySchedulingStrategy(self.node_id, soft=False),
        ).remote(ray.get_runtime_context().current_actor, rec.pod, rec.bundle, self.node_config)
        status = waiting_status(rec.pod, self.host_ip, now)
        self.table.set_status(rec, status, wake=not starting(status))

    def stop(self, rec: PodRecord, grace: float | None) -> None:
        if rec.stopping or rec.ref is None:
            return
        rec.stopping = True
        write_stop(self.table.pod_root / rec.uid, StopRequest(grace=grace))
        if rec.seq == 0 and not isinstance(rec.ref, LocalPod):
            # Not started as far as we know: drop it from Ray's queue. Should it have just
            # started, the stop file above stops it all the same.
            ray.cancel(rec.ref, force=False)

    def show_files(self, rec: PodRecord, bundle: dict) -> None:
        """Write the pod's ConfigMap/Secret/... volumes to the node's tmpfs (atomically; an
        unchanged one is left alone). A failure here is the runner's to report."""
        if bundle.get("waiting"):
            return  # an object went missing: a running pod keeps what it has, as on Kubernetes
        try:
            self.files.publish(rec.uid, file_volumes(bundle))
        except (VolumeError, OSError) as err:
            log.warning("volumes of pod %s/%s not written: %s", rec.namespace, rec.name, err)

    def monitor(self) -> None:
        """Collect each pod task's end: its final status, or why the task itself failed."""
        while True:
            with self.table.lock:
                refs = {
                    r.ref: r
                    for r in self.table.pods.values()
                    if r.ref is not None and not isinstance(r.ref, LocalPod)
                }
            if not refs:
                time.sleep(_WAIT_S)
                continue
            ready, _ = ray.wait(
                list(refs), num_returns=len(refs), timeout=_WAIT_S, fetch_local=True
            )
            for ref in ready:
                self._finished(refs[ref], ref)

    def _finished(self, rec: PodRecord, ref) -> None:
        try:
            result: dict = ray.get(ref)
            seq, status = result["seq"], result["status"]
        except ray.exceptions.TaskCancelledError:
            seq, status = (
                None,
                lost_status(
                    rec.pod,
                    rec.status,
                    self.host_ip,
                    self._now(),
                    "The pod was stopped before it started",
                ),
            )
        except ray.exceptions.RayError as err:
            log.warning("pod %s/%s task failed: %s", rec.namespace, rec.name, err)
            seq, status = None, _task_failure(rec, err, self.host_ip, self._now())
        self._ended(rec, seq, status)

    def _run_here(self, rec: PodRecord) -> None:
        """A pod this agent launches itself, on a thread of its own process."""
        try:
            result = run_here(
                rec.pod,
                rec.bundle,
                self.node_config,
                self._report,
                gpu_ids=[],
                node_id=self.node_id,
                hierarchy=self.hierarchy,
                memory=self.files,
                watch=self.watch,
            )
            seq, status = result["seq"], result["status"]
        except Exception as err:  # the runner itself broke: the pod is lost, said so
            log.exception("pod %s/%s failed in its runner", rec.namespace, rec.name)
            seq, status = (
                None,
                lost_status(
                    rec.pod,
                    rec.status,
                    self.host_ip,
                    self._now(),
                    f"The pod's runner failed: {type(err).__name__}",
                ),
            )
        self._ended(rec, seq, status)


class LocalPod:
    """``PodRecord.ref`` of a pod the agent runs on one of its own threads."""


def runs_here(resources: dict[str, float]) -> bool:
    """Whether the agent may run a pod (that asks Ray for ``resources``, its
    ``ray_resources``) itself rather than as a Ray task: it asks Ray for nothing but CPU and
    memory. A pod that asks for GPUs (or any other Ray resource) stays a Ray task, so that
    Ray assigns its devices (``CUDA_VISIBLE_DEVICES``) and accounts them."""
    return set(resources) <= {"CPU", "memory"}


def _task_failure(rec: PodRecord, err: Exception, host_ip: str, now: str) -> dict:
    if isinstance(err, ray.exceptions.TaskUnschedulableError):
        return rejected_status(
            rec.pod,
            host_ip,
            now,
            "UnexpectedAdmissionError",
            f"Pod could not be placed on its node by Ray: {err}",
        )
    return lost_status(
        rec.pod,
        rec.status,
        host_ip,
        now,
        f"The pod's process on the node died: {type(err).__name__}",
    )
