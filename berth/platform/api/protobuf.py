"""Kubernetes protobuf request bodies, decoded to the JSON-shaped objects the rest of Berth uses.

kubectl v1.32 sends its imperative ``create configmap|secret|namespace|job|cronjob`` as
``application/vnd.kubernetes.protobuf`` with no JSON fallback. The body is the magic
``k8s\\x00`` and a ``runtime.Unknown`` (1 typeMeta {1 apiVersion, 2 kind}, 2 raw, 3
contentEncoding, 4 contentType) whose ``raw`` is the object in the field numbers of
k8s.io/api's generated.proto (see :mod:`berth.platform.api.protobuf_messages`).

Go's generated marshallers write every non-pointer field, zero or not, so a zero scalar is
dropped unless the field is a pointer (marked ``?``), just as ``omitempty`` drops it from JSON.
"""

from __future__ import annotations

import base64
import json
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import UTC, datetime
from functools import cache

from berth.platform.api.protobuf_messages import MESSAGES, TOP_LEVEL
from berth.platform.errors import BadRequest, UnsupportedMediaType

MAGIC = b"k8s\x00"
MEDIA_TYPE = "application/vnd.kubernetes.protobuf"

_VARINT, _FIXED64, _BYTES, _FIXED32 = 0, 1, 2, 5
_SCALARS = {"s", "b", "i32", "i64", "bytes"}
_MAP_VALUE_ZERO: dict[str, object] = {"s": "", "bytes": "", "qty": "0"}


class _Malformed(ValueError):
    pass


@dataclass(frozen=True)
class _Field:
    json_name: str  # "" for an embedded struct whose fields are inlined in JSON
    type_: str  # scalar code, a message name, or {T} for map<string,T>
    repeated: bool
    pointer: bool  # present on the wire only when set, so its zero value counts


def decode(body: bytes) -> dict:
    """The object in a Kubernetes protobuf body, with ``apiVersion`` and ``kind``.

    Raises ``BadRequest`` for a malformed body and ``UnsupportedMediaType`` for a kind this
    module cannot read.
    """
    if not body.startswith(MAGIC):
        raise BadRequest(
            "the request body is not a Kubernetes protobuf message (missing the k8s\\x00 prefix)"
        )
    try:
        envelope = _envelope(body[len(MAGIC) :])
    except _Malformed as exc:
        raise BadRequest(f"the request body could not be decoded as protobuf: {exc}") from None
    api_version, kind, raw, encoding = envelope
    if encoding:
        raise UnsupportedMediaType(f"protobuf content encoding {encoding!r} is not supported")
    message = TOP_LEVEL.get((api_version, kind))
    if message is None:
        raise UnsupportedMediaType(
            f"{kind} in version {api_version!r} cannot be sent as protobuf to this server; "
            f"send it as application/json"
        )
    try:
        obj = _message(message, raw)
    except _Malformed as exc:
        raise BadRequest(
            f'{kind} in version "{api_version.rsplit("/", 1)[-1]}" cannot be '
            f"handled as a {kind}: {exc}"
        ) from None
    return {"apiVersion": api_version, "kind": kind, **obj}


def _envelope(buf: bytes) -> tuple[str, str, bytes, str]:
    api_version = kind = encoding = ""
    raw: bytes = b""  # a length-delimited field: the wire type says value is bytes
    for number, wire, value in _fields(buf):
        if number == 1 and wire == _BYTES:
            for sub, sub_wire, sub_value in _fields(value):  # type: ignore[arg-type]
                if sub == 1 and sub_wire == _BYTES:
                    api_version = _text(sub_value)
                elif sub == 2 and sub_wire == _BYTES:
                    kind = _text(sub_value)
        elif number == 2 and wire == _BYTES:
            raw = value  # type: ignore[assignment]
        elif number == 3 and wire == _BYTES:
            encoding = _text(value)
    if not kind:
        raise _Malformed("the envelope names no kind")
    return api_version, kind, raw, encoding


def _fields(buf: bytes) -> Iterator[tuple[int, int, int | bytes]]:
    """(field number, wire type, value) for each field of one message."""
    at, end = 0, len(buf)
    while at < end:
        key, at = _varint(buf, at)
        number, wire = key >> 3, key & 7
        if number == 0:
            raise _Malformed("field number 0")
        if wire == _VARINT:
            value, at = _varint(buf, at)
            yield number, wire, value
        elif wire == _BYTES:
            length, at = _varint(buf, at)
            if at + length > end:
                raise _Malformed("a length-delimited field runs past the end")
            yield number, wire, buf[at : at + length]
            at += length
        elif wire in (_FIXED64, _FIXED32):
            size = 8 if wire == _FIXED64 else 4
            if at + size > end:
                raise _Malformed("a fixed-size field runs past the end")
            yield number, wire, int.from_bytes(buf[at : at + size], "little")
            at += size
        else:
            raise _Malformed(f"unsupported wire type {wire}")


