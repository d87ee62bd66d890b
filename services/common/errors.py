"""Domain errors and their AIP-193 form: a google.rpc.Status with ErrorInfo (a stable
upper-snake reason) and, where it applies, BadRequest, ResourceInfo or RetryInfo."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field

import grpc
from google.protobuf import any_pb2, duration_pb2
from google.rpc import code_pb2, error_details_pb2, status_pb2

DOMAIN = "payloops.dev"


@dataclass
class FieldViolation:
    field: str
    description: str


@dataclass
class PayLoopsError(Exception):
    """Base of every error a servicer may raise; the interceptor turns it into a status."""

    message: str
    reason: str
    metadata: Mapping[str, str] = field(default_factory=dict)

    code: grpc.StatusCode = grpc.StatusCode.INTERNAL

    def __post_init__(self) -> None:
        super().__init__(self.message)

    def extra_details(self) -> Sequence[object]:
        return ()

    def to_status(self) -> status_pb2.Status:
        info = error_details_pb2.ErrorInfo(reason=self.reason, domain=DOMAIN, metadata=dict(self.metadata))
        details = []
        for detail in (info, *self.extra_details()):
            packed = any_pb2.Any()
            packed.Pack(detail)
            details.append(packed)
        return status_pb2.Status(code=self.code.value[0], message=self.message, details=details)


@dataclass
class InvalidArgument(PayLoopsError):
    """Bad input: INVALID_ARGUMENT with a BadRequest listing the bad fields."""

    violations: Sequence[FieldViolation] = ()
    code: grpc.StatusCode = grpc.StatusCode.INVALID_ARGUMENT

    def extra_details(self) -> Sequence[object]:
        if not self.violations:
            return ()
        return (
            error_details_pb2.BadRequest(
                field_violations=[
                    error_details_pb2.BadRequest.FieldViolation(field=v.field, description=v.description)
                    for v in self.violations
                ]
            ),
        )


@dataclass
class NotFound(PayLoopsError):
    """A resource that does not exist or belongs to someone else: NOT_FOUND + ResourceInfo."""

    resource_type: str = ""
    resource_name: str = ""
    code: grpc.StatusCode = grpc.StatusCode.NOT_FOUND

    def extra_details(self) -> Sequence[object]:
        return (error_details_pb2.ResourceInfo(resource_type=self.resource_type, resource_name=self.resource_name),)

    @classmethod
    def of(cls, resource_type: str, resource_name: str) -> NotFound:
        """The error for a `resource_type` ("checkout_session") named `resource_name`, with its
        reason (CHECKOUT_SESSION_NOT_FOUND)."""
        return cls(
            message=f"{resource_type.replace('_', ' ')} {resource_name!r} not found",
            reason=f"{resource_type.upper()}_NOT_FOUND",
            resource_type=resource_type,
            resource_name=resource_name,
        )


@dataclass
class FailedPrecondition(PayLoopsError):
    """A state conflict such as an illegal order transition."""

    code: grpc.StatusCode = grpc.StatusCode.FAILED_PRECONDITION


@dataclass
class Conflict(PayLoopsError):
    """A concurrent or duplicate request (ABORTED, 409)."""

    code: grpc.StatusCode = grpc.StatusCode.ABORTED


@dataclass
class AlreadyExists(PayLoopsError):
    code: grpc.StatusCode = grpc.StatusCode.ALREADY_EXISTS


@dataclass
class Unauthenticated(PayLoopsError):
    code: grpc.StatusCode = grpc.StatusCode.UNAUTHENTICATED


@dataclass
class PermissionDenied(PayLoopsError):
    code: grpc.StatusCode = grpc.StatusCode.PERMISSION_DENIED


@dataclass
class ResourceExhausted(PayLoopsError):
    retry_after_seconds: int = 0
    code: grpc.StatusCode = grpc.StatusCode.RESOURCE_EXHAUSTED

    def extra_details(self) -> Sequence[object]:
        return (error_details_pb2.RetryInfo(retry_delay=duration_pb2.Duration(seconds=self.retry_after_seconds)),)


@dataclass
class Unavailable(PayLoopsError):
    """A dependency (a processor, the database) is down: retry later."""

    retry_after_seconds: int = 1
    code: grpc.StatusCode = grpc.StatusCode.UNAVAILABLE

    def extra_details(self) -> Sequence[object]:
        return (error_details_pb2.RetryInfo(retry_delay=duration_pb2.Duration(seconds=self.retry_after_seconds)),)


class Relayed(PayLoopsError):
    """Another service's error status, passed on to our caller unchanged."""

    def __init__(self, status: status_pb2.Status) -> None:
        super().__init__(message=status.message, reason="RELAYED", code=_code(status.code))
        self.status = status

    def to_status(self) -> status_pb2.Status:
        return self.status


def _code(value: int) -> grpc.StatusCode:
    return next((code for code in grpc.StatusCode if code.value[0] == value), grpc.StatusCode.UNKNOWN)


def status_of(error: grpc.aio.AioRpcError) -> status_pb2.Status | None:
    """The rich status (with details) another service aborted with, if it sent one."""
    for key, value in error.trailing_metadata() or ():
        if key == "grpc-status-details-bin" and isinstance(value, bytes):
            return status_pb2.Status.FromString(value)
    return None


def reason_of(error: grpc.aio.AioRpcError) -> str:
    status = status_of(error)
    for detail in status.details if status else ():
        info = error_details_pb2.ErrorInfo()
        if detail.Unpack(info):
            return str(info.reason)
    return ""


def relay(error: grpc.aio.AioRpcError) -> PayLoopsError:
    """An error from a call to another service, as an error of ours."""
    status = status_of(error)
    if status is not None:
        return Relayed(status)
    if error.code() in (grpc.StatusCode.UNAVAILABLE, grpc.StatusCode.DEADLINE_EXCEEDED):
        return Unavailable(message="a PayLoops service is unavailable; retry", reason="SERVICE_UNAVAILABLE")
    return Relayed(_bare_status(error.code().value[0], "UPSTREAM_ERROR", error.details() or "upstream error"))


def _bare_status(code: int, reason: str, message: str) -> status_pb2.Status:
    info = any_pb2.Any()
    info.Pack(error_details_pb2.ErrorInfo(reason=reason, domain=DOMAIN))
    return status_pb2.Status(code=code, message=message, details=[info])


def internal_status() -> status_pb2.Status:
    """The status for an unexpected failure: no exception text reaches the caller."""
    return _bare_status(code_pb2.INTERNAL, "INTERNAL", "internal error")


def unimplemented_status(method: str) -> status_pb2.Status:
    return _bare_status(code_pb2.UNIMPLEMENTED, "NOT_IMPLEMENTED", f"{method} is not available yet")


def require(violations: list[FieldViolation], reason: str = "INVALID_ARGUMENT") -> None:
    """Raise one InvalidArgument naming every violation collected by a validator."""
    if violations:
        message = "; ".join(f"{v.field}: {v.description}" for v in violations)
        raise InvalidArgument(message=message, reason=reason, violations=violations)
