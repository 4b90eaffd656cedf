"""ObjectMeta, labels, annotations and label selectors (apimachinery validation)."""

from __future__ import annotations

from collections.abc import Callable

from berth.platform.errors import BadRequest, Cause
from berth.platform.resources import selectors
from berth.platform.resources.validation import names
from berth.platform.resources.validation.fields import (
    as_dict,
    as_list,
    forbidden,
    immutable,
    invalid,
    non_negative,
    required,
)

NameFn = Callable[[str, bool], list[str]]

TOTAL_ANNOTATION_SIZE = 256 * 1024
STANDARD_FINALIZERS = frozenset({"kubernetes", "orphan", "foregroundDeletion"})
SELECTOR_OPERATORS = ("In", "NotIn", "Exists", "DoesNotExist")


def validate_labels(labels: object, path: str) -> list[Cause]:
    causes: list[Cause] = []
    if labels is None:
        return causes
    if not isinstance(labels, dict):
        return [invalid(path, labels, "must be a map of string keys to string values")]
    for key, value in labels.items():
        causes += [invalid(path, key, m) for m in names.qualified_name(key)]
        if not isinstance(value, str):
            causes.append(invalid(path, value, "must be a string"))
            continue
        causes += [invalid(path, value, m) for m in names.label_value(value)]
    return causes


def validate_label_name(key: object, path: str) -> list[Cause]:
    if not isinstance(key, str):
        return [invalid(path, key, "must be a string")]
    return [invalid(path, key, m) for m in names.qualified_name(key)]


def validate_annotations(annotations: object, path: str) -> list[Cause]:
    if annotations is None:
        return []
    if not isinstance(annotations, dict):
        return [invalid(path, annotations, "must be a map of string keys to string values")]
    causes: list[Cause] = []
    size = 0
    for key, value in annotations.items():
        # Annotation keys are qualified names in any case.
        causes += [invalid(path, key, m) for m in names.qualified_name(key.lower())]
        if not isinstance(value, str):
            causes.append(invalid(path, value, "must be a string"))
            continue
        size += len(key.encode()) + len(value.encode())
    if size > TOTAL_ANNOTATION_SIZE:
        causes.append(
            Cause(
                path,
                f"Too long: must have at most {TOTAL_ANNOTATION_SIZE} bytes",
                "FieldValueTooLong",
            )
        )
    return causes


def validate_owner_references(refs: object, path: str) -> list[Cause]:
    causes: list[Cause] = []
    first_controller = ""
    for ref in as_list(refs):
        ref = as_dict(ref)
        api_version = ref.get("apiVersion") or ""
        version = api_version.split("/")[-1] if isinstance(api_version, str) else ""
        if not version:
            causes.append(invalid(f"{path}.apiVersion", api_version, "version must not be empty"))
        if not ref.get("kind"):
            causes.append(invalid(f"{path}.kind", ref.get("kind") or "", "kind must not be empty"))
        if not ref.get("name"):
            causes.append(invalid(f"{path}.name", ref.get("name") or "", "name must not be empty"))
        if not ref.get("uid"):
            causes.append(invalid(f"{path}.uid", ref.get("uid") or "", "uid must not be empty"))
        if api_version == "v1" and ref.get("kind") == "Event":
            causes.append(invalid(path, ref, "/v1, Kind=Event is disallowed from being an owner"))
        if ref.get("controller") is True:
            current = f"{ref.get('kind')}/{ref.get('name')}"
            if first_controller:
                causes.append(
                    invalid(
                        path,
                        refs,
                        "Only one reference can have Controller set "
                        f'to true. Found "true" in references for '
                        f"{first_controller} and {current}",
                    )
                )
            else:
                first_controller = current
    return causes


def validate_finalizers(finalizers: object, path: str) -> list[Cause]:
    """apimachinery's qualified-name check plus core's "standard or fully qualified" rule."""
    causes: list[Cause] = []
    items = as_list(finalizers)
    for f in items:
        if isinstance(f, str):
            causes += [invalid(path, f, m) for m in names.qualified_name(f)]
    if "orphan" in items and "foregroundDeletion" in items:
        causes.append(
            invalid(path, items, "finalizer orphan and foregroundDeletion cannot be both set")
        )
    for i, f in enumerate(items):
        causes += validate_kube_finalizer(f, f"{path}[{i}]")
    return causes


