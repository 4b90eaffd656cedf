"""Informers: in-memory copies of the store, kept current by the change feed.

One thread (the hub) follows the feed and updates every registered informer in resourceVersion
order, then tells each informer's handlers what changed (old, new). Controllers read from the
informers and write through the client; a cache is only a cache — after a restart everything is
listed again from the store.
"""

from __future__ import annotations

import logging
import threading
from collections.abc import Callable, Iterable
from typing import Any

from berth.platform.errors import Gone
from berth.platform.resources.registry import ResourceType
from berth.platform.store.checks import with_type
from berth.platform.store.client import Client
from berth.platform.store.feed import ChangeFeed

log = logging.getLogger(__name__)

# An object of the informer's kind: a plain dict, which readers and handlers annotate with the
# kind's TypedDict (berth.platform.resources.types: Pod, Job, Node ...).
Obj = Any
Handler = Callable[[Obj | None, Obj | None], None]  # (old, new); new None on delete
Key = tuple[str, str]  # (namespace, name)


# Pods by ``spec.nodeName``: the index the kubelet's lookups, the simulated kubelet and the GPU
# allocation reporter all read. ``add_index`` keeps the first registration of a name, so they
# share one table instead of each keeping its own copy on every pod event.
PODS_BY_NODE = "spec.nodeName"


def node_name_of(pod: dict) -> list[str]:
    name = (pod.get("spec") or {}).get("nodeName")
    return [name] if name else []


class Informer:
    def __init__(self, rt: ResourceType):
        self.rt = rt
        self._items: dict[Key, dict] = {}
        self._handlers: list[Handler] = []
        self._indexes: dict[str, tuple[Callable[[Obj], Iterable[str]], dict[str, set[Key]]]] = {}
        self._lock = threading.RLock()
        self._listed_rv = 0

    # -- reads (safe from any thread; treat returned objects as read-only) -----------------
    def get(self, namespace: str, name: str) -> Obj | None:
        return self._items.get((namespace if self.rt.namespaced else "", name))

    def list(self, namespace: str | None = None) -> list[Obj]:
        with self._lock:
            items = list(self._items.values())
        if namespace is None:
            return items
        return [o for o in items if o["metadata"].get("namespace", "") == namespace]

    def by_index(self, index: str, value: str) -> list[Obj]:
        with self._lock:
            keys = list(self._indexes[index][1].get(value, ()))
            return [self._items[k] for k in keys if k in self._items]

    def __len__(self) -> int:
        return len(self._items)

    # -- wiring ---------------------------------------------------------------------------
    def add_handler(self, handler: Handler) -> None:
        self._handlers.append(handler)

    def add_index(self, name: str, fn: Callable[[Obj], Iterable[str]]) -> None:
        """Index the objects by ``fn``; a name registered before keeps its first function
        (one name, one index: see ``PODS_BY_NODE``)."""
        with self._lock:
            if name in self._indexes:
                return
            table: dict[str, set[Key]] = {}
            for key, obj in self._items.items():
                for value in fn(obj):
                    table.setdefault(value, set()).add(key)
            self._indexes[name] = (fn, table)

    def _replace(self, objects: list[dict]) -> list[tuple[dict | None, dict | None]]:
        fresh = {_key(o): o for o in objects}
        with self._lock:
            old_items = self._items
            self._items = {}
            for table in self._indexes.values():
                table[1].clear()
            for key, obj in fresh.items():
                self._store(key, obj)
        events: list[tuple[dict | None, dict | None]] = [
            (old_items.get(k), o) for k, o in fresh.items() if old_items.get(k) != o
        ]
        events += [(o, None) for k, o in old_items.items() if k not in fresh]
        return events

    def _apply(self, kind: str, obj: dict) -> tuple[dict | None, dict | None]:
        key = _key(obj)
        with self._lock:
            old = self._items.get(key)
            self._unindex(key, old)
            if kind == "DELETED":
                self._items.pop(key, None)
                return old, None
            self._store(key, obj)
        return old, obj

    def _store(self, key: Key, obj: dict) -> None:
        self._items[key] = obj
        for fn, table in self._indexes.values():
            for value in fn(obj):
                table.setdefault(value, set()).add(key)

    def _unindex(self, key: Key, obj: dict | None) -> None:
        if obj is None:
            return
        for fn, table in self._indexes.values():
            for value in fn(obj):
                bucket = table.get(value)
                if bucket:
                    bucket.discard(key)
                    if not bucket:
                        del table[value]

    def _notify(self, old: dict | None, new: dict | None) -> None:
        for handler in self._handlers:
            try:
                handler(old, new)
            except Exception:
                log.exception("%s informer handler failed", self.rt.kind)


class InformerHub:
    def __init__(self, client: Client, feed: ChangeFeed):
        self.client = client
        self.feed = feed
        self._informers: dict[str, Informer] = {}
        self._cursor = 0
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None
        self.synced = threading.Event()

    def informer(self, rt: ResourceType) -> Informer:
        if rt.key not in self._informers:
            if self._thread is not None:
                raise RuntimeError("informers must be registered before the hub starts")
            self._informers[rt.key] = Informer(rt)
        return self._informers[rt.key]

    def start(self) -> None:
        self._thread = threading.Thread(target=self._run, name="informers", daemon=True)
        self._thread.start()

    def stop(self) -> None:
        self._stop.set()
        if self._thread:
            self._thread.join(timeout=5)

    def list_once(self) -> None:
        """Fill the caches with one list of every kind and mark them synced, without
        following the change log (what a process that starts and syncs once would see)."""
        self._relist()
        self.synced.set()

    @property
    def cursor(self) -> int:
        """Every change up to this resourceVersion is in the caches."""
        return self._cursor

    def _relist(self) -> None:
        """List every kind, then replace every cache, then tell the handlers: a handler (and
        the sync it queues) never sees one kind listed and another not yet."""
        listed = [
            (informer, self.client.list(informer.rt)) for informer in self._informers.values()
        ]
        cursor = None
        events = []
        for informer, result in listed:
            informer._listed_rv = int(result.resource_version)
            cursor = min(informer._listed_rv, cursor or 1 << 62)
            events.append((informer, informer._replace(result.items)))
        self._cursor = cursor or self.client.db.current_rv()
        for informer, changes in events:
            for old, new in changes:
                informer._notify(old, new)

    def _run(self) -> None:
        while not self._stop.is_set():
            try:
                self._relist()
                self.synced.set()
                self._follow()
            except Gone:
                log.warning("informers fell behind the change log; listing again")
            except Exception:
                log.exception("informer hub failed; listing again in 1s")
                self._stop.wait(1.0)

    def _follow(self) -> None:
        while not self._stop.is_set():
            for change in self.feed.wait(self._cursor, 0.25):
                informer = self._informers.get(change.resource)
                if informer is None or change.rv <= informer._listed_rv:
                    self._cursor = change.rv
                    continue  # not watched, or already seen through the initial list
                obj = with_type(informer.rt, change.object)
                old, new = informer._apply(change.type, obj)
                # The cursor moves once the cache holds the change and before the handlers
                # run: a controller that sees the cursor at rv N finds every change up to N
                # in the caches (its expectations), and a key queued by a handler sees it too.
                self._cursor = change.rv
                informer._notify(old, new)


def _key(obj: dict) -> Key:
    md = obj["metadata"]
    return (md.get("namespace") or "", md["name"])
