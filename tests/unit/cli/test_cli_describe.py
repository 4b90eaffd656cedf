"""``berth describe`` pages for Jobs, Pods and other kinds."""

from __future__ import annotations

import base64
from datetime import UTC, datetime

from berth.cli.describe import Page, describe_generic
from berth.cli.describe_workloads import describe_job, describe_pod

NOW = datetime(2026, 11, 25, 19, 30, 0, tzinfo=UTC)

JOB = {
    "apiVersion": "batch/v1",
    "kind": "Job",
    "metadata": {
        "name": "pi",
        "namespace": "team",
        "uid": "u1",
        "labels": {"app": "x", "job-name": "pi"},
        "annotations": {
            "kubectl.kubernetes.io/last-applied-configuration": "{...}",
            "owner": "ana",
        },
    },
    "spec": {
        "parallelism": 2,
        "completions": 4,
        "completionMode": "Indexed",
        "backoffLimit": 3,
        "selector": {"matchLabels": {"controller-uid": "u1"}},
        "template": {
            "metadata": {"labels": {"job-name": "pi"}},
            "spec": {
                "restartPolicy": "Never",
                "containers": [
                    {
                        "name": "main",
                        "image": "berth/host",
                        "command": ["python3", "-c", "print(1)"],
                        "env": [
                            {"name": "A", "value": "1"},
                            {"name": "S", "valueFrom": {"secretKeyRef": {}}},
                        ],
                        "resources": {"limits": {"nvidia.com/gpu": "1"}, "requests": {"cpu": "2"}},
                    }
                ],
            },
        },
    },
    "status": {
        "startTime": "2026-11-25T19:25:00Z",
        "completionTime": "2026-11-25T19:27:03Z",
        "active": 0,
        "succeeded": 3,
        "failed": 1,
        "completedIndexes": "0-2",
        "failedIndexes": "3",
        "conditions": [
            {
                "type": "Failed",
                "status": "True",
                "reason": "BackoffLimitExceeded",
                "message": "Job has reached the specified backoff limit",
            }
        ],
    },
}
EVENTS = [
    {
        "type": "Normal",
        "reason": "SuccessfulCreate",
        "message": "Created pod: pi-0-abc",
        "source": {"component": "job-controller"},
        "count": 1,
        "lastTimestamp": "2026-11-25T19:25:00Z",
    },
    {
        "type": "Warning",
        "reason": "BackoffLimitExceeded",
        "count": 2,
        "message": "Job has reached the specified backoff limit",
        "source": {"component": "job-controller"},
        "firstTimestamp": "2026-11-25T19:20:00Z",
        "lastTimestamp": "2026-11-25T19:27:00Z",
    },
]


def field(text: str, key: str) -> str:
    """The value printed after ``key:`` on its line (first match)."""
    for line in text.splitlines():
        if line.strip().startswith(key + ":"):
            return line.split(":", 1)[1].strip()
    raise AssertionError(f"{key} not in:\n{text}")


def test_job_page():
    text = describe_job(JOB, EVENTS, NOW)
    assert field(text, "Name") == "pi"
    assert field(text, "Namespace") == "team"
    assert field(text, "Selector") == "controller-uid=u1"
    assert field(text, "Parallelism") == "2"
    assert field(text, "Completions") == "4"
    assert field(text, "Completion Mode") == "Indexed"
    assert field(text, "Backoff Limit") == "3"
    assert field(text, "Start Time") == "Wed, 25 Nov 2026 19:25:00 +0000"
    assert field(text, "Duration") == "2m3s"
    assert field(text, "Pods Statuses") == "0 Active (0 Ready) / 3 Succeeded / 1 Failed"
    assert field(text, "Completed Indexes") == "0-2"
    assert field(text, "Failed Indexes") == "3"
    assert field(text, "Annotations") == "owner: ana"  # the last-applied record is hidden
    labels = text[text.index("Labels:") :].splitlines()[:2]
    assert labels[0].endswith("app=x") and labels[1].endswith("job-name=pi")
    assert labels[0].index("app=x") == labels[1].index("job-name=pi")  # continuation aligned
    assert "      Command:\n        python3\n        -c\n        print(1)\n" in text
    assert field(text, "nvidia.com/gpu") == "1"
    assert field(text, "Environment") == "A: 1"
    assert "S: <set from secretKeyRef>" in text
    conditions = text[text.index("Conditions:") : text.index("Events:")].splitlines()
    assert conditions[1].split() == ["Type", "Status", "Reason", "Message"]
    assert conditions[3].split()[:3] == ["Failed", "True", "BackoffLimitExceeded"]
    events = text[text.index("Events:") :].splitlines()
    assert events[1].split() == ["Type", "Reason", "Age", "From", "Message"]
    assert events[3].split()[:4] == ["Normal", "SuccessfulCreate", "5m", "job-controller"]
    assert "3m (x2 over 10m)" in events[4]


