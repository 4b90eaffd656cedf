"""Pod specs (shared by Pods and the templates of Jobs and CronJobs) and Pods themselves."""

from __future__ import annotations

from berth.platform.errors import Cause
from berth.platform.resources.validation import names
from berth.platform.resources.validation.container import (
    validate_container_common,
    validate_handler,
    validate_probe,
)
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
from berth.platform.resources.validation.meta import (
    validate_labels,
    validate_object_meta,
    validate_template_meta,
)
from berth.platform.resources.validation.resources import (
    validate_gpu_shares,
    validate_resource_requirements,
)
from berth.platform.resources.validation.scheduling import (
    validate_affinity,
    validate_tolerations,
    validate_topology_spread,
)
from berth.platform.resources.validation.storage import validate_pvc_spec
from berth.platform.resources.validation.volumes import validate_volumes

RESTART_POLICIES = ("Always", "OnFailure", "Never")
DNS_POLICIES = ("ClusterFirstWithHostNet", "ClusterFirst", "Default", "None")
PREEMPTION_POLICIES = ("PreemptLowerPriority", "Never")
OS_NAMES = ("linux", "windows")


def validate_pod_spec(spec: object, path: str, *, is_pod: bool) -> list[Cause]:
    spec = as_dict(spec)
    causes: list[Cause] = []
    grace = spec.get("terminationGracePeriodSeconds")
    if grace is None:
        causes.append(required(f"{path}.terminationGracePeriodSeconds"))
    elif not is_int(grace) or grace < 0:
        causes.append(
            invalid(
                f"{path}.terminationGracePeriodSeconds", grace, "must be greater than or equal to 0"
            )
        )
    volumes, errs = validate_volumes(spec.get("volumes"), f"{path}.volumes", validate_pvc_spec)
    causes += errs
    causes += _containers(spec, volumes, f"{path}.containers")
    causes += _init_containers(spec, volumes, f"{path}.initContainers")
    causes += validate_gpu_shares(spec, path)
    causes += _host_ports(spec, path, is_pod)
    causes += _enum(spec.get("restartPolicy"), f"{path}.restartPolicy", RESTART_POLICIES)
    causes += _enum(spec.get("dnsPolicy"), f"{path}.dnsPolicy", DNS_POLICIES)
    causes += validate_labels(spec.get("nodeSelector"), f"{path}.nodeSelector")
    causes += _pull_secrets(spec.get("imagePullSecrets"), f"{path}.imagePullSecrets")
    causes += validate_affinity(spec.get("affinity"), f"{path}.affinity")
    if spec.get("dnsPolicy") == "None" and spec.get("dnsConfig") is None:
        causes.append(
            required(f"{path}.dnsConfig", "must provide `dnsConfig` when `dnsPolicy` is None")
        )
    for i, gate in enumerate(as_list(spec.get("readinessGates"))):
        ctype = str(as_dict(gate).get("conditionType") or "")
        causes += [
            invalid(f"{path}.readinessGates[{i}].conditionType", ctype, m)
            for m in names.qualified_name(ctype)
        ]
    causes += _scheduling_gates(spec.get("schedulingGates"), f"{path}.schedulingGates")
    causes += validate_topology_spread(
        spec.get("topologySpreadConstraints"), f"{path}.topologySpreadConstraints"
    )
    for key, fn in (
        ("serviceAccountName", names.name_is_dns_subdomain),
        ("nodeName", names.name_is_dns_subdomain),
        ("priorityClassName", names.name_is_dns_subdomain),
        ("runtimeClassName", names.name_is_dns_subdomain),
        ("hostname", names.dns1123_label),
        ("subdomain", names.dns1123_label),
    ):
        value = spec.get(key)
        if value:
            causes += [invalid(f"{path}.{key}", value, m) for m in fn(str(value))]
    deadline = spec.get("activeDeadlineSeconds")
    if deadline is not None and (not is_int(deadline) or not 1 <= deadline <= names.MAX_INT32):
        causes.append(
            invalid(
                f"{path}.activeDeadlineSeconds",
                deadline,
                names.inclusive_range_error(1, names.MAX_INT32),
            )
        )
    causes += validate_tolerations(spec.get("tolerations"), f"{path}.tolerations")
    causes += _host_aliases(spec.get("hostAliases"), f"{path}.hostAliases")
    if spec.get("preemptionPolicy") is not None:
        causes += _enum(spec["preemptionPolicy"], f"{path}.preemptionPolicy", PREEMPTION_POLICIES)
    if spec.get("overhead") is not None:
        causes += validate_resource_requirements({"limits": spec["overhead"]}, f"{path}.overhead")
    if spec.get("os") is not None:
        os_name = as_dict(spec["os"]).get("name")
        if os_name not in OS_NAMES:
            causes.append(unsupported(f"{path}.os.name", os_name or "", OS_NAMES))
    return causes


