"""Defaults of pod specs (Pods and the templates of Jobs and CronJobs) and of Pods alone.

Kubernetes applies the spec defaults to every pod spec it decodes, template or not, but some
defaults only to real Pods: requests copied from limits, ``enableServiceLinks``, and the
priority the Priority admission plugin sets. Templates keep what the user wrote there, so a
Job's template shows only the limits it was given and the Pods made from it get the requests.
"""

from __future__ import annotations

import re
from fractions import Fraction

from berth.platform.resources import quantity

_COMPONENT = r"[a-z0-9]+(?:(?:[._]|__|-+)[a-z0-9]+)*"
_DOMAIN = r"(?:[a-zA-Z0-9-]+(?:\.[a-zA-Z0-9-]+)*(?::[0-9]+)?|\[[0-9a-fA-F:]+\](?::[0-9]+)?)"
_IMAGE = re.compile(
    rf"^(?:{_DOMAIN}/)?{_COMPONENT}(?:/{_COMPONENT})*"
    r"(?::(?P<tag>[\w][\w.-]{0,127}))?"
    r"(?:@(?P<digest>[A-Za-z][A-Za-z0-9]*(?:[-_+.][A-Za-z][A-Za-z0-9]*)*"
    r":[0-9a-fA-F]{32,}))?$"
)
QOS_RESOURCES = ("cpu", "memory")


def pull_policy(image: object) -> str:
    """``Always`` for ``:latest`` or an untagged name, else ``IfNotPresent``. A digest without
    a tag, or a name that does not parse, counts as pinned (as Kubernetes does)."""
    match = _IMAGE.match(image) if isinstance(image, str) else None
    if not match:
        return "IfNotPresent"
    tag = match.group("tag") or ("" if match.group("digest") else "latest")
    return "Always" if tag == "latest" else "IfNotPresent"


def default_pod_spec(spec: dict) -> None:
    _set_if_empty(spec, "dnsPolicy", "ClusterFirst")
    _set_if_empty(spec, "restartPolicy", "Always")
    if spec.get("securityContext") is None:
        spec["securityContext"] = {}
    if spec.get("terminationGracePeriodSeconds") is None:
        spec["terminationGracePeriodSeconds"] = 30
    _set_if_empty(spec, "schedulerName", "default-scheduler")
    for kind in ("containers", "initContainers", "ephemeralContainers"):
        for c in _dicts(spec.get(kind)):
            default_container(c)
    for volume in _dicts(spec.get("volumes")):
        default_volume(volume)


def _set_if_empty(target: dict, key: str, value: object) -> None:
    if not target.get(key):
        target[key] = value


def _dicts(value: object) -> list[dict]:
    return [v for v in value if isinstance(v, dict)] if isinstance(value, list) else []


def default_container(c: dict) -> None:
    _set_if_empty(c, "imagePullPolicy", pull_policy(c.get("image")))
    _set_if_empty(c, "terminationMessagePath", "/dev/termination-log")
    _set_if_empty(c, "terminationMessagePolicy", "File")
    if c.get("resources") is None:
        c["resources"] = {}
    for port in _dicts(c.get("ports")):
        _set_if_empty(port, "protocol", "TCP")
    for var in _dicts(c.get("env")):
        field_ref = (
            (var.get("valueFrom") or {}).get("fieldRef")
            if isinstance(var.get("valueFrom"), dict)
            else None
        )
        if isinstance(field_ref, dict):
            _set_if_empty(field_ref, "apiVersion", "v1")
    for key in ("livenessProbe", "readinessProbe", "startupProbe"):
        if isinstance(c.get(key), dict):
            default_probe(c[key])
    lifecycle = c.get("lifecycle")
    if isinstance(lifecycle, dict):
        for hook in ("postStart", "preStop"):
            if isinstance(lifecycle.get(hook), dict):
                _default_http_get(lifecycle[hook])


def default_probe(probe: dict) -> None:
    for key, value in (
        ("timeoutSeconds", 1),
        ("periodSeconds", 10),
        ("successThreshold", 1),
        ("failureThreshold", 3),
    ):
        if not probe.get(key):
            probe[key] = value
    _default_http_get(probe)


def _default_http_get(handler: dict) -> None:
    action = handler.get("httpGet")
    if isinstance(action, dict):
        _set_if_empty(action, "path", "/")
        _set_if_empty(action, "scheme", "HTTP")


