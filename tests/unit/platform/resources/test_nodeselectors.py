"""Node selectors parsed once and matched many times (``Term``), and ``spec.nodeSelector``.

The term-by-term semantics are tabled in ``test_selectors.py`` through the dict form; here the
parsed form the scheduler keeps, and the cases where a term does not parse and so matches no
node (component-helpers ``nodeaffinity``), which the scheduler's own matcher used to accept.
"""

from __future__ import annotations

import pytest

from berth.platform.resources.nodeselectors import (Term, labels_match, parse_term, parse_terms,
                                                    term_matches, terms_match)

LABELS = {"zone": "a", "gpus": "8"}


def expr(key, operator, *values):
    return {"key": key, "operator": operator, "values": list(values)}


@pytest.mark.parametrize("term, want", [
    ({"matchExpressions": [expr("zone", "In", "a", "b")]}, True),
    ({"matchExpressions": [expr("zone", "NotIn", "b")]}, True),
    ({"matchExpressions": [expr("gpus", "Gt", "4")]}, True),
    ({"matchFields": [expr("metadata.name", "In", "node-1")]}, True),
    # Terms that do not parse match nothing, even where the requirement alone would hold.
    ({"matchExpressions": [expr("zone", "NotIn")]}, False),          # NotIn needs values
    ({"matchExpressions": [expr("zone", "Exists", "a")]}, False),    # Exists takes none
    ({"matchExpressions": [expr("gpus", "Gt", " 4")]}, False),       # not an integer
    ({"matchExpressions": [expr("bad key!", "DoesNotExist")]}, False),
    ({"matchFields": [expr("metadata.uid", "NotIn", "x")]}, False),   # only metadata.name
    ({"matchFields": [expr("metadata.name", "Exists")]}, False),
])
def test_parsed_term(term, want):
    parsed = parse_term(term)
    assert term_matches(parsed, LABELS, "node-1") is want
    assert parsed.valid is want


def test_a_term_that_does_not_parse_is_marked_not_raised():
    assert parse_term({"matchExpressions": [expr("zone", "Bogus", "a")]}) == Term(valid=False)
    assert not term_matches(Term(valid=False), LABELS, "node-1")
    assert not term_matches(Term(), LABELS, "node-1")                  # empty: no node


def test_parsed_terms_are_equal_and_hashable():
    # The scheduler groups pods by their terms (equivalence classes).
    a = parse_terms({"nodeSelectorTerms": [{"matchExpressions": [expr("zone", "In", "a")]}]})
    b = parse_terms({"nodeSelectorTerms": [{"matchExpressions": [expr("zone", "In", "a")]}]})
    assert a == b and hash(a) == hash(b)
    assert terms_match(a, LABELS, "node-1")


def test_terms_are_ored():
    terms = parse_terms({"nodeSelectorTerms": [
        {"matchExpressions": [expr("zone", "In", "b")]},
        {"matchExpressions": [expr("zone", "NotIn")]},                 # does not parse
        {"matchExpressions": [expr("gpus", "Exists")]}]})
    assert terms_match(terms, LABELS, "node-1")
    assert not terms_match(terms[:2], LABELS, "node-1")
    assert not terms_match((), LABELS, "node-1")
    assert parse_terms(None) == ()


@pytest.mark.parametrize("selector, want", [
    ((), True),
    ((("zone", "a"),), True),
    ((("zone", "a"), ("gpus", "8")), True),
    ((("zone", "a"), ("gpus", "4")), False),
    ((("missing", ""),), False),                                      # present, not empty
])
def test_labels_match(selector, want):
    assert labels_match(selector, LABELS) is want
