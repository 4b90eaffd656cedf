"""String formats, worded as apimachinery words them."""

import pytest

from berth.platform.resources.validation import names

SUBDOMAIN_MSG = (
    "a lowercase RFC 1123 subdomain must consist of lower case alphanumeric characters, '-' or "
    "'.', and must start and end with an alphanumeric character (e.g. 'example.com', regex used "
    "for validation is '[a-z0-9]([-a-z0-9]*[a-z0-9])?(\\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*')"
)
LABEL_MSG = (
    "a lowercase RFC 1123 label must consist of lower case alphanumeric characters or '-', and "
    "must start and end with an alphanumeric character (e.g. 'my-name',  or '123-abc', regex "
    "used for validation is '[a-z0-9]([-a-z0-9]*[a-z0-9])?')"
)


@pytest.mark.parametrize(
    "value,expected",
    [
        ("example.com", []),
        ("a", []),
        ("Bad_Name", [SUBDOMAIN_MSG]),
        ("-start", [SUBDOMAIN_MSG]),
        ("a" * 254, ["must be no more than 253 characters"]),
    ],
)
def test_dns1123_subdomain(value, expected):
    assert names.dns1123_subdomain(value) == expected


@pytest.mark.parametrize(
    "value,expected",
    [
        ("my-name", []),
        ("has.dots", ["must not contain dots"]),
        ("UPPER", [LABEL_MSG]),
        ("a" * 64, ["must be no more than 63 characters"]),
    ],
)
def test_dns1123_label(value, expected):
    assert names.dns1123_label(value) == expected


@pytest.mark.parametrize(
    "value,fragment",
    [
        ("app", None),
        ("example.com/app", None),
        ("nvidia.com/gpu", None),
        ("/app", "prefix part must be non-empty"),
        ("Example.com/app", "prefix part a lowercase RFC 1123 subdomain"),
        ("a/b/c", "a qualified name must consist of"),
        ("", "name part must be non-empty"),
        ("bad key", "name part must consist of alphanumeric characters"),
        ("a" * 64, "name part must be no more than 63 characters"),
    ],
)
def test_qualified_name(value, fragment):
    errs = names.qualified_name(value)
    if fragment is None:
        assert errs == []
    else:
        assert any(e.startswith(fragment) for e in errs), errs


@pytest.mark.parametrize(
    "value,ok",
    [
        ("", True),
        ("MyBigWebApp", True),
        ("my_value.1", True),
        ("-x", False),
        ("a b", False),
        ("a" * 64, False),
    ],
)
def test_label_value(value, ok):
    assert (names.label_value(value) == []) is ok


@pytest.mark.parametrize(
    "value,expected_start",
    [
        ("key.name", None),
        ("KEY_NAME", None),
        (".dockerconfigjson", None),
        (".", "must not be '.'"),
        ("..", "must not be '..'"),
        ("..x", "must not start with '..'"),
        ("a/b", "a valid config key must consist of alphanumeric characters"),
    ],
)
def test_config_map_key(value, expected_start):
    errs = names.config_map_key(value)
    assert (errs == []) if expected_start is None else errs[-1].startswith(expected_start)


@pytest.mark.parametrize(
    "value,ok",
    [
        ("CITY", True),
        ("my.env-name", True),
        ("_X", True),
        ("1ABC", False),
        ("A=B", False),
    ],
)
def test_env_var_name(value, ok):
    errs = names.env_var_name(value)
    assert (errs == []) is ok
    if not ok:
        assert errs[0].startswith(
            "a valid environment variable name must consist of alphabetic "
            "characters, digits, '_', '-', or '.', and must not start with "
            "a digit"
        )


@pytest.mark.parametrize(
    "value,expected",
    [
        ("http", []),
        ("8080", ["must contain at least one letter (a-z)"]),
        ("a--b", ["must not contain consecutive hyphens"]),
        ("-a", ["must not begin or end with a hyphen"]),
        ("abcdefghijklmnop", ["must be no more than 15 characters"]),
    ],
)
def test_port_name(value, expected):
    assert names.port_name(value) == expected


def test_generate_name_prefix_may_end_with_dash():
    assert names.name_is_dns_subdomain("pi-", prefix=True) == []
    assert names.name_is_dns_subdomain("pi-") != []
