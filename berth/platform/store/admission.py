"""Mutating admission: changes the API server makes to an object before it is validated and
stored, from what else is in the store (Kubernetes' admission plugins).

DefaultStorageClass: a PersistentVolumeClaim created without ``storageClassName`` gets the
default StorageClass (``storageclass.kubernetes.io/is-default-class: "true"``), if there is
one. An explicit ``""`` means "no class" and is kept. Unlike Kubernetes, a claim that picks its
volume itself — by ``spec.volumeName`` or by a label ``selector`` — is left without a class:
dynamic provisioning cannot serve a selector, and the class would stop it from binding to the
class-less volume it names (the lecture's selector example would stay Pending forever).
"""

from __future__ import annotations

from collections.abc import Callable
from typing import TYPE_CHECKING

from berth.platform.resources import registry, storageclasses
from berth.platform.resources.registry import ResourceType

if TYPE_CHECKING:  # the client calls admission; admission reads through the client
    from berth.platform.store.client import Client

Admitter = Callable[["Client", ResourceType, dict], None]


def default_storage_class(client: Client, rt: ResourceType, obj: dict) -> None:
    if rt.key != registry.PERSISTENT_VOLUME_CLAIM.key:
        return
    spec = obj.get("spec")
    if not isinstance(spec, dict) or not storageclasses.wants_default_class(spec):
        return
    default = storageclasses.default_class(client.list(registry.STORAGE_CLASS).items)
    if default is not None:
        spec["storageClassName"] = default["metadata"]["name"]


ADMITTERS: tuple[Admitter, ...] = (default_storage_class,)
