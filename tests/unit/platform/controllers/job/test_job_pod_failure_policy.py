"""podFailurePolicy rules matched in order on exit codes and pod conditions."""

import pytest

from berth.platform.controllers.job import pod_failure_policy
from tests.unit.platform.controllers.job.job_builders import a_pod


def exit_rule(action, operator, values, container=None):
    codes = {"operator": operator, "values": values}
    if container:
        codes["containerName"] = container
    return {"action": action, "onExitCodes": codes}


def condition_rule(action, kind="DisruptionTarget", status="True"):
    return {"action": action, "onPodConditions": [{"type": kind, "status": status}]}


def with_containers(pod, *states):
    pod["status"]["containerStatuses"] = [
        {
            "name": name,
            "state": {"terminated": {"exitCode": code}} if code is not None else {"running": {}},
        }
        for name, code in states
    ]
    return pod


FAILED_42 = a_pod(name="x-abc").failed(exit=42).build()
DISRUPTED = a_pod(name="x-abc").failed(exit=137).condition("DisruptionTarget").build()


@pytest.mark.parametrize(
    "rules, pod, action, counts",
    [
        ([], FAILED_42, None, True),
        ([exit_rule("Ignore", "In", [42])], FAILED_42, "Ignore", False),
        ([exit_rule("Count", "In", [42])], FAILED_42, "Count", True),
        ([exit_rule("FailIndex", "In", [42])], FAILED_42, "FailIndex", True),
        ([exit_rule("FailJob", "In", [1, 2])], FAILED_42, None, True),
        ([exit_rule("FailJob", "NotIn", [1, 2])], FAILED_42, "FailJob", True),
        ([exit_rule("FailJob", "NotIn", [42])], FAILED_42, None, True),
        # the first rule that matches decides
        (
            [exit_rule("Ignore", "In", [42]), exit_rule("FailJob", "In", [42])],
            FAILED_42,
            "Ignore",
            False,
        ),
        (
            [exit_rule("FailJob", "In", [3]), exit_rule("Count", "NotIn", [0])],
            FAILED_42,
            "Count",
            True,
        ),
        # containerName narrows the match
        ([exit_rule("FailJob", "In", [42], container="side")], FAILED_42, None, True),
        ([exit_rule("FailJob", "In", [42], container="main")], FAILED_42, "FailJob", True),
        # conditions
        ([condition_rule("Ignore")], DISRUPTED, "Ignore", False),
        ([condition_rule("Ignore", status="False")], DISRUPTED, None, True),
        ([condition_rule("Ignore", kind="Other")], DISRUPTED, None, True),
        ([condition_rule("Ignore"), exit_rule("FailJob", "In", [137])], DISRUPTED, "Ignore", False),
        ([exit_rule("FailJob", "In", [137]), condition_rule("Ignore")], DISRUPTED, "FailJob", True),
    ],
)
def test_rules_match_in_order(rules, pod, action, counts):
    verdict = pod_failure_policy.match({"rules": rules}, pod)
    assert (verdict.action, verdict.counts) == (action, counts)


def test_no_policy_counts_every_failure():
    assert pod_failure_policy.match(None, FAILED_42) == pod_failure_policy.NO_MATCH


def test_exit_code_zero_never_matches_notin():
    pod = with_containers(a_pod().failed().build(), ("main", 0), ("side", 3))
    verdict = pod_failure_policy.match({"rules": [exit_rule("FailJob", "NotIn", [5])]}, pod)
    assert verdict.message is not None and "Container side" in verdict.message


def test_running_containers_have_no_exit_code_to_match():
    pod = with_containers(a_pod().failed().build(), ("main", None))
    assert (
        pod_failure_policy.match({"rules": [exit_rule("FailJob", "NotIn", [0])]}, pod).action
        is None
    )


def test_init_containers_are_matched_after_regular_ones():
    pod = a_pod().failed(exit=0).build()
    pod["status"]["initContainerStatuses"] = [
        {"name": "setup", "state": {"terminated": {"exitCode": 9}}}
    ]
    verdict = pod_failure_policy.match({"rules": [exit_rule("FailJob", "In", [9])]}, pod)
    assert verdict.message.startswith("Container setup for pod")


def test_fail_job_messages_name_the_container_or_condition_like_kubernetes():
    by_code = pod_failure_policy.match({"rules": [exit_rule("FailJob", "In", [42])]}, FAILED_42)
    assert by_code.message == (
        "Container main for pod default/x-abc failed with exit code 42 "
        "matching FailJob rule at index 0"
    )
    by_condition = pod_failure_policy.match(
        {"rules": [exit_rule("Ignore", "In", [1]), condition_rule("FailJob")]}, DISRUPTED
    )
    assert (
        by_condition.message
        == "Pod default/x-abc has condition DisruptionTarget matching FailJob rule at index 1"
    )


def test_condition_pattern_status_defaults_to_true():
    rule = {"action": "Ignore", "onPodConditions": [{"type": "DisruptionTarget"}]}
    assert pod_failure_policy.match({"rules": [rule]}, DISRUPTED).action == "Ignore"
