"""Watches: a stream of ADDED / MODIFIED / DELETED / BOOKMARK / ERROR events for one resource.

A watch without a resourceVersion (or with "0") starts with a synthetic ADDED for every object
that matches, then follows the change log from the list's resourceVersion; with a
resourceVersion it replays every change after it. With selectors, an object that stops matching
is reported DELETED and one that starts matching ADDED, as kube-apiserver's cacher does.
"""

from __future__ import annotations

import asyncio
import functools
import time
from collections.abc import AsyncIterator

import orjson

from berth.platform.errors import BadRequest, Gone
from berth.platform.resources import fields, selectors
from berth.platform.resources.registry import ResourceType
from berth.platform.store.checks import with_type
from berth.platform.store.client import Client
from berth.platform.store.db import Change
from berth.platform.store.feed import ChangeFeed

BOOKMARK_EVERY = 10.0
# The synthetic ADDED events of a watch's initial list go out this many at a time.
INITIAL_BATCH = 500


class ChangeEvent:
    """An event of a watch without selectors: its line is written from the change's stored
    JSON, and the object is never decoded into this process's change feed.

    Measured in ``berth up``'s API process (bench_e2e --long, 10,000 Jobs): the decoded
    objects that the watches left on the feed's buffered changes (20,000 of them) were
    ~350,000 objects for the garbage collector, and its full collections stopped every thread,
    the event loop included, for 200-560 ms each (18 in the run): the GETs' p99. A watch with
    selectors decodes (it must match the object), as before."""

    __slots__ = ("change", "rt", "type")

    def __init__(self, type: str, rt: ResourceType, change: Change):
        self.type = type
        self.rt = rt
        self.change = change

    @property
    def object(self) -> dict:
        """The object, decoded for this caller alone (a Table row, say)."""
        return with_type(self.rt, _decode(self.change))

    def line(self) -> bytes:
        """``{"type": ..., "object": ...}`` and a newline: the bytes ``orjson.dumps`` of the
        event as a dict would give. The stored JSON is the object itself when it already
        begins with its apiVersion and kind (what clients send); else it is decoded, typed
        and encoded again, once for this line."""
        data = self.change.data
        prefix = _typed_prefix(self.rt.api_version, self.rt.kind)
        body = data.encode() if data.startswith(prefix) else orjson.dumps(self.object)
        return b'{"type":"' + self.type.encode() + b'","object":' + body + b"}\n"


@functools.cache
def _typed_prefix(api_version: str, kind: str) -> str:
    """How the stored JSON of an object that carries its type begins."""
    return (
        '{"apiVersion":'
        + orjson.dumps(api_version).decode()
        + ',"kind":'
        + orjson.dumps(kind).decode()
        + ","
    )


def _decode(change: Change) -> dict:
    """A fresh decoded copy of the change's object, not kept on the change. Objects sealed
    at rest (Secrets) go through the change, whose codec decrypts them."""
    data = change.data
    if data.startswith("{"):
        return orjson.loads(data)
    return dict(change.object)


def gone_event(message: str) -> dict:
    return {
        "type": "ERROR",
        "object": {
            "kind": "Status",
            "apiVersion": "v1",
            "metadata": {},
            "status": "Failure",
            "message": message,
            "reason": "Expired",
            "code": 410,
        },
    }


async def watch_batches(
    client: Client,
    feed: ChangeFeed,
    rt: ResourceType,
    namespace: str | None,
    *,
    resource_version: str | None = None,
    label_selector: str = "",
    field_selector: str = "",
    allow_bookmarks: bool = False,
    timeout_seconds: float | None = None,
) -> AsyncIterator[list[dict | ChangeEvent]]:
    """The events in order, a list at a time: those one read of the change feed produced
    (never empty), so that a stream can send them in one write. Without selectors, the
    events of changes are ``ChangeEvent``s (see there); the others are dicts."""
    labels = selectors.parse(label_selector or "")
    flds = fields.parse(field_selector or "", rt.kind)
    namespace = namespace if rt.namespaced and namespace else None

    def matches(obj: dict) -> bool:
        return labels.matches((obj.get("metadata") or {}).get("labels") or {}) and flds.matches(obj)

    unfiltered = labels.empty and flds.empty
    deadline = time.monotonic() + (timeout_seconds if timeout_seconds else 1800.0)
    present: set[tuple[str, str]] = set()
    if resource_version in (None, "", "0"):
        listed = await asyncio.to_thread(
            client.list, rt, namespace, label_selector=label_selector, field_selector=field_selector
        )
        for start in range(0, len(listed.items), INITIAL_BATCH):
            added = listed.items[start : start + INITIAL_BATCH]
            for obj in added:
                md = obj["metadata"]
                present.add((md.get("namespace", ""), md["name"]))
            yield [{"type": "ADDED", "object": obj} for obj in added]
        cursor = int(listed.resource_version)
    else:
        try:
            cursor = int(resource_version)
        except ValueError:
            raise BadRequest(f'invalid resource version "{resource_version}"') from None

    last_sent = time.monotonic()
    while True:
        try:
            # Only a cursor older than the feed's buffer reads the database (a thread).
            batch = feed.buffered_since(cursor)
            if batch is None:
                batch = await asyncio.to_thread(feed.since, cursor)
        except Gone as exc:
            yield [gone_event(exc.message)]
            return
        events: list[dict | ChangeEvent] = []
        for change in batch:
            cursor = change.rv
            if change.resource != rt.key or (
                namespace is not None and change.namespace != namespace
            ):
                continue
            if unfiltered:
                events.append(ChangeEvent(change.type, rt, change))
                continue
            key = (change.namespace, change.name)
            obj = with_type(rt, change.object)
            if change.type == "DELETED":
                if key in present or matches(obj):
                    present.discard(key)
                    events.append({"type": "DELETED", "object": obj})
                continue
            if matches(obj):
                kind = (
                    "ADDED"
                    if change.type == "ADDED"
                    or (
                        key not in present
                        and (not labels.empty or not flds.empty)
                        and resource_version in (None, "", "0")
                    )
                    else change.type
                )
                present.add(key)
                events.append({"type": kind, "object": obj})
            elif key in present:
                present.discard(key)
                events.append({"type": "DELETED", "object": obj})
        if events:
            yield events
            last_sent = time.monotonic()
        if batch:
            continue
        now = time.monotonic()
        if now >= deadline or feed.closing:
            return
        if allow_bookmarks and now - last_sent >= BOOKMARK_EVERY:
            yield [
                {
                    "type": "BOOKMARK",
                    "object": {
                        "kind": rt.kind,
                        "apiVersion": rt.api_version,
                        "metadata": {"resourceVersion": str(cursor)},
                    },
                }
            ]
            last_sent = now
        await feed.wait_async(cursor, min(deadline - now, BOOKMARK_EVERY))
