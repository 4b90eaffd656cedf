"""What a node agent keeps of each pod it holds, and the errors it answers about them."""

from __future__ import annotations

from dataclasses import dataclass, field

from berth.platform.errors import BadRequest, NotFound


class UnknownPod(NotFound):
    """The agent holds no pod with this uid. Picklable, so it crosses Ray intact:
    ``ray.get`` raises an instance of ``NotFound``."""

    def __init__(self, uid: str):
        super().__init__("pods", uid)
        self.uid = uid

    def __reduce__(self):
        return (UnknownPod, (self.uid,))


@dataclass
class PodRecord:
    uid: str
    pod: dict
    bundle: dict = field(default_factory=dict)
    status: dict | None = None
    seq: int = 0
    changed: int = 0
    resources: dict[str, float] = field(default_factory=dict)  # its Ray resources, at admit
    saved: tuple | None = None  # the durable view of the status last saved (podtable.py)
    ref: object | None = None  # the pod's Ray task while it is submitted
    stopping: bool = False
    desired: bool = True

    @property
    def namespace(self) -> str:
        return (self.pod.get("metadata") or {}).get("namespace", "")

    @property
    def name(self) -> str:
        return (self.pod.get("metadata") or {}).get("name", "")


def log_container(rec: PodRecord, container: str | None) -> str:
    """The container a log request means: the one named, or the pod's only container."""
    spec = rec.pod.get("spec") or {}
    regular = [c["name"] for c in spec.get("containers") or []]
    init = [c["name"] for c in spec.get("initContainers") or []]
    if container is None:
        if len(regular) == 1:
            return regular[0]
        raise BadRequest(
            f"a container name must be specified for pod {rec.name}, choose "
            f"one of: [{' '.join(regular)}] or one of the init containers: "
            f"[{' '.join(init)}]"
        )
    if container not in regular + init:
        raise BadRequest(f"container {container} is not valid for pod {rec.name}")
    return container
