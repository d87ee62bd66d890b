"""Razorpay-shaped API errors.

Every failure the sandbox answers has Razorpay's error body::

    {"error": {"code": "BAD_REQUEST_ERROR", "description": "...", "source": "NA", "step": "NA",
               "reason": "NA", "metadata": {}, "field": null}}

The official SDK picks its exception class from ``error.code`` alone (``BadRequestError``,
``GatewayError``, ``ServerError``) and calls ``response.json()`` on every non-2xx answer, so
an error must always be JSON, never an HTML page.
"""

from __future__ import annotations

from typing import Any

from aiohttp import web

BAD_REQUEST_ERROR = "BAD_REQUEST_ERROR"
GATEWAY_ERROR = "GATEWAY_ERROR"
SERVER_ERROR = "SERVER_ERROR"

# HTTP status for an id that does not exist in the caller's account. Razorpay's description is
# "The id provided does not exist"; the SDK only looks at the error code, not the status.
NOT_FOUND_STATUS = 404

SERVER_ERROR_DESCRIPTION = "The server encountered an error. The incident has been reported to admins."


class RazorpayError(Exception):
    """An error answered with Razorpay's JSON error body and an HTTP status."""

    def __init__(
        self,
        status: int,
        description: str,
        *,
        code: str = BAD_REQUEST_ERROR,
        source: str = "NA",
        step: str = "NA",
        reason: str = "NA",
        metadata: dict[str, Any] | None = None,
        field: str | None = None,
    ) -> None:
        super().__init__(description)
        self.status = status
        self.description = description
        self.code = code
        self.source = source
        self.step = step
        self.reason = reason
        self.metadata = metadata or {}
        self.field = field

    def body(self) -> dict[str, Any]:
        return {
            "error": {
                "code": self.code,
                "description": self.description,
                "source": self.source,
                "step": self.step,
                "reason": self.reason,
                "metadata": self.metadata,
                "field": self.field,
            }
        }

    def response(self) -> web.Response:
        return web.json_response(self.body(), status=self.status)


def bad_request(description: str, *, status: int = 400, metadata: dict[str, Any] | None = None) -> RazorpayError:
    return RazorpayError(status, description, metadata=metadata)


def validation_error(description: str, field: str) -> RazorpayError:
    """A rejected input, shaped like Razorpay's ``input_validation_failed`` errors."""
    return RazorpayError(
        400,
        description,
        source="business",
        step="payment_initiation",
        reason="input_validation_failed",
        field=field,
    )


def not_found(field: str = "id") -> RazorpayError:
    return RazorpayError(NOT_FOUND_STATUS, "The id provided does not exist", field=field)


def unauthorized(description: str) -> RazorpayError:
    return RazorpayError(401, description)


def server_fault(status: int) -> RazorpayError:
    """An injected or unexpected server-side failure (500, 502 or 503)."""
    if status == 502:
        return RazorpayError(
            502,
            "Payment processing failed due to error at bank or wallet gateway",
            code=GATEWAY_ERROR,
            source="gateway",
            reason="gateway_technical_error",
        )
    return RazorpayError(status, SERVER_ERROR_DESCRIPTION, code=SERVER_ERROR)