def _enum(value: object, path: str, allowed: tuple[str, ...]) -> list[Cause]:
    if not value:
        return [required(path)]
    return [] if value in allowed else [unsupported(path, value, allowed)]


def _containers(spec: dict, volumes: dict, path: str) -> list[Cause]:
    containers = as_list(spec.get("containers"))
    if not containers:
        return [required(path)]
    causes: list[Cause] = []
    seen: set = set()
    for i, c in enumerate(containers):
        c, cpath = as_dict(c), f"{path}[{i}]"
        causes += validate_container_common(c, volumes, cpath)
        name = c.get("name")
        if isinstance(name, str) and name in seen:
            causes.append(duplicate(f"{cpath}.name", name))
        seen.add(name if isinstance(name, str) else None)
        if c.get("lifecycle") is not None:
            causes += _lifecycle(as_dict(c["lifecycle"]), f"{cpath}.lifecycle")
        causes += validate_probe(
            c.get("livenessProbe"), f"{cpath}.livenessProbe", liveness_like=True
        )
        causes += validate_probe(c.get("readinessProbe"), f"{cpath}.readinessProbe", readiness=True)
        causes += validate_probe(c.get("startupProbe"), f"{cpath}.startupProbe", liveness_like=True)
        if c.get("restartPolicy") is not None:
            causes.append(
                forbidden(f"{cpath}.restartPolicy", "may not be set for non-init containers")
            )
    return causes


def _init_containers(spec: dict, volumes: dict, path: str) -> list[Cause]:
    causes: list[Cause] = []
    seen = {key_of(as_dict(c).get("name")) for c in as_list(spec.get("containers"))}
    for i, c in enumerate(as_list(spec.get("initContainers"))):
        c, cpath = as_dict(c), f"{path}[{i}]"
        causes += validate_container_common(c, volumes, cpath)
        restart = c.get("restartPolicy")
        if restart is not None and restart != "Always":
            causes.append(unsupported(f"{cpath}.restartPolicy", restart, ("Always",)))
        name = c.get("name")
        if isinstance(name, str) and name in seen:
            causes.append(duplicate(f"{cpath}.name", name))
        elif name:
            seen.add(key_of(name))
        if restart == "Always":
            if c.get("lifecycle") is not None:
                causes += _lifecycle(as_dict(c["lifecycle"]), f"{cpath}.lifecycle")
            causes += validate_probe(
                c.get("livenessProbe"), f"{cpath}.livenessProbe", liveness_like=True
            )
            causes += validate_probe(
                c.get("readinessProbe"), f"{cpath}.readinessProbe", readiness=True
            )
            causes += validate_probe(
                c.get("startupProbe"), f"{cpath}.startupProbe", liveness_like=True
            )
            continue
        for key in ("lifecycle", "livenessProbe", "readinessProbe", "startupProbe"):
            if c.get(key) is not None:
                causes.append(
                    forbidden(
                        f"{cpath}.{key}",
                        "may not be set for init containers without restartPolicy=Always",
                    )
                )
    return causes


def _lifecycle(lifecycle: dict, path: str) -> list[Cause]:
    causes: list[Cause] = []
    for hook in ("postStart", "preStop"):
        if lifecycle.get(hook) is not None:
            causes += validate_handler(as_dict(lifecycle[hook]), f"{path}.{hook}", allow_sleep=True)
    return causes


