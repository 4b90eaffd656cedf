"""Workers: the kubelet of Berth, one agent on every Ray node, in two sides the tree shows.

- ``node/`` runs on each Ray node, inside Ray: the agent actor, the pod tasks it submits, the
  sandbox, cgroups, probes, logs. It never touches the store (``tests/unit/workers/
  test_layering.py`` checks the imports).
- ``control/`` runs in the control plane (the leading ``berth up``): Ray's nodes as Node
  objects, node loss and eviction, the kubelet's sync and status loops, pod GC, simulated
  nodes, ``kubectl logs`` through the agents, the private Ray head.
- Between them, two pure modules both sides read: ``bundle`` (what a pod needs from the store,
  resolved by the control side and handed to the node with the pod) and ``status`` (the
  kubelet's pod status rules).

What the control plane calls on the node side:

- ``control.pool.ensure_agents(root, hide=[...]) -> {node_id: agent}``;
  ``control.pool.node_objects(settings)``; ``control.local_ray`` for the private head;
- ``bundle.build_bundle(pod, configmap=..., secret=..., claim_path=...)`` for each pod;
- on an agent (a Ray actor; call with ``.remote`` and ``ray.get``): ``sync(desired)``,
  ``update(desired, gone)`` (only the pods that changed),
  ``statuses(since) -> (cursor, updates)``, ``read_log(uid, container, **options)``,
  ``read_log_from(uid, container, offset, ...) -> (text, offset, finished)``, ``ping()``.
"""
