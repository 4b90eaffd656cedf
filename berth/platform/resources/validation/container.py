"""Containers of a pod spec: names, images, ports, env, mounts, probes and resources."""

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
    non_negative,
    not_found,
    required,
    unsupported,
)
from berth.platform.resources.validation.projections import field_selector, local_descending_path
from berth.platform.resources.validation.resources import validate_resource_requirements

PROTOCOLS = ("SCTP", "TCP", "UDP")
PULL_POLICIES = ("Always", "IfNotPresent", "Never")
TERMINATION_MESSAGE_POLICIES = ("File", "FallbackToLogsOnError")
MOUNT_PROPAGATIONS = ("Bidirectional", "HostToContainer", "None")
HTTP_SCHEMES = ("HTTP", "HTTPS")
ENV_FIELD_PATHS = (
    "metadata.annotations",
    "metadata.labels",
    "metadata.name",
    "metadata.namespace",
    "metadata.uid",
    "spec.nodeName",
    "spec.serviceAccountName",
    "status.hostIP",
    "status.hostIPs",
    "status.podIP",
    "status.podIPs",
)
RESOURCE_FIELD_PATHS = (
    "limits.cpu",
    "limits.ephemeral-storage",
    "limits.memory",
    "requests.cpu",
    "requests.ephemeral-storage",
    "requests.memory",
)


def validate_container_common(c: dict, volumes: dict[str, dict], path: str) -> list[Cause]:
    """What regular and init containers share (``validateContainerCommon``)."""
    causes: list[Cause] = []
    name = c.get("name")
    if not name:
        causes.append(required(f"{path}.name"))
    elif not isinstance(name, str):
        causes.append(invalid(f"{path}.name", name, "must be a string"))
    else:
        causes += [invalid(f"{path}.name", name, m) for m in names.dns1123_label(name)]
    if not c.get("image"):
        causes.append(required(f"{path}.image"))
    policy = c.get("terminationMessagePolicy")
    if not policy:
        causes.append(required(f"{path}.terminationMessagePolicy"))
    elif policy not in TERMINATION_MESSAGE_POLICIES:
        causes.append(
            unsupported(f"{path}.terminationMessagePolicy", policy, TERMINATION_MESSAGE_POLICIES)
        )
    causes += _string_list(c.get("command"), f"{path}.command")
    causes += _string_list(c.get("args"), f"{path}.args")
    causes += validate_ports(c.get("ports"), f"{path}.ports")
    causes += validate_env(c.get("env"), f"{path}.env")
    causes += validate_env_from(c.get("envFrom"), f"{path}.envFrom")
    causes += validate_mounts(c, volumes, f"{path}.volumeMounts")
    pull = c.get("imagePullPolicy")
    if not pull:
        causes.append(required(f"{path}.imagePullPolicy"))
    elif pull not in PULL_POLICIES:
        causes.append(unsupported(f"{path}.imagePullPolicy", pull, PULL_POLICIES))
    causes += validate_resource_requirements(c.get("resources"), f"{path}.resources")
    causes += _security_context(as_dict(c.get("securityContext")), f"{path}.securityContext")
    return causes


def _string_list(value: object, path: str) -> list[Cause]:
    if value is None:
        return []
    if not isinstance(value, list):
        return [invalid(path, value, "must be a list of strings")]
    return [
        invalid(f"{path}[{i}]", v, "must be a string")
        for i, v in enumerate(value)
        if not isinstance(v, str)
    ]


def validate_ports(ports: object, path: str) -> list[Cause]:
    causes: list[Cause] = []
    seen: set = set()
    for i, port in enumerate(as_list(ports)):
        port, ppath = as_dict(port), f"{path}[{i}]"
        name = port.get("name")
        if name:
            errs = names.port_name(str(name))
            causes += [invalid(f"{ppath}.name", name, m) for m in errs]
            if not errs and key_of(name) in seen:
                causes.append(duplicate(f"{ppath}.name", name))
            seen.add(key_of(name))
        number = port.get("containerPort")
        if not number:
            causes.append(required(f"{ppath}.containerPort"))
        elif not is_int(number):
            causes.append(invalid(f"{ppath}.containerPort", number, "must be an integer"))
        else:
            causes += [
                invalid(f"{ppath}.containerPort", number, m) for m in names.port_number(number)
            ]
        host = port.get("hostPort")
        if host:
            if not is_int(host):
                causes.append(invalid(f"{ppath}.hostPort", host, "must be an integer"))
            else:
                causes += [invalid(f"{ppath}.hostPort", host, m) for m in names.port_number(host)]
        protocol = port.get("protocol")
        if not protocol:
            causes.append(required(f"{ppath}.protocol"))
        elif protocol not in PROTOCOLS:
            causes.append(unsupported(f"{ppath}.protocol", protocol, PROTOCOLS))
    return causes


