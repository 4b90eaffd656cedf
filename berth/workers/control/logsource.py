"""``kubectl logs`` through the node agents: the API asks, the pod's agent reads its files.

The API server proxies ``/log`` to the kubelet of the pod's node; here the node's agent is a
Ray actor found through the kubelet by ``spec.nodeName``. A pod no agent knows yet (not
bound, not sent to its node yet) has an empty log; following it waits until it starts, while
it still exists and has not finished, for up to ``start_timeout_s``. Errors the agent raises
in Kubernetes' words (``BadRequest``: no such container, no previous attempt) reach the API
as they are.
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import AsyncIterator

import ray
import ray.exceptions

from berth.platform.errors import BadRequest, BerthError, NotFound
from berth.platform.logs import LogOptions
from berth.platform.resources import registry
from berth.platform.resources.meta import dig
from berth.platform.resources.pods import is_terminal

_READ_TIMEOUT_S = 60.0


def _cause(err: ray.exceptions.RayError) -> Exception:
    """The error an actor raised, without Ray's wrapper (whose text carries a traceback)."""
    cause = getattr(err, "cause", None)
    return cause if isinstance(cause, BerthError) else err


def _previous_missing(pod: dict, options: LogOptions) -> BadRequest:
    return BadRequest(
        f'previous terminated container "{options.container}" in pod '
        f'"{dig(pod, "metadata", "name")}" not found'
    )


class RayLogSource:
    """``platform.logs`` when workers run. ``kubelet``: anything with ``agent_for(node)``
    and ``client`` (the ``KubeletSync``)."""

    def __init__(self, kubelet, poll_s: float = 0.2, start_timeout_s: float = 300.0):
        self.kubelet = kubelet
        self.poll_s = poll_s
        self.start_timeout_s = start_timeout_s  # how long follow waits for an agent to have it

    def _agent(self, pod: dict):
        ref = self.kubelet.agent_for(dig(pod, "spec", "nodeName"))
        return ref.handle if ref is not None else None

    def read(self, pod: dict, options: LogOptions) -> str:
        agent = self._agent(pod)
        if agent is None:
            if options.previous:
                raise _previous_missing(pod, options)
            return ""
        call = agent.read_log.remote(
            dig(pod, "metadata", "uid"),
            options.container,
            tail_lines=options.tail_lines,
            since_seconds=options.since_seconds,
            timestamps=options.timestamps,
            previous=options.previous,
            limit_bytes=options.limit_bytes,
        )
        try:
            return ray.get(call, timeout=_READ_TIMEOUT_S)
        except ray.exceptions.RayActorError:
            return ""  # the node is gone, and its logs with it
        except ray.exceptions.RayError as err:
            cause = _cause(err)
            if isinstance(cause, NotFound):
                if options.previous:
                    raise _previous_missing(pod, options) from None
                return ""  # not on its node yet
            raise cause from None

    def _still_there(self, pod: dict) -> bool:
        """Asked of the store, not the informers: a pod created a moment ago may not have
        reached them yet."""
        md = pod.get("metadata") or {}
        current = self.kubelet.client.try_get(
            registry.POD, md.get("namespace", ""), md.get("name", "")
        )
        return (
            current is not None
            and dig(current, "metadata", "uid") == md.get("uid")
            and not is_terminal(current)
        )

    async def follow(self, pod: dict, options: LogOptions) -> AsyncIterator[bytes]:
        uid = dig(pod, "metadata", "uid")
        offset = None
        left = options.limit_bytes
        deadline = time.monotonic() + self.start_timeout_s
        while True:
            agent = self._agent(pod)
            if agent is None:
                if not self._still_there(pod) or time.monotonic() > deadline:
                    return
                await asyncio.sleep(self.poll_s)
                continue
            call = agent.read_log_from.remote(
                uid,
                options.container,
                offset,
                timestamps=options.timestamps,
                previous=options.previous,
                tail_lines=options.tail_lines,
                since_seconds=options.since_seconds,
            )
            try:
                text, offset, finished = await asyncio.wrap_future(call.future())
            except ray.exceptions.RayActorError:
                return
            except ray.exceptions.RayError as err:
                cause = _cause(err)
                if not isinstance(cause, NotFound):
                    raise cause from None
                if not self._still_there(pod) or time.monotonic() > deadline:
                    return  # gone (or finished) before its agent ever had it
                await asyncio.sleep(self.poll_s)
                continue
            if text:
                data = text.encode()
                if left is not None:
                    data, left = data[:left], left - len(data[:left])
                if data:
                    yield data
                if left is not None and left <= 0:
                    return
            if finished:
                return
            if not text:
                await asyncio.sleep(self.poll_s)
