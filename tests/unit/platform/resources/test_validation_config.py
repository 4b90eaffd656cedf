"""ConfigMaps and Secrets."""

import base64
import copy

import pytest

from berth.platform.resources import registry, strategy
from berth.platform.resources.validation import config

META = {"name": "c", "namespace": "default", "uid": "u"}


def b64(text: str) -> str:
    return base64.b64encode(text.encode()).decode()


def a_config_map(**fields):
    return {"metadata": dict(META), **fields}


def a_secret(**fields):
    return {"metadata": dict(META), **fields}


def causes(rt, obj):
    obj = copy.deepcopy(obj)
    strategy.prepare_for_create(rt, obj)
    return [(c.field, c.reason) for c in strategy.validate_create(rt, obj)]


@pytest.mark.parametrize(
    "cm,field,reason",
    [
        (a_config_map(data={"bad key": "v"}), "data[bad key]", "FieldValueInvalid"),
        (a_config_map(data={"..": "v"}), "data[..]", "FieldValueInvalid"),
        (a_config_map(data={"k": "v"}, binaryData={"k": b64("v")}), "data[k]", "FieldValueInvalid"),
        (a_config_map(binaryData={"k": "not base64!"}), "binaryData[k]", "FieldValueInvalid"),
        (a_config_map(data={"big": "x" * (1024 * 1024 + 1)}), "", "FieldValueTooLong"),
        (a_config_map(data={"n": 5}), "data[n]", "FieldValueInvalid"),
    ],
)
def test_config_map_rules(cm, field, reason):
    assert (field, reason) in causes(registry.CONFIG_MAP, cm)


def test_config_map_size_message():
    cm = a_config_map(data={"a": "x" * (1024 * 1024), "b": "y"})
    found = strategy.validate_create(registry.CONFIG_MAP, cm)
    assert [(c.field, c.message) for c in found] == [
        ("", "Too long: must have at most 1048576 bytes")
    ]


def test_valid_config_map():
    assert (
        causes(
            registry.CONFIG_MAP,
            a_config_map(
                data={"city": "Ann Arbor", "game.properties": "a=b\n"},
                binaryData={"logo.png": b64("\x89PNG")},
            ),
        )
        == []
    )


@pytest.mark.parametrize(
    "kind,old_fields,mutate,field,reason",
    [
        (
            "cm",
            {"immutable": True, "data": {"a": "1"}},
            lambda o: o["data"].update(a="2"),
            "data",
            "FieldValueForbidden",
        ),
        (
            "cm",
            {"immutable": True},
            lambda o: o.update(immutable=False),
            "immutable",
            "FieldValueForbidden",
        ),
        (
            "secret",
            {"immutable": True, "data": {"a": b64("1")}},
            lambda o: o.update(stringData={"a": "2"}),
            "data",
            "FieldValueForbidden",
        ),
        (
            "secret",
            {"type": "Opaque"},
            lambda o: o.update(type="kubernetes.io/basic-auth", data={"username": b64("u")}),
            "type",
            "FieldValueInvalid",
        ),
    ],
)
def test_immutability(kind, old_fields, mutate, field, reason):
    rt = registry.CONFIG_MAP if kind == "cm" else registry.SECRET
    old = {"metadata": dict(META), **copy.deepcopy(old_fields)}
    strategy.prepare_for_create(rt, old)
    new = copy.deepcopy(old)
    mutate(new)
    strategy.prepare_for_update(rt, new, old)
    assert (field, reason) in [(c.field, c.reason) for c in strategy.validate_update(rt, new, old)]


def test_mutable_config_map_may_change_and_keeps_its_generation():
    old = a_config_map(data={"a": "1"})
    new = a_config_map(data={"a": "2"})
    assert strategy.validate_update(registry.CONFIG_MAP, new, old) == []
    assert not strategy.spec_changed(registry.CONFIG_MAP, new, old)


