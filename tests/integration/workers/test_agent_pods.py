"""The node agent on a real Ray: running pods, statuses, logs, stops, configuration waits."""

from typing import cast

import pytest
import ray
from ray._private import state as ray_state

from berth.platform.errors import BadRequest, NotFound

pytestmark = pytest.mark.integration


@pytest.fixture
def head(ray_env):
    return ray_env.agents[ray_env.head_id]


def phase_is(pod_status, agent, uid, *phases):
    def check():
        st = pod_status(agent, uid)
        return st if st and st["phase"] in phases else None

    return check


def test_a_pod_runs_to_success_and_its_log_is_served(head, make_pod, pod_status, wait_for):
    pod = make_pod("hello", "echo hello from $HOSTNAME; echo err >&2")
    ray.get(head.sync.remote([{"pod": pod, "bundle": {}}]))
    st = wait_for(phase_is(pod_status, head, pod["metadata"]["uid"], "Succeeded"))
    term = st["containerStatuses"][0]["state"]["terminated"]
    assert (term["exitCode"], term["reason"]) == (0, "Completed")
    uid = pod["metadata"]["uid"]
    assert ray.get(head.read_log.remote(uid, "c")) == "hello from hello\nerr\n"
    assert ray.get(head.read_log.remote(uid)) == "hello from hello\nerr\n"
    stamped = cast(str, ray.get(head.read_log.remote(uid, "c", timestamps=True, tail_lines=1)))
    assert stamped.endswith("Z err\n") and len(stamped.split(" ")[0]) == 30
    text, offset, finished = ray.get(head.read_log_from.remote(uid, "c"))
    assert (text, finished) == ("hello from hello\nerr\n", True)
    ray.get(head.sync.remote([]))


def test_statuses_are_changes_since_a_cursor(head, make_pod, pod_status, wait_for):
    cursor, _ = ray.get(head.statuses.remote(0))
    pod = make_pod("cursor", "true")
    ray.get(head.sync.remote([{"pod": pod}]))
    wait_for(phase_is(pod_status, head, pod["metadata"]["uid"], "Succeeded"))
    cursor2, updates = ray.get(head.statuses.remote(cursor))
    assert cursor2 > cursor
    assert [u["uid"] for u in updates] == [pod["metadata"]["uid"]]
    assert updates[0]["namespace"] == "default" and updates[0]["name"] == "cursor"
    assert ray.get(head.statuses.remote(cursor2))[1] == []
    ray.get(head.sync.remote([]))


def test_sync_is_idempotent_and_terminal_pods_stay_finished(head, make_pod, pod_status, wait_for):
    pod = make_pod("once", "echo ran")
    item = {"pod": pod}
    for _ in range(3):
        ray.get(head.sync.remote([item]))
    uid = pod["metadata"]["uid"]
    wait_for(phase_is(pod_status, head, uid, "Succeeded"))
    ray.get(head.sync.remote([item]))
    assert pod_status(head, uid)["phase"] == "Succeeded"
    assert ray.get(head.read_log.remote(uid, "c")) == "ran\n"
    assert pod_status(head, uid)["containerStatuses"][0]["restartCount"] == 0
    ray.get(head.sync.remote([]))


def test_a_slim_finished_entry_keeps_the_record_and_never_starts_a_pod(
    head, make_pod, pod_status, wait_for
):
    pod = make_pod("slim", "echo ran")
    uid = pod["metadata"]["uid"]
    ray.get(head.sync.remote([{"pod": pod}]))
    wait_for(phase_is(pod_status, head, uid, "Succeeded"))
    stranger = make_pod("stranger", "echo must-not-run")
    ray.get(head.sync.remote([{"finished": uid}, {"finished": stranger["metadata"]["uid"]}]))
    assert pod_status(head, uid)["phase"] == "Succeeded"
    assert ray.get(head.read_log.remote(uid, "c")) == "ran\n"  # kept, not forgotten
    assert pod_status(head, stranger["metadata"]["uid"]) is None  # never admitted
    ray.get(head.sync.remote([]))


def test_a_pod_no_longer_desired_is_stopped_and_forgotten(head, make_pod, pod_status, wait_for):
    pod = make_pod("long", "echo started; sleep 300")
    uid = pod["metadata"]["uid"]
    ray.get(head.sync.remote([{"pod": pod}]))
    wait_for(lambda: ray.get(head.read_log.remote(uid, "c")) == "started\n")
    assert pod_status(head, uid)["phase"] == "Running"
    ray.get(head.sync.remote([]))
    wait_for(lambda: pod_status(head, uid) is None, timeout=15)
    with pytest.raises(NotFound, match="not found"):
        ray.get(head.read_log.remote(uid, "c"))


def test_an_update_touches_only_the_pods_it_names(head, make_pod, pod_status, wait_for):
    kept = make_pod("kept", "echo kept; sleep 300")
    done = make_pod("done", "true")
    kept_uid, done_uid = kept["metadata"]["uid"], done["metadata"]["uid"]
    ray.get(head.update.remote([{"pod": kept}], []))
    ray.get(head.update.remote([{"pod": done}], []))  # kept is not listed: it keeps running
    wait_for(phase_is(pod_status, head, done_uid, "Succeeded"))
    wait_for(lambda: ray.get(head.read_log.remote(kept_uid, "c")) == "kept\n")
    assert pod_status(head, kept_uid)["phase"] == "Running"
    cursor, _ = ray.get(head.statuses.remote(0))
    ray.get(head.update.remote([], [done_uid]))  # gone from the store: forgotten
    wait_for(lambda: pod_status(head, done_uid) is None)
    assert pod_status(head, kept_uid)["phase"] == "Running"
    assert ray.get(head.statuses.remote(cursor))[1] == []  # forgetting is no status change
    ray.get(head.update.remote([], [kept_uid, "no-such-uid"]))
    wait_for(lambda: pod_status(head, kept_uid) is None, timeout=15)
    ray.get(head.sync.remote([]))


