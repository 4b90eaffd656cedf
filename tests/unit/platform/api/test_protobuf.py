"""Kubernetes protobuf bodies: real kubectl v1.32 captures and hand-encoded edge cases."""

import base64
import json
from pathlib import Path

import pytest

from berth.platform.api import protobuf
from berth.platform.api.protobuf_messages import MESSAGES
from berth.platform.errors import BadRequest, UnsupportedMediaType
from berth.platform.resources import schema

FIXTURES = Path(__file__).parent / "fixtures"


# A tiny encoder: enough protobuf to write the cases kubectl never sends.
def varint(n: int) -> bytes:
    n &= (1 << 64) - 1
    out = bytearray()
    while True:
        byte, n = n & 0x7F, n >> 7
        out.append(byte | (0x80 if n else 0))
        if not n:
            return bytes(out)


def vfield(number: int, value: int) -> bytes:
    return varint(number << 3) + varint(value)


def bfield(number: int, value: bytes | str) -> bytes:
    data = value.encode() if isinstance(value, str) else value
    return varint(number << 3 | 2) + varint(len(data)) + data


def entry(number: int, key: str, value: bytes | str) -> bytes:
    return bfield(number, bfield(1, key) + bfield(2, value))


def envelope(api_version: str, kind: str, raw: bytes, encoding: str = "") -> bytes:
    type_meta = bfield(1, api_version) + bfield(2, kind)
    return b"k8s\x00" + bfield(1, type_meta) + bfield(2, raw) + bfield(3, encoding) + bfield(4, "")


def meta(name: str, *extra: bytes) -> bytes:
    # Go writes every non-pointer field, zero or not, as kubectl's bodies show.
    return bfield(
        1,
        bfield(1, name)
        + b"".join(bfield(n, "") for n in (2, 3, 4, 5, 6))
        + vfield(7, 0)
        + bfield(8, b"")
        + b"".join(extra),
    )


def fixture(name: str) -> dict:
    return protobuf.decode((FIXTURES / name).read_bytes())


@pytest.mark.parametrize(
    "name, want",
    [
        (
            "create_configmap_literals.pb",
            {
                "apiVersion": "v1",
                "kind": "ConfigMap",
                "metadata": {"name": "cm1"},
                "data": {"a": "b", "greeting": "hello world"},
            },
        ),
        (
            "create_configmap_binary.pb",
            {
                "apiVersion": "v1",
                "kind": "ConfigMap",
                "metadata": {"name": "cm2"},
                "data": {"x": "y"},
                "binaryData": {"blob": base64.b64encode(b"bin\x00\xff").decode()},
            },
        ),
        (
            "create_secret_generic.pb",
            {
                "apiVersion": "v1",
                "kind": "Secret",
                "metadata": {"name": "s1"},
                "data": {
                    "password": base64.b64encode(b"s3cret").decode(),
                    "user": base64.b64encode(b"admin").decode(),
                },
            },
        ),
        (
            "create_secret_typed.pb",
            {
                "apiVersion": "v1",
                "kind": "Secret",
                "metadata": {"name": "s2"},
                "data": {"k": "dg=="},
                "type": "kubernetes.io/basic-auth",
            },
        ),
        (
            "create_namespace.pb",
            {"apiVersion": "v1", "kind": "Namespace", "metadata": {"name": "team-a"}, "spec": {}},
        ),
        (
            "create_job_command.pb",
            {
                "apiVersion": "batch/v1",
                "kind": "Job",
                "metadata": {"name": "hello"},
                "spec": {
                    "template": {
                        "metadata": {},
                        "spec": {
                            "containers": [
                                {
                                    "name": "hello",
                                    "image": "busybox",
                                    "command": ["echo", "hi"],
                                    "resources": {},
                                }
                            ],
                            "restartPolicy": "Never",
                        },
                    }
                },
            },
        ),
        (
            "create_job_plain.pb",
            {
                "apiVersion": "batch/v1",
                "kind": "Job",
                "metadata": {"name": "plain"},
                "spec": {
                    "template": {
                        "metadata": {},
                        "spec": {
                            "containers": [{"name": "plain", "image": "busybox", "resources": {}}],
                            "restartPolicy": "Never",
                        },
                    }
                },
            },
        ),
        (
            "create_cronjob_command.pb",
            {
                "apiVersion": "batch/v1",
                "kind": "CronJob",
                "metadata": {"name": "tick"},
                "spec": {
                    "schedule": "*/1 * * * *",
                    "jobTemplate": {
                        "metadata": {"name": "tick"},
                        "spec": {
                            "template": {
                                "metadata": {},
                                "spec": {
                                    "containers": [
                                        {
                                            "name": "tick",
                                            "image": "busybox",
                                            "command": ["echo", "hi"],
                                            "resources": {},
                                        }
                                    ],
                                    "restartPolicy": "OnFailure",
                                },
                            }
                        },
                    },
                },
            },
        ),
    ],
)
def test_kubectl_create_bodies(name, want):
    assert fixture(name) == want