def default_volume(volume: dict) -> None:
    if not any(v is not None for k, v in volume.items() if k != "name"):
        # A volume without a source is an emptyDir.
        volume["emptyDir"] = {}
    for kind in ("secret", "configMap", "downwardAPI", "projected"):
        src = volume.get(kind)
        if isinstance(src, dict) and src.get("defaultMode") is None:
            src["defaultMode"] = 0o644
    host_path = volume.get("hostPath")
    if isinstance(host_path, dict) and host_path.get("type") is None:
        host_path["type"] = ""
    _downward_items(volume.get("downwardAPI"))
    for source in _dicts(
        (volume.get("projected") or {}).get("sources")
        if isinstance(volume.get("projected"), dict)
        else None
    ):
        token = source.get("serviceAccountToken")
        if isinstance(token, dict) and token.get("expirationSeconds") is None:
            token["expirationSeconds"] = 3600
        _downward_items(source.get("downwardAPI"))
    ephemeral = volume.get("ephemeral")
    if isinstance(ephemeral, dict) and isinstance(ephemeral.get("volumeClaimTemplate"), dict):
        spec = ephemeral["volumeClaimTemplate"].get("spec")
        if isinstance(spec, dict):
            default_claim_spec(spec)


def _downward_items(source: object) -> None:
    for item in _dicts(source.get("items") if isinstance(source, dict) else None):
        if isinstance(item.get("fieldRef"), dict):
            _set_if_empty(item["fieldRef"], "apiVersion", "v1")


def default_claim_spec(spec: dict) -> None:
    _set_if_empty(spec, "volumeMode", "Filesystem")


def default_pod(pod: dict) -> None:
    """Defaults of a Pod object: the spec's, then those only Pods get."""
    spec = pod.get("spec")
    if not isinstance(spec, dict):
        return
    default_pod_spec(spec)
    for kind in ("containers", "initContainers"):
        for c in _dicts(spec.get(kind)):
            _requests_from_limits(c)
    if spec.get("enableServiceLinks") is None:
        spec["enableServiceLinks"] = True
    if spec.get("hostNetwork") is True:
        for c in _dicts(spec.get("containers")) + _dicts(spec.get("initContainers")):
            for port in _dicts(c.get("ports")):
                if not port.get("hostPort"):
                    port["hostPort"] = port.get("containerPort")
    # What the Priority admission plugin sets when no PriorityClass applies.
    if spec.get("priority") is None and not spec.get("priorityClassName"):
        spec["priority"] = 0
    _set_if_empty(spec, "preemptionPolicy", "PreemptLowerPriority")


def _requests_from_limits(c: dict) -> None:
    resources = c.get("resources")
    if not isinstance(resources, dict) or not isinstance(resources.get("limits"), dict):
        return
    if not isinstance(resources.get("requests"), dict):
        resources["requests"] = {}
    for name, value in resources["limits"].items():
        resources["requests"].setdefault(name, value)


def qos_class(spec: dict) -> str:
    """Guaranteed, Burstable or BestEffort, as ``ComputePodQOS`` decides from the requests
    and limits of cpu and memory of every container."""
    requests: dict[str, Fraction] = {}
    limits: dict[str, Fraction] = {}
    guaranteed = True
    for c in _dicts(spec.get("containers")) + _dicts(spec.get("initContainers")):
        resources = c.get("resources")
        resources = resources if isinstance(resources, dict) else {}
        _add(requests, resources.get("requests"))
        found = _add(limits, resources.get("limits"))
        if not {"cpu", "memory"} <= found:
            guaranteed = False
    if not requests and not limits:
        return "BestEffort"
    if (
        guaranteed
        and all(limits.get(k) == v for k, v in requests.items())
        and len(requests) == len(limits)
    ):
        return "Guaranteed"
    return "Burstable"


def _add(total: dict[str, Fraction], values: object) -> set[str]:
    found: set[str] = set()
    if not isinstance(values, dict):
        return found
    for name in QOS_RESOURCES:
        if name not in values:
            continue
        try:
            amount = quantity.parse(values[name])
        except quantity.QuantityError:
            continue
        if amount > 0:
            total[name] = total.get(name, Fraction(0)) + amount
            found.add(name)
    return found
