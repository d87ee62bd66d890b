"""Orders, payments, refunds, transactions and checkout sessions."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any

from .base import Model, json_field, list_of, model_of, timestamp


@dataclass(frozen=True)
class NextAction(Model):
    type: str = ""
    redirect_url: str = ""


@dataclass(frozen=True)
class Order(Model):
    id: str = ""
    merchant_id: str = ""
    amount: int = 0
    currency: str = ""
    status: str = ""
    capture_method: str = ""
    amount_captured: int = 0
    amount_refunded: int = 0
    customer_email: str = ""
    description: str = ""
    metadata: dict[str, str] = json_field(default={})
    processor: str = ""
    failure_code: str = ""
    failure_message: str = ""
    next_action: NextAction | None = json_field(parse=model_of(NextAction))
    created_at: datetime | None = json_field(parse=timestamp)
    updated_at: datetime | None = json_field(parse=timestamp)


@dataclass(frozen=True)
class Refund(Model):
    id: str = ""
    order_id: str = ""
    amount: int = 0
    currency: str = ""
    status: str = ""
    processor: str = ""
    reason: str = ""
    created_at: datetime | None = json_field(parse=timestamp)


@dataclass(frozen=True)
class RoutingDecision(Model):
    rule_id: str = ""
    reason: str = ""
    candidate_index: int = 0
    approach: str = ""
    score: float | None = None
    samples: int = 0


@dataclass(frozen=True)
class Transaction(Model):
    id: str = ""
    order_id: str = ""
    type: str = ""
    status: str = ""
    processor: str = ""
    processor_reference: str = ""
    amount: int = 0
    currency: str = ""
    failure_code: str = ""
    failure_message: str = ""
    routing_decision: RoutingDecision | None = json_field(parse=model_of(RoutingDecision))
    refund_id: str = ""
    created_at: datetime | None = json_field(parse=timestamp)
    updated_at: datetime | None = json_field(parse=timestamp)


@dataclass(frozen=True)
class CheckoutSession(Model):
    """A hosted payment page for an order: send the customer to `url`. It comes back to
    `success_url` after paying, or to `cancel_url`."""

    id: str = ""
    order_id: str = ""
    url: str = ""
    # OPEN, then COMPLETE (the order was paid) or EXPIRED (expired, or the order was cancelled).
    status: str = ""
    success_url: str = ""
    cancel_url: str = ""
    expires_at: datetime | None = json_field(parse=timestamp)
    created_at: datetime | None = json_field(parse=timestamp)


def transactions_of(answer: dict[str, Any]) -> list[Transaction]:
    return list_of(Transaction)(answer.get("transactions"))
