"""The control plane killed (SIGKILL) and restarted while Jobs' pods run: the pods live on in
the embedded Ray (started in its own session), the new ``berth up`` on the same data directory
and port finds them — those still running and those that ended while no control plane was
there — and the Jobs complete with each pod counted exactly once.

Afterwards a clean stop (SIGINT, ``ray_keep_running`` off) stops that Ray, and no process of
it is left on the machine.
"""

from __future__ import annotations

import json
import os
import secrets
import signal
import time

import pytest

from berth.workers.control import local_ray
from tests.e2e.conftest import RAY_DIR, free_port, start_berth, stop_berth
from tests.e2e.jobs_support import (
    apply,
    get_job,
    job,
    live_processes_mentioning,
    new_namespace,
    pods_of,
    wait_for,
    wait_job,
)

pytestmark = pytest.mark.e2e

PODS = 3


def ray_session(data_dir) -> int:
    """The session of the embedded Ray head, as berth up recorded it."""
    return json.loads((data_dir / RAY_DIR / local_ray.STATE_FILE).read_text())["sid"]


def gated(name: str) -> str:
    """A wait that ends once the test creates ``/gate/name``, run by a shell of its own whose
    command line starts with ``WAITER`` and ends with ``name``: a pod's wait, told apart
    from the sandbox and the pod's shell around it (whose command lines mention it too)."""
    return f"{WAITER}'until [ -e /gate/{name} ]; do sleep 0.1; done' {name}"


WAITER = "sh -c "


def waiting(name: str) -> list[str]:
    """The live waits of ``gated(name)``, one per pod that is waiting."""
    return [
        c
        for c in live_processes_mentioning(name)
        if c.split(": ", 1)[1].startswith(WAITER + "until")
    ]


def counted_job(name: str, wait: str, **extra) -> dict:
    """PODS pods at once, each logging its uid before and after its ``wait`` command."""
    return job(
        name,
        f"echo $POD_UID started; {wait}; echo $POD_UID done",
        completions=PODS,
        parallelism=PODS,
        backoffLimit=0,
        env=[{"name": "POD_UID", "valueFrom": {"fieldRef": {"fieldPath": "metadata.uid"}}}],
        **extra,
    )


def running_uids(server, ns: str, name: str) -> set[str]:
    def check():
        running = [p for p in pods_of(server, ns, name) if p["status"].get("phase") == "Running"]
        return running if len(running) == PODS else None

    return {
        p["metadata"]["uid"]
        for p in wait_for(check, timeout=90, what=f"every pod of {name} running")
    }


def assert_counted_once(server, ns: str, name: str, uids: set[str]) -> None:
    status = get_job(server, ns, name)["status"]
    assert status["succeeded"] == PODS and "failed" not in status, status
    assert status.get("uncountedTerminatedPods") in (None, {})
    pods = pods_of(server, ns, name)
    assert {p["metadata"]["uid"] for p in pods} == uids  # the same pods, none added
    for pod in pods:
        uid = pod["metadata"]["uid"]
        assert pod["status"]["phase"] == "Succeeded"
        assert pod["status"]["containerStatuses"][0]["restartCount"] == 0
        assert (
            server.kubectl("-n", ns, "logs", pod["metadata"]["name"]).stdout
            == f"{uid} started\n{uid} done\n"
        )  # ran to its end, never restarted
        assert "batch.kubernetes.io/job-tracking" not in (pod["metadata"].get("finalizers") or [])


def test_pods_outlive_a_killed_control_plane_and_are_counted_once(tmp_path):
    port = free_port()
    first = start_berth(tmp_path, None, workers=True, port=port)
    second = None
    ray_temp = first.data_dir / RAY_DIR
    # Ray's own paths mention its temp dir or the short link to it (made while it runs).
    ray_paths = {str(ray_temp), str(local_ray.short_path(ray_temp))}
    try:
        ns = new_namespace(first)
        # "steady" pods still run when the new control plane comes (until the test opens
        # their gate, then); "brief" ones end while there is none (once the test opens their
        # gate), and only their agent knows it. Gates, not timed sleeps: under load a timed
        # pod could end before the new control plane is up.
        gate = tmp_path / "gate"
        gate.mkdir()
        token = secrets.token_hex(4)
        steady, brief = f"steady-{token}", f"brief-{token}"
        gated_job = {
            "mounts": [{"name": "gate", "mountPath": "/gate"}],
            "pod": {"volumes": [{"name": "gate", "hostPath": {"path": str(gate)}}]},
        }
        apply(
            first,
            ns,
            counted_job("steady", gated(steady), **gated_job),
            counted_job("brief", gated(brief), **gated_job),
        )
        uids = {
            "steady": running_uids(first, ns, "steady"),
            "brief": running_uids(first, ns, "brief"),
        }
        for name in (steady, brief):
            wait_for(
                lambda name=name: len(waiting(name)) == PODS, timeout=30, what=f"{name}'s processes"
            )
        session = ray_session(first.data_dir)

        # 1. Kill the control plane outright: no clean-up of any kind runs.
        os.killpg(first.process.pid, signal.SIGKILL)
        first.process.wait(timeout=10)
        assert local_ray.session_members(session), "the embedded Ray died with berth up"
        assert len(waiting(steady)) == PODS, "the pods died with berth up"
        (gate / brief).touch()
        wait_for(
            lambda: not live_processes_mentioning(brief), timeout=30, what="the brief pods to end"
        )

        # 2. A new control plane on the same data directory and port.
        second = start_berth(tmp_path, None, workers=True, port=port)
        assert ray_session(second.data_dir) == session  # it found that Ray, started none
        assert len(waiting(steady)) == PODS  # the new control plane takes over running pods
        (gate / steady).touch()
        for name in uids:
            wait_job(second, ns, name, timeout=120)
        time.sleep(2)  # a pod counted twice would show by now
        for name, known in uids.items():
            assert_counted_once(second, ns, name, known)

        # 3. A clean stop stops the embedded Ray, and every process of it.
        stop_berth(second.process, signal.SIGINT)
        assert second.process.returncode == 0, second.log()[-3000:]
        assert not local_ray.session_members(session)
        for where in ray_paths:
            assert not live_processes_mentioning(where), where
        assert not live_processes_mentioning(steady)
    finally:
        for server in (first, second):
            if server is not None:
                stop_berth(server.process, signal.SIGINT)
        local_ray.stop_local_ray(ray_temp)
