"""The plug-in interface's data: small requests in, canonical results out (mirroring
payloops.processor.v1 PaymentResult / RefundResult / ProcessorEvent). Money is int minor units."""

from __future__ import annotations

import enum
from collections.abc import Mapping
from dataclasses import dataclass

# A merchant's decrypted credentials for one processor (names as stored: "secretKey", "keyId", ...).
Credentials = Mapping[str, str]


class PaymentStatus(enum.Enum):
    """Canonical attempt status; the names are PaymentResult.Status's."""

    STATUS_UNSPECIFIED = "STATUS_UNSPECIFIED"  # no such payment
    PENDING = "PENDING"
    REQUIRES_ACTION = "REQUIRES_ACTION"
    AUTHORIZED = "AUTHORIZED"
    CAPTURED = "CAPTURED"
    FAILED = "FAILED"
    VOIDED = "VOIDED"


class RefundStatus(enum.Enum):
    """Canonical refund status; the names are RefundResult.Status's."""

    PENDING = "PENDING"
    SUCCEEDED = "SUCCEEDED"
    FAILED = "FAILED"


@dataclass(frozen=True)
class PaymentRequest:
    """One payment attempt, for PreparePayment and Authorize."""

    idempotency_key: str
    order_id: str
    amount: int
    currency: str  # ISO 4217, upper case
    payment_method_token: str
    capture: bool
    payment_method_type: str = ""
    return_url: str = ""
    customer_email: str = ""
    description: str = ""
    # A reference recorded by an earlier try of this attempt (PreparePayment's answer): resume it.
    existing_reference: str = ""
    # Request 3-D Secure (a step-up after a decline that asked for authentication).
    authenticate: bool = False
    # existing_reference was just prepared and nothing can have confirmed it: no resume check.
    newly_prepared: bool = False


@dataclass(frozen=True)
class CaptureRequest:
    idempotency_key: str
    reference: str
    amount: int = 0  # 0: the whole authorized amount
    currency: str = ""


@dataclass(frozen=True)
class VoidRequest:
    idempotency_key: str
    reference: str


@dataclass(frozen=True)
class RefundRequest:
    idempotency_key: str
    reference: str
    refund_id: str  # the PayLoops refund: at most one processor refund per refund_id
    amount: int = 0  # 0: the whole refundable remainder
    currency: str = ""
    reason: str = ""


@dataclass(frozen=True)
class PaymentLookup:
    """GetPayment: by the processor's reference, else by the PayLoops order."""

    reference: str = ""
    order_id: str = ""


@dataclass(frozen=True)
class WebhookRequest:
    body: bytes
    headers: Mapping[str, str]  # names lower case

    def header(self, name: str) -> str:
        return self.headers.get(name.lower(), "")


@dataclass(frozen=True)
class PaymentResult:
    status: PaymentStatus
    reference: str = ""
    amount: int = 0
    amount_captured: int = 0
    failure_code: str = ""
    failure_message: str = ""
    next_action_url: str = ""
    processor_status: str = ""
    parent_reference: str = ""
    currency: str = ""
    amount_refunded: int = 0  # set by list_payments only


@dataclass(frozen=True)
class RefundResult:
    status: RefundStatus
    reference: str = ""
    amount: int = 0
    failure_code: str = ""
    failure_message: str = ""


@dataclass(frozen=True)
class ProcessorEvent:
    """A verified webhook. `payment` or `refund` is set for the events PayLoops applies; an
    event of another type carries neither (acknowledge it, apply nothing)."""

    event_id: str
    event_type: str
    payment: PaymentResult | None = None
    refund: RefundResult | None = None
    order_id: str = ""
    refund_id: str = ""


NO_PAYMENT = PaymentResult(status=PaymentStatus.STATUS_UNSPECIFIED)

# How much a status says money moved: the payment that matters among several for one order.
_WEIGHT = {
    PaymentStatus.CAPTURED: 5,
    PaymentStatus.AUTHORIZED: 4,
    PaymentStatus.VOIDED: 3,
    PaymentStatus.REQUIRES_ACTION: 2,
    PaymentStatus.PENDING: 1,
}


def most_relevant(results_newest_first: list[PaymentResult]) -> PaymentResult:
    """The payment that moved money if one did, else the newest; NO_PAYMENT for none."""
    if not results_newest_first:
        return NO_PAYMENT
    return max(results_newest_first, key=lambda r: _WEIGHT.get(r.status, 0))
