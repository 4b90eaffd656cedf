"""PodRunner end to end with real processes (no Ray): phases, restarts, stops, start errors."""

import os
import threading
import time

import pytest

from berth.workers.node import cgroups, logs
from berth.workers.node.nodecontext import NodeContext, StopRequest
from berth.workers.node.restarts import backoff_delay
from berth.workers.node.runner import PodRunner
from tests.support import require_bwrap

BWRAP = "bwrap"  # a mode: the node's bubblewrap (a missing one fails the test by name)
MODES = [pytest.param(None, id="plain"), pytest.param(BWRAP, id="bwrap")]


def node(tmp_path, bwrap=None, **kw):
    if bwrap == BWRAP:
        bwrap = require_bwrap()
    return NodeContext(
        node_name="n1",
        host_ip="127.0.0.1",
        log_root=tmp_path / "logs",
        pod_root=tmp_path / "pods",
        bwrap=bwrap,
        backoff_base=0.05,
        backoff_cap=0.2,
        poll=0.02,
        hierarchy=cgroups.detect(),
        **kw,
    )


def a_pod(*containers, policy="Never", init=(), volumes=(), uid="uid-1", **spec):
    return {
        "metadata": {"name": "p", "namespace": "ns", "uid": uid},
        "spec": {
            "restartPolicy": policy,
            "containers": list(containers),
            "initContainers": list(init),
            "volumes": list(volumes),
            **spec,
        },
    }


def sh(name, script, **extra):
    return {"name": name, "image": "alpine:3", "command": ["/bin/sh", "-c", script], **extra}


def run(pod, ctx, bundle=None, gpu_ids=(), **kw):
    reports = []
    runner = PodRunner(pod, bundle or {}, ctx, gpu_ids=list(gpu_ids), report=reports.append, **kw)
    final = runner.run()
    return final, reports, runner


def cstatus(status, name="c", init=False):
    key = "initContainerStatuses" if init else "containerStatuses"
    return next(s for s in status[key] if s["name"] == name)


def text_of(ctx, name="c", uid="uid-1", **kw):
    return logs.read_log(ctx.log_root, uid, name, **kw)


@pytest.mark.parametrize("bwrap", MODES)
def test_a_successful_pod_goes_pending_running_succeeded(tmp_path, bwrap):
    ctx = node(tmp_path, bwrap)
    final, reports, _ = run(a_pod(sh("c", "echo hello; echo oops >&2")), ctx)
    assert final["phase"] == "Succeeded"
    phases = [r["phase"] for r in reports]
    assert phases[0] == "Pending" and "Running" in phases and phases[-1] == "Succeeded"
    term = cstatus(final)["state"]["terminated"]
    assert (term["exitCode"], term["reason"]) == (0, "Completed")
    assert cstatus(final)["containerID"].startswith("berth://")
    assert text_of(ctx) == "hello\noops\n"
    assert final["startTime"] and final["podIP"] == "127.0.0.1"


@pytest.mark.parametrize("bwrap", MODES)
def test_a_failing_container_fails_the_pod_under_never(tmp_path, bwrap):
    final, _, _ = run(a_pod(sh("c", "exit 3")), node(tmp_path, bwrap))
    term = cstatus(final)["state"]["terminated"]
    assert final["phase"] == "Failed" and (term["exitCode"], term["reason"]) == (3, "Error")


@pytest.mark.parametrize("bwrap", MODES)
def test_a_missing_command_is_a_start_error_not_a_hang(tmp_path, bwrap):
    began = time.monotonic()
    final, _, _ = run(
        a_pod({"name": "c", "image": "x", "command": ["nosuchcmd", "-x"]}), node(tmp_path, bwrap)
    )
    term = cstatus(final)["state"]["terminated"]
    assert final["phase"] == "Failed" and term["reason"] == "StartError"
    assert term["exitCode"] == 128
    assert term["message"] == 'exec: "nosuchcmd": executable file not found in $PATH'
    assert time.monotonic() - began < 5


def test_no_command_at_all_is_a_start_error(tmp_path):
    final, _, _ = run(a_pod({"name": "c", "image": "busybox"}), node(tmp_path))
    assert cstatus(final)["state"]["terminated"]["message"] == "no command specified"


