"""Tolerations against taints (Kubernetes ``Toleration.ToleratesTaint``), table by table:
the one matcher the scheduler and the taint manager share."""

from __future__ import annotations

import pytest

from berth.platform.resources.taints import (
    Taint,
    Toleration,
    first_untolerated,
    taint_of,
    tolerates,
    toleration_of,
)

GPU = Taint("gpu", "nvidia", "NoSchedule")


@pytest.mark.parametrize(
    "toleration, want",
    [
        (Toleration("gpu", "Equal", "nvidia", "NoSchedule"), True),
        (Toleration("gpu", "Equal", "amd", "NoSchedule"), False),
        (Toleration("gpu", "Exists", "", "NoSchedule"), True),
        (Toleration("gpu", "Exists", "", ""), True),  # empty effect matches every effect
        (Toleration("gpu", "Exists", "", "NoExecute"), False),
        (Toleration("", "Exists", "", ""), True),  # empty key + Exists tolerates all
        (Toleration("", "Exists", "", "NoExecute"), False),  # ... of its effect only
        (Toleration("other", "Exists", "", ""), False),
        (Toleration("gpu", "", "nvidia", ""), True),  # empty operator means Equal
        (Toleration("gpu", "", "", ""), False),  # ... and Equal compares the value
        (Toleration("gpu", "Lt", "nvidia", ""), False),  # unknown operator tolerates nothing
    ],
)
def test_tolerates(toleration, want):
    assert tolerates(toleration, GPU) is want


@pytest.mark.parametrize(
    "toleration, taint, want",
    [
        ({"key": "k", "operator": "Exists"}, {"key": "k", "effect": "NoExecute"}, True),
        ({"operator": "Exists"}, {"key": "any", "effect": "NoSchedule"}, True),
        ({"key": "k", "value": "v"}, {"key": "k", "value": "v", "effect": "NoExecute"}, True),
        ({"key": "k", "value": "v"}, {"key": "k", "value": "w", "effect": "NoExecute"}, False),
        ({"key": "k"}, {"key": "k", "effect": "NoExecute"}, True),  # no value on either side
        ({"key": "k", "value": None}, {"key": "k", "value": "", "effect": "NoExecute"}, True),
        (
            {"key": "k", "operator": "Exists", "effect": "NoSchedule"},
            {"key": "k", "effect": "NoExecute"},
            False,
        ),
        ({"key": "other", "operator": "Exists"}, {"key": "k", "effect": "NoExecute"}, False),
        ({"key": "k", "operator": "Gt"}, {"key": "k", "effect": "NoExecute"}, False),
    ],
)
def test_tolerates_wire_dicts(toleration, taint, want):
    assert tolerates(toleration_of(toleration), taint_of(taint)) is want


@pytest.mark.parametrize(
    "wire, want",
    [
        ({}, Toleration("", "Equal", "", "")),
        ({"operator": "", "key": "k"}, Toleration("k", "Equal", "", "")),
        (
            {"key": "k", "operator": "Exists", "effect": "NoExecute", "tolerationSeconds": 5},
            Toleration("k", "Exists", "", "NoExecute"),
        ),
    ],
)
def test_toleration_of(wire, want):
    assert toleration_of(wire) == want


def test_taint_of_fills_missing_fields():
    assert taint_of({"key": "k", "effect": "NoSchedule"}) == Taint("k", "", "NoSchedule")


def test_first_untolerated_skips_prefer_no_schedule_and_tolerated():
    taints = (
        Taint("soft", "", "PreferNoSchedule"),
        Taint("a", "1", "NoSchedule"),
        Taint("b", "2", "NoExecute"),
    )
    assert first_untolerated(taints, ()) == taints[1]
    assert first_untolerated(taints, (Toleration("a", "Exists"),)) == taints[2]
    assert first_untolerated(taints, (Toleration("", "Exists"),)) is None
    assert first_untolerated(taints, (), effects=("NoExecute",)) == taints[2]
