"""Scheduling constraints: node selector terms, affinity, tolerations, taints, spreading."""

from __future__ import annotations

from berth.platform.errors import Cause
from berth.platform.resources.validation import names
from berth.platform.resources.validation.fields import (
    as_dict,
    as_list,
    duplicate,
    forbidden,
    invalid,
    is_int,
    key_of,
    required,
    unsupported,
)
from berth.platform.resources.validation.meta import validate_label_name, validate_label_selector

TAINT_EFFECTS = ("NoSchedule", "PreferNoSchedule", "NoExecute")
TOLERATION_OPERATORS = ("Equal", "Exists")
WHEN_UNSATISFIABLE = ("DoNotSchedule", "ScheduleAnyway")


def validate_node_selector_requirement(
    req: dict, path: str, *, check_values: bool = True
) -> list[Cause]:
    causes: list[Cause] = []
    op, values = req.get("operator"), as_list(req.get("values"))
    if op in ("In", "NotIn"):
        if not values:
            causes.append(
                required(f"{path}.values", "must be specified when `operator` is 'In' or 'NotIn'")
            )
    elif op in ("Exists", "DoesNotExist"):
        if values:
            causes.append(
                forbidden(
                    f"{path}.values",
                    "may not be specified when `operator` is 'Exists' or 'DoesNotExist'",
                )
            )
    elif op in ("Gt", "Lt"):
        if len(values) != 1:
            causes.append(
                required(
                    f"{path}.values",
                    "must be specified single value when `operator` is 'Lt' or 'Gt'",
                )
            )
    else:
        causes.append(invalid(f"{path}.operator", op or "", "not a valid selector operator"))
    causes += validate_label_name(req.get("key") or "", f"{path}.key")
    if check_values:
        for i, value in enumerate(values):
            causes += [
                invalid(f"{path}.values[{i}]", value, m) for m in names.label_value(str(value))
            ]
    return causes


def _field_requirement(req: dict, path: str) -> list[Cause]:
    causes: list[Cause] = []
    values = as_list(req.get("values"))
    if req.get("operator") in ("In", "NotIn"):
        if len(values) != 1:
            causes.append(
                required(
                    f"{path}.values",
                    "must be only one value when `operator` is "
                    "'In' or 'NotIn' for node field selector",
                )
            )
    else:
        causes.append(
            invalid(f"{path}.operator", req.get("operator") or "", "not a valid selector operator")
        )
    if req.get("key") != "metadata.name":
        causes.append(
            invalid(f"{path}.key", req.get("key") or "", "not a valid field selector key")
        )
    else:
        for i, value in enumerate(values):
            causes += [
                invalid(f"{path}.values[{i}]", value, m)
                for m in names.name_is_dns_subdomain(str(value))
            ]
    return causes


def validate_node_selector_term(term: dict, path: str, *, check_values: bool = True) -> list[Cause]:
    causes: list[Cause] = []
    for j, req in enumerate(as_list(term.get("matchExpressions"))):
        causes += validate_node_selector_requirement(
            as_dict(req), f"{path}.matchExpressions[{j}]", check_values=check_values
        )
    for j, req in enumerate(as_list(term.get("matchFields"))):
        causes += _field_requirement(as_dict(req), f"{path}.matchFields[{j}]")
    return causes


def validate_node_selector(selector: dict, path: str) -> list[Cause]:
    terms = as_list(selector.get("nodeSelectorTerms"))
    if not terms:
        return [required(f"{path}.nodeSelectorTerms", "must have at least one node selector term")]
    causes: list[Cause] = []
    for i, term in enumerate(terms):
        causes += validate_node_selector_term(as_dict(term), f"{path}.nodeSelectorTerms[{i}]")
    return causes


def _weight(value: object, path: str) -> list[Cause]:
    if not is_int(value) or not 1 <= value <= 100:
        return [invalid(path, value, "must be in the range 1-100")]
    return []


def _pod_affinity_term(term: dict, path: str) -> list[Cause]:
    causes = validate_label_selector(term.get("labelSelector"), f"{path}.labelSelector")
    causes += validate_label_selector(term.get("namespaceSelector"), f"{path}.namespaceSelector")
    for ns in as_list(term.get("namespaces")):
        causes += [invalid(f"{path}.namespace", ns, m) for m in names.dns1123_label(str(ns))]
    key = term.get("topologyKey")
    if not key:
        causes.append(required(f"{path}.topologyKey", "can not be empty"))
    return causes + validate_label_name(key or "", f"{path}.topologyKey")


def _pod_affinity(affinity: dict, path: str) -> list[Cause]:
    causes: list[Cause] = []
    hard = "requiredDuringSchedulingIgnoredDuringExecution"
    soft = "preferredDuringSchedulingIgnoredDuringExecution"
    for i, term in enumerate(as_list(affinity.get(hard))):
        causes += _pod_affinity_term(as_dict(term), f"{path}.{hard}[{i}]")
    for i, weighted in enumerate(as_list(affinity.get(soft))):
        weighted, wpath = as_dict(weighted), f"{path}.{soft}[{i}]"
        causes += _weight(weighted.get("weight"), f"{wpath}.weight")
        causes += _pod_affinity_term(
            as_dict(weighted.get("podAffinityTerm")), f"{wpath}.podAffinityTerm"
        )
    return causes


