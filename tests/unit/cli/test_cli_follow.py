"""``berth run`` following a Job, over a fake API: logs with prefixes, verdicts, exit codes."""

from __future__ import annotations

import queue
import threading

from berth.cli.apiclient import ApiError
from berth.cli.follow import JobFollower
from berth.cli.logstream import LogFollower, LogRequest, pod_order
from berth.cli.render import Output


class FakeApi:
    """Lists answer the current state; watches replay what ``push`` put on them."""

    def __init__(self, job: dict):
        self.job = job
        self.pods: dict[str, dict] = {}
        self.logs: dict[str, list[str]] = {}
        self.watches = {"jobs": queue.Queue(), "pods": queue.Queue()}
        self.lock = threading.Lock()

    def push(self, kind: str, event: str, obj: dict) -> None:
        with self.lock:
            if kind == "jobs":
                self.job = obj
            elif event == "DELETED":
                self.pods.pop(obj["metadata"]["name"], None)
            else:
                self.pods[obj["metadata"]["name"]] = obj
        self.watches[kind].put({"type": event, "object": obj})

    def get_json(self, path, params=None):
        with self.lock:
            items = [self.job] if path.endswith("/jobs") else list(self.pods.values())
        return {"metadata": {"resourceVersion": "1"}, "items": items}

    def watch(self, path, params=None):
        events = self.watches[path.rsplit("/", 1)[-1]]
        while True:
            try:
                yield events.get(timeout=0.05)
            except queue.Empty:
                return

    def stream_lines(self, path, params=None):
        yield from self.logs.get(path.split("/")[-2], [])


def a_job(**spec) -> dict:
    return {
        "apiVersion": "batch/v1",
        "kind": "Job",
        "metadata": {"name": "j", "namespace": "d", "resourceVersion": "1"},
        "spec": {"selector": {"matchLabels": {"controller-uid": "u"}}, **spec},
        "status": {},
    }


def with_status(job: dict, **status) -> dict:
    return {**job, "status": status}


def a_pod(name: str, phase: str, exit_code: int | None = None) -> dict:
    status = {"phase": phase}
    if exit_code is not None:
        status["containerStatuses"] = [
            {
                "name": "main",
                "state": {
                    "terminated": {
                        "exitCode": exit_code,
                        "reason": "Error" if exit_code else "Completed",
                    }
                },
            }
        ]
    return {"metadata": {"name": name, "namespace": "d", "resourceVersion": "2"}, "status": status}


def follow_in_thread(api: FakeApi, job: dict) -> tuple[threading.Thread, list[int]]:
    codes: list[int] = []
    thread = threading.Thread(
        target=lambda: codes.append(JobFollower(api, job, Output()).run()), daemon=True
    )
    thread.start()
    return thread, codes


def test_two_pods_stream_with_prefixes_and_the_job_completes(capsys):
    job = a_job(completions=2, parallelism=2)
    api = FakeApi(job)
    api.logs = {"j-a": ["hello", "from a"], "j-b": ["world"]}
    thread, codes = follow_in_thread(api, job)
    api.push("pods", "ADDED", a_pod("j-a", "Pending"))
    api.push("pods", "ADDED", a_pod("j-b", "Pending"))
    api.push("jobs", "MODIFIED", with_status(job, active=2))
    api.push("pods", "MODIFIED", a_pod("j-a", "Succeeded", 0))
    api.push("pods", "MODIFIED", a_pod("j-b", "Succeeded", 0))
    api.push(
        "jobs",
        "MODIFIED",
        with_status(job, succeeded=2, conditions=[{"type": "Complete", "status": "True"}]),
    )
    thread.join(20)
    assert codes == [0]
    out, err = capsys.readouterr()
    assert sorted(out.splitlines()) == ["[j-a] from a", "[j-a] hello", "[j-b] world"]
    assert out.index("[j-a] hello") < out.index("[j-a] from a")
    assert "running, 2 succeeded, 0 failed\n" in err
    assert err.rstrip().endswith("job.batch/j completed (2/2 succeeded)")