def validate_env(env: object, path: str) -> list[Cause]:
    causes: list[Cause] = []
    for i, var in enumerate(as_list(env)):
        var, vpath = as_dict(var), f"{path}[{i}]"
        name = var.get("name")
        if not name:
            causes.append(required(f"{vpath}.name"))
        elif not isinstance(name, str):
            causes.append(invalid(f"{vpath}.name", name, "must be a string"))
        else:
            causes += [invalid(f"{vpath}.name", name, m) for m in names.env_var_name(name)]
        if var.get("value") is not None and not isinstance(var.get("value"), str):
            causes.append(invalid(f"{vpath}.value", var["value"], "must be a string"))
        causes += _value_from(var, f"{vpath}.valueFrom")
    return causes


def _value_from(var: dict, path: str) -> list[Cause]:
    if var.get("valueFrom") is None:
        return []
    src = as_dict(var["valueFrom"])
    causes: list[Cause] = []
    count = 0
    if src.get("fieldRef") is not None:
        count += 1
        causes += field_selector(as_dict(src["fieldRef"]), ENV_FIELD_PATHS, f"{path}.fieldRef")
    if src.get("resourceFieldRef") is not None:
        count += 1
        ref = as_dict(src["resourceFieldRef"])
        resource = ref.get("resource")
        if not resource:
            causes.append(required(f"{path}.resourceFieldRef.resource"))
        elif resource not in RESOURCE_FIELD_PATHS and not str(resource).startswith(
            ("requests.hugepages-", "limits.hugepages-")
        ):
            causes.append(
                unsupported(f"{path}.resourceFieldRef.resource", resource, RESOURCE_FIELD_PATHS)
            )
    for kind in ("configMapKeyRef", "secretKeyRef"):
        if src.get(kind) is not None:
            count += 1
            causes += _key_selector(as_dict(src[kind]), f"{path}.{kind}")
    if count == 0:
        causes.append(
            invalid(
                path,
                "",
                "must specify one of: `fieldRef`, `resourceFieldRef`, "
                "`configMapKeyRef` or `secretKeyRef`",
            )
        )
    elif var.get("value"):
        causes.append(invalid(path, "", "may not be specified when `value` is not empty"))
    elif count > 1:
        causes.append(invalid(path, "", "may not have more than one field specified at a time"))
    return causes


def _key_selector(ref: dict, path: str) -> list[Cause]:
    name = ref.get("name") or ""
    causes = [invalid(f"{path}.name", name, m) for m in names.name_is_dns_subdomain(str(name))]
    key = ref.get("key")
    if not key:
        causes.append(required(f"{path}.key"))
    else:
        causes += [invalid(f"{path}.key", key, m) for m in names.config_map_key(str(key))]
    return causes


def validate_env_from(sources: object, path: str) -> list[Cause]:
    causes: list[Cause] = []
    for i, src in enumerate(as_list(sources)):
        src, spath = as_dict(src), f"{path}[{i}]"
        prefix = src.get("prefix")
        if prefix:
            causes += [
                invalid(f"{spath}.prefix", prefix, m) for m in names.env_var_name(str(prefix))
            ]
        count = 0
        for kind in ("configMapRef", "secretRef"):
            if src.get(kind) is None:
                continue
            count += 1
            name = as_dict(src[kind]).get("name")
            if not name:
                causes.append(required(f"{spath}.{kind}.name"))
            else:
                causes += [
                    invalid(f"{spath}.{kind}.name", name, m)
                    for m in names.name_is_dns_subdomain(str(name), True)
                ]
        if count == 0:
            causes.append(invalid(path, "", "must specify one of: `configMapRef` or `secretRef`"))
        elif count > 1:
            causes.append(invalid(path, "", "may not have more than one field specified at a time"))
    return causes


