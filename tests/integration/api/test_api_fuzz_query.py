"""Hostile query parameters, names and paths: selectors, paging, watch, log and delete options
that make no sense, names that try to climb out of their collection or are 10,000 characters
long. The API answers each with a Kubernetes ``Status`` (never a 5xx) and keeps serving."""

from __future__ import annotations

import base64
from urllib.parse import quote

import orjson
from hypothesis import given
from hypothesis import strategies as st

from berth.platform.resources import registry
from tests.integration.api.api_fuzz_support import (
    FUZZ_SETTINGS,
    NAMESPACE,
    TARGET,
    assert_kubernetes_answer,
    assert_still_serves,
    manifest,
)


def _token(data: object) -> str:
    return base64.urlsafe_b64encode(orjson.dumps(data)).decode().rstrip("=")


GARBAGE = st.sampled_from(
    [
        "",
        " ",
        "=",
        "==",
        "!=",
        ",",
        "!",
        "a=",
        "=b",
        "a==b==c",
        "a in (",
        "a in ()",
        "a notin b",
        "a in (b,c",
        "!a=b",
        "a!",
        "a=b,",
        ",a=b",
        "a=b,,c=d",
        "a=b c=d",
        "a>b",
        "a<b",
        "a>1x",
        "app=app-42",
        "metadata.name=target",
        "spec.nodeName=",
        "status.phase!=Running",
        "metadata.namespace==fuzz",
        "spec.nothing=1",
        "metadata.labels.a=b",
        "a=" + "b" * 70,
        "k" * 400 + "=v",
        "a/b/c=d",
        "-a=b",
        "a=-b",
        "%",
        "\x00",
        "\u202e",
        "🙂=🙂",
        "a=b\nc=d",
        "-1",
        "0",
        "1",
        "1e3",
        "abc",
        "99999999999999999999999",
        "-99999999999999999999",
        "1.5",
        "0x10",
        "NaN",
        "true",
        "All",
        "None",
        "Background",
        "Orphan",
        "Foreground",
        "Table",
        "Strict",
        "Warn",
        "Ignore",
        "NotOlderThan",
        "Exact",
        _token({"rv": 1, "start": ["a"]}),
        _token({"rv": "x", "start": [1, 2]}),
        _token({"start": None}),
        _token([1, 2, 3]),
        _token({"rv": 1, "start": ["", ""]}),
        _token({"rv": -1, "start": ["\u0000", "\uffff"]}),
        "!!!!",
        "eyJ9",
        "e30",
    ]
)
VALUES = GARBAGE | st.text(max_size=30)
QUERY_KEYS = (
    "labelSelector",
    "fieldSelector",
    "limit",
    "continue",
    "resourceVersion",
    "resourceVersionMatch",
    "watch",
    "allowWatchBookmarks",
    "includeObject",
    "dryRun",
    "propagationPolicy",
    "gracePeriodSeconds",
    "orphanDependents",
    "fieldManager",
    "fieldValidation",
    "force",
    "pretty",
    "sendInitialEvents",
    "tailLines",
    "sinceSeconds",
    "limitBytes",
    "container",
    "previous",
    "timestamps",
    "follow",
    "sinceTime",
    "exact",
    "export",
)
QUERIES = st.lists(st.tuples(st.sampled_from(QUERY_KEYS) | st.text(max_size=8), VALUES), max_size=6)
ACCEPTS = st.sampled_from(
    [
        None,
        "application/json",
        "application/json;as=Table;v=v1;g=meta.k8s.io",
        "application/json;as=Table;v=v1beta1;g=meta.k8s.io,application/json",
        "application/vnd.kubernetes.protobuf",
        "application/yaml",
        "text/html",
        "*/*",
        "as=Table",
        "application/json;as=PartialObjectMetadataList;v=v1;g=meta.k8s.io",
        ";;",
        "é".encode(),
        b"\xff\xfe;as=Table",  # header bytes that are not ASCII
    ]
)
# A watch that the fuzzer happens to make valid must end at once: timeoutSeconds=-1 puts its
# deadline in the past, so it returns after one read of the change log.
WATCH_TIMEOUTS = st.sampled_from(["-1", "x", "1.5", "1e3", "-99999999999999999999"])


def _collections() -> list[tuple[registry.ResourceType, str]]:
    out = []
    for rt in registry.ALL:
        out.append((rt, rt.path(NAMESPACE if rt.namespaced else None)))
        if rt.namespaced:
            out.append((rt, rt.path()))
    return out


def _items() -> list[tuple[registry.ResourceType, str]]:
    out = []
    for rt in registry.ALL:
        item = rt.path(NAMESPACE if rt.namespaced else None, TARGET)
        out += [(rt, item)] + [(rt, f"{item}/{sub}") for sub in rt.subresources]
    return out


def _bounded(query: list[tuple[str, str]], timeout: str) -> list[tuple[str, str]]:
    """Keep every hostile parameter, but never let a watch or a log follow run on."""
    out = [(k, v) for k, v in query if k not in ("timeoutSeconds", "follow")]
    if any(k == "watch" for k, _ in query):
        out.append(("timeoutSeconds", timeout))
    return out


