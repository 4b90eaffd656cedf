"""Pod Events read off status changes: each said once, for the change that shows it."""

from berth.workers.control.podevents import events_for


def status(phase="Running", reason=None, message=None, terminated=None):
    state = (
        {"terminated": terminated}
        if terminated
        else {"waiting": {"reason": "ContainerCreating"}}
        if phase == "Pending"
        else {"running": {}}
    )
    out = {"phase": phase, "containerStatuses": [{"name": "c", "state": state}]}
    if reason:
        out["reason"], out["message"] = reason, message
    return out


def test_a_sandbox_refusal_is_one_failed_create_pod_sandbox_warning():
    term = {"exitCode": 128, "reason": "StartError", "message": "needs bwrap"}
    after = status("Failed", "SandboxUnavailable", "needs bwrap", term)
    assert events_for(status("Pending"), after) == [
        ("Warning", "FailedCreatePodSandBox", "needs bwrap")
    ]
    assert events_for(after, after) == []


def test_a_start_error_is_a_failed_warning_once():
    term = {
        "exitCode": 128,
        "reason": "StartError",
        "message": "no command specified",
        "finishedAt": "t1",
    }
    after = status("Failed", terminated=term)
    assert events_for(status("Pending"), after) == [
        ("Warning", "Failed", "Error: no command specified")
    ]
    assert events_for(after, after) == []


def test_an_eviction_is_a_warning():
    after = status("Failed", "Evicted", 'Usage of EmptyDir volume "x" exceeds the limit "1Mi".')
    assert (
        "Warning",
        "Evicted",
        'Usage of EmptyDir volume "x" exceeds the limit "1Mi".',
    ) in events_for(status(), after)


def test_running_unsandboxed_is_a_warning_when_it_starts():
    [(kind, reason, message)] = events_for(status("Pending"), status(), sandboxed=False, node="n1")
    assert (kind, reason) == ("Warning", "Unsandboxed")
    assert "n1" in message and "apt-get install -y bubblewrap" in message
    assert events_for(status(), status(), sandboxed=False, node="n1") == []
    assert events_for(status("Pending"), status(), sandboxed=True) == []


def test_a_pod_that_ran_and_ended_between_two_reports_is_warned_about_too():
    done = status("Succeeded", terminated={"exitCode": 0, "reason": "Completed"})
    [(_, reason, _)] = events_for(status("Pending"), done, sandboxed=False)
    assert reason == "Unsandboxed"


def waiting(*messages):
    return {
        "phase": "Pending",
        "containerStatuses": [
            {"name": f"c{i}", "state": {"waiting": {"reason": "ContainerCreating", "message": m}}}
            for i, m in enumerate(messages)
        ],
    }


def test_a_volume_that_cannot_be_set_up_is_one_failed_mount_warning():
    nfs = (
        'MountVolume.SetUp failed for volume "nfsserver" (claim "c") : nfs 10.0.0.1:/x: '
        "this node has no NFS client"
    )
    assert events_for(status("Pending"), waiting(nfs, nfs)) == [("Warning", "FailedMount", nfs)]
    assert events_for(waiting(nfs, nfs), waiting(nfs, nfs)) == []
    unbound = 'MountVolume.SetUp failed for volume "d" : persistentvolumeclaim "c" is not bound'
    assert events_for(waiting(unbound), waiting(nfs)) == [("Warning", "FailedMount", nfs)]
    assert events_for(status("Pending"), waiting("other reason")) == []
