"""The refund flow's data (plain dataclasses, so Temporal serialises them as JSON) and
its rules without SQL: which orders can be refunded and how much."""

from __future__ import annotations

from dataclasses import dataclass
from enum import StrEnum

from services.common.errors import FailedPrecondition, FieldViolation, InvalidArgument
from services.order.domain import OrderStatus


class RefundStatus(StrEnum):
    PENDING = "PENDING"
    SUCCEEDED = "SUCCEEDED"
    FAILED = "FAILED"


# Orders whose captured money may be (further) refunded; a REFUNDED order has nothing
# left, which the amount check reports.
REFUNDABLE = frozenset({OrderStatus.SUCCEEDED.value, OrderStatus.PARTIALLY_REFUNDED.value, OrderStatus.REFUNDED.value})
MAX_REASON = 500


@dataclass(frozen=True)
class RefundInput:
    refund_id: str
    order_id: str
    merchant_id: str
    mode: str
    processor: str
    payment_reference: str
    amount: int
    currency: str
    reason: str = ""
    # Between two GetRefund polls of a PENDING refund (a webhook wakes the workflow sooner).
    poll_seconds: float = 60
    step_timeout_seconds: float = 30

    @property
    def workflow_id(self) -> str:
        return refund_workflow_id(self.refund_id)


def refund_workflow_id(refund_id: str) -> str:
    return f"refund-{refund_id}"


@dataclass(frozen=True)
class RefundOutcome:
    """What the processor said about a refund (RefundResult.Status names)."""

    status: str
    processor_reference: str = ""
    failure_code: str = ""
    failure_message: str = ""


def check_refundable(status: str) -> None:
    if status not in REFUNDABLE:
        raise FailedPrecondition(
            message=f"an order in status {status} has no captured payment to refund",
            reason="ORDER_NOT_REFUNDABLE",
            metadata={"status": status},
        )


def validate_request(amount: int | None, reason: str) -> None:
    if amount is not None and amount <= 0:
        raise InvalidArgument(
            message="amount must be greater than 0",
            reason="AMOUNT_INVALID",
            violations=[FieldViolation("amount", "must be greater than 0")],
        )
    if len(reason) > MAX_REASON:
        raise InvalidArgument(
            message=f"reason must be at most {MAX_REASON} characters",
            reason="INVALID_ARGUMENT",
            violations=[FieldViolation("reason", f"must be at most {MAX_REASON} characters")],
        )


def refund_amount(requested: int | None, refundable: int) -> int:
    """The amount to reserve: the request's, or the whole remainder; never more than is left."""
    amount = refundable if requested is None else requested
    if amount <= 0 or amount > refundable:
        raise FailedPrecondition(
            message=f"the refund exceeds the refundable remainder of {max(refundable, 0)}",
            reason="REFUND_EXCEEDS_CAPTURED",
            metadata={"refundable": str(max(refundable, 0))},
        )
    return amount


def order_status_after_refund(amount_captured: int, amount_refunded: int) -> OrderStatus:
    return OrderStatus.REFUNDED if amount_refunded >= amount_captured else OrderStatus.PARTIALLY_REFUNDED
