"""Errors of patching that ``berth.platform.errors`` has no shape for."""

from __future__ import annotations

from berth.platform.errors import BerthError


class PatchRejected(BerthError):
    """422 for a patch that is well formed but cannot be applied to this object (a JSON patch
    whose ``test`` fails or whose path is missing, a strategic patch at odds with its own
    ``$retainKeys``). Kubernetes answers these with a generic 422 whose cause carries the
    patch library's message."""

    code = 422
    reason = "Invalid"

    def __init__(self, detail: str):
        super().__init__(
            "the server rejected our request due to an error in our request",
            details={"causes": [{"reason": "UnexpectedServerResponse", "message": detail}]},
        )
        self.detail = detail


class ApplyConflict(BerthError):
    """409 from server-side apply: fields another manager owns would change. Each cause names
    one field (``.spec.parallelism``) and its manager."""

    code = 409
    reason = "Conflict"

    def __init__(self, message: str, causes: list[dict]):
        super().__init__(message, details={"causes": causes})
        self.causes = causes
