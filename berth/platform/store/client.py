"""The object client: Kubernetes object semantics over the raw store.

Everything that reads or writes objects goes through here — the API handlers, the controllers,
the scheduler and the node syncer — so every write is defaulted, validated, versioned and
logged the same way. Responsibilities, in request order: identity (name, generateName, uid,
namespace), defaulting and validation (``resources.strategy``), ``generation`` on spec changes,
status only through the status subresource, compare-and-set on ``resourceVersion``,
``deletionTimestamp`` and finalizers, and the garbage-collection finalizers of delete
propagation (``deletion.py``).
"""

from __future__ import annotations

import copy
import random
import string
import threading
from collections.abc import Callable
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import datetime

from berth.platform.errors import (
    AlreadyExists,
    BadRequest,
    BerthError,
    Conflict,
    Forbidden,
    Invalid,
    NotFound,
    forbidden,
)
from berth.platform.resources import fields, patch, registry, selectors, strategy
from berth.platform.resources.meta import new_uid, rfc3339, utcnow
from berth.platform.resources.registry import ResourceType
from berth.platform.store import deletion
from berth.platform.store.admission import ADMITTERS, Admitter
from berth.platform.store.binding import bound_pod
from berth.platform.store.checks import (
    check_preconditions,
    check_type,
    patched_object,
    required_name,
    scoped_namespace,
    with_type,
)
from berth.platform.store.conflicts import LOST_RACE, LostRace, retry_on_conflict
from berth.platform.store.db import Database, Page
from berth.platform.store.lease import FencedDatabase
from berth.platform.store.listing import (
    check_continue_fresh,
    decode_continue,
    encode_continue,
    pushdown,
)

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


@dataclass(frozen=True)
class ObjectList:
    items: list[dict]
    resource_version: str
    continue_token: str | None


