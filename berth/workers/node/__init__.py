"""The node side of the workers: what runs on each Ray node, inside Ray (the agent actor and
the pod tasks it submits). It never touches the store: what a pod needs from the store comes in
its runtime bundle (``berth.workers.bundle``), and statuses go back as answers to the control
plane's calls. ``tests/unit/workers/test_layering.py`` checks that no module here imports the
store, the controllers or the API.

Bottom-up: ``logs`` (CRI log files), ``sandbox``/``sandboxcheck`` (bubblewrap), ``cgroups``
(limits), ``process`` (start/stop one container), ``probes``, ``envs``/``volumes``/
``filevolumes`` (what a container sees), ``restarts``, ``outcome``, ``runner`` (one pod),
``pod_task`` (the pod's Ray task), ``admission``, ``records``, ``agent`` (the node's kubelet).
"""
