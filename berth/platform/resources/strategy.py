"""Per-kind create and update rules: the part of Kubernetes' ``rest.RESTCreateStrategy`` /
``RESTUpdateStrategy`` that is about the object itself.

The store calls, in order, ``prepare_for_create`` (after it has set name, uid and
creationTimestamp) and ``validate_create``; on update ``prepare_for_update``,
``spec_changed`` (to bump ``metadata.generation``) and ``validate_update`` — or
``validate_status_update`` for a write of the status alone.

Defaulting is Kubernetes' decode-time defaulting, so it runs on every create and update;
what Kubernetes does only in ``PrepareForCreate`` (a Job's generated selector, a Pod's first
status, a Namespace's finalizer) happens only on create.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

from berth.platform.errors import Cause
from berth.platform.resources import registry
from berth.platform.resources.defaults import batch, core, pod
from berth.platform.resources.registry import ResourceType
from berth.platform.resources.validation import (
    cluster,
    config,
    cronjob,
    job,
    job_status,
    pod_update,
    storage,
)
from berth.platform.resources.validation.fields import as_dict
from berth.platform.resources.validation.meta import validate_object_meta_update
from berth.platform.resources.validation.pod import validate_pod_create
from berth.platform.resources.validation.resources import validate_quantity_value

Defaulter = Callable[[dict], None]
Validator = Callable[[dict], list[Cause]]
UpdateValidator = Callable[[dict, dict], list[Cause]]


def _nothing(obj: dict) -> None:
    return None


def _meta_only(new: dict, old: dict) -> list[Cause]:
    return validate_object_meta_update(new.get("metadata"), old.get("metadata"))


@dataclass(frozen=True)
class KindRules:
    defaults: Defaulter  # decode-time defaults, on create and update
    on_create: Defaulter  # create-only work, after the defaults
    validate: Validator
    validate_update: UpdateValidator
    validate_status: UpdateValidator | None = None  # None: same as validate_update
    tracks_generation: bool = False  # generation counts spec changes (Jobs, CronJobs, Pods)


def _pod_on_create(obj: dict) -> None:
    spec = as_dict(obj.get("spec"))
    status: dict[str, object] = {"phase": "Pending", "qosClass": pod.qos_class(spec)}
    if spec.get("schedulingGates"):
        status["conditions"] = [
            {
                "type": "PodScheduled",
                "status": "False",
                "reason": "SchedulingGated",
                "message": "Scheduling is blocked due to non-empty scheduling gates",
            }
        ]
    obj["status"] = status


def _job_create(obj: dict) -> None:
    md = obj.setdefault("metadata", {})
    had_labels = isinstance(md, dict) and bool(md.get("labels"))
    spec = obj.get("spec")
    if isinstance(spec, dict):
        batch.default_job_spec(spec)
    batch.generate_selector(obj)
    if not had_labels:
        # The Job's own labels default to its template's, generated ones included.
        batch.copy_template_labels(obj)
    obj["status"] = {}


def _cron_job_on_create(obj: dict) -> None:
    obj["status"] = {}


def _namespace_on_create(obj: dict) -> None:
    spec = obj.get("spec")
    if not isinstance(spec, dict):
        spec = obj["spec"] = {}
    finalizers = spec.get("finalizers")
    if not isinstance(finalizers, list):
        finalizers = spec["finalizers"] = []
    if "kubernetes" not in finalizers:
        finalizers.append("kubernetes")
    obj["status"] = {"phase": "Active"}


def _pv_on_create(obj: dict) -> None:
    # The phase clock starts with the object: creationTimestamp is "now" here.
    obj["status"] = {
        "phase": "Pending",
        "lastPhaseTransitionTime": as_dict(obj.get("metadata")).get("creationTimestamp"),
    }


def _job_status(new: dict, old: dict) -> list[Cause]:
    return job_status.validate_job_status_update(new, old)


def _pvc_status(new: dict, old: dict) -> list[Cause]:
    causes = _meta_only(new, old)
    for name, value in as_dict(as_dict(new.get("status")).get("capacity")).items():
        causes += validate_quantity_value(name, value, f"status.capacity[{name}]")[1]
    return causes


RULES: dict[str, KindRules] = {
    registry.NAMESPACE.key: KindRules(
        core.default_namespace,
        _namespace_on_create,
        cluster.validate_namespace,
        cluster.validate_namespace_update,
        cluster.validate_namespace_status_update,
    ),
    registry.POD.key: KindRules(
        pod.default_pod,
        _pod_on_create,
        validate_pod_create,
        pod_update.validate_pod_update,
        pod_update.validate_pod_status_update,
        tracks_generation=True,
    ),
    registry.CONFIG_MAP.key: KindRules(
        _nothing, _nothing, config.validate_config_map, config.validate_config_map_update
    ),
    registry.SECRET.key: KindRules(
        core.default_secret, _nothing, config.validate_secret, config.validate_secret_update
    ),
    registry.EVENT.key: KindRules(
        _nothing, _nothing, cluster.validate_event, cluster.validate_event_update
    ),
    registry.NODE.key: KindRules(
        core.default_node, _nothing, cluster.validate_node, cluster.validate_node_update
    ),
    registry.PERSISTENT_VOLUME.key: KindRules(
        core.default_pv, _pv_on_create, storage.validate_pv, storage.validate_pv_update, _meta_only
    ),
    registry.PERSISTENT_VOLUME_CLAIM.key: KindRules(
        core.default_pvc, _nothing, storage.validate_pvc, storage.validate_pvc_update, _pvc_status
    ),
    registry.JOB.key: KindRules(
        batch.default_job,
        _job_create,
        job.validate_job,
        job.validate_job_update,
        _job_status,
        tracks_generation=True,
    ),
    registry.CRON_JOB.key: KindRules(
        batch.default_cron_job,
        _cron_job_on_create,
        cronjob.validate_cron_job_create,
        cronjob.validate_cron_job_update,
        _meta_only,
        tracks_generation=True,
    ),
    registry.STORAGE_CLASS.key: KindRules(
        core.default_storage_class,
        _nothing,
        storage.validate_storage_class,
        storage.validate_storage_class_update,
    ),
    registry.LEASE.key: KindRules(
        _nothing, _nothing, cluster.validate_lease, cluster.validate_lease_update
    ),
}


def rules(rt: ResourceType) -> KindRules:
    return RULES[rt.key]


def prepare_for_create(rt: ResourceType, obj: dict) -> None:
    """Defaults and create-time fields, in place. A cluster-scoped object loses any
    namespace it was sent with, as in Kubernetes."""
    md = obj.get("metadata")
    if isinstance(md, dict) and not rt.namespaced:
        md.pop("namespace", None)
    kind = rules(rt)
    if rt.key != registry.JOB.key:
        kind.defaults(obj)
    kind.on_create(obj)


def prepare_for_update(rt: ResourceType, new: dict, old: dict) -> None:
    """Defaults on the new object (``stringData`` merged, template labels copied ...)."""
    rules(rt).defaults(new)
    if rt.key == registry.POD.key:
        # Kubelets that drop qosClass from a status write must not trip its immutability.
        status, old_status = new.get("status"), as_dict(old.get("status"))
        if isinstance(status, dict) and not status.get("qosClass") and old_status.get("qosClass"):
            status["qosClass"] = old_status["qosClass"]


def validate_create(rt: ResourceType, obj: dict) -> list[Cause]:
    return rules(rt).validate(obj)


def validate_update(rt: ResourceType, new: dict, old: dict) -> list[Cause]:
    return rules(rt).validate_update(new, old)


def validate_status_update(rt: ResourceType, new: dict, old: dict) -> list[Cause]:
    kind = rules(rt)
    return (kind.validate_status or kind.validate_update)(new, old)


def tracks_generation(rt: ResourceType) -> bool:
    """Whether Kubernetes keeps ``metadata.generation`` for this kind at all. ConfigMaps,
    Secrets, Namespaces, Nodes, volumes, Events, StorageClasses and Leases have none there
    (it stays unset, so their data changes never bump it)."""
    return rules(rt).tracks_generation


def spec_changed(rt: ResourceType, new: dict, old: dict) -> bool:
    """Whether this update must bump ``metadata.generation``: a change of ``spec`` for the
    kinds that keep a generation, never for the others."""
    return rules(rt).tracks_generation and new.get("spec") != old.get("spec")
