"""Berth's scheduler: pending pods in queue order → snapshot → filter → score → bind.

The pure core, no I/O (the store-facing loop lives in ``loop.py``):

* ``types``: ``pod_request(pod)`` → ``PodRequest``, ``node_view(node, pods)`` → ``NodeView``
* ``snapshot``: ``Snapshot`` of every node, indexed; ``snapshot_from_objects(nodes, pods)``
* ``cycle``: ``schedule_batch(pods, snapshot, strategy, ...)`` → ``Decision``s
* ``queue``: ``SchedulingQueue`` (active / backoff / unschedulable, woken by ``ClusterEvent``)
* ``backfill``: ``BackfillPolicy`` and the reservation rule against starvation
* ``filters``, ``scoring``, ``messages``: the policies, as pure functions
* ``devices``: GPUs device by device (whole GPUs and ``berth.dev/gpu-milli`` shares)
* ``fragmentation``, ``mix``: the fragmentation-aware scorer and the workload mix it learns
* ``profiles``: ``schedulerName`` → scoring strategy (binpack, spread, fragmentation-aware)
"""
