"""Typed exceptions for API errors (Google AIP-193 bodies) and network failures."""

from __future__ import annotations

import json
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

_MAX_MESSAGE_CHARS = 500


@dataclass(frozen=True)
class FieldViolation:
    field: str
    description: str


class PayLoopsError(Exception):
    """Base class of every error the SDK raises."""

    def __init__(
        self,
        message: str,
        *,
        http_status: int | None = None,
        reason: str = "",
        code: int | None = None,
        field_violations: tuple[FieldViolation, ...] = (),
        metadata: Mapping[str, str] | None = None,
        request_id: str = "",
        body: Mapping[str, Any] | None = None,
    ) -> None:
        super().__init__(message)
        self.message = message
        self.http_status = http_status
        self.reason = reason
        self.code = code
        self.field_violations = field_violations
        # The ErrorInfo detail's metadata, e.g. {"sessionId": "cs_..."} for CHECKOUT_SESSION_ALREADY_OPEN.
        self.metadata: Mapping[str, str] = metadata or {}
        self.request_id = request_id
        self.body: Mapping[str, Any] = body or {}

    def __str__(self) -> str:
        parts = [f"HTTP {self.http_status}" if self.http_status else "", self.reason, self.message]
        return ": ".join(part for part in parts if part)

    def __repr__(self) -> str:
        fields = f"http_status={self.http_status!r}, reason={self.reason!r}, message={self.message!r}"
        return f"{type(self).__name__}({fields})"


class APIConnectionError(PayLoopsError):
    """The request did not get an answer: connection refused or dropped, or a timeout."""


class APIError(PayLoopsError):
    """A server-side error (5xx) or an answer the SDK does not know."""


class InvalidRequestError(PayLoopsError):
    """400: a bad argument or an operation the object's state does not allow."""


class AuthenticationError(PayLoopsError):
    """401: missing, unknown or revoked credentials."""


class PermissionDeniedError(PayLoopsError):
    """403."""


class NotFoundError(PayLoopsError):
    """404: no such object for this merchant."""


class ConflictError(PayLoopsError):
    """409: e.g. an idempotency key reused with a different body, or a checkout session
    already open for the order."""


class RateLimitError(PayLoopsError):
    """429."""


_BY_STATUS: dict[int, type[PayLoopsError]] = {
    400: InvalidRequestError,
    401: AuthenticationError,
    403: PermissionDeniedError,
    404: NotFoundError,
    409: ConflictError,
    429: RateLimitError,
}


def error_reason(body: Mapping[str, Any]) -> str:
    """The `reason` of the google.rpc.ErrorInfo detail of an AIP-193 body, or ""."""
    return str(_error_info(body).get("reason", ""))


def _error_info(body: Mapping[str, Any]) -> Mapping[str, Any]:
    for detail in _details(body):
        if str(detail.get("@type", "")).endswith("ErrorInfo"):
            return detail
    return {}


def _metadata(body: Mapping[str, Any]) -> dict[str, str]:
    metadata = _error_info(body).get("metadata")
    return {str(name): str(value) for name, value in metadata.items()} if isinstance(metadata, Mapping) else {}


def _details(body: Mapping[str, Any]) -> list[Mapping[str, Any]]:
    details = body.get("details")
    return [detail for detail in details if isinstance(detail, Mapping)] if isinstance(details, list) else []


def _field_violations(body: Mapping[str, Any]) -> tuple[FieldViolation, ...]:
    return tuple(
        FieldViolation(field=str(violation.get("field", "")), description=str(violation.get("description", "")))
        for detail in _details(body)
        if str(detail.get("@type", "")).endswith("BadRequest")
        for violation in detail.get("fieldViolations") or []
    )


def parse_body(content: bytes) -> dict[str, Any] | None:
    try:
        parsed = json.loads(content)
    except ValueError:
        return None
    return parsed if isinstance(parsed, dict) else None


def error_from_answer(status: int, content: bytes, headers: Mapping[str, str]) -> PayLoopsError:
    """The typed exception for a non-2xx answer."""
    body = parse_body(content) or {}
    message = str(body.get("message") or content[:_MAX_MESSAGE_CHARS].decode(errors="replace") or f"HTTP {status}")
    code = body.get("code")
    error_class = _BY_STATUS.get(status, APIError)
    return error_class(
        message,
        http_status=status,
        reason=error_reason(body),
        code=code if isinstance(code, int) else None,
        field_violations=_field_violations(body),
        metadata=_metadata(body),
        request_id=headers.get("x-request-id", ""),
        body=body,
    )
