"""The object client: Kubernetes object semantics over the raw store.

Everything that reads or writes objects goes through here — the API handlers, the controllers,
the scheduler and the node syncer — so every write is defaulted, validated, versioned and
logged the same way. Responsibilities, in request order: identity (name, generateName, uid,
namespace), defaulting and validation (``resources.strategy``), ``generation`` on spec changes,
status only through the status subresource, compare-and-set on ``resourceVersion``,
``deletionTimestamp`` and finalizers, and the garbage-collection finalizers of delete
propagation (``deletion.py``).

The verbs are grouped by kind of request in ``client_reads``, ``client_create`` and
``client_update``; binding and deletes are here, with the ``Client`` that puts them together.
"""

from __future__ import annotations

from berth.platform.errors import Conflict, Forbidden, NotFound
from berth.platform.resources import registry
from berth.platform.resources.registry import ResourceType
from berth.platform.store import deletion
from berth.platform.store.binding import bound_pod
from berth.platform.store.checks import check_preconditions, scoped_namespace, with_type
from berth.platform.store.client_create import ClientCreates
from berth.platform.store.client_reads import ClientReads, ObjectList
from berth.platform.store.client_update import ClientUpdates
from berth.platform.store.conflicts import LOST_RACE, LostRace, retry_on_conflict

__all__ = ["Client", "ObjectList"]


class Client(ClientUpdates, ClientReads, ClientCreates):
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