def validate_mounts(c: dict, volumes: dict[str, dict], path: str) -> list[Cause]:
    causes: list[Cause] = []
    mount_paths: set = set()
    privileged = as_dict(c.get("securityContext")).get("privileged") is True
    for i, mount in enumerate(as_list(c.get("volumeMounts"))):
        mount, mpath = as_dict(mount), f"{path}[{i}]"
        name = mount.get("name")
        if not name:
            causes.append(required(f"{mpath}.name"))
        if not isinstance(name, str) or name not in volumes:
            causes.append(not_found(f"{mpath}.name", name or ""))
        target = mount.get("mountPath")
        if not target:
            causes.append(required(f"{mpath}.mountPath"))
        elif key_of(target) in mount_paths:
            causes.append(invalid(f"{mpath}.mountPath", target, "must be unique"))
        if isinstance(target, str):
            mount_paths.add(target)
        sub = mount.get("subPath")
        if sub:
            causes += local_descending_path(str(sub), f"{path}.subPath")
        expr = mount.get("subPathExpr")
        if expr:
            if sub:
                causes.append(
                    invalid(
                        f"{mpath}.subPathExpr",
                        expr,
                        "subPathExpr and subPath are mutually exclusive",
                    )
                )
            causes += local_descending_path(str(expr), f"{path}.subPathExpr")
        propagation = mount.get("mountPropagation")
        if propagation is not None:
            if propagation not in MOUNT_PROPAGATIONS:
                causes.append(
                    unsupported(f"{path}.mountPropagation", propagation, MOUNT_PROPAGATIONS)
                )
            elif propagation == "Bidirectional" and not privileged:
                causes.append(
                    forbidden(
                        f"{path}.mountPropagation",
                        "Bidirectional mount "
                        "propagation is available only to privileged containers",
                    )
                )
    return causes


def _security_context(sc: dict, path: str) -> list[Cause]:
    causes: list[Cause] = []
    for key in ("runAsUser", "runAsGroup"):
        value = sc.get(key)
        if value is not None and (not is_int(value) or not 0 <= value <= names.MAX_INT32):
            causes.append(
                invalid(f"{path}.{key}", value, names.inclusive_range_error(0, names.MAX_INT32))
            )
    return causes


def validate_probe(
    probe: object, path: str, *, liveness_like: bool = False, readiness: bool = False
) -> list[Cause]:
    if probe is None:
        return []
    probe = as_dict(probe)
    causes = validate_handler(probe, path, allow_grpc=True)
    for key in (
        "initialDelaySeconds",
        "timeoutSeconds",
        "periodSeconds",
        "successThreshold",
        "failureThreshold",
    ):
        causes += non_negative(f"{path}.{key}", probe.get(key))
    grace = probe.get("terminationGracePeriodSeconds")
    if grace is not None:
        if readiness:
            causes.append(
                invalid(
                    f"{path}.terminationGracePeriodSeconds",
                    grace,
                    "must not be set for readinessProbes",
                )
            )
        elif not is_int(grace) or grace <= 0:
            causes.append(
                invalid(f"{path}.terminationGracePeriodSeconds", grace, "must be greater than 0")
            )
    if liveness_like and probe.get("successThreshold", 1) != 1:
        causes.append(
            invalid(f"{path}.successThreshold", probe.get("successThreshold"), "must be 1")
        )
    return causes


def validate_handler(
    handler: dict, path: str, *, allow_grpc: bool = False, allow_sleep: bool = False
) -> list[Cause]:
    kinds = ["exec", "httpGet", "tcpSocket"]
    kinds += ["grpc"] if allow_grpc else []
    kinds += ["sleep"] if allow_sleep else []
    causes: list[Cause] = []
    found = 0
    for kind in kinds:
        if handler.get(kind) is None:
            continue
        if found:
            causes.append(forbidden(f"{path}.{kind}", "may not specify more than 1 handler type"))
            continue
        found += 1
        action, apath = as_dict(handler[kind]), f"{path}.{kind}"
        if kind == "exec" and not as_list(action.get("command")):
            causes.append(required(f"{apath}.command"))
        elif kind == "httpGet":
            causes += _http_get(action, apath)
        elif kind in ("tcpSocket", "grpc"):
            causes += _port_num_or_name(action.get("port"), f"{apath}.port")
    if not found:
        causes.append(required(path, "must specify a handler type"))
    return causes


def _http_get(action: dict, path: str) -> list[Cause]:
    causes = [] if action.get("path") else [required(f"{path}.path")]
    causes += _port_num_or_name(action.get("port"), f"{path}.port")
    scheme = action.get("scheme")
    if scheme not in HTTP_SCHEMES:
        causes.append(unsupported(f"{path}.scheme", scheme or "", HTTP_SCHEMES))
    for header in as_list(action.get("httpHeaders")):
        name = str(as_dict(header).get("name") or "")
        causes += [invalid(f"{path}.httpHeaders", name, m) for m in names.http_header_name(name)]
    return causes


def _port_num_or_name(port: object, path: str) -> list[Cause]:
    if is_int(port):
        return [invalid(path, port, m) for m in names.port_number(port)]
    if isinstance(port, str):
        return [invalid(path, port, m) for m in names.port_name(port)]
    return [invalid(path, port, m) for m in names.port_number(0)]
