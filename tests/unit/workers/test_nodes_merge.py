"""Node objects kept in step with Ray without clobbering what people changed."""

from datetime import UTC, datetime, timedelta

import pytest

from berth.workers.control.nodes import forgotten, lost_taints, merge_node, merge_node_status

NOW = datetime(2026, 1, 1, tzinfo=UTC)
STAMP = "2026-01-01T00:00:00Z"
OWNED = {"node.kubernetes.io/unreachable", "node.kubernetes.io/not-ready", "gpu"}


def node(labels=None, taints=None, **spec):
    out = {"metadata": {"name": "n", "labels": labels or {}, "annotations": {}}, "spec": dict(spec)}
    if taints is not None:
        out["spec"]["taints"] = taints
    return out


def test_user_labels_taints_and_cordon_survive_and_ours_are_replaced():
    existing = node(
        {"owner": "me", "zone": "old"},
        [
            {"key": "dedicated", "value": "x", "effect": "NoSchedule"},
            {"key": "node.kubernetes.io/unreachable", "effect": "NoSchedule"},
        ],
        unschedulable=True,
    )
    wanted = node(
        {"zone": "b"},
        [{"key": "gpu", "value": "yes", "effect": "NoSchedule"}],
        providerID="ray://x",
    )
    out = merge_node(existing, wanted, OWNED, STAMP)
    assert out["metadata"]["labels"] == {"owner": "me", "zone": "b"}
    assert out["spec"]["unschedulable"] is True
    assert out["spec"]["providerID"] == "ray://x"
    assert out["spec"]["taints"] == [
        {"key": "dedicated", "value": "x", "effect": "NoSchedule"},
        {"key": "gpu", "value": "yes", "effect": "NoSchedule"},
    ]
    assert merge_node(out, wanted, OWNED, "later") == out


def test_a_noexecute_taint_gets_a_time_added_once():
    wanted = node(
        taints=lost_taints([{"key": "node.kubernetes.io/unreachable", "effect": "NoSchedule"}])
    )
    first = merge_node(node(), wanted, OWNED, STAMP)
    assert first["spec"]["taints"][1] == {
        "key": "node.kubernetes.io/unreachable",
        "effect": "NoExecute",
        "timeAdded": STAMP,
    }
    assert merge_node(first, wanted, OWNED, "later") == first
    healed = merge_node(first, node(), OWNED, "later")
    assert "taints" not in healed["spec"]


def ready(status="True"):
    return {"capacity": {"cpu": "2"}, "conditions": [{"type": "Ready", "status": status}]}


@pytest.mark.parametrize("age_s, writes", [(10, False), (61, True)])
def test_an_unchanged_status_is_written_only_when_its_heartbeat_is_stale(age_s, writes):
    first = merge_node_status(None, ready(), NOW)
    assert first is not None
    assert first["conditions"][0]["lastHeartbeatTime"] == STAMP
    later = merge_node_status(first, ready(), NOW + timedelta(seconds=age_s))
    assert (later is not None) is writes
    if later is not None:
        cond = later["conditions"][0]
        assert cond["lastTransitionTime"] == STAMP and cond["lastHeartbeatTime"] != STAMP


def test_a_changed_condition_moves_its_transition_time():
    first = merge_node_status(None, ready(), NOW)
    lost = merge_node_status(first, ready("Unknown"), NOW + timedelta(seconds=5))
    assert lost is not None
    cond = lost["conditions"][0]
    assert cond["status"] == "Unknown"
    assert cond["lastTransitionTime"] == cond["lastHeartbeatTime"] == "2026-01-01T00:00:05Z"


def test_a_forgotten_node_is_unknown_and_unreachable():
    existing = node(taints=[{"key": "dedicated", "effect": "NoSchedule"}])
    existing["status"] = ready()
    gone = forgotten(existing)
    assert gone["status"]["conditions"][-1]["status"] == "Unknown"
    assert gone["spec"]["taints"] == [
        {"key": "dedicated", "effect": "NoSchedule"},
        {"key": "node.kubernetes.io/unreachable", "effect": "NoSchedule"},
        {"key": "node.kubernetes.io/unreachable", "effect": "NoExecute"},
    ]
