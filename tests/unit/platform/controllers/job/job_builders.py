"""Builders for Job controller tests: ``a_job(completions=4).indexed()``,
``a_pod().failed(exit=1)``, and ``Cluster``, a tiny store that applies Plans the way the
controller's shell does.

Imported by the test files next to it (named distinctively: pytest imports every test helper
under its own file name).
"""

from __future__ import annotations

import copy
import random
from datetime import UTC, datetime, timedelta

from berth.platform.controllers.job import JobTracking, Plan, keys, plan
from berth.platform.controllers.job.fold import plan_folded
from berth.platform.resources.meta import rfc3339

T0 = datetime(2026, 11, 25, 12, 0, 0, tzinfo=UTC)


def at(seconds: float = 0) -> datetime:
    return T0 + timedelta(seconds=seconds)


def ts(seconds: float = 0) -> str:
    return rfc3339(at(seconds))


class JobBuilder:
    def __init__(self, name: str, spec: dict) -> None:
        self.job = {
            "apiVersion": "batch/v1",
            "kind": "Job",
            "metadata": {"name": name, "namespace": "default", "uid": f"{name}-uid"},
            "spec": {
                "template": {
                    "metadata": {
                        "labels": {keys.JOB_NAME: name, keys.CONTROLLER_UID: f"{name}-uid"}
                    },
                    "spec": {
                        "restartPolicy": "Never",
                        "containers": [
                            {"name": "main", "image": "busybox", "command": ["sh", "-c", "true"]}
                        ],
                    },
                },
                **spec,
            },
            "status": {},
        }

    @property
    def spec(self) -> dict:
        return self.job["spec"]

    def indexed(self) -> JobBuilder:
        self.spec["completionMode"] = keys.INDEXED
        return self

    def suspended(self, flag: bool = True) -> JobBuilder:
        self.spec["suspend"] = flag
        return self

    def on_failure(self) -> JobBuilder:
        self.spec["template"]["spec"]["restartPolicy"] = "OnFailure"
        return self

    def failure_rules(self, *rules: dict) -> JobBuilder:
        self.spec["podFailurePolicy"] = {"rules": list(rules)}
        return self

    def success_rules(self, *rules: dict) -> JobBuilder:
        self.spec["successPolicy"] = {"rules": list(rules)}
        return self

    def status(self, **fields) -> JobBuilder:
        self.job["status"].update(fields)
        return self

    def started(self, seconds: float = 0) -> JobBuilder:
        return self.status(startTime=ts(seconds))

    def condition(
        self, kind: str, status: str = "True", reason: str = "", message: str = "", at_s: float = 0
    ):
        moment = ts(at_s)
        self.job["status"].setdefault("conditions", []).append(
            {
                "type": kind,
                "status": status,
                "lastProbeTime": moment,
                "lastTransitionTime": moment,
                "reason": reason,
                "message": message,
            }
        )
        return self

    def deleting(self) -> JobBuilder:
        self.job["metadata"]["deletionTimestamp"] = ts(0)
        return self

    def build(self) -> dict:
        return copy.deepcopy(self.job)


def a_job(name: str = "pi", **spec) -> JobBuilder:
    return JobBuilder(name, spec)


_serial = iter(range(1, 10**9))