@pytest.mark.parametrize(
    "secret,field,reason",
    [
        (a_secret(data={"k": "abc"}), "data[k]", "FieldValueInvalid"),
        (a_secret(data={"k": "ab$="}), "data[k]", "FieldValueInvalid"),
        (a_secret(data={"bad key": b64("v")}), "data[bad key]", "FieldValueInvalid"),
        (a_secret(data={"big": b64("x" * (1024 * 1024 + 1))}), "data", "FieldValueTooLong"),
        (
            a_secret(type="kubernetes.io/tls", data={"tls.crt": b64("c")}),
            "data[tls.key]",
            "FieldValueRequired",
        ),
        (
            a_secret(type="kubernetes.io/dockerconfigjson"),
            "data[.dockerconfigjson]",
            "FieldValueRequired",
        ),
        (
            a_secret(type="kubernetes.io/dockerconfigjson", data={".dockerconfigjson": b64("{")}),
            "data[.dockerconfigjson]",
            "FieldValueInvalid",
        ),
        (a_secret(type="kubernetes.io/dockercfg"), "data[.dockercfg]", "FieldValueRequired"),
        (a_secret(type="kubernetes.io/basic-auth"), "data[username]", "FieldValueRequired"),
        (
            a_secret(type="kubernetes.io/ssh-auth", data={"ssh-privatekey": ""}),
            "data[ssh-privatekey]",
            "FieldValueRequired",
        ),
        (
            a_secret(type="kubernetes.io/service-account-token"),
            "metadata.annotations[kubernetes.io/service-account.name]",
            "FieldValueRequired",
        ),
    ],
)
def test_secret_rules(secret, field, reason):
    assert (field, reason) in causes(registry.SECRET, secret)


@pytest.mark.parametrize(
    "secret",
    [
        a_secret(data={"username": "ZXhhbXBsZQ==", "password": "bXlwYXNzd29yZA=="}),
        a_secret(data={"wrapped": "ZXhh\nbXBsZQ=="}),
        a_secret(data={"empty": ""}),
        a_secret(type="kubernetes.io/tls", data={"tls.crt": b64("c"), "tls.key": b64("k")}),
        a_secret(type="kubernetes.io/dockerconfigjson", stringData={".dockerconfigjson": "{}"}),
        a_secret(type="kubernetes.io/basic-auth", stringData={"password": "p"}),
        a_secret(type="example.com/custom", data={"x": b64("y")}),
    ],
)
def test_valid_secrets(secret):
    assert causes(registry.SECRET, secret) == []


def test_string_data_is_merged_into_data():
    secret = a_secret(data={"a": b64("old"), "b": b64("kept")}, stringData={"a": "new", "c": "x"})
    strategy.prepare_for_create(registry.SECRET, secret)
    assert secret == {
        "metadata": META,
        "type": "Opaque",
        "data": {"a": b64("new"), "b": b64("kept"), "c": b64("x")},
    }


def test_string_data_is_merged_on_update_too():
    old = a_secret(data={"a": b64("1")})
    strategy.prepare_for_create(registry.SECRET, old)
    new = copy.deepcopy(old)
    new["stringData"] = {"a": "2"}
    strategy.prepare_for_update(registry.SECRET, new, old)
    assert new["data"] == {"a": b64("2")} and "stringData" not in new


@pytest.mark.parametrize(
    "text,error",
    [
        ("ZXhhbXBsZQ==", None),
        ("", None),
        ("YQ==\n", None),
        ("YWJj", None),
        ("abc", "illegal base64 data at input byte 0"),
        ("YW$j", "illegal base64 data at input byte 2"),
        ("Y===", "illegal base64 data at input byte 1"),
        ("YQ=a", "illegal base64 data at input byte 2"),
        ("YQ==YQ==", "illegal base64 data at input byte 4"),
    ],
)
def test_base64_errors_read_like_go(text, error):
    assert config.base64_error(text) == error
