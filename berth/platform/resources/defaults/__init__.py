"""Defaulting of every kind, as Kubernetes' ``SetDefaults_*`` functions do it.

``pod`` holds the pod-spec defaults shared by Pods, Jobs and CronJobs; ``batch`` the Job and
CronJob defaults and the generated Job selector; ``core`` the rest. ``strategy`` decides
which apply on create and which on update.
"""