def test_docker_registry_secret_carries_its_config_json():
    secret = fixture("create_secret_docker_registry.pb")
    assert secret["type"] == "kubernetes.io/dockerconfigjson"
    config = json.loads(base64.b64decode(secret["data"][".dockerconfigjson"]))
    assert config["auths"]["r.io"]["username"] == "u"


def test_create_job_from_cronjob_round_trips_the_whole_template():
    cron = json.loads((FIXTURES / "rich_cronjob.json").read_text())
    job = fixture("create_job_from_cronjob.pb")
    assert job["spec"] == cron["spec"]["jobTemplate"]["spec"]
    assert job["metadata"] == {
        "name": "richjob",
        "labels": {"team": "x"},
        "annotations": {"a": "b", "cronjob.kubernetes.io/instantiate": "manual"},
        "ownerReferences": [
            {
                "kind": "CronJob",
                "name": "rich",
                "uid": cron["metadata"]["uid"],
                "apiVersion": "batch/v1",
                "controller": True,
            }
        ],
    }


def test_pointer_zero_values_are_kept_and_plain_zero_values_dropped():
    template = bfield(
        2,
        bfield(2, bfield(1, "c") + bfield(2, "busybox") + vfield(16, 0))
        + bfield(3, "Never")
        + vfield(11, 0)
        + vfield(21, 0),
    )
    spec = vfield(7, 0) + vfield(10, 0) + bfield(6, template) + vfield(3, 2**40)
    job = protobuf.decode(envelope("batch/v1", "Job", meta("j") + bfield(2, spec)))
    assert job["spec"]["backoffLimit"] == 0
    assert job["spec"]["suspend"] is False
    assert job["spec"]["activeDeadlineSeconds"] == 2**40
    pod_spec = job["spec"]["template"]["spec"]
    assert pod_spec["automountServiceAccountToken"] is False
    assert "hostNetwork" not in pod_spec and "stdin" not in pod_spec["containers"][0]


def test_metadata_maps_times_owner_references_and_managed_fields():
    managed = bfield(1, "kubectl") + bfield(2, "Update") + bfield(4, vfield(1, 1764098272))
    managed += bfield(7, bfield(1, b'{"f:data":{}}'))
    raw = meta(
        "c",
        entry(11, "app", "x"),
        entry(12, "empty", ""),
        bfield(14, "f1"),
        bfield(17, managed),
        bfield(9, vfield(1, 1764098272) + vfield(2, 5)),
    )
    raw += entry(2, "k", "")
    cm = protobuf.decode(envelope("v1", "ConfigMap", raw))
    assert cm["metadata"] == {
        "name": "c",
        "labels": {"app": "x"},
        "annotations": {"empty": ""},
        "finalizers": ["f1"],
        "deletionTimestamp": "2025-11-25T19:17:52Z",
        "managedFields": [
            {
                "manager": "kubectl",
                "operation": "Update",
                "time": "2025-11-25T19:17:52Z",
                "fieldsV1": {"f:data": {}},
            }
        ],
    }
    assert cm["data"] == {"k": ""}