@pytest.mark.parametrize("bwrap", MODES)
def test_env_and_args_expand_and_no_gpu_is_visible(tmp_path, bwrap):
    container = {
        "name": "c",
        "image": "x",
        "command": ["/bin/sh", "-c"],
        "args": ['echo "$(GREETING) $NAME [$CUDA_VISIBLE_DEVICES] $NVIDIA_VISIBLE_DEVICES"'],
    }
    bundle = {"env": {"c": [["NAME", "world"], ["GREETING", "hi-$(NAME)"]]}}
    final, _, _ = run(a_pod(container), ctx := node(tmp_path, bwrap), bundle)
    assert final["phase"] == "Succeeded"
    assert text_of(ctx) == "hi-world world [] void\n"


def test_gpu_ids_reach_the_containers_that_asked(tmp_path):
    gpu = {"resources": {"limits": {"nvidia.com/gpu": "1"}}}
    pod = a_pod(
        sh("a", "echo $CUDA_VISIBLE_DEVICES", **gpu),
        sh("b", "echo $CUDA_VISIBLE_DEVICES", **gpu),
        sh("c", "echo x$CUDA_VISIBLE_DEVICES"),
    )
    _, _, _ = run(pod, ctx := node(tmp_path), gpu_ids=["2", "3"])
    assert (text_of(ctx, "a"), text_of(ctx, "b"), text_of(ctx, "c")) == ("2\n", "3\n", "x\n")


def test_init_containers_run_in_order_before_the_containers(tmp_path):
    marks = tmp_path / "marks"
    pod = a_pod(
        sh("c", f"cat {marks}"),
        init=[sh("i1", f"echo one >> {marks}"), sh("i2", f"echo two >> {marks}")],
    )
    final, reports, _ = run(pod, ctx := node(tmp_path))
    assert final["phase"] == "Succeeded"
    assert text_of(ctx) == "one\ntwo\n"
    assert [s["state"]["terminated"]["reason"] for s in final["initContainerStatuses"]] == [
        "Completed",
        "Completed",
    ]
    first = reports[0]
    assert cstatus(first)["state"]["waiting"]["reason"] == "PodInitializing"
    conds = {c["type"]: c["status"] for c in final["conditions"]}
    assert conds["Initialized"] == "True"


def test_a_failed_init_container_fails_the_pod_under_never(tmp_path):
    final, _, _ = run(a_pod(sh("c", "echo never"), init=[sh("i", "exit 2")]), ctx := node(tmp_path))
    assert final["phase"] == "Failed"
    assert cstatus(final, "i", init=True)["state"]["terminated"]["exitCode"] == 2
    assert cstatus(final)["state"]["waiting"]["reason"] == "PodInitializing"
    assert text_of(ctx) == ""


def test_a_failed_init_container_is_retried_under_onfailure(tmp_path):
    count = tmp_path / "count"
    init = sh("i", f"echo x >> {count}; test $(wc -l < {count}) -ge 2")
    final, _, _ = run(a_pod(sh("c", "true"), init=[init], policy="OnFailure"), node(tmp_path))
    assert final["phase"] == "Succeeded"
    assert cstatus(final, "i", init=True)["restartCount"] == 1


def test_onfailure_restarts_in_place_with_backoff_and_keeps_each_attempts_log(tmp_path):
    count = tmp_path / "count"
    script = f"echo x >> {count}; n=$(wc -l < {count}); echo run $n; test $n -ge 3"
    final, reports, _ = run(a_pod(sh("c", script), policy="OnFailure"), ctx := node(tmp_path))
    st = cstatus(final)
    assert final["phase"] == "Succeeded" and st["restartCount"] == 2
    assert st["lastState"]["terminated"]["exitCode"] == 1
    assert any(
        cstatus(r)["state"].get("waiting", {}).get("reason") == "CrashLoopBackOff" for r in reports
    )
    assert text_of(ctx) == "run 3\n"
    assert text_of(ctx, previous=True) == "run 2\n"
    assert logs.attempts(ctx.log_root, "uid-1", "c") == [0, 1, 2]


