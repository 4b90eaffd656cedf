"""ConfigMaps and Secrets: keys, sizes, Secret types, and the ``immutable`` switch."""

from __future__ import annotations

import base64
import json
import re

from berth.platform.errors import Cause
from berth.platform.resources.validation import names
from berth.platform.resources.validation.fields import (
    as_dict,
    forbidden,
    immutable,
    invalid,
    required,
    too_long,
)
from berth.platform.resources.validation.meta import (
    validate_object_meta,
    validate_object_meta_update,
)

MAX_SIZE = 1024 * 1024  # both kinds are capped at 1 MiB of data
REDACTED = "<secret contents redacted>"
_B64_ALPHABET = re.compile(r"[A-Za-z0-9+/]")


def base64_error(text: str) -> str | None:
    """Why Go's ``base64.StdEncoding`` would refuse ``text`` (None when it decodes).

    Kubernetes decodes ``data`` while reading the request, so a bad value never reaches its
    validation; this keeps Go's wording and the offset of the offending byte."""
    n, i, j = len(text), 0, 0  # j: characters read of the current 4-character quantum
    while i < n:
        ch = text[i]
        i += 1
        if ch in "\r\n":
            continue
        if ch == "=":
            if j < 2:
                return _corrupt(i - 1)
            if j == 2:
                i = _skip_newlines(text, i)
                if i == n:
                    return _corrupt(n)
                if text[i] != "=":
                    return _corrupt(i - 1)
                i += 1
            i = _skip_newlines(text, i)
            return _corrupt(i) if i < n else None
        if not _B64_ALPHABET.match(ch):
            return _corrupt(i - 1)
        j = (j + 1) % 4
    return _corrupt(n - j) if j else None


def _skip_newlines(text: str, i: int) -> int:
    while i < len(text) and text[i] in "\r\n":
        i += 1
    return i


def _corrupt(offset: int) -> str:
    return f"illegal base64 data at input byte {offset}"


def decode(text: str) -> bytes:
    """The bytes of a value ``base64_error`` accepted."""
    return base64.b64decode(text.replace("\r", "").replace("\n", ""))


def validate_config_map(cm: dict) -> list[Cause]:
    causes = validate_object_meta(cm.get("metadata"), True, names.name_is_dns_subdomain)
    data, binary = as_dict(cm.get("data")), as_dict(cm.get("binaryData"))
    size = 0
    for key, value in data.items():
        causes += [invalid(f"data[{key}]", key, m) for m in names.config_map_key(key)]
        if key in binary:
            causes.append(invalid(f"data[{key}]", key, "duplicate of key present in binaryData"))
        if not isinstance(value, str):
            causes.append(invalid(f"data[{key}]", value, "must be a string"))
            continue
        size += len(value.encode())
    for key, value in binary.items():
        causes += [invalid(f"binaryData[{key}]", key, m) for m in names.config_map_key(key)]
        error = base64_error(value) if isinstance(value, str) else "must be a base64 string"
        if error:
            causes.append(invalid(f"binaryData[{key}]", REDACTED, error))
            continue
        size += len(decode(value))
    if size > MAX_SIZE:
        causes.append(too_long("", MAX_SIZE))
    return causes


def _immutable_switch(new: dict, old: dict, data_keys: tuple[str, ...]) -> list[Cause]:
    if old.get("immutable") is not True:
        return []
    causes = []
    if new.get("immutable") is not True:
        causes.append(forbidden("immutable", "field is immutable when `immutable` is set"))
    for key in data_keys:
        if (new.get(key) or {}) != (old.get(key) or {}):
            causes.append(forbidden(key, "field is immutable when `immutable` is set"))
    return causes


def validate_config_map_update(new: dict, old: dict) -> list[Cause]:
    causes = validate_object_meta_update(new.get("metadata"), old.get("metadata"))
    causes += _immutable_switch(new, old, ("data", "binaryData"))
    return causes + validate_config_map(new)


def validate_secret(secret: dict) -> list[Cause]:
    causes = validate_object_meta(secret.get("metadata"), True, names.name_is_dns_subdomain)
    data = as_dict(secret.get("data"))
    decoded: dict[str, bytes | None] = {}
    size = 0
    for key, value in data.items():
        causes += [invalid(f"data[{key}]", key, m) for m in names.config_map_key(key)]
        error = base64_error(value) if isinstance(value, str) else "must be a base64 string"
        if error:
            causes.append(invalid(f"data[{key}]", REDACTED, error))
            decoded[key] = None
            continue
        decoded[key] = decode(value)
        size += len(decoded[key] or b"")
    if size > MAX_SIZE:
        causes.append(too_long("data", MAX_SIZE))
    return causes + _type_rules(secret, decoded)


def _type_rules(secret: dict, data: dict[str, bytes | None]) -> list[Cause]:
    kind = secret.get("type") or "Opaque"
    causes: list[Cause] = []
    if kind == "kubernetes.io/service-account-token":
        annotations = as_dict(as_dict(secret.get("metadata")).get("annotations"))
        if not annotations.get("kubernetes.io/service-account.name"):
            causes.append(required("metadata.annotations[kubernetes.io/service-account.name]"))
    elif kind in ("kubernetes.io/dockercfg", "kubernetes.io/dockerconfigjson"):
        key = ".dockercfg" if kind == "kubernetes.io/dockercfg" else ".dockerconfigjson"
        if key not in data:
            causes.append(required(f"data[{key}]"))
        elif data[key] is not None:
            error = _json_error(data[key] or b"")
            if error:
                causes.append(invalid(f"data[{key}]", REDACTED, error))
    elif kind == "kubernetes.io/basic-auth":
        if "username" not in data and "password" not in data:
            causes += [required("data[username]"), required("data[password]")]
    elif kind == "kubernetes.io/ssh-auth":
        if "ssh-privatekey" not in data or data["ssh-privatekey"] == b"":
            causes.append(required("data[ssh-privatekey]"))
    elif kind == "kubernetes.io/tls":
        causes += [required(f"data[{key}]") for key in ("tls.crt", "tls.key") if key not in data]
    return causes


def _json_error(raw: bytes) -> str | None:
    try:
        value = json.loads(raw.decode("utf-8"))
    except (UnicodeDecodeError, json.JSONDecodeError) as exc:
        return f"invalid JSON: {exc}"
    if not isinstance(value, dict):
        return "json: cannot unmarshal into Go value of type map[string]interface {}"
    return None


def validate_secret_update(new: dict, old: dict) -> list[Cause]:
    causes = validate_object_meta_update(new.get("metadata"), old.get("metadata"))
    if (new.get("type") or "Opaque") != (old.get("type") or "Opaque"):
        causes.append(immutable("type", new.get("type") or ""))
    causes += _immutable_switch(new, old, ("data",))
    return causes + validate_secret(new)
