"""A Job's pod failure policy, success policy and pod replacement policy, and the index
lists (``0-3,5``) that success policies and Indexed Job statuses are written in."""

from __future__ import annotations

from berth.platform.errors import Cause
from berth.platform.resources.validation import names
from berth.platform.resources.validation.fields import (
    as_dict,
    as_list,
    duplicate,
    invalid,
    invalid_omit,
    is_int,
    key_of,
    non_negative,
    required,
    too_long,
    too_many,
    unsupported,
)

MAX_POD_FAILURE_RULES = 20
MAX_EXIT_CODE_VALUES = 255
MAX_CONDITION_PATTERNS = 20
MAX_SUCCESS_RULES = 20
MAX_SUCCEEDED_INDEXES_LEN = 64 * 1024
ACTIONS = ("Count", "FailIndex", "FailJob", "Ignore")
EXIT_CODE_OPERATORS = ("In", "NotIn")
CONDITION_STATUSES = ("False", "True", "Unknown")
REPLACEMENT_POLICIES = ("Failed", "TerminatingOrFailed")


def _go_list(values: tuple[str, ...]) -> str:
    """Go's ``%q`` of a string slice: ``["In" "NotIn"]``."""
    return "[" + " ".join(f'"{v}"' for v in values) + "]"


def validate_replacement_policy(spec: dict, path: str) -> list[Cause]:
    policy = spec.get("podReplacementPolicy")
    if policy is None:
        return []
    if spec.get("podFailurePolicy") is not None:
        return [] if policy == "Failed" else [unsupported(path, policy, ("Failed",))]
    return (
        [] if policy in REPLACEMENT_POLICIES else [unsupported(path, policy, REPLACEMENT_POLICIES)]
    )


def validate_pod_failure_policy(spec: dict, path: str) -> list[Cause]:
    rules = as_list(as_dict(spec.get("podFailurePolicy")).get("rules"))
    causes: list[Cause] = []
    if len(rules) > MAX_POD_FAILURE_RULES:
        causes.append(too_many(f"{path}.rules", len(rules), MAX_POD_FAILURE_RULES))
    pod_spec = as_dict(as_dict(spec.get("template")).get("spec"))
    containers = {
        key_of(as_dict(c).get("name"))
        for c in as_list(pod_spec.get("containers")) + as_list(pod_spec.get("initContainers"))
    }
    for i, rule in enumerate(rules):
        causes += _failure_rule(spec, as_dict(rule), f"{path}.rules[{i}]", containers)
    return causes


def _failure_rule(spec: dict, rule: dict, path: str, containers: set) -> list[Cause]:
    causes: list[Cause] = []
    action = rule.get("action")
    if not action:
        causes.append(required(f"{path}.action", f"valid values: {_go_list(ACTIONS)}"))
    elif action == "FailIndex":
        if spec.get("backoffLimitPerIndex") is None:
            causes.append(
                invalid(f"{path}.action", action, "requires the backoffLimitPerIndex to be set")
            )
    elif action not in ACTIONS:
        causes.append(unsupported(f"{path}.action", action, ACTIONS))
    on_exit, on_conditions = rule.get("onExitCodes"), as_list(rule.get("onPodConditions"))
    if on_exit is not None:
        causes += _on_exit_codes(as_dict(on_exit), f"{path}.onExitCodes", containers)
    if on_conditions:
        causes += _on_conditions(on_conditions, f"{path}.onPodConditions")
    if on_exit is not None and on_conditions:
        causes.append(
            invalid_omit(path, "specifying both OnExitCodes and OnPodConditions is not supported")
        )
    if on_exit is None and not on_conditions:
        causes.append(
            invalid_omit(path, "specifying one of OnExitCodes and OnPodConditions is required")
        )
    return causes


def _on_conditions(patterns: list, path: str) -> list[Cause]:
    causes: list[Cause] = []
    if len(patterns) > MAX_CONDITION_PATTERNS:
        causes.append(too_many(path, len(patterns), MAX_CONDITION_PATTERNS))
    for j, pattern in enumerate(patterns):
        pattern, ppath = as_dict(pattern), f"{path}[{j}]"
        ctype = str(pattern.get("type") or "")
        causes += [invalid(f"{ppath}.type", ctype, m) for m in names.qualified_name(ctype)]
        status = pattern.get("status")
        if not status:
            causes.append(
                required(f"{ppath}.status", f"valid values: {_go_list(CONDITION_STATUSES)}")
            )
        elif status not in CONDITION_STATUSES:
            causes.append(unsupported(f"{ppath}.status", status, CONDITION_STATUSES))
    return causes


