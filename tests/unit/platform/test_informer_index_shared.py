"""One name, one index: the pods-by-node index the kubelet's lookups, the simulated kubelet
and the GPU allocation reporter share."""

from __future__ import annotations

from berth.platform.cache.informers import PODS_BY_NODE, node_name_of


def test_node_name_of():
    assert node_name_of({"spec": {"nodeName": "n1"}}) == ["n1"]
    assert node_name_of({"spec": {}}) == []
    assert node_name_of({}) == []


def test_a_second_registration_of_a_name_shares_the_first_index():
    from berth.platform.cache.informers import Informer
    from berth.platform.resources import registry

    pods = Informer(registry.POD)
    pods._replace([{"metadata": {"name": "p", "namespace": "ns"}, "spec": {"nodeName": "n1"}}])
    pods.add_index(PODS_BY_NODE, node_name_of)
    pods.add_index(PODS_BY_NODE, lambda pod: ["never"])  # kept out: the name is taken
    assert [p["metadata"]["name"] for p in pods.by_index(PODS_BY_NODE, "n1")] == ["p"]
    assert pods.by_index(PODS_BY_NODE, "never") == []
    assert len(pods._indexes) == 1
