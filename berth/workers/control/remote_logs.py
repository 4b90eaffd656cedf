"""``kubectl logs`` in a process that serves the API only (``berth up --role api``).

Such a process runs no node sync and knows no agents of its own. It joins the Ray cluster as
a driver and finds a pod's agent the way the node sync named it: the Node's
``berth.dev/ray-node-id`` annotation gives the Ray node, whose agent is the detached actor
``berth-agent-<id>`` in Berth's Ray namespace. The log reading itself is ``RayLogSource``'s.
"""

from __future__ import annotations

import logging

import ray

from berth.platform.resources import registry
from berth.platform.resources.meta import dig
from berth.platform.runtime import Platform
from berth.platform.store.client import Client
from berth.settings import Settings
from berth.workers.control import pool
from berth.workers.control.kubelet import AgentRef
from berth.workers.control.logsource import RayLogSource

log = logging.getLogger(__name__)


class AgentDirectory:
    """``agent_for(node_name)`` and ``client``, as ``RayLogSource`` needs them."""

    def __init__(self, client: Client):
        self.client = client
        self._handles: dict[str, object] = {}  # Ray node id -> agent handle

    def agent_for(self, node_name: str | None) -> AgentRef | None:
        if not node_name:
            return None
        node = self.client.try_get(registry.NODE, "", node_name)
        node_id = dig(node, "metadata", "annotations", pool.NODE_ID_ANNOTATION) if node else None
        if not node_id:
            return None
        handle = self._handles.get(node_id)
        if handle is None:
            try:
                handle = ray.get_actor(pool.agent_name(node_id), namespace=pool.AGENT_NAMESPACE)
            except ValueError:
                return None  # no agent on that node (yet, or any more)
            self._handles[node_id] = handle
        return AgentRef(node_name, node_id, handle)


def serve_logs_from_ray(platform: Platform, settings: Settings) -> None:
    """Join the Ray cluster at ``settings.ray_address`` and read pod logs from its agents."""
    if not ray.is_initialized():
        ray.init(
            address=settings.ray_address,
            namespace=pool.AGENT_NAMESPACE,
            logging_level=logging.WARNING,
            log_to_driver=False,
        )
    platform.logs = RayLogSource(AgentDirectory(platform.client))
    log.info("pod logs are read from the agents of the Ray cluster at %s", settings.ray_address)
