"""Compute resources: names, quantities, and requests against limits."""

from __future__ import annotations

from fractions import Fraction

from berth.platform.errors import Cause
from berth.platform.resources import quantity
from berth.platform.resources.gpus import DEVICE_MILLI, GPU, GPU_MILLI
from berth.platform.resources.validation import names
from berth.platform.resources.validation.fields import as_dict, forbidden, invalid, required

STANDARD_CONTAINER_RESOURCES = frozenset({"cpu", "memory", "ephemeral-storage"})
STANDARD_RESOURCES = STANDARD_CONTAINER_RESOURCES | frozenset(
    {
        "requests.cpu",
        "requests.memory",
        "requests.ephemeral-storage",
        "limits.cpu",
        "limits.memory",
        "limits.ephemeral-storage",
        "pods",
        "resourcequotas",
        "services",
        "replicationcontrollers",
        "secrets",
        "persistentvolumeclaims",
        "configmaps",
        "services.nodeports",
        "services.loadbalancers",
        "requests.storage",
    }
)
INTEGER_RESOURCES = frozenset(
    {
        "pods",
        "resourcequotas",
        "services",
        "replicationcontrollers",
        "secrets",
        "configmaps",
        "persistentvolumeclaims",
        "services.nodeports",
        "services.loadbalancers",
    }
)
HUGEPAGES = "hugepages-"


def is_hugepages(name: str) -> bool:
    return name.startswith(HUGEPAGES)


def is_native(name: str) -> bool:
    return "/" not in name or "kubernetes.io/" in name


def is_extended(name: str) -> bool:
    """``nvidia.com/gpu``: domain-qualified, not Kubernetes' own."""
    if is_native(name) or name.startswith("requests."):
        return False
    return not names.qualified_name("requests." + name)


def overcommit_allowed(name: str) -> bool:
    """Extended resources and hugepages must be requested exactly as limited."""
    return is_native(name) and not is_hugepages(name)


def is_integer_resource(name: str) -> bool:
    return name in INTEGER_RESOURCES or is_extended(name)


def _is_standard(name: str) -> bool:
    return name in STANDARD_RESOURCES or is_hugepages(name)


def validate_container_resource_name(name: str, path: str) -> list[Cause]:
    causes = [invalid(path, name, m) for m in names.qualified_name(name)]
    if causes:
        return causes
    if "/" not in name:
        if not _is_standard(name):
            causes.append(
                invalid(path, name, "must be a standard resource type or fully qualified")
            )
        if not (name in STANDARD_CONTAINER_RESOURCES or is_hugepages(name)):
            causes.append(invalid(path, name, "must be a standard resource for containers"))
    elif not is_native(name) and not is_extended(name):
        causes.append(invalid(path, name, "doesn't follow extended resource name standard"))
    return causes


def parse_quantity(value: object, path: str) -> tuple[Fraction | None, list[Cause]]:
    try:
        return quantity.parse(value), []  # type: ignore[arg-type]
    except quantity.QuantityError as exc:
        return None, [invalid(path, value, str(exc))]


def validate_quantity_value(
    name: str, value: object, path: str
) -> tuple[Fraction | None, list[Cause]]:
    """``ValidateResourceQuantityValue``: a quantity that parses, is not negative, and is
    whole for integer resources."""
    parsed, causes = parse_quantity(value, path)
    if parsed is None:
        return None, causes
    if parsed < 0:
        causes.append(invalid(path, str(value), "must be greater than or equal to 0"))
    if is_integer_resource(name) and parsed.denominator != 1:
        causes.append(invalid(path, str(value), "must be an integer"))
    return parsed, causes


def _hugepage_errors(name: str, value: Fraction, shown: object, path: str) -> list[Cause]:
    try:
        page = quantity.parse(name[len(HUGEPAGES) :])
    except quantity.QuantityError:
        return []
    if page <= 0 or value % page != 0:
        return [invalid(path, str(shown), f"{shown} is not positive integer multiple of {name}")]
    return []