class Client:
    def __init__(
        self,
        db: Database | FencedDatabase,
        clock: Callable[[], datetime] = utcnow,
        rng: random.Random | None = None,
        admitters: tuple[Admitter, ...] = ADMITTERS,
    ):
        self.db = db
        self.clock = clock
        self.rng = rng or random.Random()
        self.admitters = admitters
        self._local = threading.local()  # .namespaces: found live in this thread's batch

    @contextmanager
    def batch(self):
        """``with client.batch():`` the writes inside commit together (``Database.batch``).
        A namespace found live is not read again by the creates of the same batch: a thousand
        Jobs into one namespace read it once (a namespace terminating meanwhile may get them,
        as with Kubernetes' cached admission; the namespace controller deletes them)."""
        if getattr(self._local, "namespaces", None) is not None:
            with self.db.batch():
                yield
            return
        self._local.namespaces = set()
        try:
            with self.db.batch():
                yield
        finally:
            self._local.namespaces = None

    # -- reads ----------------------------------------------------------------------------
    def get(self, rt: ResourceType, namespace: str, name: str) -> dict:
        obj = self.db.get(rt.key, scoped_namespace(rt, namespace), name)
        if obj is None:
            raise NotFound(rt.plural, name, rt.group)
        return with_type(rt, obj)

    def try_get(self, rt: ResourceType, namespace: str, name: str) -> dict | None:
        obj = self.db.get(rt.key, scoped_namespace(rt, namespace), name)
        return with_type(rt, obj) if obj is not None else None

    def list(
        self,
        rt: ResourceType,
        namespace: str | None = None,
        *,
        label_selector: str = "",
        field_selector: str = "",
        limit: int | None = None,
        continue_token: str | None = None,
    ) -> ObjectList:
        labels = selectors.parse(label_selector or "")
        flds = fields.parse(field_selector or "", rt.kind)
        sql = pushdown(flds)
        if "namespace" in sql:
            if namespace and namespace != sql["namespace"]:
                return ObjectList([], str(self.db.current_rv()), None)
            namespace = sql.pop("namespace")

        def matches(obj: dict) -> bool:
            return labels.matches(obj.get("metadata", {}).get("labels") or {}) and flds.matches(obj)

        predicate = matches if not labels.empty or not flds.empty else None
        start_after = None
        if continue_token:
            token_rv, start_after = decode_continue(continue_token)
            check_continue_fresh(token_rv, self.db.compacted_rv())
        page: Page = self.db.list(
            rt.key,
            scoped_namespace(rt, namespace)
            if rt.namespaced and namespace
            else ("" if not rt.namespaced else None),
            label_terms=labels.index_terms(),
            start_after=start_after,
            limit=limit if limit and limit > 0 else None,
            predicate=predicate,
            **sql,
        )
        token = encode_continue(page.resource_version, page.next_key) if page.next_key else None
        return ObjectList([with_type(rt, o) for o in page.items], str(page.resource_version), token)

    # -- create ---------------------------------------------------------------------------
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
        obj = copy.deepcopy(obj)
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
            admit(self, rt, obj)
        causes = strategy.validate_create(rt, obj)
        if causes:
            raise Invalid(rt.kind, md.get("name", ""), causes, rt.group)
        if namespace and check_namespace:
            self._require_live_namespace(namespace)
        return obj

    # -- update ---------------------------------------------------------------------------
    def update(
        self,
        rt: ResourceType,
        obj: dict,
        namespace: str | None = None,
        name: str | None = None,
        *,
        subresource: str | None = None,
        dry_run: bool = False,
        field_manager: str | None = None,
    ) -> dict:
        obj = copy.deepcopy(obj)
        check_type(rt, obj)
        md = obj.get("metadata")
        if not isinstance(md, dict):
            raise BadRequest("metadata is required")
        name = name or md.get("name") or ""
        if md.get("name") and name and md["name"] != name:
            raise BadRequest(
                f"the name of the object ({md['name']}) does not match the name on the URL ({name})"
            )
        namespace = scoped_namespace(
            rt, namespace if namespace is not None else md.get("namespace")
        )
        if rt.namespaced and md.get("namespace") and md["namespace"] != namespace:
            raise BadRequest(
                "the namespace of the provided object does not match the "
                "namespace sent on the request"
            )
        old = self.db.get(rt.key, namespace, name)
        if old is None:
            raise NotFound(rt.plural, name or "", rt.group)
        expected = md.get("resourceVersion")
        if expected and expected != old["metadata"]["resourceVersion"]:
            raise Conflict(rt.plural, name, rt.group)
        new = self._merge_update(rt, old, obj, subresource)
        return self._write_update(
            rt, old, new, dry_run=dry_run, field_manager=field_manager, subresource=subresource
        )

    def update_status(self, rt: ResourceType, obj: dict) -> dict:
        return self.update(rt, obj, subresource="status")

    def guaranteed_update(
        self,
        rt: ResourceType,
        namespace: str,
        name: str,
        mutate: Callable[[dict], dict | None],
        *,
        subresource: str | None = None,
    ) -> dict:
        """Read, mutate, compare-and-set; retry on conflict. ``mutate`` returning None (or the
        object unchanged) writes nothing."""

        def attempt() -> dict | LostRace:
            current = self.get(rt, namespace, name)
            changed = mutate(copy.deepcopy(current))
            if changed is None or changed == current:
                return current
            try:
                return self.update(rt, changed, namespace, name, subresource=subresource)
            except Conflict:
                return LOST_RACE

        return retry_on_conflict(attempt, Conflict(rt.plural, name, rt.group))

    def _merge_update(
        self, rt: ResourceType, old: dict, obj: dict, subresource: str | None
    ) -> dict:
        if subresource == "status":
            new = copy.deepcopy(old)
            if "status" in obj:
                new["status"] = obj["status"]
            else:
                new.pop("status", None)
            return new
        new = obj
        md = new["metadata"]
        old_md = old["metadata"]
        for key in (
            "uid",
            "creationTimestamp",
            "deletionTimestamp",
            "deletionGracePeriodSeconds",
            "generation",
        ):
            if key in old_md:
                md[key] = old_md[key]
            else:
                md.pop(key, None)
        md["name"] = old_md["name"]
        if rt.namespaced:
            md["namespace"] = old_md["namespace"]
        if "status" in rt.subresources:
            if "status" in old:
                new["status"] = copy.deepcopy(old["status"])
            else:
                new.pop("status", None)
        if old_md.get("deletionTimestamp"):
            added = set(md.get("finalizers") or []) - set(old_md.get("finalizers") or [])
            if added:
                raise Invalid(
                    rt.kind,
                    md["name"],
                    [
                        forbidden(
                            "metadata.finalizers",
                            "no new finalizers can be added if the object is being deleted",
                        )
                    ],
                    rt.group,
                )
        strategy.prepare_for_update(rt, new, old)
        if strategy.tracks_generation(rt) and strategy.spec_changed(rt, new, old):
            md["generation"] = int(old_md.get("generation") or 1) + 1
        return new

    def _write_update(
        self,
        rt: ResourceType,
        old: dict,
        new: dict,
        *,
        dry_run: bool,
        field_manager: str | None = None,
        subresource: str | None = None,
    ) -> dict:
        name = old["metadata"]["name"]
        causes = (
            strategy.validate_status_update(rt, new, old)
            if new.get("spec") == old.get("spec")
            and new.get("metadata") == old.get("metadata")
            and new.get("status") != old.get("status")
            else strategy.validate_update(rt, new, old)
        )
        if causes:
            raise Invalid(rt.kind, name, causes, rt.group)
        new["metadata"]["resourceVersion"] = old["metadata"]["resourceVersion"]
        if new == old:
            return with_type(rt, old)  # a no-op keeps its resourceVersion, as in k8s
        if field_manager:
            patch.update_managed_fields(
                old,
                new,
                field_manager,
                "Update",
                rt.api_version,
                rfc3339(self.clock()),
                subresource=subresource or "",
            )
        if dry_run:
            return with_type(rt, new)
        expected = int(old["metadata"]["resourceVersion"])
        if deletion.ready_to_remove(new):
            try:
                return with_type(
                    rt,
                    self.db.delete(
                        rt.key, old["metadata"].get("namespace") or "", name, expected_rv=expected
                    ),
                )
            except Conflict:
                raise Conflict(rt.plural, name, rt.group) from None
        relabel = (new["metadata"].get("labels") or {}) != (old["metadata"].get("labels") or {})
        try:
            return with_type(rt, self.db.update(rt.key, new, expected, relabel=relabel))
        except Conflict:
            raise Conflict(rt.plural, name, rt.group) from None

    # -- patch ----------------------------------------------------------------------------
    def patch(
        self,
        rt: ResourceType,
        namespace: str,
        name: str,
        content_type: str,
        body: bytes,
        *,
        subresource: str | None = None,
        field_manager: str = "",
        force: bool = False,
        dry_run: bool = False,
        decode: Callable[[dict], dict] | None = None,
    ) -> tuple[dict, bool]:
        """Apply a patch of any of the four types; returns (object, created). Server-side
        apply creates a missing object; the other types answer NotFound. A patch can put
        anything anywhere, so ``decode`` (the API's check of request bodies: types, unknown
        fields) sees the patched object before it is written."""
        is_apply = patch.is_apply(content_type)

        def attempt() -> tuple[dict, bool] | LostRace:
            current = self.try_get(rt, namespace, name)
            if is_apply:
                applied = patch.parse_apply_body(body)
                merged = patch.server_side_apply(
                    current,
                    applied,
                    field_manager,
                    force,
                    rfc3339(self.clock()),
                    subresource=subresource or "",
                )
            else:
                if current is None:
                    raise NotFound(rt.plural, name, rt.group)
                merged = patch.apply_patch(content_type, current, body)
            merged = patched_object(rt, merged, decode)
            if current is None:  # server-side apply of an object that does not exist yet
                merged.setdefault("metadata", {})["name"] = name
                return self.create(rt, merged, namespace, dry_run=dry_run), True
            manager = None if is_apply else field_manager or None
            pinned_by_client = (merged.get("metadata") or {}).get("resourceVersion") != current[
                "metadata"
            ]["resourceVersion"]
            try:
                return self.update(
                    rt,
                    merged,
                    namespace,
                    name,
                    subresource=subresource,
                    dry_run=dry_run,
                    field_manager=manager,
                ), False
            except Conflict:
                if pinned_by_client:
                    raise
                return LOST_RACE

        return retry_on_conflict(attempt, Conflict(rt.plural, name, rt.group))

    # -- binding (pods/binding) -----------------------------------------------------------
    def bind(
        self,
        namespace: str,
        name: str,
        node_name: str,
        uid: str | None = None,
        annotations: dict[str, str] | None = None,
    ) -> dict:
        """Assign a pod to a node, once: ``spec.nodeName`` is otherwise immutable.
        ``annotations`` are set on the pod in the same write (a Binding's annotations)."""
        rt = registry.POD

        def attempt() -> dict | LostRace:
            pod = self.get(rt, namespace, name)
            new = bound_pod(pod, node_name, uid, annotations, self.clock())
            if new is None:
                return pod
            md = pod["metadata"]
            try:
                return with_type(
                    rt, self.db.update(rt.key, new, int(md["resourceVersion"]), relabel=False)
                )
            except Conflict:
                return LOST_RACE

        return retry_on_conflict(attempt, Conflict(rt.plural, name))

    # -- delete ---------------------------------------------------------------------------
    def delete(
        self,
        rt: ResourceType,
        namespace: str,
        name: str,
        *,
        propagation_policy: str | None = None,
        grace_period_seconds: int | None = None,
        preconditions: dict | None = None,
        dry_run: bool = False,
    ) -> dict:
        namespace = scoped_namespace(rt, namespace)

        def attempt() -> dict | LostRace:
            obj = self.db.get(rt.key, namespace, name)
            if obj is None:
                raise NotFound(rt.plural, name, rt.group)
            check_preconditions(rt, obj, preconditions)
            if rt.key == registry.NAMESPACE.key and name in (
                "default",
                "kube-system",
                "kube-public",
            ):
                raise Forbidden(
                    f'namespaces "{name}" is forbidden: this namespace may not be deleted',
                    details={"name": name, "kind": "namespaces"},
                )
            outcome = deletion.plan_delete(
                rt, obj, propagation_policy, grace_period_seconds, self.clock()
            )
            if dry_run:
                return with_type(rt, outcome.obj)
            rv = int(obj["metadata"]["resourceVersion"])
            try:
                if outcome.remove_now:
                    return with_type(rt, self.db.delete(rt.key, namespace, name, expected_rv=rv))
                if outcome.obj == obj:
                    return with_type(rt, obj)
                return with_type(rt, self.db.update(rt.key, outcome.obj, rv, relabel=False))
            except Conflict:
                return LOST_RACE
            except NotFound:
                raise NotFound(rt.plural, name, rt.group) from None

        return retry_on_conflict(attempt, Conflict(rt.plural, name, rt.group))

    def delete_collection(
        self,
        rt: ResourceType,
        namespace: str | None,
        *,
        label_selector: str = "",
        field_selector: str = "",
        propagation_policy: str | None = None,
        grace_period_seconds: int | None = None,
        dry_run: bool = False,
    ) -> list[dict]:
        out = []
        for obj in self.list(
            rt, namespace, label_selector=label_selector, field_selector=field_selector
        ).items:
            md = obj["metadata"]
            try:
                out.append(
                    self.delete(
                        rt,
                        md.get("namespace", ""),
                        md["name"],
                        propagation_policy=propagation_policy,
                        grace_period_seconds=grace_period_seconds,
                        dry_run=dry_run,
                    )
                )
            except NotFound:
                continue
        return out

    def finalize_namespace(self, name: str) -> None:
        """Remove a terminating namespace for good (the namespace controller emptied it)."""
        ns = self.db.get(registry.NAMESPACE.key, "", name)
        if ns is None or not ns["metadata"].get("deletionTimestamp"):
            return
        if ns["metadata"].get("finalizers"):
            return  # someone else's finalizer still holds it
        self.db.delete(
            registry.NAMESPACE.key, "", name, expected_rv=int(ns["metadata"]["resourceVersion"])
        )

    # -- helpers --------------------------------------------------------------------------
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
