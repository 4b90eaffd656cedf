"""Domain errors of the platform.

Every layer raises these; the API turns them into Kubernetes ``Status`` bodies in one place
(``berth.platform.api.status``). Nothing here knows about HTTP beyond the status code each
error maps to.
"""

from __future__ import annotations

from dataclasses import dataclass, field


@dataclass(frozen=True)
class Cause:
    """One field at fault, as in a Kubernetes ``StatusCause``."""

    field: str
    message: str
    reason: str = "FieldValueInvalid"

    def as_dict(self) -> dict:
        return {"reason": self.reason, "message": self.message, "field": self.field}


def required(path: str) -> Cause:
    return Cause(path, "Required value", "FieldValueRequired")


def invalid(path: str, value: object, detail: str) -> Cause:
    return Cause(path, f"Invalid value: {_show(value)}: {detail}", "FieldValueInvalid")


def unsupported(path: str, value: object, allowed: list[str]) -> Cause:
    shown = ", ".join(f'"{a}"' for a in allowed)
    return Cause(
        path,
        f"Unsupported value: {_show(value)}: supported values: {shown}",
        "FieldValueNotSupported",
    )


def forbidden(path: str, detail: str) -> Cause:
    return Cause(path, f"Forbidden: {detail}", "FieldValueForbidden")


def duplicate(path: str, value: object) -> Cause:
    return Cause(path, f"Duplicate value: {_show(value)}", "FieldValueDuplicate")


def too_long(path: str, limit: int) -> Cause:
    return Cause(path, f"Too long: must have at most {limit} bytes", "FieldValueTooLong")


def _show(value: object) -> str:
    if isinstance(value, str):
        return f'"{value}"'
    if isinstance(value, bool):
        return "true" if value else "false"
    if value is None:
        return "null"
    return str(value)


class BerthError(Exception):
    """Base of every error the API reports as a ``Status``."""

    code = 500
    reason = "InternalError"

    def __init__(self, message: str, *, details: dict | None = None):
        super().__init__(message)
        self.message = message
        self.details = details or {}

    def __reduce__(self):
        # Subclasses take other constructor arguments; rebuild from the finished state so the
        # error survives pickling (Ray actor calls raise it across processes).
        return (_rebuild, (type(self), self.message, self.details, self.__dict__))


def _rebuild(cls: type[BerthError], message: str, details: dict, state: dict) -> BerthError:
    err = cls.__new__(cls)
    BerthError.__init__(err, message, details=details)
    err.__dict__.update(state)
    return err


class BadRequest(BerthError):
    code = 400
    reason = "BadRequest"


class Unauthorized(BerthError):
    code = 401
    reason = "Unauthorized"


class Forbidden(BerthError):
    code = 403
    reason = "Forbidden"


class NotFound(BerthError):
    code = 404
    reason = "NotFound"

    def __init__(self, resource: str, name: str, group: str = "", message: str | None = None):
        qualified = f"{resource}.{group}" if group else resource
        super().__init__(
            message or f'{qualified} "{name}" not found',
            details={"name": name, "group": group, "kind": resource},
        )


class MethodNotAllowed(BerthError):
    code = 405
    reason = "MethodNotAllowed"


class NotAcceptable(BerthError):
    code = 406
    reason = "NotAcceptable"


class AlreadyExists(BerthError):
    code = 409
    reason = "AlreadyExists"

    def __init__(self, resource: str, name: str, group: str = ""):
        qualified = f"{resource}.{group}" if group else resource
        super().__init__(
            f'{qualified} "{name}" already exists',
            details={"name": name, "group": group, "kind": resource},
        )


class Conflict(BerthError):
    code = 409
    reason = "Conflict"

    def __init__(self, resource: str, name: str, group: str = "", detail: str = ""):
        qualified = f"{resource}.{group}" if group else resource
        detail = detail or (
            "the object has been modified; please apply your changes "
            "to the latest version and try again"
        )
        super().__init__(
            f'Operation cannot be fulfilled on {qualified} "{name}": {detail}',
            details={"name": name, "group": group, "kind": resource},
        )


class Gone(BerthError):
    """A watch or continue token from before the change log's window."""

    code = 410
    reason = "Expired"


class RequestEntityTooLarge(BerthError):
    code = 413
    reason = "RequestEntityTooLarge"


class UnsupportedMediaType(BerthError):
    code = 415
    reason = "UnsupportedMediaType"


@dataclass
class _InvalidDetails:
    kind: str
    name: str
    group: str
    causes: list[Cause] = field(default_factory=list)


class Invalid(BerthError):
    """422: the object breaks the rules of its kind; each cause names a field."""

    code = 422
    reason = "Invalid"

    def __init__(self, kind: str, name: str, causes: list[Cause], group: str = ""):
        qualified = f"{kind}.{group}" if group else kind
        summary = ", ".join(f"{c.field}: {c.message}" if c.field else c.message for c in causes)
        if len(causes) > 1:
            summary = f"[{summary}]"
        super().__init__(
            f'{qualified} "{name}" is invalid: {summary}',
            details={
                "name": name,
                "group": group,
                "kind": kind,
                "causes": [c.as_dict() for c in causes],
            },
        )
        self.causes = causes


class ServiceUnavailable(BerthError):
    code = 503
    reason = "ServiceUnavailable"


class Timeout(BerthError):
    code = 504
    reason = "Timeout"
