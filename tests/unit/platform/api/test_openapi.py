"""OpenAPI v3 documents: what kubectl's field-validation check and `kubectl explain` read."""

import hashlib
import json
from pathlib import Path

import pytest

from berth.platform.api import openapi
from berth.platform.resources import registry

SAMPLES = Path(__file__).parent / "fixtures" / "kubectl-samples"
PATHS = ["api/v1", "apis/batch/v1", "apis/storage.k8s.io/v1", "apis/coordination.k8s.io/v1"]


def schemas(gv: str) -> dict:
    return openapi.group_version_document(gv)["components"]["schemas"]


def prop(gv: str, schema_name: str, field: str) -> dict:
    return schemas(gv)[schema_name]["properties"][field]


def test_root_lists_every_group_version_with_its_hash():
    root = openapi.root()
    sample = json.loads((SAMPLES / "openapi_v3_root.json").read_text())
    assert set(sample["paths"]) <= set(root["paths"])
    assert sorted(root["paths"]) == sorted(PATHS)
    for path, entry in root["paths"].items():
        url = entry["serverRelativeURL"]
        assert url == f"/openapi/v3/{path}?hash={openapi.document_hash(path)}"
        assert (
            openapi.document_hash(path)
            == hashlib.sha256(openapi.group_version_bytes(path)).hexdigest().upper()
        )


def test_hashes_are_stable_and_distinct():
    assert openapi.root() == openapi.root()
    assert len({openapi.document_hash(p) for p in PATHS}) == len(PATHS)


@pytest.mark.parametrize("spelling", ["batch/v1", "apis/batch/v1", "/apis/batch/v1/"])
def test_group_version_spellings(spelling):
    assert openapi.group_version_document(spelling) is openapi.group_version_document(
        "apis/batch/v1"
    )


@pytest.mark.parametrize("unknown", ["apps/v1", "apis/batch/v2", "api/v2", "nonsense"])
def test_unknown_group_versions(unknown):
    assert openapi.group_version_document(unknown) is None
    assert openapi.group_version_bytes(unknown) is None


def test_bytes_are_the_document():
    for path in PATHS:
        assert json.loads(openapi.group_version_bytes(path)) == openapi.group_version_document(path)


def supports_field_validation(doc: dict, gvk: dict) -> bool:
    """kubectl's supportsQueryParamV3: the first PATCH for the kind decides."""
    for item in doc["paths"].values():
        patch = item.get("patch")
        if patch is None or patch.get("x-kubernetes-group-version-kind") != gvk:
            continue
        return any(
            p["name"] == "fieldValidation" and p["in"] == "query"
            for p in patch.get("parameters", [])
        )
    return False


@pytest.mark.parametrize("rt", registry.ALL, ids=lambda rt: rt.kind)
def test_every_kind_supports_server_side_field_validation(rt):
    doc = openapi.group_version_document(rt.api_version)
    assert supports_field_validation(
        doc, {"group": rt.group, "version": rt.version, "kind": rt.kind}
    )


def test_patch_operations_mirror_the_sample_and_have_no_request_body():
    sample = json.loads((SAMPLES / "openapi_v3_batch_v1.json").read_text())
    doc = openapi.group_version_document("batch/v1")
    for path, item in sample["paths"].items():
        ours = doc["paths"][path]["patch"]
        assert ours["operationId"].startswith(
            "patch"
        )  # the API server's full ids, not the sample's
        assert ours["x-kubernetes-action"] == "patch"
        assert (
            ours["x-kubernetes-group-version-kind"]
            == item["patch"]["x-kubernetes-group-version-kind"]
        )
    # Without a requestBody kubectl apply computes strategic merge patches from its own types.
    assert all(
        "requestBody" not in item["patch"] for item in doc["paths"].values() if "patch" in item
    )


def test_paths_cover_collections_items_status_and_pod_subresources():
    core = openapi.group_version_document("v1")["paths"]
    assert set(core["/api/v1/namespaces/{namespace}/pods"]) == {"get", "post", "delete"}
    assert set(core["/api/v1/namespaces/{namespace}/pods/{name}"]) == {
        "get",
        "put",
        "patch",
        "delete",
    }
    assert "/api/v1/pods" in core and "/api/v1/nodes/{name}/status" in core
    assert (
        core["/api/v1/namespaces/{namespace}/pods/{name}/binding"]["post"][
            "x-kubernetes-group-version-kind"
        ]["kind"]
        == "Binding"
    )
    assert "/api/v1/namespaces/{namespace}/pods/{name}/log" in core
    assert "/api/v1/namespaces/{namespace}/nodes" not in core
    assert core["/api/v1/nodes"]["get"]["operationId"] == "listCoreV1Node"
    batch = openapi.group_version_document("batch/v1")["paths"]
    assert (
        batch["/apis/batch/v1/namespaces/{namespace}/jobs/{name}"]["get"]["operationId"]
        == "readBatchV1NamespacedJob"
    )


