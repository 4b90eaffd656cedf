"""Label selectors: the string form and LabelSelector objects (node selectors:
``test_nodeselectors.py``)."""

from __future__ import annotations

import pytest

from berth.platform.errors import BadRequest
from berth.platform.resources import selectors


@pytest.mark.parametrize(
    "text, canonical",
    [
        ("", ""),
        ("   ", ""),
        ("a=b", "a=b"),
        ("a==b", "a==b"),
        ("a!=b", "a!=b"),
        ("a = b", "a=b"),
        ("a", "a"),
        ("!a", "!a"),
        ("! a", "!a"),
        ("a in (y,x)", "a in (x,y)"),
        ("a in (x, y ,x)", "a in (x,y)"),
        ("a notin (x)", "a notin (x)"),
        ("a in ()", "a in ()"),
        ("a in (,x)", "a in (,x)"),
        ("a in (x,)", "a in (,x)"),
        ("a=", "a="),
        ("a>3", "a>3"),
        ("a<3", "a<3"),
        # Sorted by key, stable: the order Kubernetes prints them in.
        ("z=1,a=2,m", "a=2,m,z=1"),
        ("b,a!=1,!c", "a!=1,b,!c"),
        (
            "example.com/tier in (web), app.kubernetes.io/name=x",
            "app.kubernetes.io/name=x,example.com/tier in (web)",
        ),
        # "in" and "notin" are words where a key or value is expected.
        ("in=notin", "in=notin"),
        ("in in (in)", "in in (in)"),
    ],
)
def test_parse_canonical(text, canonical):
    assert str(selectors.parse(text)) == canonical


@pytest.mark.parametrize(
    "text, message",
    [
        ("a b", "unable to parse requirement: found 'b', expected: in, notin, =, ==, !=, gt, lt"),
        ("a=b c", "found 'c', expected: ',' or 'end of string'"),
        ("a,", "found '', expected: identifier after ','"),
        (",a", "found ',', expected: !, identifier, or 'end of string'"),
        ("a in b", "unable to parse requirement: found 'b' expected: '('"),
        ("a in (b c)", "unable to parse requirement: found 'c', expected: ',' or ')'"),
        ("a in (b", "unable to parse requirement: found '', expected: ',' or ')'"),
        ("a=(b)", "unable to parse requirement: found '(', expected: identifier"),
        ("!a=b", "found '=', expected: ',' or 'end of string'"),
        ("!", "unable to parse requirement: found '', expected: identifier"),
        ("=a", "found '=', expected: !, identifier, or 'end of string'"),
        (
            "a>b",
            "unable to parse requirement: values[0]: Invalid value: \"b\": for 'Gt', 'Lt' "
            "operators, the value must be an integer",
        ),
    ],
)
def test_parse_errors(text, message):
    with pytest.raises(BadRequest) as err:
        selectors.parse(text)
    assert err.value.message == message
    assert err.value.code == 400


@pytest.mark.parametrize(
    "text, fragment",
    [
        ("-a=b", 'key: Invalid value: "-a": name part must consist of alphanumeric characters'),
        ("a/b/c", 'key: Invalid value: "a/b/c": a qualified name must consist of'),
        (
            "Example.com/a",
            'key: Invalid value: "Example.com/a": prefix part a lowercase RFC 1123 subdomain',
        ),
        ("/a", 'key: Invalid value: "/a": prefix part must be non-empty'),
        ("a" * 64, "name part must be no more than 63 characters"),
        (
            "a=" + "v" * 64,
            'values[0][a]: Invalid value: "' + "v" * 64 + '": must be no more than 63 characters',
        ),
        ("a=-v", 'values[0][a]: Invalid value: "-v": a valid label must be an empty string'),
        ("a in (x,-y)", 'values[0][a]: Invalid value: "-y"'),  # values are sorted first
        ("a<-3", 'values[0][a]: Invalid value: "-3"'),  # still a label value
    ],
)
def test_parse_validates_keys_and_values(text, fragment):
    with pytest.raises(BadRequest) as err:
        selectors.parse(text)
    assert err.value.message.startswith("unable to parse requirement: ")
    assert fragment in err.value.message


LABELS = {"app": "web", "tier": "front", "version": "10", "empty": ""}


