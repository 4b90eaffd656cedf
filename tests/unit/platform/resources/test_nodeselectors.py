"""Node selectors: terms through the dict form, the parsed form the scheduler keeps
(``Term``), the cases where a term does not parse and so matches no node (component-helpers
``nodeaffinity``; the scheduler's own matcher used to accept them), and ``spec.nodeSelector``.
"""

from __future__ import annotations

import pytest

from berth.platform.resources import nodeselectors
from berth.platform.resources.nodeselectors import (
    Term,
    labels_match,
    parse_term,
    parse_terms,
    term_matches,
    terms_match,
)

LABELS = {"zone": "a", "gpus": "8"}
NODE = {"gpu": "nvidia", "cores": "16", "zone": "eu-1"}


def expr(key, operator, *values):
    return {"key": key, "operator": operator, "values": list(values)}


@pytest.mark.parametrize(
    "term, expected",
    [
        ({"matchExpressions": [expr("gpu", "In", "nvidia", "amd")]}, True),
        ({"matchExpressions": [expr("gpu", "In", "amd")]}, False),
        ({"matchExpressions": [expr("gpu", "NotIn", "amd")]}, True),
        ({"matchExpressions": [expr("missing", "NotIn", "amd")]}, True),
        ({"matchExpressions": [expr("gpu", "Exists")]}, True),
        ({"matchExpressions": [expr("gpu", "DoesNotExist")]}, False),
        ({"matchExpressions": [expr("cores", "Gt", "8")]}, True),
        ({"matchExpressions": [expr("cores", "Gt", "16")]}, False),
        ({"matchExpressions": [expr("cores", "Lt", "100")]}, True),
        ({"matchExpressions": [expr("zone", "Gt", "1")]}, False),  # not an integer
        ({"matchExpressions": [expr("missing", "Lt", "1")]}, False),
        ({"matchExpressions": [expr("cores", "Gt", "x")]}, False),  # invalid term
        ({"matchExpressions": [expr("cores", "Gt", "1", "2")]}, False),  # invalid term
        ({"matchExpressions": [expr("gpu", "Foo", "x")]}, False),
        ({"matchExpressions": [expr("gpu", "In", "nvidia"), expr("zone", "In", "eu-2")]}, False),
        ({"matchFields": [expr("metadata.name", "In", "node-1")]}, True),
        ({"matchFields": [expr("metadata.name", "In", "node-2")]}, False),
        ({"matchFields": [expr("metadata.name", "NotIn", "node-2")]}, True),
        ({"matchFields": [expr("metadata.name", "In", "node-1", "node-2")]}, False),
        ({"matchFields": [expr("spec.unschedulable", "In", "false")]}, False),
        (
            {
                "matchExpressions": [expr("gpu", "Exists")],
                "matchFields": [expr("metadata.name", "In", "node-1")],
            },
            True,
        ),
        (
            {
                "matchExpressions": [expr("gpu", "Exists")],
                "matchFields": [expr("metadata.name", "In", "node-9")],
            },
            False,
        ),
        ({}, False),  # an empty term
        ({"matchExpressions": [], "matchFields": []}, False),
    ],
)
def test_node_selector_term(term, expected):
    assert nodeselectors.node_selector_term_matches(term, NODE, "node-1") is expected


def test_node_selector_terms_are_ored():
    terms = {
        "nodeSelectorTerms": [
            {"matchExpressions": [expr("gpu", "In", "amd")]},
            {"matchExpressions": [expr("zone", "In", "eu-1")]},
        ]
    }
    assert nodeselectors.node_selector_matches(terms, NODE, "node-1")
    assert not nodeselectors.node_selector_matches({"nodeSelectorTerms": []}, NODE, "node-1")
    assert not nodeselectors.node_selector_matches(None, NODE, "node-1")


@pytest.mark.parametrize(
    "term, want",
    [
        ({"matchExpressions": [expr("zone", "In", "a", "b")]}, True),
        ({"matchExpressions": [expr("zone", "NotIn", "b")]}, True),
        ({"matchExpressions": [expr("gpus", "Gt", "4")]}, True),
        ({"matchFields": [expr("metadata.name", "In", "node-1")]}, True),
        # Terms that do not parse match nothing, even where the requirement alone would hold.
        ({"matchExpressions": [expr("zone", "NotIn")]}, False),  # NotIn needs values
        ({"matchExpressions": [expr("zone", "Exists", "a")]}, False),  # Exists takes none
        ({"matchExpressions": [expr("gpus", "Gt", " 4")]}, False),  # not an integer
        ({"matchExpressions": [expr("bad key!", "DoesNotExist")]}, False),
        ({"matchFields": [expr("metadata.uid", "NotIn", "x")]}, False),  # only metadata.name
        ({"matchFields": [expr("metadata.name", "Exists")]}, False),
    ],
)
def test_parsed_term(term, want):
    parsed = parse_term(term)
    assert term_matches(parsed, LABELS, "node-1") is want
    assert parsed.valid is want


def test_a_term_that_does_not_parse_is_marked_not_raised():
    assert parse_term({"matchExpressions": [expr("zone", "Bogus", "a")]}) == Term(valid=False)
    assert not term_matches(Term(valid=False), LABELS, "node-1")
    assert not term_matches(Term(), LABELS, "node-1")  # empty: no node


def test_parsed_terms_are_equal_and_hashable():
    # The scheduler groups pods by their terms (equivalence classes).
    a = parse_terms({"nodeSelectorTerms": [{"matchExpressions": [expr("zone", "In", "a")]}]})
    b = parse_terms({"nodeSelectorTerms": [{"matchExpressions": [expr("zone", "In", "a")]}]})
    assert a == b and hash(a) == hash(b)
    assert terms_match(a, LABELS, "node-1")


def test_terms_are_ored():
    terms = parse_terms(
        {
            "nodeSelectorTerms": [
                {"matchExpressions": [expr("zone", "In", "b")]},
                {"matchExpressions": [expr("zone", "NotIn")]},  # does not parse
                {"matchExpressions": [expr("gpus", "Exists")]},
            ]
        }
    )
    assert terms_match(terms, LABELS, "node-1")
    assert not terms_match(terms[:2], LABELS, "node-1")
    assert not terms_match((), LABELS, "node-1")
    assert parse_terms(None) == ()


@pytest.mark.parametrize(
    "selector, want",
    [
        ((), True),
        ((("zone", "a"),), True),
        ((("zone", "a"), ("gpus", "8")), True),
        ((("zone", "a"), ("gpus", "4")), False),
        ((("missing", ""),), False),  # present, not empty
    ],
)
def test_labels_match(selector, want):
    assert labels_match(selector, LABELS) is want
