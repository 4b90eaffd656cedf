"""The object client's updates: replace (``update``), the status subresource, read-mutate-write
with retries (``guaranteed_update``) and the four kinds of patch, server-side apply included
(which creates a missing object)."""

from __future__ import annotations

from collections.abc import Callable

from berth.platform.errors import BadRequest, Conflict, Invalid, NotFound, forbidden
from berth.platform.resources import patch, strategy
from berth.platform.resources.meta import clone, rfc3339
from berth.platform.resources.registry import ResourceType
from berth.platform.store import deletion
from berth.platform.store.checks import check_type, patched_object, scoped_namespace, with_type
from berth.platform.store.client_create import ClientCreates
from berth.platform.store.client_reads import ClientReads
from berth.platform.store.conflicts import LOST_RACE, LostRace, retry_on_conflict


class ClientUpdates(ClientReads, ClientCreates):
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
        current: dict | None = None,
    ) -> dict:
        """Replace the object (or its status) with ``obj``; a compare-and-set on
        ``obj``'s resourceVersion when it has one.

        ``current``: the object exactly as the store holds it at ``obj``'s resourceVersion,
        when the caller has it (an informer's copy, never changed since): the write is made
        against it instead of against a fresh read. That is safe because a resourceVersion
        names one content: if the stored object is still at that version it is ``current``,
        and if it is not, the compare-and-set refuses the write (``Conflict``), as the read
        would have. ``current`` is read, never modified."""
        obj = clone(obj)
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
        expected = md.get("resourceVersion")
        old = (
            clone(current)
            if expected and current is not None and _at(current, namespace, name, expected)
            else self.db.get(rt.key, namespace, name)
        )
        if old is None:
            raise NotFound(rt.plural, name or "", rt.group)
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
            changed = mutate(clone(current))
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
            new = clone(old)
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
                new["status"] = clone(old["status"])
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


def _at(obj: dict, namespace: str, name: str, rv: str) -> bool:
    """``obj`` is the object ``namespace/name`` at resourceVersion ``rv``."""
    md = obj.get("metadata") or {}
    return (
        md.get("resourceVersion") == rv
        and md.get("name") == name
        and (md.get("namespace") or "") == namespace
    )