def test_negative_packed_and_int_or_string_values():
    exit_codes = bfield(2, bfield(2, "In") + bfield(3, varint(1) + varint(-1) + varint(255)))
    rule = bfield(1, bfield(1, "FailJob") + exit_codes)
    probe = bfield(1, bfield(2, bfield(2, vfield(1, 1) + bfield(3, "http"))))
    probe2 = bfield(1, bfield(3, bfield(1, vfield(1, 0) + vfield(2, 8080))))
    container = bfield(1, "c") + bfield(10, probe) + bfield(11, probe2)
    template = bfield(2, bfield(2, container))
    spec = bfield(11, rule) + bfield(6, template)
    job = protobuf.decode(envelope("batch/v1", "Job", meta("j") + bfield(2, spec)))
    assert job["spec"]["podFailurePolicy"]["rules"][0]["onExitCodes"]["values"] == [1, -1, 255]
    c = job["spec"]["template"]["spec"]["containers"][0]
    assert c["livenessProbe"] == {"httpGet": {"port": "http"}}
    assert c["readinessProbe"] == {"tcpSocket": {"port": 8080}}


def test_unknown_field_numbers_are_ignored():
    raw = meta("c") + bfield(99, "future") + vfield(98, 7) + entry(2, "a", "b")
    assert protobuf.decode(envelope("v1", "ConfigMap", raw))["data"] == {"a": "b"}


def test_the_last_occurrence_of_a_scalar_wins():
    raw = meta("c") + bfield(3, "Opaque") + bfield(3, "")
    assert "type" not in protobuf.decode(envelope("v1", "Secret", raw))


@pytest.mark.parametrize(
    "body",
    [
        b"",
        b'{"kind": "ConfigMap"}',
        b"k8s\x00" + b"\x0a\x05ab",  # length runs past the end
        b"k8s\x00" + b"\x0a",  # truncated varint
        b"k8s\x00" + b"\x0b\x00",  # wire type 3 (groups)
        b"k8s\x00" + bfield(2, b"x"),  # no type meta
        envelope("v1", "ConfigMap", bfield(1, b"\x0a\x02\xff\xfe")),  # name not UTF-8
        envelope("v1", "ConfigMap", vfield(1, 3)),  # metadata sent as a varint
        envelope("v1", "ConfigMap", meta("c", bfield(17, bfield(7, bfield(1, b"{nope"))))),
    ],
)
def test_malformed_bodies_are_bad_requests(body):
    with pytest.raises(BadRequest):
        protobuf.decode(body)


@pytest.mark.parametrize(
    "body",
    [
        envelope("apps/v1", "Deployment", meta("d")),
        envelope("v1", "Service", meta("s")),
        envelope("v1", "ConfigMap", meta("c"), encoding="gzip"),
    ],
)
def test_unsupported_kinds_and_encodings(body):
    with pytest.raises(UnsupportedMediaType):
        protobuf.decode(body)


@pytest.mark.parametrize("name", sorted(p.name for p in FIXTURES.glob("*.pb")))
def test_decoded_fixtures_pass_strict_decoding(name):
    obj = fixture(name)
    assert schema.unknown_fields(obj["kind"], obj) == []
    assert schema.type_errors(obj["kind"], obj) == []


def test_every_json_name_in_the_field_maps_is_a_schema_field():
    """The protobuf field maps and schema.json must agree on every field's JSON name."""
    models = schema.models()
    checked = 0
    for message, spec in MESSAGES.items():
        model = next((m for m in (f"V1{message}", f"CoreV1{message}") if m in models), None)
        if model is None:
            continue
        for entry in spec.split(";"):
            _, json_name, _ = entry.split()
            if json_name != "-":
                assert json_name in models[model], f"{message}.{json_name}"
                checked += 1
    assert checked > 300