@pytest.mark.parametrize(
    "text, expected",
    [
        ("", True),
        ("app=web", True),
        ("app==web", True),
        ("app=db", False),
        ("app!=db", True),
        ("app!=web", False),
        ("missing!=x", True),  # != holds when the key is absent
        ("app in (db,web)", True),
        ("app in (db)", False),
        ("app notin (db)", True),
        ("app notin (web)", False),
        ("missing notin (x)", True),
        ("app", True),
        ("missing", False),
        ("!app", False),
        ("!missing", True),
        ("empty=", True),
        ("empty", True),
        ("missing=", False),
        ("version>9", True),  # integers, not strings: "10" > "9"
        ("version>10", False),
        ("version<11", True),
        ("app>1", False),  # a label that is not an integer never compares
        ("missing<1", False),
        ("app=web,tier=front", True),
        ("app=web,tier=back", False),
    ],
)
def test_matches(text, expected):
    assert selectors.parse(text).matches(LABELS) is expected


def test_matches_none_labels():
    assert selectors.parse("").matches(None)
    assert selectors.parse("!a").matches(None)
    assert not selectors.parse("a").matches(None)


@pytest.mark.parametrize(
    "text, terms",
    [
        ("", []),
        ("a=1", [("a", ("1",))]),
        ("a==1", [("a", ("1",))]),
        ("a in (2,1)", [("a", ("1", "2"))]),
        ("a", [("a", None)]),
        ("a>1", [("a", None)]),
        ("a!=1", []),
        ("a notin (1)", []),
        ("!a", []),
        ("b=2,a!=1,c", [("b", ("2",)), ("c", None)]),
    ],
)
def test_index_terms(text, terms):
    assert selectors.parse(text).index_terms() == terms


def test_index_terms_never_exclude_a_match():
    # Whatever the index narrows to must contain every object that matches.
    candidates = [{}, {"a": "1"}, {"a": "2"}, {"a": "1", "b": "x"}, {"b": "y"}]
    for text in ["a=1", "a in (1,2),b", "a!=1", "!a,b", "a>1", "a notin (2),b=x"]:
        sel = selectors.parse(text)
        for labels in candidates:
            if sel.matches(labels):
                for key, values in sel.index_terms():
                    assert key in labels and (values is None or labels[key] in values)


def test_empty_and_nothing():
    assert selectors.parse("").empty
    assert not selectors.parse("a").empty
    assert selectors.from_object({}).empty
    nothing = selectors.from_object(None)
    assert not nothing.empty and nothing.nothing
    assert not nothing.matches({}) and not nothing.matches({"a": "b"})


@pytest.mark.parametrize(
    "obj, canonical",
    [
        ({"matchLabels": {"b": "2", "a": "1"}}, "a=1,b=2"),
        (
            {"matchExpressions": [{"key": "a", "operator": "In", "values": ["y", "x"]}]},
            "a in (x,y)",
        ),
        ({"matchExpressions": [{"key": "a", "operator": "NotIn", "values": ["x"]}]}, "a notin (x)"),
        ({"matchExpressions": [{"key": "a", "operator": "Exists"}]}, "a"),
        ({"matchExpressions": [{"key": "a", "operator": "DoesNotExist"}]}, "!a"),
        (
            {
                "matchLabels": {"job-name": "pi"},
                "matchExpressions": [
                    {"key": "batch.kubernetes.io/controller-uid", "operator": "Exists"}
                ],
            },
            "batch.kubernetes.io/controller-uid,job-name=pi",
        ),
        ({"matchLabels": {}, "matchExpressions": []}, ""),
    ],
)
def test_from_object(obj, canonical):
    assert str(selectors.from_object(obj)) == canonical


@pytest.mark.parametrize(
    "obj, fragment",
    [
        (
            {"matchExpressions": [{"key": "a", "operator": "Gt", "values": ["1"]}]},
            '"Gt" is not a valid label selector operator',
        ),
        (
            {"matchExpressions": [{"key": "a", "operator": "In", "values": []}]},
            "values set can't be empty",
        ),
        (
            {"matchExpressions": [{"key": "a", "operator": "Exists", "values": ["x"]}]},
            "values set must be empty for exists and does not exist",
        ),
        ({"matchLabels": {"a": "-bad"}}, "a valid label must be an empty string"),
        ({"matchLabels": {"a b": "x"}}, 'key: Invalid value: "a b"'),
    ],
)
def test_from_object_errors(obj, fragment):
    with pytest.raises(BadRequest) as err:
        selectors.from_object(obj)
    assert fragment in err.value.message


def test_from_set_matches_every_pair():
    sel = selectors.from_set({"gpu": "nvidia", "zone": "a"})
    assert sel.matches({"gpu": "nvidia", "zone": "a", "x": "y"})
    assert not sel.matches({"gpu": "nvidia"})
    assert selectors.from_set({}).empty and selectors.from_set(None).matches({})