def validate_affinity(affinity: object, path: str) -> list[Cause]:
    if affinity is None:
        return []
    affinity = as_dict(affinity)
    causes: list[Cause] = []
    node = affinity.get("nodeAffinity")
    if node is not None:
        node, npath = as_dict(node), f"{path}.nodeAffinity"
        hard = "requiredDuringSchedulingIgnoredDuringExecution"
        if node.get(hard) is not None:
            causes += validate_node_selector(as_dict(node[hard]), f"{npath}.{hard}")
        soft = "preferredDuringSchedulingIgnoredDuringExecution"
        for i, term in enumerate(as_list(node.get(soft))):
            term, tpath = as_dict(term), f"{npath}.{soft}[{i}]"
            causes += _weight(term.get("weight"), f"{tpath}.weight")
            # Preferred terms may name label values no node has: they just never match.
            causes += validate_node_selector_term(
                as_dict(term.get("preference")), f"{tpath}.preference", check_values=False
            )
    for kind in ("podAffinity", "podAntiAffinity"):
        if affinity.get(kind) is not None:
            causes += _pod_affinity(as_dict(affinity[kind]), f"{path}.{kind}")
    return causes


def validate_tolerations(tolerations: object, path: str) -> list[Cause]:
    causes: list[Cause] = []
    for i, tol in enumerate(as_list(tolerations)):
        tol, tpath = as_dict(tol), f"{path}[{i}]"
        key, op = tol.get("key") or "", tol.get("operator") or ""
        value, effect = tol.get("value") or "", tol.get("effect") or ""
        if key:
            causes += validate_label_name(key, f"{tpath}.key")
        if not key and op != "Exists":
            causes.append(
                invalid(
                    f"{tpath}.operator",
                    op,
                    "operator must be Exists when `key` "
                    'is empty, which means "match all values and all keys"',
                )
            )
        if tol.get("tolerationSeconds") is not None and effect != "NoExecute":
            causes.append(
                invalid(
                    f"{tpath}.effect",
                    effect,
                    "effect must be 'NoExecute' when `tolerationSeconds` is set",
                )
            )
        if op in ("Equal", ""):
            errs = names.label_value(str(value))
            if errs:
                causes.append(invalid(f"{tpath}.operator", value, ";".join(errs)))
        elif op == "Exists":
            if value:
                causes.append(
                    invalid(
                        f"{tpath}.operator",
                        value,
                        "value must be empty when `operator` is 'Exists'",
                    )
                )
        else:
            causes.append(unsupported(f"{tpath}.operator", op, TOLERATION_OPERATORS))
        if effect and effect not in TAINT_EFFECTS:
            causes.append(unsupported(f"{tpath}.effect", effect, TAINT_EFFECTS))
    return causes


def validate_taints(taints: object, path: str) -> list[Cause]:
    causes: list[Cause] = []
    seen: set[tuple] = set()
    for i, taint in enumerate(as_list(taints)):
        taint, tpath = as_dict(taint), f"{path}[{i}]"
        key, effect = taint.get("key") or "", taint.get("effect") or ""
        causes += validate_label_name(key, f"{tpath}.key")
        errs = names.label_value(str(taint.get("value") or ""))
        if errs:
            causes.append(invalid(f"{tpath}.value", taint.get("value") or "", ";".join(errs)))
        if not effect:
            causes.append(required(f"{tpath}.effect"))
        elif effect not in TAINT_EFFECTS:
            causes.append(unsupported(f"{tpath}.effect", effect, TAINT_EFFECTS))
        pair = (key_of(key), key_of(effect))
        if pair in seen:
            causes.append(duplicate(tpath, taint, "taints must be unique by key and effect pair"))
            continue
        seen.add(pair)
    return causes


def validate_topology_spread(constraints: object, path: str) -> list[Cause]:
    causes: list[Cause] = []
    seen: set[tuple] = set()
    for i, c in enumerate(as_list(constraints)):
        c, cpath = as_dict(c), f"{path}[{i}]"
        skew = c.get("maxSkew")
        if not is_int(skew) or skew <= 0:
            causes.append(invalid(f"{cpath}.maxSkew", skew, "must be greater than zero"))
        key = c.get("topologyKey")
        if not key:
            causes.append(required(f"{cpath}.topologyKey", "can not be empty"))
        else:
            causes += validate_label_name(key, f"{cpath}.topologyKey")
        when = c.get("whenUnsatisfiable")
        if when not in WHEN_UNSATISFIABLE:
            causes.append(unsupported(f"{cpath}.whenUnsatisfiable", when or "", WHEN_UNSATISFIABLE))
        pair = (key_of(key), key_of(when))
        if pair in seen:
            causes.append(duplicate(cpath, f"{{{key}, {when}}}"))
        seen.add(pair)
        causes += validate_label_selector(c.get("labelSelector"), f"{cpath}.labelSelector")
    return causes
