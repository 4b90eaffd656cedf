"""Regenerate berth/platform/resources/schema.json from the official kubernetes client models.

The client's models carry the whole Kubernetes object schema (``openapi_types`` and
``attribute_map``). We keep a compact copy of the types Berth serves so the server needs no
Kubernetes client at run time. Run: ``.venv/bin/python tools/gen_schema.py``, then
``.venv/bin/python tools/gen_types.py`` (the TypedDicts made from this file).
"""

import json
import re
from pathlib import Path

import kubernetes.client as k8s

ROOTS = {
    "Namespace": "V1Namespace",
    "Pod": "V1Pod",
    "ConfigMap": "V1ConfigMap",
    "Secret": "V1Secret",
    "Event": "CoreV1Event",
    "Node": "V1Node",
    "PersistentVolume": "V1PersistentVolume",
    "PersistentVolumeClaim": "V1PersistentVolumeClaim",
    "Job": "V1Job",
    "CronJob": "V1CronJob",
    "StorageClass": "V1StorageClass",
    "Lease": "V1Lease",
    "DeleteOptions": "V1DeleteOptions",
    "Binding": "V1Binding",
}
# The client spells resource.Quantity as str, but the wire also accepts numbers (`cpu: 2`).
QUANTITIES = {
    ("V1ResourceRequirements", "limits"),
    ("V1ResourceRequirements", "requests"),
    ("V1VolumeResourceRequirements", "limits"),
    ("V1VolumeResourceRequirements", "requests"),
    ("V1NodeStatus", "capacity"),
    ("V1NodeStatus", "allocatable"),
    ("V1PersistentVolumeSpec", "capacity"),
    ("V1PersistentVolumeClaimStatus", "capacity"),
    ("V1PersistentVolumeClaimStatus", "allocatedResources"),
    ("V1EmptyDirVolumeSource", "sizeLimit"),
}
SCALARS = {
    "str": "string",
    "int": "integer",
    "bool": "boolean",
    "float": "number",
    "datetime": "date-time",
    "date": "date",
    "object": "any",
    "bytes": "byte",
}


def convert(type_name: str, models: dict) -> str:
    """Client type spelling -> ours: ``string``, ``[T]`` for lists, ``{T}`` for maps, ``Model``."""
    if m := re.fullmatch(r"[lL]ist\[(.+)\]", type_name):
        return "[" + convert(m.group(1), models) + "]"
    if m := re.fullmatch(r"(?:dict\(str, (.+)\)|Dict\[str, (.+)\])", type_name):
        return "{" + convert(m.group(1) or m.group(2), models) + "}"
    if type_name in SCALARS:
        return SCALARS[type_name]
    walk(type_name, models)
    return type_name


def walk(model_name: str, models: dict) -> None:
    if model_name in models:
        return
    cls = getattr(k8s, model_name)
    models[model_name] = {}
    fields = {}
    for attr, type_name in cls.openapi_types.items():
        field_name = cls.attribute_map[attr]
        converted = convert(type_name, models)
        if (model_name, field_name) in QUANTITIES:
            converted = converted.replace("string", "quantity")
        fields[field_name] = converted
    models[model_name] = fields


def main() -> None:
    models: dict = {}
    for root in ROOTS.values():
        walk(root, models)
    out = {"roots": ROOTS, "models": dict(sorted(models.items()))}
    target = Path(__file__).resolve().parent.parent / "berth/platform/resources/schema.json"
    target.write_text(json.dumps(out, indent=0, sort_keys=True) + "\n")
    print(f"{len(models)} models -> {target}")


if __name__ == "__main__":
    main()
