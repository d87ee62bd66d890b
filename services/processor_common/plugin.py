"""The processor plug-in interface (Hyperswitch style: a common part plus one method per
capability) and the error taxonomy every plug-in raises.

Declines are not errors: they are results with status FAILED and the processor's decline code
in failure_code. Errors are about whether the request reached the processor:

- ProcessorUnavailable: it certainly did not act (the connection could not be made, so
  nothing was sent; or the processor refused explicitly, e.g. a 429 rate limit). The
  payment workflow may fail over.
- OutcomeUnknown: it may have acted (5xx, a timeout or a connection dropped after sending).
  The workflow asks GetPayment before anything else, and fails over only once the payment
  is known to have moved no money (or was cancelled there).
- InvalidRequest: our bug or bad input. Not retryable.

They are PayLoopsError subclasses, so the shared interceptor turns them into rich statuses.
"""

from __future__ import annotations

import abc
from collections.abc import Sequence
from dataclasses import dataclass
from typing import ClassVar

import grpc

from services.common.errors import FailedPrecondition, InvalidArgument, PayLoopsError, Unavailable
from services.processor_common.model import (
    CaptureRequest,
    Credentials,
    PaymentLookup,
    PaymentRequest,
    PaymentResult,
    ProcessorEvent,
    RefundRequest,
    RefundResult,
    VoidRequest,
    WebhookRequest,
)


@dataclass
class ProcessorUnavailable(Unavailable):
    """UNAVAILABLE + RetryInfo: nothing happened at the processor; retry or fail over."""

    reason: str = "PROCESSOR_UNAVAILABLE"


@dataclass
class OutcomeUnknown(PayLoopsError):
    """UNKNOWN: the processor may have acted; ask GetPayment before anything else."""

    reason: str = "PROCESSOR_OUTCOME_UNKNOWN"
    code: grpc.StatusCode = grpc.StatusCode.UNKNOWN


@dataclass
class InvalidRequest(InvalidArgument):
    """INVALID_ARGUMENT: the processor refused the request itself (our bug or bad input)."""

    reason: str = "PROCESSOR_INVALID_REQUEST"


@dataclass
class CredentialsRejected(FailedPrecondition):
    """The processor refused the merchant's credentials (401/403)."""

    reason: str = "PROCESSOR_CREDENTIALS_REJECTED"


@dataclass
class CredentialsIncomplete(FailedPrecondition):
    """The merchant's stored credentials lack a value this call needs."""

    reason: str = "PROCESSOR_CREDENTIALS_INCOMPLETE"


@dataclass
class WebhookSignatureInvalid(InvalidArgument):
    """A missing, mismatched or stale signature: the webhook changes nothing."""

    reason: str = "WEBHOOK_SIGNATURE_INVALID"


@dataclass
class WebhookPayloadInvalid(InvalidArgument):
    """Correctly signed, but not an event PayLoops can read."""

    reason: str = "WEBHOOK_PAYLOAD_INVALID"


def credential(credentials: Credentials, name: str, processor: str) -> str:
    """One credential value; never echoes any value in the error."""
    value = credentials.get(name, "")
    if not value:
        raise CredentialsIncomplete(message=f"the merchant's {processor} credentials have no {name}")
    return value


class ProcessorPlugin(abc.ABC):
    """One processor. Stateless between calls: every method gets the merchant's credentials."""

    id: ClassVar[str]
    # False when the processor cannot find a payment from the PayLoops order id alone, so
    # GetPayment needs a processor_reference.
    finds_payments_by_order_id: ClassVar[bool] = True

    @abc.abstractmethod
    async def prepare(self, request: PaymentRequest, credentials: Credentials) -> str:
        """Create the processor's payment object without moving money; return its reference."""

    @abc.abstractmethod
    async def authorize(self, request: PaymentRequest, credentials: Credentials) -> PaymentResult:
        """Confirm the payment (resuming request.existing_reference when set); capture if asked."""

    @abc.abstractmethod
    async def capture(self, request: CaptureRequest, credentials: Credentials) -> PaymentResult: ...

    @abc.abstractmethod
    async def void(self, request: VoidRequest, credentials: Credentials) -> PaymentResult:
        """Cancel the payment so that it can no longer move money (VOIDED); a payment already
        settled otherwise answers its state instead (CAPTURED, FAILED), never an error."""

    @abc.abstractmethod
    async def refund(self, request: RefundRequest, credentials: Credentials) -> RefundResult:
        """At most one processor refund per request.refund_id, whatever the processor's idempotency."""

    @abc.abstractmethod
    async def get_payment(self, lookup: PaymentLookup, credentials: Credentials) -> PaymentResult:
        """The processor's view; status STATUS_UNSPECIFIED when there is no such payment."""

    @abc.abstractmethod
    async def get_refund(self, reference: str, credentials: Credentials) -> RefundResult: ...

    @abc.abstractmethod
    async def list_payments(
        self, order_id: str, references: Sequence[str], credentials: Credentials
    ) -> list[PaymentResult]:
        """Every payment the processor holds for a PayLoops order (by order id where it can
        search, and under `references`), once each, with amount_refunded. Read-only."""

    @abc.abstractmethod
    async def parse_webhook(self, request: WebhookRequest, credentials: Credentials) -> ProcessorEvent:
        """Verify the signature (WebhookSignatureInvalid otherwise) and reduce the event."""

    async def close(self) -> None:
        """Release connections at shutdown."""
        return None
