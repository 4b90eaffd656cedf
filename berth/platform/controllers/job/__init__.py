"""The Job controller's logic as pure functions (Kubernetes batch/v1 semantics).

``plan`` is the heart: given a Job, its pods and the time, it returns a ``Plan`` of pods to
create and delete, finalizers to release, the new status, events and when to look again.
"""

from .backoff import JobTracking
from .plan import Deletion, Event, Plan, PodRef, plan
from .pods import pod_for

__all__ = ["Deletion", "Event", "JobTracking", "Plan", "PodRef", "plan", "pod_for"]