class PodBuilder:
    def __init__(
        self, job: str, index: int | None, name: str | None, uid: str | None, created: float
    ) -> None:
        serial = next(_serial)
        self.pod = {
            "apiVersion": "v1",
            "kind": "Pod",
            "metadata": {
                "name": name
                or (f"{job}-{index}-p{serial}" if index is not None else f"{job}-p{serial}"),
                "namespace": "default",
                "uid": uid or f"pod-uid-{serial}",
                "creationTimestamp": ts(created),
                "labels": {keys.JOB_NAME: job},
                "annotations": {},
                "finalizers": [keys.TRACKING_FINALIZER],
                "ownerReferences": [
                    {
                        "apiVersion": "batch/v1",
                        "kind": "Job",
                        "name": job,
                        "uid": f"{job}-uid",
                        "controller": True,
                        "blockOwnerDeletion": True,
                    }
                ],
            },
            "spec": {"containers": [{"name": "main", "image": "busybox"}]},
            "status": {"phase": keys.PENDING},
        }
        if index is not None:
            self.annotate(keys.COMPLETION_INDEX, str(index))

    @property
    def status(self) -> dict:
        return self.pod["status"]

    def annotate(self, key: str, value: str) -> PodBuilder:
        self.pod["metadata"]["annotations"][key] = value
        return self

    def failures(self, count: int, ignored: int = 0) -> PodBuilder:
        self.annotate(keys.INDEX_FAILURE_COUNT, str(count))
        if ignored:
            self.annotate(keys.INDEX_IGNORED_FAILURE_COUNT, str(ignored))
        return self

    def on_node(self, node: str = "node-1") -> PodBuilder:
        self.pod["spec"]["nodeName"] = node
        return self

    def running(self, ready: bool = True, since: float = 0) -> PodBuilder:
        self.on_node()
        self.status["phase"] = keys.RUNNING
        self.status["containerStatuses"] = [
            {"name": "main", "restartCount": 0, "state": {"running": {}}}
        ]
        self.condition(keys.POD_READY, "True" if ready else "False", at_s=since)
        return self

    def restarts(self, count: int) -> PodBuilder:
        for status in self.status.setdefault(
            "containerStatuses", [{"name": "main", "state": {"running": {}}}]
        ):
            status["restartCount"] = count
        return self

    def _terminated(self, phase: str, code: int, at_s: float, container: str) -> PodBuilder:
        self.on_node()
        self.status["phase"] = phase
        self.status["containerStatuses"] = [
            {
                "name": container,
                "restartCount": 0,
                "state": {"terminated": {"exitCode": code, "finishedAt": ts(at_s)}},
            }
        ]
        self.condition(keys.POD_READY, "False", at_s=at_s)
        return self

    def succeeded(self, at_s: float = 0) -> PodBuilder:
        return self._terminated(keys.SUCCEEDED, 0, at_s, "main")

    def failed(self, exit: int = 1, at_s: float = 0, container: str = "main") -> PodBuilder:
        return self._terminated(keys.FAILED, exit, at_s, container)

    def condition(self, kind: str, status: str = "True", at_s: float = 0) -> PodBuilder:
        conds = [c for c in self.status.get("conditions", []) if c["type"] != kind]
        conds.append({"type": kind, "status": status, "lastTransitionTime": ts(at_s)})
        self.status["conditions"] = conds
        return self

    def deleting(self, at_s: float = 0) -> PodBuilder:
        self.pod["metadata"]["deletionTimestamp"] = ts(at_s)
        self.pod["metadata"]["deletionGracePeriodSeconds"] = 0
        return self

    def released(self) -> PodBuilder:
        """Its tracking finalizer is gone: counted in an earlier sync."""
        self.pod["metadata"]["finalizers"] = []
        return self

    def build(self) -> dict:
        return copy.deepcopy(self.pod)


def a_pod(
    job: str = "pi",
    index: int | None = None,
    *,
    name: str | None = None,
    uid: str | None = None,
    created: float = 0,
) -> PodBuilder:
    return PodBuilder(job, index, name, uid, created)


def plan_at(
    job: dict, pods: list[dict], seconds: float = 0, state: JobTracking | None = None, seed: int = 0
) -> Plan:
    return plan(job, pods, at(seconds), state, rng=random.Random(seed))


def created_indexes(result: Plan) -> list[int | None]:
    return [
        int(i)
        if (i := p["metadata"].get("annotations", {}).get(keys.COMPLETION_INDEX)) is not None
        else None
        for p in result.create
    ]


def deleted(result: Plan) -> list[str]:
    return [d.name for d in result.delete]


def released(result: Plan) -> list[str]:
    return [r.name for r in result.remove_finalizers]


def condition_of(status: dict, kind: str) -> dict | None:
    return next((c for c in status.get("conditions", []) if c["type"] == kind), None)


def reasons(result: Plan) -> list[str]:
    return [e.reason for e in result.events]