def _on_exit_codes(req: dict, path: str, containers: set) -> list[Cause]:
    causes: list[Cause] = []
    op = req.get("operator")
    if not op:
        causes.append(
            required(f"{path}.operator", f"valid values: {_go_list(EXIT_CODE_OPERATORS)}")
        )
    elif op not in EXIT_CODE_OPERATORS:
        causes.append(unsupported(f"{path}.operator", op, EXIT_CODE_OPERATORS))
    name = req.get("containerName")
    if name is not None and key_of(name) not in containers:
        causes.append(
            invalid(
                f"{path}.containerName",
                name,
                "must be one of the container or initContainer names in the pod template",
            )
        )
    values = as_list(req.get("values"))
    if not values:
        causes.append(invalid(f"{path}.values", values, "at least one value is required"))
    elif len(values) > MAX_EXIT_CODE_VALUES:
        causes.append(too_many(f"{path}.values", len(values), MAX_EXIT_CODE_VALUES))
    seen: set = set()
    ordered = True
    for j, value in enumerate(values):
        vpath = f"{path}.values[{j}]"
        if not is_int(value):
            causes.append(invalid(vpath, value, "must be an integer"))
            continue
        if op == "In" and value == 0:
            causes.append(invalid(vpath, value, "must not be 0 for the In operator"))
        if value in seen:
            causes.append(duplicate(vpath, value))
        seen.add(value)
        if j > 0 and is_int(values[j - 1]) and values[j - 1] > value:
            ordered = False
    if not ordered:
        causes.append(invalid(f"{path}.values", values, "must be ordered"))
    return causes


def validate_success_policy(spec: dict, path: str) -> list[Cause]:
    rules = as_list(as_dict(spec.get("successPolicy")).get("rules"))
    causes: list[Cause] = []
    if not rules:
        causes.append(
            required(
                f"{path}.rules",
                "at least one rules must be specified when the successPolicy is specified",
            )
        )
    if len(rules) > MAX_SUCCESS_RULES:
        causes.append(too_many(f"{path}.rules", len(rules), MAX_SUCCESS_RULES))
    completions = spec.get("completions")
    completions = completions if is_int(completions) else 0
    for i, rule in enumerate(rules):
        rule, rpath = as_dict(rule), f"{path}.rules[{i}]"
        count, indexes = rule.get("succeededCount"), rule.get("succeededIndexes")
        if count is None and indexes is None:
            causes.append(
                required(
                    rpath, "at least one of succeededCount or succeededIndexes must be specified"
                )
            )
        total = 0
        if indexes is not None:
            ipath = f"{rpath}.succeededIndexes"
            if len(str(indexes)) > MAX_SUCCEEDED_INDEXES_LEN:
                causes.append(too_long(ipath, MAX_SUCCEEDED_INDEXES_LEN))
            try:
                total = count_indexes(str(indexes), completions)
            except ValueError as exc:
                causes.append(invalid(ipath, indexes, f"error parsing succeededIndexes: {exc}"))
        if count is not None:
            cpath = f"{rpath}.succeededCount"
            causes += non_negative(cpath, count)
            if is_int(count) and count > completions:
                causes.append(
                    invalid(
                        cpath,
                        count,
                        f"must be less than or equal to "
                        f"{completions} (the number of specified completions)",
                    )
                )
            if is_int(count) and indexes is not None and count > total:
                causes.append(
                    invalid(
                        cpath,
                        count,
                        f"must be less than or equal to {total} "
                        f"(the number of indexes in the specified succeededIndexes "
                        f"field)",
                    )
                )
    return causes


def parse_interval(text: str, completions: int) -> tuple[int, int]:
    """One ``3`` or ``3-7`` of an index list such as ``0-3,5,7-9``."""
    limits = text.split("-")
    if len(limits) > 2:
        raise ValueError(
            f'the fragment "{text}" violates the requirement that an index '
            f"interval can have at most two parts separated by '-'"
        )
    bounds = []
    for part in limits:
        if not part.lstrip("+-").isdigit():
            raise ValueError(f'cannot convert string to integer for index: "{part}"')
        value = int(part)
        if value >= completions:
            raise ValueError(f'too large index: "{part}"')
        bounds.append(value)
    if len(bounds) == 2 and bounds[0] >= bounds[1]:
        raise ValueError(f"non-increasing order, previous: {bounds[0]}, current: {bounds[1]}")
    return bounds[0], bounds[-1]


def count_indexes(text: str, completions: int) -> int:
    """How many indexes an ordered interval list names (``validateIndexesFormat``)."""
    if not text:
        return 0
    total, last = 0, None
    for fragment in text.split(","):
        low, high = parse_interval(fragment, completions)
        if last is not None and last >= low:
            raise ValueError(f"non-increasing order, previous: {last}, current: {low}")
        total += high - low + 1
        last = high
    return total
