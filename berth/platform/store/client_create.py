"""The object client's create path: an object is prepared (identity, defaults, admission,
validation, a live namespace) and then written, alone or many in one transaction; or prepared
ahead of time (``prepare_create``) and written later."""

from __future__ import annotations

import string
from typing import TYPE_CHECKING, cast

from berth.platform.errors import (
    AlreadyExists,
    BadRequest,
    BerthError,
    Forbidden,
    Invalid,
    NotFound,
)
from berth.platform.resources import patch, registry, strategy
from berth.platform.resources.meta import clone, new_uid, rfc3339
from berth.platform.resources.registry import ResourceType
from berth.platform.store.checks import check_type, required_name, with_type
from berth.platform.store.client_core import ClientCore

if TYPE_CHECKING:  # admission plugins are handed the whole client
    from berth.platform.store.client import Client

# Kinds whose status a client may not set on create (Nodes and Events keep theirs, as in k8s).
_RESET_STATUS_ON_CREATE = {
    rt.key
    for rt in (
        registry.POD,
        registry.JOB,
        registry.CRON_JOB,
        registry.NAMESPACE,
        registry.PERSISTENT_VOLUME,
        registry.PERSISTENT_VOLUME_CLAIM,
    )
}
_SYSTEM_META = (
    "uid",
    "creationTimestamp",
    "deletionTimestamp",
    "deletionGracePeriodSeconds",
    "generation",
    "resourceVersion",
    "selfLink",
)


class ClientCreates(ClientCore):
    def create(
        self,
        rt: ResourceType,
        obj: dict,
        namespace: str | None = None,
        *,
        dry_run: bool = False,
        field_manager: str | None = None,
    ) -> dict:
        obj = self._prepared(rt, obj, namespace, field_manager)
        md = obj["metadata"]
        if dry_run:
            if self.db.get(rt.key, md.get("namespace") or "", md["name"]) is not None:
                raise AlreadyExists(rt.plural, md["name"], rt.group)
            return obj
        try:
            return with_type(rt, self.db.create(rt.key, obj))
        except AlreadyExists:
            raise AlreadyExists(rt.plural, md["name"], rt.group) from None

    def create_many(
        self, rt: ResourceType, objs: list[dict], *, prepared: bool = False
    ) -> list[dict | BerthError]:
        """Create ``objs`` together: each is prepared as ``create`` prepares one (identity,
        defaults, admission, validation, a live namespace), and those that pass are written in
        one transaction of a few statements (``Database.create_many``; inside ``batch()``, as
        part of it). Per object, in order: the object as stored, or the error that refused it
        alone (``AlreadyExists``, ``Invalid`` ...). A fenced write raises ``Fenced`` and writes
        none; a database error likewise raises.

        ``prepared``: the objects come from ``prepare_create`` (made ahead of time) and are
        written as they are, consumed (not copied); only what must be true at the write is
        done here: ``creationTimestamp`` is now, and the namespace is live."""
        out: list[dict | BerthError | None] = []
        ready: list[dict] = []
        stamp = rfc3339(self.clock())
        for obj in objs:
            try:
                if prepared:
                    obj["metadata"]["creationTimestamp"] = stamp
                    if obj["metadata"].get("namespace"):
                        self._require_live_namespace(obj["metadata"]["namespace"])
                    ready.append(obj)
                else:
                    ready.append(self._prepared(rt, obj, None, None))
                out.append(None)
            except BerthError as exc:
                out.append(exc)
        written = iter(self.db.create_many(rt.key, ready) if ready else ())
        results: list[dict | BerthError] = []
        for slot in out:
            if slot is not None:
                results.append(slot)
                continue
            made = next(written)
            if isinstance(made, AlreadyExists):
                name = str((made.details or {}).get("name") or "")
                results.append(AlreadyExists(rt.plural, name, rt.group))
            else:
                results.append(with_type(rt, made))
        return results

    def prepare_create(self, rt: ResourceType, obj: dict) -> dict:
        """A copy of ``obj`` ready to be written by ``create_many(prepared=True)``: identity
        (a new uid), defaults, admission and validation done. Raises what refuses it. The
        namespace is checked, and ``creationTimestamp`` set again, at the write."""
        return self._prepared(rt, obj, None, None, check_namespace=False)

    def _prepared(
        self,
        rt: ResourceType,
        obj: dict,
        namespace: str | None,
        field_manager: str | None,
        *,
        check_namespace: bool = True,
    ) -> dict:
        """A copy of ``obj`` as a create would store it, less its resourceVersion: identity,
        defaults, admission and validation done, its namespace found live. Raises what
        refuses it."""
        obj = clone(obj)
        check_type(rt, obj)
        md = obj.get("metadata")
        if not isinstance(md, dict):
            md = obj["metadata"] = {}
        namespace = self._namespace_for_create(rt, md, namespace)
        if not md.get("name"):
            if md.get("generateName"):
                md["name"] = md["generateName"] + "".join(
                    self.rng.choice(string.ascii_lowercase + string.digits) for _ in range(5)
                )
            else:
                raise Invalid(rt.kind, "", [required_name()], rt.group)
        for key in _SYSTEM_META:
            md.pop(key, None)
        if rt.key in _RESET_STATUS_ON_CREATE:
            obj.pop("status", None)
        md["uid"] = new_uid()
        md["creationTimestamp"] = rfc3339(self.clock())
        if strategy.tracks_generation(rt):
            md["generation"] = 1
        if field_manager:
            # Ownership of what the client sent, before defaults fill in the rest.
            patch.update_managed_fields(
                None, obj, field_manager, "Update", rt.api_version, md["creationTimestamp"]
            )
        strategy.prepare_for_create(rt, obj)
        for admit in self.admitters:
            admit(cast("Client", self), rt, obj)
        causes = strategy.validate_create(rt, obj)
        if causes:
            raise Invalid(rt.kind, md.get("name", ""), causes, rt.group)
        if namespace and check_namespace:
            self._require_live_namespace(namespace)
        return obj

    def _namespace_for_create(self, rt: ResourceType, md: dict, namespace: str | None) -> str:
        if not rt.namespaced:
            md.pop("namespace", None)
            return ""
        body_ns = md.get("namespace")
        if namespace and body_ns and body_ns != namespace:
            raise BadRequest(
                "the namespace of the provided object does not match the "
                "namespace sent on the request"
            )
        namespace = namespace or body_ns or "default"
        md["namespace"] = namespace
        return namespace

    def _require_live_namespace(self, namespace: str) -> None:
        live = getattr(self._local, "namespaces", None)
        if live is not None and namespace in live:
            return
        ns = self.db.get(registry.NAMESPACE.key, "", namespace)
        if ns is None:
            raise NotFound("namespaces", namespace)
        if ns["metadata"].get("deletionTimestamp"):
            raise Forbidden(
                f"unable to create new content in namespace {namespace} because "
                f"it is being terminated",
                details={"name": namespace, "kind": "namespaces"},
            )
        if live is not None:
            live.add(namespace)
