"""Watches: a stream of ADDED / MODIFIED / DELETED / BOOKMARK / ERROR events for one resource.

A watch without a resourceVersion (or with "0") starts with a synthetic ADDED for every object
that matches, then follows the change log from the list's resourceVersion; with a
resourceVersion it replays every change after it. With selectors, an object that stops matching
is reported DELETED and one that starts matching ADDED, as kube-apiserver's cacher does.
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import AsyncIterator

from berth.platform.errors import BadRequest, Gone
from berth.platform.resources import fields, selectors
from berth.platform.resources.registry import ResourceType
from berth.platform.store.checks import with_type
from berth.platform.store.client import Client
from berth.platform.store.feed import ChangeFeed

BOOKMARK_EVERY = 10.0
# The synthetic ADDED events of a watch's initial list go out this many at a time.
INITIAL_BATCH = 500


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
) -> AsyncIterator[list[dict]]:
    """The events in order, a list at a time: those one read of the change feed produced
    (never empty), so that a stream can send them in one write."""
    labels = selectors.parse(label_selector or "")
    flds = fields.parse(field_selector or "", rt.kind)
    namespace = namespace if rt.namespaced and namespace else None

    def matches(obj: dict) -> bool:
        return labels.matches((obj.get("metadata") or {}).get("labels") or {}) and flds.matches(obj)

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
        events: list[dict] = []
        for change in batch:
            cursor = change.rv
            if change.resource != rt.key or (
                namespace is not None and change.namespace != namespace
            ):
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