class Cluster:
    """A store holding one Job and its pods, a clock, and a controller that applies Plans.

    ``steps(plan)`` splits a Plan into the single writes the real shell makes, in its order, so
    that a test can stop after any of them. ``folded``: plan as the controller does
    (``plan_folded``); a folded Plan's status write and finalizer removals are one step, as
    they are one transaction in the store.
    """

    def __init__(self, job: dict, seed: int = 0, folded: bool = False) -> None:
        self.folded = folded
        self.job = copy.deepcopy(job)
        self.pods: dict[str, dict] = {}
        self.now = T0
        self.rng = random.Random(seed)
        self.tracking: JobTracking | None = None
        self.events: list = []
        self._uids = iter(range(1, 10**9))
        self.on_write = lambda: None  # called after every write to the store

    # -- the controller ------------------------------------------------------------------
    def plan(self) -> Plan:
        planner = plan_folded if self.folded else plan
        return planner(self.job, list(self.pods.values()), self.now, self.tracking, rng=self.rng)

    def sync(self) -> Plan:
        result = self.plan()
        for step in self.steps(result):
            step()
        return result

    def steps(self, result: Plan) -> list:
        steps = []
        for deletion in result.delete:
            if deletion.release_finalizer:
                steps.append(lambda d=deletion: self.release(d.name))
            steps.append(lambda d=deletion: self.delete(d.name))
        if result.counts_released:
            steps.append(lambda: self._write_status_and_release(result))
        else:
            if result.write_status:
                steps.append(lambda: self._write_status(result))
            steps.extend(lambda r=ref: self.release(r.name) for ref in result.remove_finalizers)
        steps.extend(lambda p=pod: self.create(p) for pod in result.create)
        steps.append(lambda: self.events.extend(result.events))
        return steps

    def _write_status(self, result: Plan) -> None:
        self.job["status"] = copy.deepcopy(result.status)
        self.tracking = result.tracking
        self.on_write()

    def _write_status_and_release(self, result: Plan) -> None:
        """One transaction: the ledger looks only once all of it is written."""
        on_write, self.on_write = self.on_write, lambda: None
        try:
            self._write_status(result)
            for ref in result.remove_finalizers:
                self.release(ref.name)
        finally:
            self.on_write = on_write
        self.on_write()

    # -- the store -----------------------------------------------------------------------
    def create(self, pod: dict) -> dict:
        pod = copy.deepcopy(pod)
        pod["metadata"]["uid"] = f"uid-{next(self._uids)}"
        pod["metadata"]["creationTimestamp"] = rfc3339(self.now)
        self.pods[pod["metadata"]["name"]] = pod
        self.on_write()
        return pod

    def delete(self, name: str) -> None:
        pod = self.pods.get(name)
        if pod is None:
            return
        if pod["metadata"].get("finalizers"):
            pod["metadata"].setdefault("deletionTimestamp", rfc3339(self.now))
            pod["metadata"].setdefault("deletionGracePeriodSeconds", 0)
        else:
            del self.pods[name]
        self.on_write()

    def release(self, name: str) -> None:
        pod = self.pods.get(name)
        if pod is None:
            return
        pod["metadata"]["finalizers"] = [
            f for f in pod["metadata"].get("finalizers", []) if f != keys.TRACKING_FINALIZER
        ]
        self._collect(pod)
        self.on_write()

    def _collect(self, pod: dict) -> None:
        meta = pod["metadata"]
        if (
            meta.get("deletionTimestamp")
            and not meta.get("finalizers")
            and pod["status"].get("phase") in (keys.SUCCEEDED, keys.FAILED)
        ):
            self.pods.pop(meta["name"], None)

    # -- the kubelet -----------------------------------------------------------------------
    def run(self, name: str, ready: bool = True) -> None:
        pod = self.pods[name]
        pod["spec"]["nodeName"] = "node-1"
        pod["status"] = {
            "phase": keys.RUNNING,
            "conditions": [
                {
                    "type": keys.POD_READY,
                    "status": "True" if ready else "False",
                    "lastTransitionTime": rfc3339(self.now),
                }
            ],
            "containerStatuses": [{"name": "main", "restartCount": 0, "state": {"running": {}}}],
        }
        self.on_write()

    def finish(self, name: str, code: int = 0, conditions: list | None = None) -> None:
        pod = self.pods[name]
        pod["spec"].setdefault("nodeName", "node-1")
        pod["status"] = {
            "phase": keys.SUCCEEDED if code == 0 else keys.FAILED,
            "conditions": [
                {
                    "type": keys.POD_READY,
                    "status": "False",
                    "lastTransitionTime": rfc3339(self.now),
                },
                *(conditions or []),
            ],
            "containerStatuses": [
                {
                    "name": "main",
                    "restartCount": 0,
                    "state": {"terminated": {"exitCode": code, "finishedAt": rfc3339(self.now)}},
                }
            ],
        }
        self._collect(pod)
        self.on_write()

    def advance(self, seconds: float) -> None:
        self.now += timedelta(seconds=seconds)

    # -- views ---------------------------------------------------------------------------
    def names(self, phase: str | None = None) -> list[str]:
        return sorted(
            n for n, p in self.pods.items() if phase is None or p["status"].get("phase") == phase
        )

    def active(self) -> list[str]:
        return sorted(
            n
            for n, p in self.pods.items()
            if p["status"].get("phase") not in (keys.SUCCEEDED, keys.FAILED)
            and not p["metadata"].get("deletionTimestamp")
        )

    def condition(self, kind: str) -> dict | None:
        return next(
            (c for c in self.job["status"].get("conditions", []) if c["type"] == kind), None
        )

    def settle(self, limit: int = 20) -> None:
        """Sync until a Plan asks for nothing more."""
        for _ in range(limit):
            result = self.sync()
            if not (
                result.write_status or result.create or result.delete or result.remove_finalizers
            ):
                return
        raise AssertionError("the controller never settled")
