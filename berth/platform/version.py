"""The one Kubernetes version Berth speaks, everywhere it says one.

``GET /version``, the OpenAPI document and every Node's ``nodeInfo.kubeletVersion`` (agent-run
and simulated alike) report this release, so kubectl's version-skew checks and what
``kubectl get nodes`` shows agree. The kubectl dispatcher on this machine runs the kubectl whose
minor version the server reports.
"""

KUBERNETES_MAJOR = "1"
KUBERNETES_MINOR = "32"
KUBERNETES_VERSION = f"v{KUBERNETES_MAJOR}.{KUBERNETES_MINOR}.4"
