"""The control-plane side of the workers: what runs in the ``berth up`` process (the leader) and
talks to the store: Ray's nodes as Node objects and node loss (``pool``, ``nodes``,
``eviction``), bound pods to their node's agent (``kubelet``, ``lookups``), statuses back into
the store (``reports``, ``podstatus``, ``podevents``), orphaned pods (``podgc``), simulated nodes
(``simulated``), ``kubectl logs`` through the agents (``logsource``, ``remote_logs``), the
private Ray head (``local_ray``) and the service that wires them (``service``).
"""
