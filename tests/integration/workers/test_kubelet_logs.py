"""``kubectl logs`` through ``RayLogSource``: reads with the options, follow as lines are
printed, and Kubernetes' errors for what is not there."""

import time

import pytest

from berth.platform.errors import BadRequest
from berth.workers.control.logsource import RayLogSource
from tests.integration.workers.kubelet_support import Harness, bound_pod, sh

pytestmark = pytest.mark.integration


@pytest.fixture
def berth(ray_env, tmp_path):
    harness = Harness(ray_env, tmp_path)
    yield harness
    harness.close()


def test_follow_streams_lines_as_they_are_printed_and_ends_with_the_container(berth):
    # Followed from before the pod starts: the stream waits for it.
    pod = berth.create(
        bound_pod("ticker", berth.head, sh("for i in 1 2 3 4; do echo line $i; sleep 0.4; done"))
    )
    chunks = berth.follow(pod)
    assert b"".join(c for _, c in chunks) == b"line 1\nline 2\nline 3\nline 4\n"
    assert len(chunks) >= 3, chunks  # streamed, not read once at the end
    # Lines come 0.4 s apart: chunks read as they were printed span at least one of those
    # gaps however late a loaded machine delivers the first (read at the end, they span ~0).
    assert chunks[-1][0] - chunks[0][0] > 0.3
    berth.wait_phase("ticker", "Succeeded", timeout=5)


def test_read_honours_tail_timestamps_and_limit(berth):
    berth.create(bound_pod("lines", berth.head, sh("echo one; echo two; echo three")))
    pod = berth.wait_phase("lines", "Succeeded")
    assert berth.read_log(pod) == "one\ntwo\nthree\n"
    assert berth.read_log(pod, tail_lines=1) == "three\n"
    assert berth.read_log(pod, limit_bytes=5) == "one\nt"
    stamped = berth.read_log(pod, timestamps=True, tail_lines=1)
    assert stamped.endswith("Z three\n") and stamped[:4].isdigit()
    chunks = berth.follow(pod, tail_lines=2)
    assert b"".join(c for _, c in chunks) == b"two\nthree\n"


@pytest.mark.parametrize(
    "options, message",
    [
        ({"container": "nope"}, "container nope is not valid for pod errs"),
        ({"previous": True}, 'previous terminated container "c" in pod "errs" not found'),
    ],
)
def test_what_is_not_there_is_a_bad_request(berth, options, message):
    berth.create(bound_pod("errs", berth.head, sh("true")))
    pod = berth.wait_phase("errs", "Succeeded")
    with pytest.raises(BadRequest) as caught:
        berth.read_log(pod, **options)
    assert caught.value.message == message


def test_an_unscheduled_pod_has_an_empty_log_and_follow_waits_for_it(berth):
    pod = berth.create(bound_pod("nowhere", "", sh("true")))
    assert berth.read_log(pod) == ""
    berth.platform.logs = RayLogSource(berth.service.kubelet, poll_s=0.05, start_timeout_s=0.5)
    started = time.monotonic()
    assert berth.follow(pod) == []
    assert 0.4 < time.monotonic() - started < 5