def _varint(buf: bytes, at: int) -> tuple[int, int]:
    result = shift = 0
    while True:
        if at >= len(buf) or shift > 63:
            raise _Malformed("truncated varint")
        byte = buf[at]
        at += 1
        result |= (byte & 0x7F) << shift
        shift += 7
        if not byte & 0x80:
            return result, at


def _text(value: int | bytes) -> str:
    if not isinstance(value, bytes):
        raise _Malformed("expected a string")
    try:
        return value.decode("utf-8")
    except UnicodeDecodeError:
        raise _Malformed("a string is not valid UTF-8") from None


@cache
def _schema(message: str) -> dict[int, _Field]:
    """``"1 name s; 11 labels {s}; 13 ownerReferences [OwnerReference]"`` parsed once."""
    out: dict[int, _Field] = {}
    for entry in MESSAGES[message].split(";"):
        number, json_name, type_ = entry.split()
        repeated = type_.startswith("[")
        pointer = type_.endswith("?")
        type_ = type_.strip("[]?")
        out[int(number)] = _Field("" if json_name == "-" else json_name, type_, repeated, pointer)
    return out


def _message(name: str, buf: bytes) -> dict:
    schema = _schema(name)
    obj: dict = {}
    for number, wire, value in _fields(buf):
        field = schema.get(number)
        if field is None:
            continue  # a newer field than we know: ignore it, as an older server would
        if field.type_.startswith("{"):
            key, item = _map_entry(field.type_[1:-1], value)
            obj.setdefault(field.json_name, {})[key] = item
        elif field.repeated:
            obj.setdefault(field.json_name, []).extend(_repeated(field.type_, wire, value))
        elif field.json_name == "":
            obj.update(_message(field.type_, _bytes(value)))
        else:
            item = _value(field.type_, wire, value)
            zero = field.type_ in _SCALARS and not field.pointer and item in ("", 0)
            if item is None or zero:
                obj.pop(field.json_name, None)  # the last occurrence of a field wins
            else:
                obj[field.json_name] = item
    return obj


def _repeated(type_: str, wire: int, value: int | bytes) -> list:
    if type_ in ("i32", "i64", "b") and wire == _BYTES:  # packed
        items, at, buf = [], 0, _bytes(value)
        while at < len(buf):
            item, at = _varint(buf, at)
            items.append(_value(type_, _VARINT, item))
        return items
    return [_value(type_, wire, value)]


def _map_entry(type_: str, value: int | bytes) -> tuple[str, object]:
    key, item = "", _MAP_VALUE_ZERO[type_]
    for number, wire, sub in _fields(_bytes(value)):
        if number == 1:
            key = _text(sub)
        elif number == 2:
            item = _value(type_, wire, sub)
    return key, item


def _bytes(value: int | bytes) -> bytes:
    if not isinstance(value, bytes):
        raise _Malformed("expected a length-delimited field")
    return value


def _value(type_: str, wire: int, value: int | bytes) -> object:
    if type_ == "s":
        return _text(value)
    if type_ == "bytes":
        return base64.b64encode(_bytes(value)).decode("ascii")
    if type_ in ("i32", "i64", "b"):
        if not isinstance(value, int):
            raise _Malformed("expected a varint")
        if type_ == "b":
            return value != 0
        return value - (1 << 64) if value >= 1 << 63 else value
    if type_ == "time":
        return _timestamp(_bytes(value))
    if type_ == "qty":
        return _quantity(_bytes(value))
    if type_ == "ios":
        return _int_or_string(_bytes(value))
    if type_ == "json":
        return _raw_json(_bytes(value))
    return _message(type_, _bytes(value))


def _timestamp(buf: bytes) -> str | None:
    seconds = 0
    for number, _, value in _fields(buf):
        if number == 1 and isinstance(value, int):
            seconds = value - (1 << 64) if value >= 1 << 63 else value
    if seconds == 0:
        return None  # Go's zero metav1.Time, which JSON writes as null
    return datetime.fromtimestamp(seconds, UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


def _quantity(buf: bytes) -> str:
    for number, _, value in _fields(buf):
        if number == 1:
            return _text(value)
    return "0"


def _int_or_string(buf: bytes) -> int | str:
    kind, int_val, str_val = 0, 0, ""
    for number, _, value in _fields(buf):
        if number == 1 and isinstance(value, int):
            kind = value
        elif number == 2 and isinstance(value, int):
            int_val = value - (1 << 64) if value >= 1 << 63 else value
        elif number == 3:
            str_val = _text(value)
    return str_val if kind == 1 else int_val


def _raw_json(buf: bytes) -> object:
    for number, _, value in _fields(buf):
        if number == 1:
            try:
                return json.loads(_bytes(value))
            except ValueError:
                raise _Malformed("fieldsV1 is not JSON") from None
    return {}