def test_job_without_status_or_events():
    job = {
        "metadata": {"name": "new", "namespace": "d"},
        "spec": {"template": {"spec": {"containers": [{"name": "main", "image": "i"}]}}},
    }
    text = describe_job(job, [], NOW)
    assert field(text, "Completions") == "<unset>"
    assert field(text, "Start Time") == "<none>"
    assert "Duration" not in text
    assert field(text, "Pods Statuses") == "0 Active (0 Ready) / 0 Succeeded / 0 Failed"
    assert field(text, "Conditions") == "<none>"
    assert field(text, "Events") == "<none>"


POD = {
    "metadata": {
        "name": "pi-0-abc",
        "namespace": "team",
        "labels": {"job-name": "pi"},
        "ownerReferences": [
            {"kind": "Job", "name": "pi", "controller": True, "apiVersion": "batch/v1", "uid": "u1"}
        ],
    },
    "spec": {
        "nodeName": "node-1",
        "containers": [{"name": "main", "image": "berth/host"}],
        "tolerations": [
            {
                "key": "node.kubernetes.io/not-ready",
                "operator": "Exists",
                "effect": "NoExecute",
                "tolerationSeconds": 300,
            }
        ],
    },
    "status": {
        "phase": "Failed",
        "startTime": "2026-11-25T19:25:00Z",
        "conditions": [{"type": "Ready", "status": "False"}],
        "containerStatuses": [
            {
                "name": "main",
                "ready": False,
                "restartCount": 0,
                "state": {
                    "terminated": {
                        "exitCode": 2,
                        "reason": "Error",
                        "startedAt": "2026-11-25T19:25:01Z",
                        "finishedAt": "2026-11-25T19:25:09Z",
                    }
                },
            }
        ],
    },
}


def test_pod_page():
    text = describe_pod(POD, [], NOW)
    assert field(text, "Node") == "node-1"
    assert field(text, "Status") == "Failed"
    assert field(text, "Controlled By") == "Job/pi"
    assert field(text, "State") == "Terminated"
    assert field(text, "Reason") == "Error"
    assert field(text, "Exit Code") == "2"
    assert field(text, "Finished") == "Wed, 25 Nov 2026 19:25:09 +0000"
    assert field(text, "Ready") == "False"
    assert field(text, "Restart Count") == "0"
    assert field(text, "Tolerations") == "node.kubernetes.io/not-ready:NoExecute op=Exists for 300s"
    assert field(text, "Events") == "<none>"


def test_pending_pod_page():
    pod = {
        "metadata": {"name": "p", "namespace": "d"},
        "spec": {"containers": [{"name": "main", "image": "i"}]},
        "status": {"phase": "Pending"},
    }
    text = describe_pod(pod, [], NOW)
    assert field(text, "Node") == "<none>"
    assert field(text, "State") == "Waiting"
    assert field(text, "Controlled By") == "<none>"


def test_generic_page_hides_secret_values():
    secret = {
        "apiVersion": "v1",
        "kind": "Secret",
        "type": "Opaque",
        "metadata": {"name": "s", "namespace": "d"},
        "data": {"password": base64.b64encode(b"hunter22").decode(), "odd": "!!"},
    }
    text = describe_generic(secret, [], NOW)
    assert "hunter22" not in text and base64.b64encode(b"hunter22").decode() not in text
    assert "password: 8 bytes" in text
    assert "odd: <not base64>" in text
    assert field(text, "Type") == "Opaque"


def test_generic_page_for_a_cluster_object():
    node = {
        "kind": "Node",
        "metadata": {"name": "n1", "labels": {"gpu": "nvidia"}},
        "spec": {},
        "status": {"capacity": {"cpu": "8"}},
    }
    text = describe_generic(node, [], NOW)
    assert "Namespace" not in text
    assert field(text, "Labels") == "gpu=nvidia"
    assert field(text, "Spec") == "<none>"
    assert "Status:\n  capacity:\n    cpu: '8'\n" in text


def test_page_aligns_values_per_level():
    page = Page()
    page.field("A", "1")
    page.field("Longer Key", ["x", "y"])
    page.section("Box")
    page.field("K", "", 1)
    assert page.render() == ("A:           1\nLonger Key:  x\n             y\nBox:\n  K:  <none>\n")
