"""Namespaces, Nodes, Events and Leases."""

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
    required,
    unsupported,
)
from berth.platform.resources.validation.meta import (
    validate_kube_finalizer,
    validate_object_meta,
    validate_object_meta_update,
)
from berth.platform.resources.validation.resources import validate_quantity_value
from berth.platform.resources.validation.scheduling import validate_taints

EVENT_REASON_LIMIT = 128
EVENT_ACTION_LIMIT = 128
EVENT_NOTE_LIMIT = 1024
EVENT_INSTANCE_LIMIT = 128
LEASE_STRATEGIES = ("OldestEmulationVersion",)


# -- Namespace -------------------------------------------------------------------------------
def validate_namespace(ns: dict) -> list[Cause]:
    causes = validate_object_meta(ns.get("metadata"), False, names.name_is_dns_label)
    for finalizer in as_list(as_dict(ns.get("spec")).get("finalizers")):
        # Kubernetes reports these on "spec.finalizers", without an index.
        causes += [
            invalid("spec.finalizers", finalizer, m) for m in names.qualified_name(str(finalizer))
        ]
        causes += validate_kube_finalizer(finalizer, "spec.finalizers")
    return causes


def validate_namespace_update(new: dict, old: dict) -> list[Cause]:
    return validate_object_meta_update(
        new.get("metadata"), old.get("metadata")
    ) + validate_namespace(new)


def validate_namespace_status_update(new: dict, old: dict) -> list[Cause]:
    causes = validate_object_meta_update(new.get("metadata"), old.get("metadata"))
    phase = as_dict(new.get("status")).get("phase")
    if not as_dict(new.get("metadata")).get("deletionTimestamp"):
        if phase != "Active":
            causes.append(
                invalid(
                    "status.Phase",
                    phase or "",
                    "may only be 'Active' if `deletionTimestamp` is empty",
                )
            )
    elif phase != "Terminating":
        causes.append(
            invalid(
                "status.Phase",
                phase or "",
                "may only be 'Terminating' if `deletionTimestamp` is not empty",
            )
        )
    return causes


# -- Node ------------------------------------------------------------------------------------
def validate_node(node: dict) -> list[Cause]:
    spec = as_dict(node.get("spec"))
    causes = validate_object_meta(node.get("metadata"), False, names.name_is_dns_subdomain)
    # Kubernetes reports taints under "metadata.taints".
    causes += validate_taints(spec.get("taints"), "metadata.taints")
    if spec.get("unschedulable") is not None and not isinstance(spec["unschedulable"], bool):
        causes.append(invalid("spec.unschedulable", spec["unschedulable"], "must be a boolean"))
    return causes + _node_resources(as_dict(node.get("status")))


def _node_resources(status: dict) -> list[Cause]:
    causes: list[Cause] = []
    for kind in ("capacity", "allocatable"):
        for name, value in as_dict(status.get(kind)).items():
            causes += validate_quantity_value(name, value, f"status.{kind}.{name}")[1]
    return causes


def validate_node_update(new: dict, old: dict) -> list[Cause]:
    causes = validate_object_meta_update(new.get("metadata"), old.get("metadata"))
    causes += validate_node(new)
    spec, old_spec = as_dict(new.get("spec")), as_dict(old.get("spec"))
    if as_list(old_spec.get("podCIDRs")) and spec.get("podCIDRs") != old_spec.get("podCIDRs"):
        causes.append(
            forbidden(
                "spec.podCIDRs", 'node updates may not change podCIDR except from "" to valid'
            )
        )
    if old_spec.get("providerID") and spec.get("providerID") != old_spec["providerID"]:
        causes.append(
            forbidden(
                "spec.providerID", 'node updates may not change providerID except from "" to valid'
            )
        )
    if spec.get("externalID") != old_spec.get("externalID"):
        causes.append(forbidden("spec.externalID", "may not be updated"))
    seen: list = []
    for i, address in enumerate(as_list(as_dict(new.get("status")).get("addresses"))):
        if address in seen:
            causes.append(duplicate(f"status.addresses[{i}]", address))
        seen.append(address)
    return causes


