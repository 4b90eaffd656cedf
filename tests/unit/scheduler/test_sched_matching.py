"""Node selector requirements and tolerations, table by table."""

from __future__ import annotations

import pytest

from berth.scheduler.matching import (
    Requirement, Taint, Term, Toleration, first_untolerated, requirement_matches,
    selector_matches, terms_match, tolerates)

LABELS = {"zone": "a", "gpus": "8", "name": "x"}


@pytest.mark.parametrize("req, want", [
    (Requirement("zone", "In", ("a", "b")), True),
    (Requirement("zone", "In", ("b",)), False),
    (Requirement("missing", "In", ("a",)), False),
    (Requirement("zone", "NotIn", ("b",)), True),
    (Requirement("zone", "NotIn", ("a",)), False),
    (Requirement("missing", "NotIn", ("a",)), True),
    (Requirement("zone", "Exists"), True),
    (Requirement("missing", "Exists"), False),
    (Requirement("zone", "DoesNotExist"), False),
    (Requirement("missing", "DoesNotExist"), True),
    (Requirement("gpus", "Gt", ("4",)), True),
    (Requirement("gpus", "Gt", ("8",)), False),
    (Requirement("gpus", "Lt", ("9",)), True),
    (Requirement("gpus", "Lt", ("8",)), False),
    (Requirement("zone", "Gt", ("1",)), False),      # label is not an integer
    (Requirement("gpus", "Gt", ("x",)), False),      # value is not an integer
    (Requirement("missing", "Lt", ("1",)), False),
    (Requirement("zone", "Bogus", ("a",)), False),
])
def test_requirement(req, want):
    assert requirement_matches(req, LABELS) is want


@pytest.mark.parametrize("terms, want", [
    ((Term((Requirement("zone", "In", ("a",)), Requirement("gpus", "Exists"))),), True),
    ((Term((Requirement("zone", "In", ("a",)), Requirement("gpus", "DoesNotExist"))),), False),
    ((Term((Requirement("zone", "In", ("b",)),)), Term((Requirement("gpus", "Exists"),))),
     True),                                          # terms are ORed
    ((Term(),), False),                              # an empty term matches nothing
    ((), False),
    ((Term((), (Requirement("metadata.name", "In", ("node-1",)),)),), True),
    ((Term((), (Requirement("metadata.name", "NotIn", ("node-1",)),)),), False),
])
def test_terms(terms, want):
    assert terms_match(terms, LABELS, "node-1") is want


@pytest.mark.parametrize("selector, want", [
    ((), True),
    ((("zone", "a"),), True),
    ((("zone", "a"), ("gpus", "8")), True),
    ((("zone", "a"), ("gpus", "4")), False),
    ((("missing", ""),), False),
])
def test_node_selector(selector, want):
    assert selector_matches(selector, LABELS) is want


T = Taint("gpu", "nvidia", "NoSchedule")


@pytest.mark.parametrize("toleration, want", [
    (Toleration("gpu", "Equal", "nvidia", "NoSchedule"), True),
    (Toleration("gpu", "Equal", "amd", "NoSchedule"), False),
    (Toleration("gpu", "Exists", "", "NoSchedule"), True),
    (Toleration("gpu", "Exists", "", ""), True),      # empty effect matches every effect
    (Toleration("gpu", "Exists", "", "NoExecute"), False),
    (Toleration("", "Exists", "", ""), True),         # empty key + Exists tolerates all
    (Toleration("other", "Exists", "", ""), False),
    (Toleration("gpu", "", "nvidia", ""), True),      # empty operator means Equal
    (Toleration("gpu", "Lt", "nvidia", ""), False),
])
def test_toleration(toleration, want):
    assert tolerates(toleration, T) is want


def test_first_untolerated_skips_prefer_no_schedule_and_tolerated():
    taints = (Taint("soft", "", "PreferNoSchedule"), Taint("a", "1", "NoSchedule"),
              Taint("b", "2", "NoExecute"))
    assert first_untolerated(taints, ()) == taints[1]
    assert first_untolerated(taints, (Toleration("a", "Exists"),)) == taints[2]
    assert first_untolerated(taints, (Toleration("", "Exists"),)) is None