def test_a_failed_job_exits_1_with_its_reason_and_each_failed_pod(capsys):
    job = a_job(backoffLimit=0)
    api = FakeApi(job)
    api.logs = {"j-a": ["Traceback: boom"]}
    thread, codes = follow_in_thread(api, job)
    api.push("pods", "ADDED", a_pod("j-a", "Failed", 3))
    api.push(
        "jobs",
        "MODIFIED",
        with_status(
            job,
            failed=1,
            conditions=[
                {
                    "type": "Failed",
                    "status": "True",
                    "reason": "BackoffLimitExceeded",
                    "message": "Job has reached the specified backoff limit",
                }
            ],
        ),
    )
    thread.join(20)
    assert codes == [1]
    out, err = capsys.readouterr()
    assert out == "Traceback: boom\n"  # one pod: no prefix
    assert "pod/j-a failed: Error (exit code 3)" in err
    assert err.count("pod/j-a failed") == 1
    assert err.rstrip().endswith(
        "job.batch/j failed: BackoffLimitExceeded: Job has reached the specified backoff limit"
    )


def test_a_deleted_job_ends_the_follow(capsys):
    job = a_job()
    api = FakeApi(job)
    thread, codes = follow_in_thread(api, job)
    api.watches["jobs"].put({"type": "DELETED", "object": job})
    thread.join(20)
    assert codes == [1]
    assert "job.batch/j was deleted" in capsys.readouterr().err


class GrowingLog:
    """A followed log that ends early twice (the pod still running), then for good."""

    def __init__(self):
        self.calls = 0
        self.done = False

    def stream_lines(self, path, params=None):
        self.calls += 1
        if self.calls == 1:
            raise ApiError({"code": 400, "message": 'container "main" is waiting to start'})
        lines = {2: ["1"], 3: ["1", "2"]}.get(self.calls, ["1", "2", "3"])
        if self.calls >= 3:
            self.done = True
        yield from lines


def test_log_follower_retries_and_prints_each_line_once(monkeypatch):
    monkeypatch.setattr("berth.cli.logstream.START_RETRY_SECONDS", 0.01)
    source, printed, reports = GrowingLog(), [], []
    follower = LogFollower(
        source,
        LogRequest("d", "p", "main", follow=True),
        "[p] ",
        lambda prefix, line: printed.append(prefix + line),
        threading.Event(),
        reports.append,
        finished=lambda: source.done,
    )
    follower.run()
    assert printed == ["[p] 1", "[p] 2", "[p] 3"]
    assert source.calls == 4  # the last stream began after the pod was known to be done
    assert reports == []


def test_log_follower_reports_a_refusal_other_than_waiting():
    class Gone:
        def stream_lines(self, path, params=None):
            raise ApiError({"code": 404, "message": 'pods "p" not found'})
            yield  # pragma: no cover

    reports = []
    LogFollower(
        Gone(),
        LogRequest("d", "p", "main", follow=True),
        "",
        lambda *a: None,
        threading.Event(),
        reports.append,
    ).run()
    assert reports == ['logs of pod/p: pods "p" not found']


def test_pods_are_ordered_by_index_then_creation():
    def pod(name, created, index=None):
        meta = {"name": name, "creationTimestamp": created}
        if index is not None:
            meta["annotations"] = {"batch.kubernetes.io/job-completion-index": str(index)}
        return {"metadata": meta}

    pods = [
        pod("c", "2026-01-01T00:00:03Z", 10),
        pod("a", "2026-01-01T00:00:09Z", 2),
        pod("b", "2026-01-01T00:00:01Z", 2),
    ]
    assert [p["metadata"]["name"] for p in sorted(pods, key=pod_order)] == ["b", "a", "c"]
    plain = [pod("y", "2026-01-01T00:00:05Z"), pod("x", "2026-01-01T00:00:01Z")]
    assert [p["metadata"]["name"] for p in sorted(plain, key=pod_order)] == ["x", "y"]
