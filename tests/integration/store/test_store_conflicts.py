"""The object client retries only the compare-and-set races it loses; a Conflict that is its
answer (a failed precondition, a resourceVersion the client pinned) comes back at once."""

from __future__ import annotations

import json

import pytest

from berth.platform.errors import Conflict
from berth.platform.resources import registry
from berth.platform.store.conflicts import CAS_ATTEMPTS


@pytest.fixture(autouse=True)
def configmap(client):
    return client.create(
        registry.CONFIG_MAP,
        {"apiVersion": "v1", "kind": "ConfigMap", "metadata": {"name": "cm"}, "data": {"n": "0"}},
        "default",
    )


def test_a_failed_precondition_is_answered_not_retried(client):
    with pytest.raises(Conflict) as raised:
        client.delete(registry.CONFIG_MAP, "default", "cm", preconditions={"uid": "other"})
    assert "Precondition failed: UID in precondition: other" in raised.value.message


def test_a_pinned_resource_version_is_answered_not_retried(client):
    body = json.dumps({"metadata": {"resourceVersion": "1"}, "data": {"n": "1"}}).encode()
    with pytest.raises(Conflict):
        client.patch(registry.CONFIG_MAP, "default", "cm", "application/merge-patch+json", body)


def test_a_lost_race_is_read_again_and_written(client):
    # Another writer lands between this update's read and its write, once.
    raced = []

    def mutate(cm):
        if not raced:
            raced.append(
                client.guaranteed_update(
                    registry.CONFIG_MAP, "default", "cm", lambda c: {**c, "data": {"n": "racer"}}
                )
            )
        return {**cm, "data": {**cm["data"], "mine": "yes"}}

    final = client.guaranteed_update(registry.CONFIG_MAP, "default", "cm", mutate)
    assert final["data"] == {"n": "racer", "mine": "yes"}


def test_contention_past_the_bound_is_a_conflict(client):
    calls = []

    def mutate(cm):
        calls.append(1)
        client.guaranteed_update(
            registry.CONFIG_MAP, "default", "cm", lambda c: {**c, "data": {"n": str(len(calls))}}
        )
        return {**cm, "data": {"n": "never"}}

    with pytest.raises(Conflict):
        client.guaranteed_update(registry.CONFIG_MAP, "default", "cm", mutate)
    assert len(calls) == CAS_ATTEMPTS
