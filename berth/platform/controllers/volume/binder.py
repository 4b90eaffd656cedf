"""The volume binder: PersistentVolumeClaims meet PersistentVolumes (Kubernetes'
``persistentvolume`` controller), with the ``berth.io/local-path`` provisioner built in.

Keys are ``("claim", namespace, name)`` and ``("volume", name)``. Each reconcile reads the
objects fresh from the store and moves them one step towards where they belong:

* a claim without ``pv.kubernetes.io/bind-completed`` is bound to the volume it names, or to
  the smallest fitting Available one, or provisioned for, or left Pending with an Event that
  says why; a claim of a ``WaitForFirstConsumer`` class waits until the scheduler has put
  ``volume.kubernetes.io/selected-node`` on it;
* a bound claim whose volume vanished or went to another claim is Lost;
* a volume is Available, Bound, or — its claim deleted — Released and reclaimed by its
  ``persistentVolumeReclaimPolicy`` (Retain keeps it, Delete removes a provisioned one and
  its directory; other volumes cannot be deleted here and become Failed).

Binding is crash-safe and exclusive (``binding.py``).
``protection.py`` keeps the ``kubernetes.io/pv-protection`` / ``pvc-protection`` finalizers.
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Hashable

from berth.platform.cache.informers import Informer, InformerHub
from berth.platform.controllers.volume import binding, protection, reclaim
from berth.platform.controllers.volume.matching import (
    BETA_STORAGE_PROVISIONER,
    BIND_COMPLETED,
    BOUND_BY_CONTROLLER,
    SELECTED_NODE,
    STORAGE_PROVISIONER,
    find_best,
    in_use_by,
    is_reserved_for,
    mismatch,
)
from berth.platform.controllers.volume.provisioner import (
    LOCAL_PATH,
    LocalPathProvisioner,
    volume_name,
)
from berth.platform.errors import AlreadyExists, NotFound
from berth.platform.resources import registry
from berth.platform.resources.meta import changed, dig
from berth.platform.resources.storageclasses import (
    NO_PROVISIONER,
    claim_class,
    default_class,
    waits_for_consumer,
    wants_default_class,
)
from berth.platform.store.client import Client
from berth.platform.store.events import EventRecorder

log = logging.getLogger(__name__)

PV, PVC = registry.PERSISTENT_VOLUME, registry.PERSISTENT_VOLUME_CLAIM
CLAIM_OF_VOLUME = "berth.dev/volume:claimRef"
NO_CLASS = "no persistent volumes available for this claim and no storage class is set"
WAITING_FOR_CONSUMER = "waiting for first consumer to be created before binding"
RETRY_PROVISIONING_S = 30.0
RESCAN = ("pending-claims",)  # look again at every claim not bound yet


def _ref_key(pv: dict) -> list[str]:
    ref = dig(pv, "spec", "claimRef")
    return [f"{ref.get('namespace', '')}/{ref.get('name', '')}"] if ref else []


def external_provisioning(provisioner: str) -> str:
    return (
        f"Waiting for a volume to be created either by the external provisioner "
        f"'{provisioner}' or manually by the system administrator. If volume creation is "
        f"delayed, please verify that the provisioner is running and correctly "
        f"registered."
    )


class VolumeBinder:
    name = "persistentvolume-binder"

    def __init__(self, client: Client, recorder: EventRecorder, provisioner: LocalPathProvisioner):
        self.client = client
        self.recorder = recorder
        self.provisioner = provisioner
        self.claims: Informer  # these are set by setup()
        self.volumes: Informer
        self.classes: Informer
        self.nodes: Informer
        self._enqueue: Callable[[Hashable], None] = lambda key: None

    # -- wiring ---------------------------------------------------------------------------
    def setup(self, hub: InformerHub, enqueue: Callable[[Hashable], None]) -> None:
        self.claims = hub.informer(PVC)
        self.volumes = hub.informer(PV)
        self.volumes.add_index(CLAIM_OF_VOLUME, _ref_key)
        self.classes = hub.informer(registry.STORAGE_CLASS)
        self.nodes = hub.informer(registry.NODE)

        self._enqueue = enqueue

        def pending_claims() -> None:
            enqueue(RESCAN)  # one key however many volumes appear at once (a relist)

        def on_claim(old: dict | None, new: dict | None) -> None:
            obj = changed(old, new)
            ns, name = obj["metadata"]["namespace"], obj["metadata"]["name"]
            enqueue(("claim", ns, name))
            for pv in self.volumes.by_index(CLAIM_OF_VOLUME, f"{ns}/{name}"):
                enqueue(("volume", pv["metadata"]["name"]))
            if dig(obj, "spec", "volumeName"):
                enqueue(("volume", obj["spec"]["volumeName"]))

        def on_volume(old: dict | None, new: dict | None) -> None:
            obj = changed(old, new)
            enqueue(("volume", obj["metadata"]["name"]))
            ref = dig(obj, "spec", "claimRef")
            if ref:
                enqueue(("claim", ref.get("namespace", ""), ref.get("name", "")))
            if new is not None and not ref:
                pending_claims()  # a volume to bind to may have appeared

        def on_pod(old: dict | None, new: dict | None) -> None:
            obj = changed(old, new)
            ns = obj["metadata"].get("namespace", "")
            for claim in set(in_use_by(obj)):
                found = self.claims.get(ns, claim)
                if found is not None and found["metadata"].get("deletionTimestamp"):
                    enqueue(("claim", ns, claim))

        self.claims.add_handler(on_claim)
        self.volumes.add_handler(on_volume)
        self.classes.add_handler(lambda _old, new: pending_claims() if new else None)
        hub.informer(registry.POD).add_handler(on_pod)

    def reconcile(self, key: tuple) -> float | None:
        if key == RESCAN:
            for claim in self.claims.list():
                if dig(claim, "status", "phase") != "Bound":
                    self._enqueue(
                        ("claim", claim["metadata"]["namespace"], claim["metadata"]["name"])
                    )
            return None
        if key[0] == "claim":
            return self.sync_claim(key[1], key[2])
        return self.sync_volume(key[1])

    # -- claims ---------------------------------------------------------------------------
    def sync_claim(self, namespace: str, name: str) -> float | None:
        claim = self.client.try_get(PVC, namespace, name)
        if claim is None:
            return None
        if claim["metadata"].get("deletionTimestamp"):
            protection.release_claim(self.client, claim)
            return None
        claim = protection.protect(self.client, PVC, claim, protection.PVC_FINALIZER)
        if dig(claim, "metadata", "annotations", BIND_COMPLETED):
            return self._sync_bound_claim(claim)
        return self._sync_unbound_claim(claim)

    def _sync_bound_claim(self, claim: dict) -> float | None:
        volume_name_ = dig(claim, "spec", "volumeName")
        if not volume_name_:
            return self._lost(
                claim,
                "ClaimLost",
                "Bound claim has lost reference to PersistentVolume. Data on the volume is lost!",
            )
        pv = self.client.try_get(PV, "", volume_name_)
        if pv is None:
            return self._lost(
                claim,
                "ClaimLost",
                "Bound claim has lost its PersistentVolume. Data on the volume is lost!",
            )
        if dig(pv, "spec", "claimRef") and not is_reserved_for(pv, claim):
            return self._lost(
                claim,
                "ClaimMisbound",
                "Two claims are bound to the same volume, this one is bound incorrectly",
            )
        binding.bind(self.client, claim, pv)
        return None

    def _sync_unbound_claim(self, claim: dict) -> float | None:
        wanted = dig(claim, "spec", "volumeName")
        if wanted:
            return self._sync_named(claim, wanted)
        claim = self._assign_default_class(claim)
        class_name = claim_class(claim)
        sc = self.classes.get("", class_name) if class_name else None
        delay = waits_for_consumer(sc)
        selected = dig(claim, "metadata", "annotations", SELECTED_NODE)
        node = self.nodes.get("", selected) if selected else None
        pv = find_best(claim, self.volumes.list(), node=node, delay_binding=delay)
        if pv is not None:
            binding.bind(self.client, claim, pv)
            return None
        if delay and not selected:
            self._pending(claim, "Normal", "WaitForFirstConsumer", WAITING_FOR_CONSUMER)
            return None
        if not class_name:
            self._pending(claim, "Normal", "FailedBinding", NO_CLASS)
            return None
        if sc is None:
            self._pending(
                claim,
                "Warning",
                "ProvisioningFailed",
                f'storageclass.storage.k8s.io "{class_name}" not found',
            )
            return None
        if claim.get("spec", {}).get("selector") is not None:
            self._pending(claim, "Warning", "ProvisioningFailed", "claim Selector is not supported")
            return None
        provisioner = sc.get("provisioner") or ""
        if provisioner == LOCAL_PATH:
            return self._provision(claim, sc)
        if provisioner == NO_PROVISIONER:
            self._pending(
                claim, "Normal", "FailedBinding", "no persistent volumes available for this claim"
            )
            return None
        self._annotate_provisioner(claim, provisioner)
        self._pending(claim, "Normal", "ExternalProvisioning", external_provisioning(provisioner))
        return None

    def _sync_named(self, claim: dict, wanted: str) -> float | None:
        """A claim that names its volume (``spec.volumeName``) binds to it or to nothing."""
        pv = self.client.try_get(PV, "", wanted)
        if pv is None:
            self._pending(claim, "Normal", "FailedBinding", f'volume "{wanted}" not found')
            return None
        if dig(pv, "spec", "claimRef") and not is_reserved_for(pv, claim):
            self._pending(
                claim,
                "Warning",
                "FailedBinding",
                f'volume "{wanted}" already bound to a different claim.',
            )
            return None
        why = mismatch(claim, pv)
        if why is not None:
            self._pending(
                claim,
                "Warning",
                "VolumeMismatch",
                f'Cannot bind to requested volume "{wanted}": {why}',
            )
            return None
        binding.bind(self.client, claim, pv)
        return None

    def _provision(self, claim: dict, sc: dict) -> float | None:
        name = volume_name(claim)
        pv = self.client.try_get(PV, "", name)
        if pv is None:
            claim = self._annotate_provisioner(claim, LOCAL_PATH)
            try:
                self.provisioner.make_directory(claim)
            except OSError as exc:
                self._pending(
                    claim,
                    "Warning",
                    "ProvisioningFailed",
                    f"failed to provision volume with StorageClass "
                    f'"{sc["metadata"]["name"]}": {exc}',
                )
                return RETRY_PROVISIONING_S
            try:
                pv = self.client.create(PV, self.provisioner.volume_for(claim, sc))
            except AlreadyExists:
                pv = self.client.get(PV, "", name)
            self.recorder.normal(
                claim, "ProvisioningSucceeded", f"Successfully provisioned volume {name}"
            )
            log.info(
                "provisioned %s for claim %s/%s",
                name,
                claim["metadata"]["namespace"],
                claim["metadata"]["name"],
            )
        binding.bind(self.client, claim, pv)
        return None

    # -- volumes --------------------------------------------------------------------------
    def sync_volume(self, name: str) -> float | None:
        pv = self.client.try_get(PV, "", name)
        if pv is None:
            return None
        if pv["metadata"].get("deletionTimestamp"):
            protection.release_volume(self.client, pv)
            return None
        pv = protection.protect(self.client, PV, pv, protection.PV_FINALIZER)
        ref = dig(pv, "spec", "claimRef")
        phase = dig(pv, "status", "phase")
        if not ref or not ref.get("uid"):
            # Free, or reserved by its author for a claim that has not bound yet.
            if phase != "Available":
                binding.set_phase(self.client, PV, pv, "Available")
            return None
        claim = self.client.try_get(PVC, ref.get("namespace", ""), ref.get("name", ""))
        if claim is not None and claim["metadata"]["uid"] != ref["uid"]:
            claim = None
        if claim is None:
            return self._reclaim(pv)
        bound_to = dig(claim, "spec", "volumeName")
        if not bound_to:
            return None  # the claim's own reconcile finishes the binding
        if bound_to == name:
            if phase != "Bound":
                binding.set_phase(self.client, PV, pv, "Bound")
            return None
        # The claim went to another volume: a reservation we made is void.
        if dig(pv, "metadata", "annotations", BOUND_BY_CONTROLLER):
            spec = {k: v for k, v in pv["spec"].items() if k != "claimRef"}
            pv = self.client.update(PV, dict(pv, spec=spec))
        if dig(pv, "status", "phase") != "Available":
            binding.set_phase(self.client, PV, pv, "Available")
        return None

    def _reclaim(self, pv: dict) -> float | None:
        """The claim is gone: Released, then what the reclaim policy says."""
        phase = dig(pv, "status", "phase")
        if phase == "Failed":
            return None
        if phase != "Released":
            pv = binding.set_phase(self.client, PV, pv, "Released")
            log.info("volume %s released", pv["metadata"]["name"])
        verdict = reclaim.decide(pv, self.provisioner.owns(pv))
        if verdict.action == reclaim.FAIL:
            self._fail(pv, verdict.reason, verdict.message)
        elif verdict.action == reclaim.DELETE:
            try:
                self.provisioner.delete(pv)
            except (OSError, ValueError) as exc:
                self._fail(pv, "VolumeFailedDelete", str(exc))
                return None
            try:
                self.client.delete(
                    PV, "", pv["metadata"]["name"], preconditions={"uid": pv["metadata"]["uid"]}
                )
            except NotFound:
                pass
            log.info("deleted volume %s and its directory", pv["metadata"]["name"])
        return None

    # -- writes ---------------------------------------------------------------------------
    def _fail(self, pv: dict, reason: str, message: str) -> None:
        binding.set_phase(self.client, PV, pv, "Failed", message)
        self.recorder.warning(pv, reason, message)

    def _pending(self, claim: dict, type_: str, reason: str, message: str) -> None:
        if dig(claim, "status", "phase") != "Pending":
            claim = binding.set_phase(self.client, PVC, claim, "Pending")
        self.recorder.event(claim, type_, reason, message)

    def _lost(self, claim: dict, reason: str, message: str) -> None:
        if dig(claim, "status", "phase") != "Lost":
            claim = binding.set_phase(self.client, PVC, claim, "Lost")
            self.recorder.warning(claim, reason, message)
        return None

    def _assign_default_class(self, claim: dict) -> dict:
        """Retroactive default class (Kubernetes 1.28): an unbound claim created without a
        class, before any class was the default, gets the default once there is one —
        under the same terms as the DefaultStorageClass admission."""
        spec = claim.get("spec") or {}
        if not wants_default_class(spec):
            return claim
        default = default_class(self.classes.list())
        if default is None:
            return claim
        return self.client.update(
            PVC, dict(claim, spec=dict(spec, storageClassName=default["metadata"]["name"]))
        )

    def _annotate_provisioner(self, claim: dict, provisioner: str) -> dict:
        annotations = dict(dig(claim, "metadata", "annotations") or {})
        if annotations.get(STORAGE_PROVISIONER) == provisioner:
            return claim
        annotations[STORAGE_PROVISIONER] = provisioner
        annotations[BETA_STORAGE_PROVISIONER] = provisioner
        return self.client.update(
            PVC, dict(claim, metadata=dict(claim["metadata"], annotations=annotations))
        )