def validate_kube_finalizer(value: object, path: str) -> list[Cause]:
    if not isinstance(value, str):
        return [invalid(path, value, "must be a string")]
    if "/" not in value and value not in STANDARD_FINALIZERS:
        return [
            invalid(
                path, value, "name is neither a standard finalizer name nor is it fully qualified"
            )
        ]
    return []


def validate_object_meta(
    md: object, namespaced: bool, name_fn: NameFn, path: str = "metadata"
) -> list[Cause]:
    md = as_dict(md)
    causes: list[Cause] = []
    generate = md.get("generateName")
    if isinstance(generate, str) and generate:
        causes += [invalid(f"{path}.generateName", generate, m) for m in name_fn(generate, True)]
    name = md.get("name")
    if not name:
        causes.append(required(f"{path}.name", "name or generateName is required"))
    elif not isinstance(name, str):
        causes.append(invalid(f"{path}.name", name, "must be a string"))
    else:
        causes += [invalid(f"{path}.name", name, m) for m in name_fn(name, False)]
    namespace = md.get("namespace")
    if namespaced:
        if not namespace:
            causes.append(required(f"{path}.namespace"))
        elif isinstance(namespace, str):
            causes += [
                invalid(f"{path}.namespace", namespace, m)
                for m in names.name_is_dns_label(namespace)
            ]
    elif namespace:
        causes.append(forbidden(f"{path}.namespace", "not allowed on this type"))
    causes += non_negative(f"{path}.generation", md.get("generation"))
    causes += _common_meta(md, path)
    return causes


def _common_meta(md: dict, path: str) -> list[Cause]:
    return (
        validate_labels(md.get("labels"), f"{path}.labels")
        + validate_annotations(md.get("annotations"), f"{path}.annotations")
        + validate_owner_references(md.get("ownerReferences"), f"{path}.ownerReferences")
        + validate_finalizers(md.get("finalizers"), f"{path}.finalizers")
    )


def validate_object_meta_update(new: object, old: object, path: str = "metadata") -> list[Cause]:
    """Identity is immutable. ``resourceVersion``, ``uid`` and timestamps are the store's."""
    new, old = as_dict(new), as_dict(old)
    causes: list[Cause] = []
    for key in ("name", "namespace"):
        if (new.get(key) or "") != (old.get(key) or ""):
            causes.append(immutable(f"{path}.{key}", new.get(key) or ""))
    return causes


def validate_template_meta(md: object, path: str) -> list[Cause]:
    """Labels and annotations of an embedded template (pod template, job template)."""
    md = as_dict(md)
    return validate_labels(md.get("labels"), f"{path}.labels") + validate_annotations(
        md.get("annotations"), f"{path}.annotations"
    )


def validate_label_selector(selector: object, path: str) -> list[Cause]:
    if selector is None:
        return []
    selector = as_dict(selector)
    causes = validate_labels(selector.get("matchLabels"), f"{path}.matchLabels")
    for i, expr in enumerate(as_list(selector.get("matchExpressions"))):
        causes += validate_selector_requirement(as_dict(expr), f"{path}.matchExpressions[{i}]")
    return causes


def validate_selector_requirement(expr: dict, path: str) -> list[Cause]:
    causes: list[Cause] = []
    op, values = expr.get("operator"), as_list(expr.get("values"))
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
    else:
        causes.append(invalid(f"{path}.operator", op or "", "not a valid selector operator"))
    causes += validate_label_name(expr.get("key") or "", f"{path}.key")
    for i, value in enumerate(values):
        if not isinstance(value, str):
            causes.append(invalid(f"{path}.values[{i}]", value, "must be a string"))
            continue
        causes += [invalid(f"{path}.values[{i}]", value, m) for m in names.label_value(value)]
    return causes


def selector_matches(selector: object, labels: dict) -> bool:
    """Whether a ``LabelSelector`` selects ``labels``. An empty selector selects everything,
    a missing one nothing — as ``LabelSelectorAsSelector`` treats them; one that does not
    parse selects nothing (its own causes report it)."""
    if selector is None:
        return False
    try:
        return selectors.from_object(as_dict(selector)).matches(labels)
    except BadRequest:
        return False


def selector_is_valid(selector: object) -> bool:
    """Whether ``LabelSelectorAsSelector`` would accept it (so matching means anything)."""
    for expr in as_list(as_dict(selector).get("matchExpressions")):
        expr = as_dict(expr)
        op, values = expr.get("operator"), as_list(expr.get("values"))
        if op not in SELECTOR_OPERATORS or (op in ("In", "NotIn") and not values):
            return False
    return True