@FUZZ_SETTINGS
@given(
    endpoint=st.sampled_from(_collections() + _items()),
    method=st.sampled_from(["GET", "GET", "DELETE"]),
    query=QUERIES,
    accept=ACCEPTS,
    timeout=WATCH_TIMEOUTS,
)
def test_hostile_query_parameters(api, ensure_target, endpoint, method, query, accept, timeout):
    rt, path = endpoint
    ensure_target(rt)
    headers = {"accept": accept} if accept else {}
    response = api.request(method, path, params=_bounded(query, timeout), headers=headers)
    assert_kubernetes_answer(response)


@FUZZ_SETTINGS
@given(
    rt=st.sampled_from(registry.ALL),
    resource_version=st.sampled_from(["", "0", "1", "-5", "999999999"]) | GARBAGE,
    selector=st.sampled_from(["", "app=x", "a in (b,c)", "!a"]) | GARBAGE,
    timeout=WATCH_TIMEOUTS,
    bookmarks=st.sampled_from(["true", "x", ""]),
)
def test_watches_with_hostile_parameters_answer_and_end(
    api, rt, resource_version, selector, timeout, bookmarks
):
    path = rt.path(NAMESPACE if rt.namespaced else None)
    response = api.get(
        path,
        params={
            "watch": "true",
            "resourceVersion": resource_version,
            "labelSelector": selector,
            "timeoutSeconds": timeout,
            "allowWatchBookmarks": bookmarks,
        },
    )
    assert_kubernetes_answer(response)
    if response.status_code == 200:
        for line in response.content.splitlines():
            event = orjson.loads(line)
            assert event["type"] in ("ADDED", "MODIFIED", "DELETED", "BOOKMARK", "ERROR")
            if event["type"] == "ERROR":
                assert event["object"]["kind"] == "Status"


NAMES = st.sampled_from(
    [
        "..",
        ".",
        "...",
        "../../etc/passwd",
        "..%2f..%2fetc",
        "a/../b",
        "%2e%2e",
        "%00",
        "\x00",
        "a" * 254,
        "a" * 10_000,
        "-",
        "-a",
        "a-",
        "A",
        "UPPER",
        "a_b",
        "a b",
        " ",
        "\t",
        "a\nb",
        "🙂",
        "\u202edcba",
        "é",
        "\ufeff",
        "a.b",
        "a..b",
        "name;drop table objects",
        "'",
        '"',
        "*",
        "?",
        "#",
        "%",
        "%25",
        "\\",
        "con",
        "nul",
        "default",
        "kube-system",
        TARGET,
    ]
) | st.text(min_size=1, max_size=40)


@FUZZ_SETTINGS
@given(
    rt=st.sampled_from(registry.ALL),
    name=NAMES,
    method=st.sampled_from(["GET", "PUT", "PATCH", "DELETE", "POST"]),
    in_namespace=st.booleans(),
)
def test_hostile_names_in_the_path_and_the_body(api, ensure_target, rt, name, method, in_namespace):
    """The name goes in the URL (percent-encoded, as a client would send it), in
    ``metadata.name``, and, for namespaced kinds, as the namespace."""
    ensure_target(rt)
    namespace = name if in_namespace else NAMESPACE
    body = manifest(rt, name)
    if rt.namespaced:
        body["metadata"]["namespace"] = namespace
    encoded = quote(name, safe="")
    if method == "POST":
        path = rt.path(quote(namespace, safe="") if rt.namespaced else None)
    else:
        path = rt.path(quote(namespace, safe="") if rt.namespaced else None, encoded)
    content_type = "application/merge-patch+json" if method == "PATCH" else "application/json"
    response = api.request(
        method, path, content=orjson.dumps(body), headers={"content-type": content_type}
    )
    assert_kubernetes_answer(response)


RAW_PATHS = [
    f"/api/v1/namespaces/{NAMESPACE}/configmaps/../../../secrets",
    f"/api/v1/namespaces/{NAMESPACE}/configmaps/%2e%2e/%2e%2e/secrets",
    f"/api/v1/namespaces/{NAMESPACE}/configmaps/a%2fb",
    f"/api/v1/namespaces/{NAMESPACE}/configmaps/%ff%fe",
    "/api/v1/namespaces/%ff/configmaps",
    f"/api/v1/namespaces/{NAMESPACE}//configmaps//{TARGET}",
    f"/api/v1/namespaces/{NAMESPACE}/pods/{TARGET}/log/extra",
    f"/api/v1/namespaces/{NAMESPACE}/pods/{TARGET}/status/status",
    f"/apis/batch/v1/namespaces/{NAMESPACE}/jobs/{TARGET}/log",
    "/api/v1/nodes/target/status/../../../namespaces",
    "/api//v1",
    "/apis//batch/v1",
    "/apis/batch/v1/namespaces",
    "/apis/batch/v1/namespaces/x",
    "/api/v1/namespaces/x/namespaces/y",
    "/api/v1/namespaces/x/nodes",
    "/api/v1/namespaces/" + "n" * 10_000 + "/pods",
    "/openapi/v3/..%2f..%2fetc%2fpasswd",
    "/openapi/v3/" + "x" * 10_000,
    "/api/v1/" + "/".join(["x"] * 500),
]


@FUZZ_SETTINGS
@given(
    path=st.sampled_from(RAW_PATHS),
    method=st.sampled_from(["GET", "POST", "PUT", "PATCH", "DELETE"]),
)
def test_paths_that_try_to_climb_out_of_their_collection(api, path, method):
    response = api.request(
        method, path, content=b"{}", headers={"content-type": "application/json"}
    )
    assert_kubernetes_answer(response)


def test_the_api_still_serves_after_the_fuzzing(api):
    assert_still_serves(api)
