"""Who starts CPU-only pods: the node agent itself, or one Ray task each."""

import pytest

from berth.settings import Settings
from berth.workers.control.service import launches_pods


@pytest.mark.parametrize("embedded", [True, False])
def test_an_explicit_setting_wins(embedded):
    assert launches_pods(Settings(agent_launches_pods=True), embedded=embedded) is True
    assert launches_pods(Settings(agent_launches_pods=False), embedded=embedded) is False


def test_unset_the_agent_launches_pods_on_its_own_private_ray_only():
    assert launches_pods(Settings(), embedded=True) is True
    assert launches_pods(Settings(), embedded=False) is False
