"""Which pod updates sync their Job at once and which wait for the batch period."""

import pytest

from berth.platform.controllers.job.controller import on_its_way

from .job_builders import a_pod


def pending():
    return a_pod(name="p", uid="u1")


@pytest.mark.parametrize(
    "old, new, batched",
    [
        (pending(), pending().on_node(), True),  # bound
        (pending().on_node(), pending().on_node().running(ready=False), True),  # started
        (pending().running(ready=False), pending().running(ready=True), True),  # ready
        (pending().running(), pending().running().restarts(1), True),  # restarted in place
        (None, pending(), False),  # created
        (pending(), None, False),  # gone
        (pending().running(), pending().succeeded(), False),  # ended
        (pending().running(), pending().failed(), False),
        (pending().succeeded(), pending().succeeded().released(), False),  # finalizer released
        (pending().running(), pending().running().deleting(), False),  # being deleted
    ],
)
def test_only_updates_on_the_way_to_running_wait(old, new, batched):
    old = old.build() if old is not None else None
    new = new.build() if new is not None else None
    assert on_its_way(old, new) is batched


def test_a_pod_whose_labels_or_owners_change_syncs_at_once():
    old = pending().running().build()
    relabelled = pending().running().build()
    relabelled["metadata"]["labels"] = {**relabelled["metadata"].get("labels", {}), "x": "y"}
    orphaned = pending().running().build()
    orphaned["metadata"]["ownerReferences"] = []
    assert not on_its_way(old, relabelled)
    assert not on_its_way(old, orphaned)
