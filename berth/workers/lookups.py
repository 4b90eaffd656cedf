"""What the node-facing loops read from the store, through informers: pods by node, and the
ConfigMaps, Secrets and claims a pod's runtime bundle is built from.

Claims: a PersistentVolumeClaim bound to a PersistentVolume with ``hostPath`` is that path on
the node; any other claim (bound to another kind of volume, or not bound yet because no
provisioner runs) gets a directory of its own, ``<claims_root>/<namespace>/<claim>``, made on
first use. That directory is on the control plane's machine, which is the node in the embedded
mode; a multi-host cluster needs real provisioning (a later step).
"""

from __future__ import annotations

from pathlib import Path

from berth.platform.controllers.informers import Informer, InformerHub
from berth.platform.resources import registry
from berth.platform.resources.meta import dig
from berth.workers.bundle import build_bundle

BY_NODE = "berth.dev/workers:nodeName"


def _node_of(pod: dict) -> list[str]:
    name = dig(pod, "spec", "nodeName")
    return [name] if name else []


class Lookups:
    """Register with ``register(hub)`` before the hub starts; read from any thread after."""

    def __init__(self, claims_root: Path):
        self.claims_root = Path(claims_root)
        self.pods: Informer | None = None
        self.nodes: Informer | None = None
        self.configmaps: Informer | None = None
        self.secrets: Informer | None = None
        self.claims: Informer | None = None
        self.volumes: Informer | None = None

    def register(self, hub: InformerHub) -> None:
        self.pods = hub.informer(registry.POD)
        self.pods.add_index(BY_NODE, _node_of)
        self.nodes = hub.informer(registry.NODE)
        self.configmaps = hub.informer(registry.CONFIG_MAP)
        self.secrets = hub.informer(registry.SECRET)
        self.claims = hub.informer(registry.PERSISTENT_VOLUME_CLAIM)
        self.volumes = hub.informer(registry.PERSISTENT_VOLUME)

    def pods_on(self, node_name: str) -> list[dict]:
        return self.pods.by_index(BY_NODE, node_name)

    def pod(self, namespace: str, name: str, uid: str | None = None) -> dict | None:
        pod = self.pods.get(namespace, name)
        if pod is None or (uid and dig(pod, "metadata", "uid") != uid):
            return None
        return pod

    def node(self, name: str) -> dict | None:
        return self.nodes.get("", name)

    def claim_path(self, namespace: str, claim: str) -> str | None:
        pvc = self.claims.get(namespace, claim)
        if pvc is None or dig(pvc, "metadata", "deletionTimestamp"):
            return None
        volume_name = dig(pvc, "spec", "volumeName")
        pv = self.volumes.get("", volume_name) if volume_name else None
        host_path = dig(pv, "spec", "hostPath", "path") if pv else None
        if host_path:
            return host_path
        path = self.claims_root / namespace / claim
        path.mkdir(parents=True, exist_ok=True)
        return str(path)

    def bundle(self, pod: dict, host_ip: str = "", allocatable: dict | None = None) -> dict:
        return build_bundle(pod, configmap=self.configmaps.get, secret=self.secrets.get,
                            claim_path=self.claim_path, host_ip=host_ip,
                            allocatable=allocatable)