# -- Event -----------------------------------------------------------------------------------
def validate_event(event: dict) -> list[Cause]:
    """Events are loosely checked, as in Kubernetes' core/v1 API: the object they are about
    must be named, and in the Event's own namespace."""
    md = as_dict(event.get("metadata"))
    causes = validate_object_meta(md, True, names.name_is_dns_subdomain)
    involved = event.get("involvedObject")
    namespace = md.get("namespace") or ""
    if not isinstance(involved, dict) or not involved:
        causes.append(required("involvedObject"))
        involved = {}
    involved_ns = involved.get("namespace") or ""
    if not event.get("eventTime"):
        if not involved_ns:
            if namespace not in ("", "default"):
                causes.append(
                    invalid(
                        "involvedObject.namespace", involved_ns, "does not match event.namespace"
                    )
                )
        elif namespace != involved_ns:
            causes.append(
                invalid("involvedObject.namespace", involved_ns, "does not match event.namespace")
            )
    else:
        causes += _new_style_event(event, involved_ns, namespace)
    for key, limit in (("reason", EVENT_REASON_LIMIT), ("message", EVENT_NOTE_LIMIT)):
        value = event.get(key)
        if isinstance(value, str) and len(value) > limit:
            causes.append(invalid(key, "", f"can have at most {limit} characters"))
    return causes


def _new_style_event(event: dict, involved_ns: str, namespace: str) -> list[Cause]:
    """Events with ``eventTime`` must say who reported them and what was done."""
    causes: list[Cause] = []
    if not involved_ns and namespace not in ("default", "kube-system"):
        causes.append(
            invalid("involvedObject.namespace", involved_ns, "does not match event.namespace")
        )
    component = event.get("reportingComponent") or ""
    if not component:
        causes.append(required("reportingComponent"))
    causes += [
        invalid("reportingComponent", component, m) for m in names.qualified_name(str(component))
    ]
    for key, limit in (
        ("reportingInstance", EVENT_INSTANCE_LIMIT),
        ("action", EVENT_ACTION_LIMIT),
        ("reason", EVENT_REASON_LIMIT),
    ):
        value = event.get(key) or ""
        if not value:
            causes.append(required(key))
        elif len(str(value)) > limit:
            causes.append(invalid(key, "", f"can have at most {limit} characters"))
    return causes


def validate_event_update(new: dict, old: dict) -> list[Cause]:
    """core/v1 Events may change freely (series counts, timestamps), as in Kubernetes."""
    return validate_object_meta_update(new.get("metadata"), old.get("metadata")) + validate_event(
        new
    )


# -- Lease -----------------------------------------------------------------------------------
def validate_lease(lease: dict) -> list[Cause]:
    spec = as_dict(lease.get("spec"))
    causes = validate_object_meta(lease.get("metadata"), True, names.name_is_dns_subdomain)
    duration = spec.get("leaseDurationSeconds")
    if duration is not None and (not is_int(duration) or duration <= 0):
        causes.append(invalid("spec.leaseDurationSeconds", duration, "must be greater than 0"))
    transitions = spec.get("leaseTransitions")
    if transitions is not None and (not is_int(transitions) or transitions < 0):
        causes.append(
            invalid("spec.leaseTransitions", transitions, "must be greater than or equal to 0")
        )
    strategy = spec.get("strategy")
    if strategy is not None and strategy not in LEASE_STRATEGIES:
        causes.append(unsupported("spec.strategy", strategy, LEASE_STRATEGIES))
    if spec.get("preferredHolder") and not strategy:
        causes.append(
            forbidden("spec.preferredHolder", "may only be specified if `strategy` is defined")
        )
    return causes


def validate_lease_update(new: dict, old: dict) -> list[Cause]:
    return validate_object_meta_update(new.get("metadata"), old.get("metadata")) + validate_lease(
        new
    )
