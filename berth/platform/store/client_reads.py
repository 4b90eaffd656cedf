"""The object client's reads: get one object, or list them by namespace, label and field
selectors, a page at a time with continue tokens."""

from __future__ import annotations

from dataclasses import dataclass

from berth.platform.errors import NotFound
from berth.platform.resources import fields, selectors
from berth.platform.resources.registry import ResourceType
from berth.platform.store.checks import scoped_namespace, with_type
from berth.platform.store.client_core import ClientCore
from berth.platform.store.db import Page
from berth.platform.store.listing import (
    check_continue_fresh,
    decode_continue,
    encode_continue,
    pushdown,
)


@dataclass(frozen=True)
class ObjectList:
    items: list[dict]
    resource_version: str
    continue_token: str | None


class ClientReads(ClientCore):
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
