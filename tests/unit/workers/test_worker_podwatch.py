"""PodWatch: one thread makes the periodic checks of every pod the agent runs itself."""

import dataclasses
import threading
import time

from berth.workers.node.nodecontext import StopRequest
from berth.workers.node.podwatch import PodWatch
from berth.workers.node.runner import PodRunner
from tests.unit.workers.test_worker_runner import a_pod, cstatus, node, sh


class Counting:
    def __init__(self, fail=False):
        self.checks, self.fail = 0, fail

    def check(self):
        self.checks += 1
        if self.fail:
            raise RuntimeError("broken check")


def test_every_watched_runner_is_checked_and_one_failure_stops_none():
    watch = PodWatch(0.01)
    good, bad = Counting(), Counting(fail=True)
    watch.add(bad)
    watch.add(good)
    deadline = time.monotonic() + 5
    while good.checks < 3 and time.monotonic() < deadline:
        time.sleep(0.01)
    watch.remove(bad)
    assert good.checks >= 3 and bad.checks >= 3
    watch.remove(good)
    time.sleep(0.05)
    seen = good.checks
    time.sleep(0.1)
    assert good.checks == seen  # removed: no longer checked


def unpolled(tmp_path):
    """A node whose runners' own checks would come only after a minute."""
    return dataclasses.replace(node(tmp_path), poll=60)


def run_watched(pod, ctx, **kw):
    runner = PodRunner(pod, {}, ctx, gpu_ids=[], report=lambda st: None, watch=PodWatch(0.02), **kw)
    return runner.run()


def test_a_watched_pods_deadline_fails_it(tmp_path):
    pod = a_pod(sh("c", "sleep 30"), activeDeadlineSeconds=0.3, terminationGracePeriodSeconds=1)
    started = time.monotonic()
    final = run_watched(pod, unpolled(tmp_path))  # its own poll would never come
    assert time.monotonic() - started < 10
    assert final["phase"] == "Failed" and final["reason"] == "DeadlineExceeded"
    assert cstatus(final)["state"]["terminated"]["exitCode"] == 143


def test_a_watched_pod_stops_when_asked(tmp_path):
    stop = {}
    pod = a_pod(sh("c", "echo up; sleep 30"), terminationGracePeriodSeconds=0.3)
    timer = threading.Timer(0.3, lambda: stop.setdefault("req", StopRequest()))
    timer.start()
    final = run_watched(pod, unpolled(tmp_path), stop_check=lambda: stop.get("req"))
    timer.join()
    assert final["phase"] == "Failed"
    assert cstatus(final)["state"]["terminated"]["exitCode"] in (137, 143)
