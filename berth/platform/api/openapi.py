"""OpenAPI v3 documents: what ``kubectl create/apply --validate=strict`` and ``explain`` read.

kubectl fetches ``/openapi/v3``, then ``/openapi/v3/apis/batch/v1?hash=...``. It sends
``fieldValidation=Strict`` (and lets the server validate) only if the kind's PATCH operation
lists a ``fieldValidation`` query parameter; ``kubectl explain`` walks ``components.schemas``
from the schema tagged with the kind's ``x-kubernetes-group-version-kind``. The schemas are
generated from ``schema.json``; documents are built once and their hashes are stable, so
kubectl's on-disk cache (keyed by the hash in the URL) stays valid until the schema changes.
"""

from __future__ import annotations

import hashlib
import json
from functools import cache

from berth.platform.resources import registry, schema
from berth.platform.resources.registry import ResourceType
from berth.platform.resources.schema import FieldType
from berth.platform.version import KUBERNETES_VERSION

_REF = "#/components/schemas/"
_META = "io.k8s.apimachinery.pkg.apis.meta.v1."
_META_MODELS = {
    "ObjectMeta",
    "ManagedFieldsEntry",
    "OwnerReference",
    "LabelSelector",
    "LabelSelectorRequirement",
    "DeleteOptions",
    "Preconditions",
}
_BATCH_PREFIXES = ("Job", "CronJob", "PodFailurePolicy", "SuccessPolicy", "UncountedTerminatedPods")
_GROUP_PACKAGE = {
    "": "core",
    "batch": "batch",
    "storage.k8s.io": "storage",
    "coordination.k8s.io": "coordination",
}
_SCALARS = {
    "string": {"type": "string"},
    "int32": {"type": "integer", "format": "int32"},
    "int64": {"type": "integer", "format": "int64"},
    "boolean": {"type": "boolean"},
    "number": {"type": "number", "format": "double"},
    "date": {"type": "string", "format": "date"},
    "byte": {"type": "string", "format": "byte"},
    "any": {"type": "object"},
}
# Named like the API server's, so `kubectl explain` prints <Time>, <Quantity>, <IntOrString>.
_SHARED = {
    "date-time": (_META + "Time", {"type": "string", "format": "date-time"}),
    "quantity": (
        "io.k8s.apimachinery.pkg.api.resource.Quantity",
        {"x-kubernetes-int-or-string": True, "anyOf": [{"type": "integer"}, {"type": "string"}]},
    ),
    "int-or-string": (
        "io.k8s.apimachinery.pkg.util.intstr.IntOrString",
        {"x-kubernetes-int-or-string": True, "anyOf": [{"type": "integer"}, {"type": "string"}]},
    ),
}
_WRITE_PARAMS = ("dryRun", "fieldManager", "fieldValidation")


def root() -> dict:
    """``GET /openapi/v3``: each group/version's document URL, with its content hash."""
    return {
        "paths": {
            path: {"serverRelativeURL": f"/openapi/v3/{path}?hash={document_hash(path)}"}
            for path in _paths()
        }
    }


def group_version_document(gv: str) -> dict | None:
    """The document for ``api/v1``, ``apis/batch/v1`` (or ``v1``, ``batch/v1``); None if the
    server has no such group/version. Cached and shared: callers must not change it."""
    path = _normalise(gv)
    return _document(path) if path in _paths() else None


def group_version_bytes(gv: str) -> bytes | None:
    """The same document serialised once, ready to send."""
    path = _normalise(gv)
    return _serialised(path) if path in _paths() else None


def document_hash(gv: str) -> str:
    return hashlib.sha256(_serialised(_normalise(gv))).hexdigest().upper()


def schema_name(model: str) -> str:
    """``V1JobSpec`` -> ``io.k8s.api.batch.v1.JobSpec``; meta types under apimachinery."""
    name, version = schema.go_name(model), schema.go_package(model)
    if name in _META_MODELS:
        return _META + name
    if model.startswith("V1alpha3"):
        return f"io.k8s.api.scheduling.{version}.{name}"
    if name.startswith(_BATCH_PREFIXES):
        return f"io.k8s.api.batch.{version}.{name}"
    if name in ("StorageClass",):
        return f"io.k8s.api.storage.{version}.{name}"
    if name.startswith("Lease"):
        return f"io.k8s.api.coordination.{version}.{name}"
    return f"io.k8s.api.core.{version}.{name}"


def _normalise(gv: str) -> str:
    gv = gv.strip("/")
    if gv.startswith(("api/", "apis/")):
        return gv
    return f"apis/{gv}" if "/" in gv else f"api/{gv}"


@cache
def _paths() -> dict[str, str]:
    """Document path (``apis/batch/v1``) -> group/version (``batch/v1``)."""
    return {_normalise(gv): gv for gv in registry.group_versions()}


@cache
def _serialised(path: str) -> bytes:
    return json.dumps(_document(path), sort_keys=True, separators=(",", ":")).encode()


