"""Validation of every kind, with Kubernetes' field paths and wording.

Each function returns a list of ``errors.Cause``; an empty list means valid. ``strategy``
chooses the functions for create, update and status update; the modules here are organised
by what they check: ``names`` (string formats), ``meta`` (ObjectMeta, labels, selectors),
``resources``, ``volumes``, ``container``, ``scheduling``, ``pod``/``pod_update``, ``job``/
``job_status``, ``cron``/``cronjob``, ``config`` (ConfigMap, Secret), ``storage`` (PV, PVC,
StorageClass) and ``cluster`` (Namespace, Node, Event, Lease).
"""
