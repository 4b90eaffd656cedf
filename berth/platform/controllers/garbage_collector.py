"""The garbage collector: cascading deletion through ownerReferences.

- Background: the owner is already gone; each dependent whose owners are all gone is deleted,
  and a dependent that still has a live owner only loses the dangling reference.
- Foreground: the owner waits (``foregroundDeletion`` finalizer) while its dependents are
  deleted; once none that block it is left, the finalizer goes and the owner with it.
- Orphan: the owner's ``orphan`` finalizer stays until every dependent has lost its reference
  to the owner; the dependents live on.

Owners are looked up by uid in the store (not only the cache), so a dependent created right
after its owner is never collected by mistake.
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Hashable

from berth.platform.cache.informers import InformerHub
from berth.platform.errors import NotFound
from berth.platform.resources import registry
from berth.platform.resources.meta import changed
from berth.platform.resources.registry import ResourceType
from berth.platform.store.client import Client
from berth.platform.store.deletion import FOREGROUND, ORPHAN

log = logging.getLogger(__name__)

# Kinds that own or are owned; Events and Leases are neither.
WATCHED = tuple(rt for rt in registry.ALL if rt not in (registry.EVENT, registry.LEASE))
OWNER_INDEX = "owner-uid"


def _owner_uids(obj: dict) -> list[str]:
    return [ref.get("uid", "") for ref in obj["metadata"].get("ownerReferences") or []]


class GarbageCollector:
    name = "garbage-collector"

    def __init__(self, client: Client):
        self.client = client
        self.hub: InformerHub  # set by setup()

    def setup(self, hub: InformerHub, enqueue: Callable[[Hashable], None]) -> None:
        self.hub = hub
        for rt in WATCHED:
            informer = hub.informer(rt)
            informer.add_index(OWNER_INDEX, _owner_uids)
            informer.add_handler(self._handler(rt, enqueue))

    def _handler(self, rt: ResourceType, enqueue: Callable[[Hashable], None]):
        def on_change(old: dict | None, new: dict | None) -> None:
            obj = changed(old, new)
            md = obj["metadata"]
            key = (rt.key, md.get("namespace", ""), md["name"])
            if new is None:
                # The owner is gone: its dependents may be orphans now.
                for dependent in self._dependents(md.get("uid", "")):
                    enqueue(("dependent", *_key_of(dependent)))
                for uid in _owner_uids(obj):  # obj is old: the deleted owner
                    enqueue(("owner-uid", uid))
                return
            if owners_to_check(old, new):
                enqueue(("dependent", *key))
            finalizers = md.get("finalizers") or []
            if md.get("deletionTimestamp") and (FOREGROUND in finalizers or ORPHAN in finalizers):
                enqueue(("owner", *key))

        return on_change

    def _dependents(self, uid: str) -> list[dict]:
        out: list[dict] = []
        for rt in WATCHED:
            out.extend(self.hub.informer(rt).by_index(OWNER_INDEX, uid))
        return out

    def reconcile(self, key: tuple) -> float | None:
        kind = key[0]
        if kind == "dependent":
            self._sync_dependent(registry.by_key(key[1]), key[2], key[3])
        elif kind == "owner":
            return self._sync_owner(registry.by_key(key[1]), key[2], key[3])
        elif kind == "owner-uid":
            found = self.client.db.get_by_uid(key[1])
            if found is not None:
                md = found[1]["metadata"]
                return self._sync_owner(
                    registry.by_key(found[0]), md.get("namespace", ""), md["name"]
                )
        return None

    def _sync_dependent(self, rt: ResourceType, namespace: str, name: str) -> None:
        cached = self.hub.informer(rt).get(namespace, name)
        if cached is not None and self._owners_cached(cached):
            # Every owner is in the caches under the uid the dependent names: live, or its
            # deletion is not applied yet, and applying it queues this dependent again. So a
            # new pod of a live Job costs no store read.
            return
        obj = self.client.try_get(rt, namespace, name)
        if obj is None or obj["metadata"].get("deletionTimestamp"):
            return
        refs = obj["metadata"].get("ownerReferences") or []
        dangling = [ref for ref in refs if self.client.db.get_by_uid(ref.get("uid", "")) is None]
        if not dangling:
            return
        if len(dangling) == len(refs):
            log.info("deleting %s %s/%s: its owners are gone", rt.kind, namespace, name)
            try:
                self.client.delete(rt, namespace, name, propagation_policy="Background")
            except NotFound:
                pass
            return
        gone = {ref.get("uid") for ref in dangling}
        self.client.guaranteed_update(rt, namespace, name, lambda o: _drop_refs(o, gone))

    def _owners_cached(self, obj: dict) -> bool:
        """Whether the informers hold every owner ``obj`` refers to, with the same uid."""
        md = obj["metadata"]
        for ref in md.get("ownerReferences") or []:
            owner_rt = registry.by_kind(ref.get("apiVersion", ""), ref.get("kind", ""))
            if owner_rt is None or owner_rt not in WATCHED:
                return False
            namespace = md.get("namespace", "") if owner_rt.namespaced else ""
            owner = self.hub.informer(owner_rt).get(namespace, ref.get("name", ""))
            if owner is None or owner["metadata"].get("uid") != ref.get("uid"):
                return False
        return True

    def _sync_owner(self, rt: ResourceType, namespace: str, name: str) -> float | None:
        owner = self.client.try_get(rt, namespace, name)
        if owner is None or not owner["metadata"].get("deletionTimestamp"):
            return None
        uid = owner["metadata"]["uid"]
        finalizers = owner["metadata"].get("finalizers") or []
        dependents = self._fresh_dependents(uid)
        if ORPHAN in finalizers:
            for dep_rt, dep in dependents:
                md = dep["metadata"]
                self.client.guaranteed_update(
                    dep_rt, md.get("namespace", ""), md["name"], lambda o: _drop_refs(o, {uid})
                )
            self._remove_finalizer(rt, namespace, name, ORPHAN)
            return None
        if FOREGROUND in finalizers:
            blocking = []
            for dep_rt, dep in dependents:
                md = dep["metadata"]
                ref = next(r for r in md.get("ownerReferences") or [] if r.get("uid") == uid)
                if ref.get("blockOwnerDeletion"):
                    blocking.append(dep)
                if not md.get("deletionTimestamp"):
                    try:
                        self.client.delete(
                            dep_rt,
                            md.get("namespace", ""),
                            md["name"],
                            propagation_policy="Foreground",
                        )
                    except NotFound:
                        continue
            if blocking:
                return 1.0  # look again: dependents take time to go (pods stop gracefully)
            self._remove_finalizer(rt, namespace, name, FOREGROUND)
        return None

    def _fresh_dependents(self, uid: str) -> list[tuple[ResourceType, dict]]:
        """Dependents as the store has them now (the cache may lag a little)."""
        out = []
        for dep in self._dependents(uid):
            dep_rt = registry.of(dep)
            md = dep["metadata"]
            current = self.client.try_get(dep_rt, md.get("namespace", ""), md["name"])
            if current is not None and uid in _owner_uids(current):
                out.append((dep_rt, current))
        return out

    def _remove_finalizer(self, rt: ResourceType, namespace: str, name: str, finalizer: str):
        def drop(obj: dict) -> dict:
            obj["metadata"]["finalizers"] = [
                f for f in obj["metadata"].get("finalizers") or [] if f != finalizer
            ]
            return obj

        try:
            self.client.guaranteed_update(rt, namespace, name, drop)
        except NotFound:
            pass


def owners_to_check(old: dict | None, new: dict) -> bool:
    """Whether a dependent's owners must be looked up: it appeared, or its owner references
    changed. An owner that goes later queues its dependents itself, so a dependent's other
    updates (a pod's status, several per pod) cost no store reads."""
    if not new["metadata"].get("ownerReferences"):
        return False
    return old is None or _owner_uids(old) != _owner_uids(new)


def _drop_refs(obj: dict, uids: set[str]) -> dict:
    refs = [r for r in obj["metadata"].get("ownerReferences") or [] if r.get("uid") not in uids]
    if refs:
        obj["metadata"]["ownerReferences"] = refs
    else:
        obj["metadata"].pop("ownerReferences", None)
    return obj


def _key_of(obj: dict) -> tuple[str, str, str]:
    rt = registry.of(obj)
    md = obj["metadata"]
    return (rt.key, md.get("namespace", ""), md["name"])