def test_always_restarts_even_after_success_until_stopped(tmp_path):
    ctx = node(tmp_path)
    reports = []
    # Exits 0 on its own and on SIGTERM, so the stop can land at any moment.
    script = "trap 'exit 0' TERM; echo ran; sleep 0.05"
    runner = PodRunner(
        a_pod(sh("c", script), policy="Always"), {}, ctx, gpu_ids=[], report=reports.append
    )
    thread = threading.Thread(target=runner.run)
    thread.start()
    deadline = time.monotonic() + 10
    while time.monotonic() < deadline and not any(cstatus(r)["restartCount"] >= 2 for r in reports):
        time.sleep(0.02)
    assert any(cstatus(r)["restartCount"] >= 2 for r in reports)  # runs that exited 0 restart
    assert any(r["phase"] == "Running" for r in reports)
    runner.stop(grace=1)
    thread.join(10)
    assert not thread.is_alive()
    # A stopped pod's phase follows its last run's exit: Succeeded when it exited 0 (the trap),
    # Failed when the stop landed before the shell had set its trap (a loaded machine).
    last = cstatus(reports[-1])["state"]["terminated"]
    assert reports[-1]["phase"] == ("Succeeded" if last["exitCode"] == 0 else "Failed")
    # ... and the restarts came after runs that succeeded.
    assert any(
        cstatus(r)["restartCount"] >= 1
        and cstatus(r).get("lastState", {}).get("terminated", {}).get("exitCode") == 0
        for r in reports
    )


@pytest.mark.parametrize("bwrap", MODES)
def test_stop_terminates_with_grace_and_leaves_no_orphan(tmp_path, bwrap):
    ctx = node(tmp_path, bwrap)
    script = f"trap '' TERM; (trap '' TERM; sleep {_SLEEP_ARG}) & echo $! ; wait"
    stop = {}
    runner = PodRunner(
        a_pod(sh("c", script), terminationGracePeriodSeconds=0.3),
        {},
        ctx,
        gpu_ids=[],
        report=lambda st: None,
        stop_check=lambda: stop.get("req"),
    )
    thread = threading.Thread(target=lambda: stop.setdefault("final", runner.run()))
    thread.start()
    deadline = time.monotonic() + 5
    while time.monotonic() < deadline and not text_of(ctx).strip():
        time.sleep(0.02)
    while time.monotonic() < deadline and not _sleep_pids():
        time.sleep(0.02)
    before = {int(p) for p in _sleep_pids()}
    assert before  # the orphan-to-be runs: the check below can fail
    stop["req"] = StopRequest()
    thread.join(10)
    final = stop["final"]
    term = cstatus(final)["state"]["terminated"]
    assert final["phase"] == "Failed" and term["exitCode"] == 137
    time.sleep(0.1)
    assert not (before & {int(p) for p in _sleep_pids()})


# The orphan's sleep is told apart from every other process by an argument of its own: a
# plain "sleep 300" of someone else's on the machine was taken for a leftover orphan.
_SLEEP_ARG = f"300.{os.getpid()}"


def _sleep_pids():
    out = []
    for entry in os.listdir("/proc"):
        if entry.isdigit():
            try:
                cmd = open(f"/proc/{entry}/cmdline", "rb").read()
                state = open(f"/proc/{entry}/stat").read().rsplit(")", 1)[1].split()[0]
            except OSError:
                continue
            if cmd == f"sleep\x00{_SLEEP_ARG}\x00".encode() and state != "Z":
                out.append(entry)
    return out


def test_active_deadline_fails_the_pod(tmp_path):
    pod = a_pod(sh("c", "sleep 30"), activeDeadlineSeconds=0.3, terminationGracePeriodSeconds=1)
    final, _, _ = run(pod, node(tmp_path))
    assert final["phase"] == "Failed" and final["reason"] == "DeadlineExceeded"
    assert cstatus(final)["state"]["terminated"]["exitCode"] == 143


def test_stop_before_anything_ran_marks_containers_unknown(tmp_path):
    pod = a_pod(sh("c", "true"), init=[sh("i", "sleep 30")], terminationGracePeriodSeconds=1)
    final, _, _ = run(pod, node(tmp_path), stop_check=lambda: StopRequest(grace=0))
    term = cstatus(final)["state"]["terminated"]
    assert (term["exitCode"], term["reason"]) == (137, "ContainerStatusUnknown")
    assert final["phase"] == "Failed"