def validate_resource_requirements(resources: object, path: str) -> list[Cause]:
    resources = as_dict(resources)
    limits, requests = as_dict(resources.get("limits")), as_dict(resources.get("requests"))
    causes: list[Cause] = []
    parsed_limits: dict[str, Fraction] = {}
    hugepages = cpu_or_memory = False
    for name, value in limits.items():
        key = f"{path}.limits[{name}]"
        causes += validate_container_resource_name(name, key)
        parsed, errs = validate_quantity_value(name, value, key)
        causes += errs
        if parsed is not None:
            parsed_limits[name] = parsed
            if is_hugepages(name):
                causes += _hugepage_errors(name, parsed, value, key)
        hugepages |= is_hugepages(name)
        cpu_or_memory |= name in ("cpu", "memory")
    for name, value in requests.items():
        key = f"{path}.requests[{name}]"
        causes += validate_container_resource_name(name, key)
        parsed, errs = validate_quantity_value(name, value, key)
        causes += errs
        hugepages |= is_hugepages(name)
        cpu_or_memory |= name in ("cpu", "memory")
        if parsed is None:
            continue
        if is_hugepages(name):
            causes += _hugepage_errors(name, parsed, value, key)
        if name in limits:
            if name not in parsed_limits:
                continue
            limit, shown_limit = parsed_limits[name], limits[name]
            if parsed != limit and not overcommit_allowed(name):
                causes.append(
                    invalid(
                        f"{path}.requests",
                        str(value),
                        f"must be equal to {name} limit of {shown_limit}",
                    )
                )
            elif parsed > limit:
                causes.append(
                    invalid(
                        f"{path}.requests",
                        str(value),
                        f"must be less than or equal to {name} limit of {shown_limit}",
                    )
                )
        elif not overcommit_allowed(name):
            causes.append(
                required(f"{path}.limits", "Limit must be set for non overcommitable resources")
            )
    if hugepages and not cpu_or_memory:
        causes.append(forbidden(path, "HugePages require cpu or memory"))
    return causes


def validate_gpu_shares(spec: dict, path: str) -> list[Cause]:
    """``berth.dev/gpu-milli`` is a share of *one* GPU device: each container's amount is an
    integer 1..1000 (and, as an extended resource, requests equal limits), the pod's total
    as scheduled (the containers' sum, or the largest init container's) at most 1000, and
    never beside ``nvidia.com/gpu`` in one pod: whole GPUs are asked for as whole GPUs."""
    causes: list[Cause] = []
    shares: list[tuple[str, str, int]] = []  # (kind, field path, amount)
    whole = False
    for kind in ("containers", "initContainers"):
        for i, container in enumerate(as_list_of_dicts(spec.get(kind))):
            resources = as_dict(container.get("resources"))
            limits, requests = as_dict(resources.get("limits")), as_dict(resources.get("requests"))
            whole = whole or GPU in limits or GPU in requests
            field = "limits" if GPU_MILLI in limits else "requests"
            value = limits.get(GPU_MILLI, requests.get(GPU_MILLI))
            if value is None:
                continue
            key = f"{path}.{kind}[{i}].resources.{field}[{GPU_MILLI}]"
            try:
                amount = quantity.parse(value)
            except quantity.QuantityError:
                continue  # reported by validate_resource_requirements
            if amount.denominator != 1 or not 1 <= amount <= DEVICE_MILLI:
                causes.append(
                    invalid(
                        key,
                        str(value),
                        "must be an integer from 1 to 1000 (a "
                        f"share of one GPU; ask for whole GPUs with {GPU})",
                    )
                )
            else:
                shares.append((kind, key, int(amount)))
    if whole and (shares or causes):
        key = shares[0][1] if shares else causes[0].field
        return causes + [invalid(key, GPU_MILLI, f"may not be combined with {GPU} in one pod")]
    total = sum(a for kind, _, a in shares if kind == "containers")
    init_peak = max((a for kind, _, a in shares if kind == "initContainers"), default=0)
    if max(total, init_peak) > DEVICE_MILLI:
        causes.append(
            invalid(
                f"{path}.containers",
                str(total),
                f"the {GPU_MILLI} of the "
                "containers add up to more than one GPU (1000); a share must "
                "fit on one device",
            )
        )
    return causes


def as_list_of_dicts(value: object) -> list[dict]:
    return [as_dict(v) for v in value] if isinstance(value, list) else []
