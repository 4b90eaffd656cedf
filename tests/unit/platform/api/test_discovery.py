"""Discovery documents against the samples that satisfied kubectl v1.32."""

import json
from pathlib import Path

import pytest

from berth.platform.api import discovery

SAMPLES = Path(__file__).parent / "fixtures" / "kubectl-samples"


def sample(name: str) -> dict:
    return json.loads((SAMPLES / name).read_text())


def test_version_reports_minor_32_for_the_kubectl_dispatcher():
    info = discovery.version_info()
    assert (info["major"], info["minor"]) == ("1", "32")
    assert info["gitVersion"].startswith("v1.32.")


def test_api_versions_lists_v1_and_the_address_when_given():
    assert discovery.api_versions() == {"kind": "APIVersions", "versions": ["v1"]}
    doc = discovery.api_versions("127.0.0.1:18080")
    assert doc["serverAddressByClientCIDRs"] == [
        {"clientCIDR": "0.0.0.0/0", "serverAddress": "127.0.0.1:18080"}
    ]


def test_api_group_list_contains_the_sample_groups():
    doc = discovery.api_group_list()
    want = sample("apis.json")
    assert doc["kind"] == want["kind"] and doc["apiVersion"] == want["apiVersion"]
    for group in want["groups"]:
        assert group in doc["groups"]
    assert "coordination.k8s.io" in [g["name"] for g in doc["groups"]]
    assert "" not in [g["name"] for g in doc["groups"]]


def test_batch_resource_list_matches_the_sample_exactly():
    assert discovery.api_resource_list("batch/v1") == sample("apis_batch_v1.json")


def test_core_resource_list_holds_every_sample_entry():
    doc = discovery.api_resource_list("v1")
    want = sample("api_v1.json")
    assert doc["groupVersion"] == "v1"
    for entry in want["resources"]:
        assert entry in doc["resources"], entry["name"]


@pytest.mark.parametrize(
    "name, kind, verbs",
    [
        ("pods/log", "Pod", ["get"]),
        ("pods/status", "Pod", ["get", "patch", "update"]),
        ("pods/binding", "Binding", ["create"]),
    ],
)
def test_core_subresources(name, kind, verbs):
    entries = {e["name"]: e for e in discovery.api_resource_list("v1")["resources"]}
    assert entries[name]["kind"] == kind
    assert entries[name]["verbs"] == verbs
    assert entries[name]["singularName"] == ""


def test_unknown_group_version_is_none():
    assert discovery.api_resource_list("apps/v1") is None
    assert discovery.api_resource_list("batch/v2") is None


def test_lease_group_is_listed():
    doc = discovery.api_resource_list("coordination.k8s.io/v1")
    assert [r["name"] for r in doc["resources"]] == ["leases"]


def _by_resource(doc: dict) -> dict:
    out = {}
    for item in doc["items"]:
        for version in item["versions"]:
            for res in version["resources"]:
                out[(item["metadata"]["name"], res["resource"])] = res
    return out


@pytest.mark.parametrize(
    "ours, sample_name",
    [
        (discovery.aggregated_core, "api_aggregated_v2.json"),
        (discovery.aggregated_groups, "apis_aggregated_v2.json"),
    ],
)
def test_aggregated_documents_hold_the_sample_resources(ours, sample_name):
    doc, want = ours(), sample(sample_name)
    assert (doc["kind"], doc["apiVersion"], doc["metadata"]) == (
        want["kind"],
        want["apiVersion"],
        want["metadata"],
    )
    got = _by_resource(doc)
    for key, res in _by_resource(want).items():
        mine = dict(got[key])
        subs = mine.pop("subresources", [])
        for sub in res.get("subresources", []):
            assert sub in subs, (key, sub)
        assert mine == {k: v for k, v in res.items() if k != "subresources"}, key


def test_aggregated_items_are_current_and_carry_null_creation_timestamp():
    for item in discovery.aggregated_groups()["items"] + discovery.aggregated_core()["items"]:
        assert item["metadata"]["creationTimestamp"] is None
        assert all(v["freshness"] == "Current" for v in item["versions"])


def test_aggregated_media_type_is_exact():
    assert discovery.AGGREGATED_MEDIA_TYPE == (
        "application/json;g=apidiscovery.k8s.io;v=v2;as=APIGroupDiscoveryList"
    )


@pytest.mark.parametrize(
    "accept, want",
    [
        (
            "application/json;g=apidiscovery.k8s.io;v=v2;as=APIGroupDiscoveryList,"
            "application/json;g=apidiscovery.k8s.io;v=v2beta1;as=APIGroupDiscoveryList,"
            "application/json",
            True,
        ),
        ("application/json; g=apidiscovery.k8s.io; v=v2; as=APIGroupDiscoveryList", True),
        ("application/json;g=apidiscovery.k8s.io;v=v2beta1;as=APIGroupDiscoveryList", False),
        ("application/json, */*", False),
        (None, False),
    ],
)
def test_wants_aggregated(accept, want):
    assert discovery.wants_aggregated(accept) is want