def test_sandbox_shows_volumes_hostname_and_hides_the_host(tmp_path):
    pvc = tmp_path / "pvc"
    pvc.mkdir()
    (pvc / "in.txt").write_text("from pvc\n")
    volumes = [
        {"name": "cfg", "configMap": {"name": "x"}},
        {"name": "sec", "secret": {}},
        {"name": "data", "persistentVolumeClaim": {"claimName": "c"}},
        {"name": "scratch", "emptyDir": {}},
    ]
    bundle = {
        "volumes": {
            "cfg": {"files": {"city": {"data": "Paris", "mode": 0o644}}},
            "sec": {"files": {"password": {"data": b"s3cret", "mode": 0o400}}},
            "data": {"hostPath": str(pvc)},
        }
    }
    script = (
        "hostname; cat /etc/app/city; echo; cat /mysecret/password; echo; "
        "cat /data/in.txt; echo out > /data/out.txt; echo shared > /scratch/s; "
        "touch /usr/x 2>/dev/null || echo ro-root; ls "
        "/root | wc -l; echo done > /dev/termination-log"
    )
    container = sh(
        "c",
        script,
        volumeMounts=[
            {"name": "cfg", "mountPath": "/etc/app"},
            {"name": "sec", "mountPath": "/mysecret"},
            {"name": "data", "mountPath": "/data"},
            {"name": "scratch", "mountPath": "/scratch"},
        ],
    )
    ctx = node(tmp_path, BWRAP, hide=[str(tmp_path)])  # sources stay bindable when hidden
    final, _, _ = run(a_pod(container, volumes=volumes, hostname="job-2"), ctx, bundle)
    assert final["phase"] == "Succeeded", text_of(ctx)
    assert text_of(ctx) == "job-2\nParis\ns3cret\nfrom pvc\nro-root\n0\n"
    assert (pvc / "out.txt").read_text() == "out\n"
    assert (ctx.pod_root / "uid-1" / "volumes" / "scratch" / "s").read_text() == "shared\n"
    assert cstatus(final)["state"]["terminated"]["message"] == "done\n"


def test_a_script_inside_a_configmap_volume_is_found(tmp_path):
    volumes = [{"name": "s", "configMap": {"name": "x", "defaultMode": 0o755}}]
    bundle = {
        "volumes": {"s": {"files": {"run.sh": {"data": "#!/bin/sh\necho ran\n", "mode": 0o755}}}}
    }
    container = {
        "name": "c",
        "image": "x",
        "command": ["/scripts/run.sh"],
        "volumeMounts": [{"name": "s", "mountPath": "/scripts"}],
    }
    final, _, _ = run(a_pod(container, volumes=volumes), ctx := node(tmp_path, BWRAP), bundle)
    assert final["phase"] == "Succeeded" and text_of(ctx) == "ran\n"


def test_fallback_to_logs_on_error_uses_the_last_lines(tmp_path):
    container = sh(
        "c",
        "for i in $(seq 1 100); do echo line $i; done; exit 1",
        terminationMessagePolicy="FallbackToLogsOnError",
    )
    final, _, _ = run(a_pod(container), node(tmp_path))
    message = cstatus(final)["state"]["terminated"]["message"]
    assert message.startswith("line 21\n") and message.endswith("line 100\n")


def test_a_volume_without_content_is_a_start_error(tmp_path):
    container = sh("c", "true", volumeMounts=[{"name": "cfg", "mountPath": "/etc/app"}])
    final, _, _ = run(
        a_pod(container, volumes=[{"name": "cfg", "configMap": {"name": "x"}}]),
        node(tmp_path, BWRAP),
    )
    term = cstatus(final)["state"]["terminated"]
    assert term["reason"] == "StartError" and 'volume "cfg"' in term["message"]


def test_memory_limit_overrun_is_oomkilled(tmp_path):
    ctx = node(tmp_path)
    if ctx.hierarchy.version == 0:
        pytest.skip("no cgroups here")
    container = sh(
        "c", "python3 -c 'x = bytearray(256 << 20)'", resources={"limits": {"memory": "32Mi"}}
    )
    final, _, _ = run(a_pod(container), ctx)
    term = cstatus(final)["state"]["terminated"]
    if term["reason"] != "OOMKilled" and term["exitCode"] == 1:
        pytest.skip("memory limit fell back to RLIMIT_AS (MemoryError, not a kill)")
    assert (term["exitCode"], term["reason"]) == (137, "OOMKilled")


@pytest.mark.parametrize(
    "failures, delay", [(0, 10), (1, 10), (2, 20), (3, 40), (6, 300), (9, 300), (5000, 300)]
)
def test_backoff_doubles_to_a_cap(failures, delay):
    # Floats, as settings give them: a long crash loop once overflowed the doubling.
    assert backoff_delay(failures, 10.0, 300.0) == delay
