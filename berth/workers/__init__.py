"""Workers: the kubelet of Berth, one agent on every Ray node.

What the control plane calls:

- ``pool.start_local_ray(temp_dir, ...) -> address`` / ``pool.stop_local_ray(temp_dir)`` and
  ``local_ray.connect_env(temp_dir)`` before ``ray.init(address=..., namespace="berth")``;
- ``pool.ensure_agents(root, hide=[...]) -> {node_id: agent}``; ``pool.node_objects(settings)``;
- ``bundle.build_bundle(pod, configmap=..., secret=..., claim_path=...)`` for each pod;
- on an agent (a Ray actor; call with ``.remote`` and ``ray.get``): ``sync(desired)``,
  ``statuses(since) -> (cursor, updates)``, ``read_log(uid, container, **options)``,
  ``read_log_from(uid, container, offset, ...) -> (text, offset, finished)``, ``ping()``.

Inside, bottom-up: ``logs`` (CRI log files), ``sandbox`` (bubblewrap argv), ``cgroups``
(limits), ``process`` (start/stop one container), ``probes``, ``envs``/``volumes`` (what a
container sees), ``status`` (kubelet status rules), ``runner`` (one pod), ``pod_task`` (the
pod's Ray task), ``admission``, ``agent``.
"""
