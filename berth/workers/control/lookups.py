"""What the node-facing loops read from the store, through informers: pods by node, and the
ConfigMaps, Secrets and claims a pod's runtime bundle is built from.

Claims: a PersistentVolumeClaim is mounted once the volume binder has bound it — its
``volumeName`` names a PersistentVolume whose ``claimRef`` is this very claim (uid). The node
directory is then the volume's ``hostPath.path`` or ``local.path`` (the built-in
``berth.io/local-path`` provisioner makes ``hostPath`` volumes). An unbound claim gives None
and the pod waits, as a kubelet does. An ``nfs`` volume cannot be mounted by Berth's nodes
(they mount directories into the sandbox; there is no NFS client behind them): the pod waits
with a message that says so, naming the server.
"""

from __future__ import annotations

from berth.platform.cache.informers import PODS_BY_NODE, Informer, InformerHub, node_name_of
from berth.platform.resources import registry
from berth.platform.resources.meta import dig
from berth.workers.bundle import Missing, build_bundle


class Lookups:
    """Register with ``register(hub)`` before the hub starts; read from any thread after."""

    def __init__(self) -> None:
        self.pods: Informer  # these are set by register()
        self.nodes: Informer
        self.configmaps: Informer
        self.secrets: Informer
        self.claims: Informer
        self.volumes: Informer

    def register(self, hub: InformerHub) -> None:
        self.pods = hub.informer(registry.POD)
        self.pods.add_index(PODS_BY_NODE, node_name_of)
        self.nodes = hub.informer(registry.NODE)
        self.configmaps = hub.informer(registry.CONFIG_MAP)
        self.secrets = hub.informer(registry.SECRET)
        self.claims = hub.informer(registry.PERSISTENT_VOLUME_CLAIM)
        self.volumes = hub.informer(registry.PERSISTENT_VOLUME)

    def pods_on(self, node_name: str) -> list[dict]:
        return self.pods.by_index(PODS_BY_NODE, node_name)

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
        if pv is None or dig(pv, "spec", "claimRef", "uid") != dig(pvc, "metadata", "uid"):
            return None
        return volume_path(pv, claim)

    def bundle(self, pod: dict, host_ip: str = "", allocatable: dict | None = None) -> dict:
        return build_bundle(
            pod,
            configmap=self.configmaps.get,
            secret=self.secrets.get,
            claim_path=self.claim_path,
            host_ip=host_ip,
            allocatable=allocatable,
            claim=self.claims.get,
        )


def volume_path(pv: dict, claim: str) -> str:
    """The node directory of a bound volume; raises ``Missing`` for a source no Berth node can
    mount."""
    spec = pv.get("spec") or {}
    for source in ("hostPath", "local"):
        path = (spec.get(source) or {}).get("path")
        if path:
            return str(path)
    name = dig(pv, "metadata", "name")
    prefix = f'MountVolume.SetUp failed for volume "{name}" (claim "{claim}")'
    nfs = spec.get("nfs")
    if nfs:
        raise Missing(
            "ContainerCreating",
            f"{prefix} : nfs {nfs.get('server', '')}:{nfs.get('path', '')}: this "
            f"node has no NFS client (Berth nodes mount hostPath and local "
            f"volumes only; mount the export on every node and use a hostPath "
            f"or local PersistentVolume)",
        )
    kinds = sorted(
        k
        for k, v in spec.items()
        if isinstance(v, dict) and k not in ("capacity", "claimRef", "nodeAffinity")
    )
    raise Missing(
        "ContainerCreating",
        f"{prefix} : volume source {', '.join(kinds) or 'none'} is not supported "
        f"(hostPath and local are)",
    )
