"""Names the Job controller writes on the wire: labels, annotations, finalizer, reasons.

Each is the exact string Kubernetes uses (``k8s.io/api/batch/v1``), so kubectl, the Python client
and anything written for Kubernetes read Berth's objects unchanged.
"""

from __future__ import annotations

# Pod phases, re-exported: the controller spells them ``keys.SUCCEEDED`` like its other names.
from berth.platform.resources.pods import FAILED as FAILED
from berth.platform.resources.pods import PENDING as PENDING
from berth.platform.resources.pods import RUNNING as RUNNING
from berth.platform.resources.pods import SUCCEEDED as SUCCEEDED
from berth.platform.resources.pods import UNKNOWN as UNKNOWN

TRACKING_FINALIZER = "batch.kubernetes.io/job-tracking"

COMPLETION_INDEX = "batch.kubernetes.io/job-completion-index"
INDEX_FAILURE_COUNT = "batch.kubernetes.io/job-index-failure-count"
INDEX_IGNORED_FAILURE_COUNT = "batch.kubernetes.io/job-index-ignored-failure-count"
COMPLETION_INDEX_ENV = "JOB_COMPLETION_INDEX"

CONTROLLER_UID = "batch.kubernetes.io/controller-uid"
JOB_NAME = "batch.kubernetes.io/job-name"
LEGACY_CONTROLLER_UID = "controller-uid"
LEGACY_JOB_NAME = "job-name"

# spec.managedBy of the Jobs this controller syncs; any other value belongs to someone else.
JOB_CONTROLLER_NAME = "kubernetes.io/job-controller"

NON_INDEXED = "NonIndexed"
INDEXED = "Indexed"

# The pod condition the controller reads (pod phases: ``resources/pods.py``).
POD_READY = "Ready"

# Job condition types.
COMPLETE = "Complete"
FAILED_CONDITION = "Failed"
FAILURE_TARGET = "FailureTarget"
SUCCESS_CRITERIA_MET = "SuccessCriteriaMet"
SUSPENDED = "Suspended"

# Job condition reasons and the messages Kubernetes pairs with them.
BACKOFF_LIMIT_EXCEEDED = "BackoffLimitExceeded"
BACKOFF_LIMIT_MESSAGE = "Job has reached the specified backoff limit"
DEADLINE_EXCEEDED = "DeadlineExceeded"
DEADLINE_MESSAGE = "Job was active longer than specified deadline"
POD_FAILURE_POLICY = "PodFailurePolicy"
MAX_FAILED_INDEXES_EXCEEDED = "MaxFailedIndexesExceeded"
MAX_FAILED_INDEXES_MESSAGE = "Job has exceeded the specified maximal number of failed indexes"
FAILED_INDEXES = "FailedIndexes"
FAILED_INDEXES_MESSAGE = "Job has failed indexes"
COMPLETIONS_REACHED = "CompletionsReached"
COMPLETIONS_REACHED_MESSAGE = "Reached expected number of succeeded pods"
SUCCESS_POLICY = "SuccessPolicy"
JOB_SUSPENDED = "JobSuspended"
JOB_RESUMED = "JobResumed"

# Pod replacement policies.
REPLACE_TERMINATING_OR_FAILED = "TerminatingOrFailed"
REPLACE_FAILED = "Failed"

# Pod failure policy actions.
FAIL_JOB = "FailJob"
FAIL_INDEX = "FailIndex"
IGNORE = "Ignore"
COUNT = "Count"

# Kubernetes caps the work of one sync so that a huge Job neither bloats its status (UIDs in
# uncountedTerminatedPods stay under ~20 KB) nor starves the other Jobs of the same worker.
MAX_UNCOUNTED_PODS = 500
MAX_POD_CREATE_DELETE_PER_SYNC = 500
