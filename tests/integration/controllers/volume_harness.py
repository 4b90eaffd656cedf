"""The volume binder on a real store (SQLite or PostgreSQL), with its informers running."""

from __future__ import annotations

from pathlib import Path

from berth.platform.cache.informers import InformerHub
from berth.platform.controllers.manager import ControllerManager
from berth.platform.controllers.volume.binder import VolumeBinder
from berth.platform.controllers.volume.provisioner import LocalPathProvisioner, ensure_default_class
from berth.platform.resources import registry
from berth.platform.runtime import Platform
from tests.support import wait_for

PV, PVC = registry.PERSISTENT_VOLUME, registry.PERSISTENT_VOLUME_CLAIM
NS = "default"


class Binder:
    def __init__(self, platform: Platform, root: Path, *, default_class: bool = True):
        self.client = platform.client
        self.root = root
        if default_class:
            ensure_default_class(self.client)
        self.hub = InformerHub(platform.client, platform.feed)
        self.manager = ControllerManager(self.hub)
        self.manager.add(
            VolumeBinder(
                platform.client,
                platform.recorder("persistentvolume-controller"),
                LocalPathProvisioner(root),
            ),
            workers=2,
        )
        self.hub.start()
        self.manager.start()

    def close(self) -> None:
        self.manager.stop()
        self.hub.stop()

    # -- objects --------------------------------------------------------------------------
    def volume(self, name: str, size: str = "1Gi", **spec) -> dict:
        md = {"name": name, "labels": spec.pop("labels", {})}
        body = {
            "capacity": {"storage": size},
            "accessModes": ["ReadWriteOnce"],
            "hostPath": {"path": str(self.root / "static" / name)},
            **spec,
        }
        return self.client.create(PV, {"metadata": md, "spec": body})

    def claim(self, name: str, size: str = "1Gi", **spec) -> dict:
        body = {
            "accessModes": ["ReadWriteOnce"],
            "resources": {"requests": {"storage": size}},
            **spec,
        }
        return self.client.create(PVC, {"metadata": {"name": name, "namespace": NS}, "spec": body})

    def get_claim(self, name: str) -> dict | None:
        return self.client.try_get(PVC, NS, name)

    def get_volume(self, name: str) -> dict | None:
        return self.client.try_get(PV, "", name)

    def claim_phase(self, name: str, phase: str, timeout: float = 20.0) -> dict:
        return wait_for(
            lambda: (
                (c := self.get_claim(name)) and (c.get("status") or {}).get("phase") == phase and c
            ),
            timeout,
            f"claim {name} {phase}",
        )

    def volume_phase(self, name: str, phase: str, timeout: float = 20.0) -> dict:
        return wait_for(
            lambda: (
                (v := self.get_volume(name)) and (v.get("status") or {}).get("phase") == phase and v
            ),
            timeout,
            f"volume {name} {phase}",
        )

    def events_of(self, name: str) -> list[tuple[str, str, str]]:
        return [
            (e["type"], e["reason"], e["message"])
            for e in self.client.list(registry.EVENT, NS).items
            if e["involvedObject"]["name"] == name
        ]