@cache
def _document(path: str) -> dict:
    gv = _paths()[path]
    types = registry.group_versions()[gv]
    group, _, version = gv.rpartition("/")
    kinds = {rt.kind: (group, version) for rt in types}
    if group == "":
        kinds["Binding"] = ("", "v1")
    schemas: dict[str, dict] = {}
    for kind in [*kinds, "DeleteOptions"]:
        _add_model(schema.roots()[kind], schemas)
    for kind, (g, v) in kinds.items():
        schemas[schema_name(schema.roots()[kind])]["x-kubernetes-group-version-kind"] = [
            {"group": g, "kind": kind, "version": v}
        ]
    schemas[_META + "DeleteOptions"]["x-kubernetes-group-version-kind"] = [
        {"group": group, "kind": "DeleteOptions", "version": version}
    ]
    paths: dict[str, dict] = {}
    for rt in types:
        paths.update(_resource_paths(rt))
    return {
        "openapi": "3.0.0",
        "info": {"title": "Kubernetes", "version": KUBERNETES_VERSION},
        "paths": paths,
        "components": {"schemas": dict(sorted(schemas.items()))},
    }


def _add_model(model: str, schemas: dict[str, dict]) -> None:
    name = schema_name(model)
    if name in schemas:
        return
    properties: dict[str, dict] = {}
    schemas[name] = {"type": "object", "properties": properties}
    for field, ftype in schema.models()[model].items():
        properties[field] = _field_schema(ftype, schemas)


def _field_schema(ftype: FieldType, schemas: dict[str, dict]) -> dict:
    if ftype.kind == "list":
        return {"type": "array", "items": _field_schema(ftype.item, schemas)}  # type: ignore[arg-type]
    if ftype.kind == "map":
        return {"type": "object", "additionalProperties": _field_schema(ftype.item, schemas)}  # type: ignore[arg-type]
    if ftype.kind == "model":
        _add_model(ftype.name, schemas)
        return {"$ref": _REF + schema_name(ftype.name)}
    if ftype.kind in _SHARED:
        name, body = _SHARED[ftype.kind]
        schemas.setdefault(name, dict(body))
        return {"$ref": _REF + name}
    return dict(_SCALARS[ftype.kind])


def _resource_paths(rt: ResourceType) -> dict[str, dict]:
    gvk = {"group": rt.group, "version": rt.version, "kind": rt.kind}
    ref = {"$ref": _REF + schema_name(schema.roots()[rt.kind])}
    base = rt.path(namespace="{namespace}" if rt.namespaced else None)
    item = f"{base}/{{name}}"
    ident = _op_ident(rt)
    collection = {
        "get": _op(f"list{ident}", "list", gvk, ref, ()),
        "post": _op(f"create{ident}", "post", gvk, ref, _WRITE_PARAMS, body=ref, code="201"),
        "delete": _op(f"deletecollection{ident}", "deletecollection", gvk, ref, ()),
    }
    one = {
        "get": _op(f"read{ident}", "get", gvk, ref, ()),
        "put": _op(f"replace{ident}", "put", gvk, ref, _WRITE_PARAMS, body=ref),
        "patch": _op(f"patch{ident}", "patch", gvk, ref, (*_WRITE_PARAMS, "force")),
        "delete": _op(f"delete{ident}", "delete", gvk, ref, ("dryRun",)),
    }
    paths = {base: collection, item: one}
    if rt.namespaced:
        paths[rt.path()] = {"get": _op(f"list{ident}ForAllNamespaces", "list", gvk, ref, ())}
    for sub in rt.subresources:
        if sub == "status":
            paths[f"{item}/status"] = {
                "get": _op(f"read{ident}Status", "get", gvk, ref, ()),
                "put": _op(f"replace{ident}Status", "put", gvk, ref, _WRITE_PARAMS, body=ref),
                "patch": _op(f"patch{ident}Status", "patch", gvk, ref, (*_WRITE_PARAMS, "force")),
            }
        elif sub == "binding":
            binding = {"group": "", "version": "v1", "kind": "Binding"}
            bref = {"$ref": _REF + schema_name(schema.roots()["Binding"])}
            paths[f"{item}/binding"] = {
                "post": _op(
                    f"create{ident}Binding",
                    "post",
                    binding,
                    bref,
                    _WRITE_PARAMS,
                    body=bref,
                    code="201",
                )
            }
        elif sub == "log":
            paths[f"{item}/log"] = {
                "get": {
                    "operationId": f"read{ident}Log",
                    "x-kubernetes-action": "get",
                    "x-kubernetes-group-version-kind": gvk,
                    "responses": {
                        "200": {
                            "description": "OK",
                            "content": {"text/plain": {"schema": {"type": "string"}}},
                        }
                    },
                }
            }
    return paths


def _op_ident(rt: ResourceType) -> str:
    """``BatchV1NamespacedJob``, ``CoreV1Node``: the API server's operationId stem."""
    group = _GROUP_PACKAGE.get(rt.group, rt.group.split(".")[0])
    return (
        group[:1].upper()
        + group[1:]
        + rt.version.capitalize()
        + ("Namespaced" if rt.namespaced else "")
        + rt.kind
    )


def _op(
    operation_id: str,
    action: str,
    gvk: dict,
    ref: dict,
    params: tuple[str, ...],
    *,
    body: dict | None = None,
    code: str = "200",
) -> dict:
    # PATCH deliberately has no requestBody: kubectl apply then builds its strategic merge
    # patch from its compiled-in types (which know every list's merge key) instead of from
    # these schemas, which carry no x-kubernetes-patch-merge-key.
    op: dict = {
        "operationId": operation_id,
        "x-kubernetes-action": action,
        "x-kubernetes-group-version-kind": gvk,
        "parameters": [
            {"name": p, "in": "query", "schema": {"type": "string", "uniqueItems": True}}
            for p in params
        ],
        "responses": {
            code: {"description": "OK", "content": {"application/json": {"schema": ref}}}
        },
    }
    if body is not None:
        op["requestBody"] = {"content": {"application/json": {"schema": body}}}
    return op