@pytest.mark.parametrize(
    "gv, kind, name",
    [
        ("batch/v1", "Job", "io.k8s.api.batch.v1.Job"),
        ("batch/v1", "CronJob", "io.k8s.api.batch.v1.CronJob"),
        ("v1", "Pod", "io.k8s.api.core.v1.Pod"),
        ("v1", "Event", "io.k8s.api.core.v1.Event"),
        ("v1", "Binding", "io.k8s.api.core.v1.Binding"),
        ("storage.k8s.io/v1", "StorageClass", "io.k8s.api.storage.v1.StorageClass"),
        ("coordination.k8s.io/v1", "Lease", "io.k8s.api.coordination.v1.Lease"),
    ],
)
def test_kind_schemas_carry_their_group_version_kind(gv, kind, name):
    group, _, version = gv.rpartition("/")
    assert schemas(gv)[name]["x-kubernetes-group-version-kind"] == [
        {"group": group, "kind": kind, "version": version}
    ]


def test_every_reference_resolves():
    for path in PATHS:
        text = openapi.group_version_bytes(path).decode()
        known = set(schemas(path))
        for ref in set(text.split('"$ref":"#/components/schemas/')[1:]):
            assert ref.split('"', 1)[0] in known


@pytest.mark.parametrize(
    "gv, schema_name, field, want",
    [
        (
            "batch/v1",
            "io.k8s.api.batch.v1.JobSpec",
            "completions",
            {"type": "integer", "format": "int32"},
        ),
        (
            "batch/v1",
            "io.k8s.api.batch.v1.JobSpec",
            "activeDeadlineSeconds",
            {"type": "integer", "format": "int64"},
        ),
        ("batch/v1", "io.k8s.api.batch.v1.JobSpec", "suspend", {"type": "boolean"}),
        (
            "batch/v1",
            "io.k8s.api.batch.v1.JobSpec",
            "template",
            {"$ref": "#/components/schemas/io.k8s.api.core.v1.PodTemplateSpec"},
        ),
        (
            "batch/v1",
            "io.k8s.api.batch.v1.JobSpec",
            "selector",
            {"$ref": "#/components/schemas/io.k8s.apimachinery.pkg.apis.meta.v1.LabelSelector"},
        ),
        (
            "batch/v1",
            "io.k8s.api.core.v1.PodSpec",
            "containers",
            {
                "type": "array",
                "items": {"$ref": "#/components/schemas/io.k8s.api.core.v1.Container"},
            },
        ),
        (
            "batch/v1",
            "io.k8s.api.core.v1.PodSpec",
            "nodeSelector",
            {"type": "object", "additionalProperties": {"type": "string"}},
        ),
        (
            "v1",
            "io.k8s.api.core.v1.ResourceRequirements",
            "limits",
            {
                "type": "object",
                "additionalProperties": {
                    "$ref": "#/components/schemas/io.k8s.apimachinery.pkg.api.resource.Quantity"
                },
            },
        ),
        (
            "v1",
            "io.k8s.api.core.v1.HTTPGetAction",
            "port",
            {"$ref": "#/components/schemas/io.k8s.apimachinery.pkg.util.intstr.IntOrString"},
        ),
        (
            "v1",
            "io.k8s.apimachinery.pkg.apis.meta.v1.ObjectMeta",
            "creationTimestamp",
            {"$ref": "#/components/schemas/io.k8s.apimachinery.pkg.apis.meta.v1.Time"},
        ),
        (
            "v1",
            "io.k8s.api.core.v1.Secret",
            "data",
            {"type": "object", "additionalProperties": {"type": "string", "format": "byte"}},
        ),
        (
            "v1",
            "io.k8s.apimachinery.pkg.apis.meta.v1.ManagedFieldsEntry",
            "fieldsV1",
            {"type": "object"},
        ),
    ],
)
def test_field_types(gv, schema_name, field, want):
    assert prop(gv, schema_name, field) == want


def test_shared_scalar_schemas():
    core = schemas("v1")
    for name in (
        "io.k8s.apimachinery.pkg.api.resource.Quantity",
        "io.k8s.apimachinery.pkg.util.intstr.IntOrString",
    ):
        assert core[name]["x-kubernetes-int-or-string"] is True
    assert core["io.k8s.apimachinery.pkg.apis.meta.v1.Time"] == {
        "type": "string",
        "format": "date-time",
    }


@pytest.mark.parametrize(
    "model, name",
    [
        ("V1ObjectMeta", "io.k8s.apimachinery.pkg.apis.meta.v1.ObjectMeta"),
        ("V1DeleteOptions", "io.k8s.apimachinery.pkg.apis.meta.v1.DeleteOptions"),
        ("V1PodFailurePolicyRule", "io.k8s.api.batch.v1.PodFailurePolicyRule"),
        ("V1UncountedTerminatedPods", "io.k8s.api.batch.v1.UncountedTerminatedPods"),
        ("CoreV1Event", "io.k8s.api.core.v1.Event"),
        ("V1LeaseSpec", "io.k8s.api.coordination.v1.LeaseSpec"),
        ("V1alpha3TopologyConstraint", "io.k8s.api.scheduling.v1alpha3.TopologyConstraint"),
    ],
)
def test_schema_names(model, name):
    assert openapi.schema_name(model) == name