def test_a_deleted_pod_is_stopped_with_its_grace_period(head, make_pod, pod_status, wait_for):
    pod = make_pod("deleted", "trap 'echo term; exit 0' TERM; echo up; sleep 300 & wait")
    uid = pod["metadata"]["uid"]
    ray.get(head.sync.remote([{"pod": pod}]))
    wait_for(lambda: ray.get(head.read_log.remote(uid, "c")) == "up\n")
    pod["metadata"]["deletionTimestamp"] = "2026-01-01T00:00:00Z"
    pod["metadata"]["deletionGracePeriodSeconds"] = 5
    ray.get(head.sync.remote([{"pod": pod}]))
    st = wait_for(phase_is(pod_status, head, uid, "Succeeded", "Failed"), timeout=15)
    assert st["containerStatuses"][0]["state"]["terminated"]["exitCode"] == 0
    assert ray.get(head.read_log.remote(uid, "c")) == "up\nterm\n"
    ray.get(head.sync.remote([]))


def test_a_pod_waits_for_its_configuration_then_runs(head, make_pod, pod_status, wait_for):
    pod = make_pod("cfg", "echo $COLOR")
    uid = pod["metadata"]["uid"]
    waiting = {"reason": "CreateContainerConfigError", "message": 'configmap "colors" not found'}
    ray.get(head.sync.remote([{"pod": pod, "bundle": {"waiting": waiting}}]))
    st = pod_status(head, uid)
    assert st["phase"] == "Pending"
    assert st["containerStatuses"][0]["state"]["waiting"] == waiting
    ray.get(head.sync.remote([{"pod": pod, "bundle": {"env": {"c": [["COLOR", "blue"]]}}}]))
    wait_for(phase_is(pod_status, head, uid, "Succeeded"))
    assert ray.get(head.read_log.remote(uid, "c")) == "blue\n"
    ray.get(head.sync.remote([]))


def test_the_pod_task_holds_exactly_the_pods_requests(ray_env, make_pod, pod_status, wait_for):
    agent = ray_env.agents[ray_env.b_id]
    res = {"requests": {"cpu": "1500m", "memory": "64Mi"}, "limits": {"ray.io/widget": "1"}}
    pod = make_pod("sized", make_pod.sh("echo up; sleep 300", resources=res))
    uid = pod["metadata"]["uid"]
    ray.get(agent.sync.remote([{"pod": pod}]))
    wait_for(lambda: ray.get(agent.read_log.remote(uid, "c")) == "up\n")

    def node_available():
        return ray_state.available_resources_per_node().get(ray_env.b_id, {})

    free = wait_for(lambda: (lambda r: r if r.get("CPU", 0) == 0.5 else None)(node_available()))
    assert free["widget"] == 1.0
    ray.get(agent.sync.remote([]))
    wait_for(lambda: node_available().get("CPU") == 2.0, timeout=15)


def test_a_restarting_container_is_followed_attempt_by_attempt(
    head, make_pod, pod_status, wait_for
):
    pod = make_pod("crash", "echo attempt; exit 1", policy="OnFailure")
    uid = pod["metadata"]["uid"]
    ray.get(head.sync.remote([{"pod": pod}]))
    st = wait_for(
        lambda: (lambda s: s if s and s["containerStatuses"][0]["restartCount"] >= 2 else None)(
            pod_status(head, uid)
        )
    )
    assert st["phase"] == "Running"
    assert ray.get(head.read_log.remote(uid, "c", previous=True)) == "attempt\n"
    ray.get(head.sync.remote([]))
    wait_for(lambda: pod_status(head, uid) is None, timeout=15)


def test_unknown_container_is_a_bad_request(head, make_pod, pod_status, wait_for):
    pod = make_pod("two", make_pod.sh("true", name="a"), make_pod.sh("true", name="b"))
    uid = pod["metadata"]["uid"]
    ray.get(head.sync.remote([{"pod": pod}]))
    wait_for(phase_is(pod_status, head, uid, "Succeeded"))
    with pytest.raises(BadRequest, match="container x is not valid for pod two"):
        ray.get(head.read_log.remote(uid, "x"))
    with pytest.raises(BadRequest, match="a container name must be specified for pod two"):
        ray.get(head.read_log.remote(uid))
    ray.get(head.sync.remote([]))


def test_a_waiting_pod_that_is_deleted_ends_without_running(head, make_pod, pod_status):
    pod = make_pod("never", "echo never")
    uid = pod["metadata"]["uid"]
    waiting = {"reason": "CreateContainerConfigError", "message": 'secret "s" not found'}
    ray.get(head.sync.remote([{"pod": pod, "bundle": {"waiting": waiting}}]))
    pod["metadata"]["deletionTimestamp"] = "2026-01-01T00:00:00Z"
    ray.get(head.sync.remote([{"pod": pod, "bundle": {}}]))
    st = pod_status(head, uid)
    assert st["phase"] == "Failed"
    assert st["containerStatuses"][0]["state"]["terminated"]["reason"] == "ContainerStatusUnknown"
    assert ray.get(head.read_log.remote(uid, "c")) == ""
    ray.get(head.sync.remote([]))