def _host_ports(spec: dict, path: str, is_pod: bool) -> list[Cause]:
    """Host ports may not collide; with hostNetwork they must equal the container port."""
    causes: list[Cause] = []
    seen: set[str] = set()
    host_network = spec.get("hostNetwork") is True
    for i, c in enumerate(as_list(spec.get("containers"))):
        for j, port in enumerate(as_list(as_dict(c).get("ports"))):
            port, ppath = as_dict(port), f"{path}.containers[{i}].ports[{j}].hostPort"
            host, container = port.get("hostPort") or 0, port.get("containerPort")
            if host_network and (is_pod or host) and host != container:
                causes.append(
                    invalid(ppath, host, "must match `containerPort` when `hostNetwork` is true")
                )
            if not host:
                continue
            key = f"{port.get('protocol') or ''}/{port.get('hostIP') or ''}/{host}"
            if key in seen:
                causes.append(duplicate(ppath, key))
            seen.add(key)
    return causes


def _pull_secrets(secrets: object, path: str) -> list[Cause]:
    return [
        invalid(f"{path}[{i}]", s, "only name may be set")
        for i, s in enumerate(as_list(secrets))
        if set(as_dict(s)) - {"name"}
    ]


def _scheduling_gates(gates: object, path: str) -> list[Cause]:
    causes: list[Cause] = []
    seen: set[str] = set()
    for i, gate in enumerate(as_list(gates)):
        name = str(as_dict(gate).get("name") or "")
        causes += [invalid(f"{path}[{i}]", name, m) for m in names.qualified_name(name)]
        if name in seen:
            causes.append(duplicate(f"{path}[{i}]", name))
        seen.add(name)
    return causes


def _host_aliases(aliases: object, path: str) -> list[Cause]:
    causes: list[Cause] = []
    for i, alias in enumerate(as_list(aliases)):
        alias = as_dict(alias)
        ip = str(alias.get("ip") or "")
        causes += [invalid(f"{path}[{i}].ip", ip, m) for m in names.ip_address(ip)]
        for j, host in enumerate(as_list(alias.get("hostnames"))):
            causes += [
                invalid(f"{path}[{i}].hostnames[{j}]", host, m)
                for m in names.dns1123_subdomain(str(host))
            ]
    return causes


def validate_pod_template(template: object, path: str) -> list[Cause]:
    """``ValidatePodTemplateSpec``: the template's labels, annotations and spec."""
    template = as_dict(template)
    md = as_dict(template.get("metadata"))
    spec = as_dict(template.get("spec"))
    causes = validate_labels(md.get("labels"), f"{path}.labels")
    causes += validate_template_meta({"annotations": md.get("annotations")}, path)
    causes += validate_pod_spec(spec, f"{path}.spec", is_pod=False)
    if as_list(spec.get("ephemeralContainers")):
        causes.append(
            forbidden(
                f"{path}.spec.ephemeralContainers",
                "ephemeral containers not allowed in pod template",
            )
        )
    return causes


def validate_pod(pod: dict) -> list[Cause]:
    spec = as_dict(pod.get("spec"))
    causes = validate_object_meta(pod.get("metadata"), True, names.name_is_dns_subdomain)
    causes += validate_pod_spec(spec, "spec", is_pod=True)
    for kind in ("containers", "initContainers"):
        for i, c in enumerate(as_list(spec.get(kind))):
            image = as_dict(c).get("image")
            if isinstance(image, str) and image != image.strip():
                causes.append(
                    invalid(
                        f"spec.{kind}[{i}].image",
                        image,
                        "must not have leading or trailing whitespace",
                    )
                )
    return causes


def validate_pod_create(pod: dict) -> list[Cause]:
    causes = validate_pod(pod)
    if as_list(as_dict(pod.get("spec")).get("ephemeralContainers")):
        causes.append(forbidden("spec.ephemeralContainers", "cannot be set on create"))
    return causes
