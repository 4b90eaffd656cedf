"""Match a failed pod against ``spec.podFailurePolicy`` (Kubernetes ``matchPodFailurePolicy``).

Rules are tried in order and the first that matches decides. An ``onExitCodes`` rule looks at
terminated containers with a non-zero exit code (regular containers first, then init
containers), optionally only the one named ``containerName``; an ``onPodConditions`` rule at the
pod's conditions (e.g. ``DisruptionTarget: True`` when a node was lost). No match counts the
failure toward ``backoffLimit`` as if there were no policy.
"""

from __future__ import annotations

from dataclasses import dataclass

from berth.platform.resources.meta import dig

from . import keys


@dataclass(frozen=True)
class PolicyMatch:
    action: str | None  # FailJob, FailIndex, Ignore, Count; None when no rule matched
    counts: bool  # toward backoffLimit (and backoffLimitPerIndex); False only for Ignore
    message: str | None = None  # the Job failure message, for FailJob


NO_MATCH = PolicyMatch(None, True)


def match(policy: dict | None, pod: dict) -> PolicyMatch:
    if not policy:
        return NO_MATCH
    namespace = dig(pod, "metadata", "namespace", default="")
    name = dig(pod, "metadata", "name", default="")
    for position, rule in enumerate(policy.get("rules") or []):
        action = rule.get("action")
        if rule.get("onExitCodes") is not None:
            container = _matching_container(pod, rule["onExitCodes"])
            if container is None:
                continue
            code = container["state"]["terminated"]["exitCode"]
            message = (
                f"Container {container.get('name')} for pod "
                f"{namespace}/{name} failed with exit code "
                f"{code} matching {action} rule at index {position}"
            )
        elif rule.get("onPodConditions") is not None:
            cond = _matching_condition(pod, rule["onPodConditions"])
            if cond is None:
                continue
            message = (
                f"Pod {namespace}/{name} has condition {cond.get('type')} matching "
                f"{action} rule at index {position}"
            )
        else:
            continue
        if action == keys.IGNORE:
            return PolicyMatch(keys.IGNORE, False)
        if action == keys.FAIL_JOB:
            return PolicyMatch(keys.FAIL_JOB, True, message)
        if action in (keys.FAIL_INDEX, keys.COUNT):
            return PolicyMatch(action, True)
        # An action this version does not know falls through to the next rule, as in Kubernetes.
    return NO_MATCH


def _matching_container(pod: dict, requirement: dict) -> dict | None:
    for field in ("containerStatuses", "initContainerStatuses"):
        for status in dig(pod, "status", field) or []:
            terminated = dig(status, "state", "terminated")
            if terminated is None:
                continue  # still terminating: no exit code to match yet
            wanted = requirement.get("containerName")
            if wanted is not None and wanted != status.get("name"):
                continue
            code = terminated.get("exitCode") or 0
            if code != 0 and _operator_matches(code, requirement):
                return status
    return None


def _operator_matches(code: int, requirement: dict) -> bool:
    values = requirement.get("values") or []
    operator = requirement.get("operator")
    if operator == "In":
        return code in values
    if operator == "NotIn":
        return code not in values
    return False


def _matching_condition(pod: dict, patterns: list[dict]) -> dict | None:
    for cond in dig(pod, "status", "conditions") or []:
        for pattern in patterns:
            # The API server defaults a pattern's status to "True".
            if cond.get("type") == pattern.get("type") and cond.get("status") == (
                pattern.get("status") or "True"
            ):
                return cond
    return None
