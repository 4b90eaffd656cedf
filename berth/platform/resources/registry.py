"""The resource types Berth serves, in their Kubernetes groups and versions.

One ``ResourceType`` per kind: where it lives on the wire, whether it is namespaced, its short
names and categories (for ``kubectl get cj`` and ``kubectl get all``) and its subresources.
"""

from __future__ import annotations

from dataclasses import dataclass

ALL_VERBS = ("create", "delete", "deletecollection", "get", "list", "patch", "update", "watch")


@dataclass(frozen=True)
class ResourceType:
    group: str
    version: str
    kind: str
    plural: str
    namespaced: bool
    short_names: tuple[str, ...] = ()
    categories: tuple[str, ...] = ()
    subresources: tuple[str, ...] = ()
    verbs: tuple[str, ...] = ALL_VERBS

    @property
    def singular(self) -> str:
        return self.kind.lower()

    @property
    def api_version(self) -> str:
        return f"{self.group}/{self.version}" if self.group else self.version

    @property
    def key(self) -> str:
        """Stable name used in the store: ``jobs.batch``, ``pods``."""
        return f"{self.plural}.{self.group}" if self.group else self.plural

    def path(self, namespace: str | None = None, name: str | None = None) -> str:
        root = f"/apis/{self.group}/{self.version}" if self.group else f"/api/{self.version}"
        if self.namespaced and namespace:
            root += f"/namespaces/{namespace}"
        root += f"/{self.plural}"
        return f"{root}/{name}" if name else root


NAMESPACE = ResourceType(
    "", "v1", "Namespace", "namespaces", False, ("ns",), subresources=("status",)
)
POD = ResourceType("", "v1", "Pod", "pods", True, ("po",), ("all",), ("status", "log", "binding"))
CONFIG_MAP = ResourceType("", "v1", "ConfigMap", "configmaps", True, ("cm",))
SECRET = ResourceType("", "v1", "Secret", "secrets", True)
EVENT = ResourceType("", "v1", "Event", "events", True, ("ev",))
NODE = ResourceType("", "v1", "Node", "nodes", False, ("no",), subresources=("status",))
PERSISTENT_VOLUME = ResourceType(
    "", "v1", "PersistentVolume", "persistentvolumes", False, ("pv",), subresources=("status",)
)
PERSISTENT_VOLUME_CLAIM = ResourceType(
    "",
    "v1",
    "PersistentVolumeClaim",
    "persistentvolumeclaims",
    True,
    ("pvc",),
    subresources=("status",),
)
JOB = ResourceType("batch", "v1", "Job", "jobs", True, (), ("all",), ("status",))
CRON_JOB = ResourceType("batch", "v1", "CronJob", "cronjobs", True, ("cj",), ("all",), ("status",))
STORAGE_CLASS = ResourceType(
    "storage.k8s.io", "v1", "StorageClass", "storageclasses", False, ("sc",)
)
LEASE = ResourceType("coordination.k8s.io", "v1", "Lease", "leases", True)

ALL: tuple[ResourceType, ...] = (
    NAMESPACE,
    POD,
    CONFIG_MAP,
    SECRET,
    EVENT,
    NODE,
    PERSISTENT_VOLUME,
    PERSISTENT_VOLUME_CLAIM,
    JOB,
    CRON_JOB,
    STORAGE_CLASS,
    LEASE,
)

_BY_PATH = {(rt.group, rt.version, rt.plural): rt for rt in ALL}
_BY_KIND = {(rt.api_version, rt.kind): rt for rt in ALL}
_BY_KEY = {rt.key: rt for rt in ALL}


def by_path(group: str, version: str, plural: str) -> ResourceType | None:
    return _BY_PATH.get((group, version, plural))


def by_kind(api_version: str, kind: str) -> ResourceType | None:
    return _BY_KIND.get((api_version, kind))


def by_key(key: str) -> ResourceType:
    return _BY_KEY[key]


def of(obj: dict) -> ResourceType:
    """The type of an object Berth stored (KeyError for a kind it does not serve)."""
    return _BY_KIND[(obj.get("apiVersion", ""), obj.get("kind", ""))]


def group_versions() -> dict[str, list[ResourceType]]:
    """``{"v1": [...], "batch/v1": [...]}`` in registry order."""
    out: dict[str, list[ResourceType]] = {}
    for rt in ALL:
        out.setdefault(rt.api_version, []).append(rt)
    return out
