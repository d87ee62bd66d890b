"""Orders without gRPC or SQL: validation and the order state machine."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from enum import StrEnum

from services.common.errors import FailedPrecondition, FieldViolation, require
from services.common.money import amount_violations, currency_violations


class OrderStatus(StrEnum):
    CREATED = "CREATED"
    PROCESSING = "PROCESSING"
    REQUIRES_ACTION = "REQUIRES_ACTION"
    AUTHORIZED = "AUTHORIZED"
    SUCCEEDED = "SUCCEEDED"
    FAILED = "FAILED"
    PARTIALLY_REFUNDED = "PARTIALLY_REFUNDED"
    REFUNDED = "REFUNDED"
    CANCELLED = "CANCELLED"


class CaptureMethod(StrEnum):
    AUTOMATIC = "AUTOMATIC"
    MANUAL = "MANUAL"


S = OrderStatus
# Every legal move of the contract's state machine; anything else is refused.
TRANSITIONS: dict[OrderStatus, frozenset[OrderStatus]] = {
    S.CREATED: frozenset({S.PROCESSING, S.CANCELLED}),
    S.PROCESSING: frozenset({S.SUCCEEDED, S.FAILED, S.REQUIRES_ACTION, S.AUTHORIZED}),
    S.REQUIRES_ACTION: frozenset({S.PROCESSING, S.SUCCEEDED, S.FAILED, S.AUTHORIZED, S.CANCELLED}),
    S.AUTHORIZED: frozenset({S.SUCCEEDED, S.CANCELLED}),
    S.FAILED: frozenset({S.PROCESSING, S.CANCELLED}),
    S.SUCCEEDED: frozenset({S.PARTIALLY_REFUNDED, S.REFUNDED}),
    S.PARTIALLY_REFUNDED: frozenset({S.PARTIALLY_REFUNDED, S.REFUNDED}),
    S.REFUNDED: frozenset(),
    S.CANCELLED: frozenset(),
}


def check_transition(current: OrderStatus, target: OrderStatus, *, reason: str = "ORDER_STATE_CONFLICT") -> None:
    if target not in TRANSITIONS[current]:
        raise FailedPrecondition(
            message=f"an order in status {current} cannot move to {target}",
            reason=reason,
            metadata={"status": current.value, "target": target.value},
        )


class TransactionStatus(StrEnum):
    PENDING = "PENDING"
    ACTION_REQUIRED = "ACTION_REQUIRED"
    SUCCEEDED = "SUCCEEDED"
    FAILED = "FAILED"


T = TransactionStatus
# A transaction only moves forward. The one way out of FAILED is the processor's own word
# that the attempt captured after all (a late capture: our books follow the processor's,
# and the order's rules then refund it).
TRANSACTION_TRANSITIONS: dict[TransactionStatus, frozenset[TransactionStatus]] = {
    T.PENDING: frozenset({T.ACTION_REQUIRED, T.SUCCEEDED, T.FAILED}),
    T.ACTION_REQUIRED: frozenset({T.SUCCEEDED, T.FAILED}),
    T.FAILED: frozenset({T.SUCCEEDED}),
    T.SUCCEEDED: frozenset(),
}


def transaction_may_move(current: str, target: str) -> bool:
    return target == current or TransactionStatus(target) in TRANSACTION_TRANSITIONS[TransactionStatus(current)]


@dataclass(frozen=True)
class NewOrder:
    amount: int
    currency: str
    capture_method: CaptureMethod = CaptureMethod.AUTOMATIC
    customer_email: str = ""
    description: str = ""
    metadata: dict[str, str] = field(default_factory=dict)


MAX_DESCRIPTION = 1000
MAX_METADATA_ENTRIES = 50
MAX_METADATA_KEY = 40
MAX_METADATA_VALUE = 500
MAX_EMAIL = 254


def validate_new_order(order: NewOrder, *, max_amount: int) -> None:
    """Every problem at once, as one INVALID_ARGUMENT; the first one's reason wins."""
    amount_problems = amount_violations(order.amount, maximum=max_amount)
    currency_problems = currency_violations(order.currency)
    other: list[FieldViolation] = []
    if order.customer_email and (len(order.customer_email) > MAX_EMAIL or "@" not in order.customer_email):
        other.append(FieldViolation("customer_email", "is not an email address"))
    if len(order.description) > MAX_DESCRIPTION:
        other.append(FieldViolation("description", f"must be at most {MAX_DESCRIPTION} characters"))
    if len(order.metadata) > MAX_METADATA_ENTRIES:
        other.append(FieldViolation("metadata", f"must have at most {MAX_METADATA_ENTRIES} entries"))
    for key, value in order.metadata.items():
        if not key or len(key) > MAX_METADATA_KEY or len(value) > MAX_METADATA_VALUE:
            other.append(
                FieldViolation(
                    f"metadata[{key}]",
                    f"keys are 1-{MAX_METADATA_KEY}, values 0-{MAX_METADATA_VALUE} characters",
                )
            )
    reason = "AMOUNT_INVALID" if amount_problems else "CURRENCY_INVALID" if currency_problems else "INVALID_ARGUMENT"
    require([*amount_problems, *currency_problems, *other], reason=reason)


@dataclass(frozen=True)
class Order:
    id: str
    merchant_id: str
    mode: str
    amount: int
    currency: str
    status: OrderStatus
    capture_method: CaptureMethod
    amount_captured: int
    amount_refunded: int
    customer_email: str
    description: str
    metadata: dict[str, str]
    processor: str
    failure_code: str
    failure_message: str
    next_action_type: str
    next_action_url: str
    created_at: datetime
    updated_at: datetime
