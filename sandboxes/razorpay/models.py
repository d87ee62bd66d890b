"""The sandbox's entities (order, payment, refund) and their Razorpay JSON shapes."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

Notes = dict[str, Any]


def notes_json(notes: Notes) -> Notes | list[Any]:
    # Razorpay's API answers an empty notes object as an empty JSON *array*; clients must cope.
    return notes if notes else []


@dataclass(slots=True)
class Order:
    id: str
    amount: int
    currency: str
    receipt: str | None
    notes: Notes
    payment_capture: bool
    created_at: int
    status: str = "created"  # created | attempted | paid
    amount_paid: int = 0
    attempts: int = 0
    # ids of this order's payments, oldest first
    payment_ids: list[str] = field(default_factory=list)
    # the payment holding an authorization or capture; a second one is refused
    settled_payment_id: str | None = None

    def to_json(self) -> dict[str, Any]:
        return {
            "id": self.id,
            "entity": "order",
            "amount": self.amount,
            "amount_paid": self.amount_paid,
            "amount_due": self.amount - self.amount_paid,
            "currency": self.currency,
            "receipt": self.receipt,
            "offer_id": None,
            "status": self.status,
            "attempts": self.attempts,
            "notes": notes_json(self.notes),
            "created_at": self.created_at,
        }


@dataclass(slots=True)
class Payment:
    id: str
    order_id: str
    amount: int
    currency: str
    method: str
    email: str | None
    contact: str | None
    customer_id: str | None
    token_id: str | None
    description: str | None
    notes: Notes
    created_at: int
    # HMAC-SHA256("<order_id>|<payment_id>", key_secret): what Checkout hands the merchant
    signature: str
    callback_url: str | None = None
    status: str = "created"  # created | authorized | captured | refunded | failed
    amount_refunded: int = 0
    captured: bool = False
    error_code: str | None = None
    error_description: str | None = None
    error_source: str | None = None
    error_step: str | None = None
    error_reason: str | None = None
    refund_ids: list[str] = field(default_factory=list)

    @property
    def refund_status(self) -> str | None:
        if self.amount_refunded == 0:
            return None
        return "full" if self.amount_refunded >= self.amount else "partial"

    def to_json(self) -> dict[str, Any]:
        return {
            "id": self.id,
            "entity": "payment",
            "amount": self.amount,
            "currency": self.currency,
            "status": self.status,
            "order_id": self.order_id,
            "invoice_id": None,
            "international": False,
            "method": self.method,
            "amount_refunded": self.amount_refunded,
            "refund_status": self.refund_status,
            "captured": self.captured,
            "description": self.description,
            "card_id": None,
            "bank": None,
            "wallet": None,
            "vpa": None,
            "email": self.email,
            "contact": self.contact,
            "customer_id": self.customer_id,
            "token_id": self.token_id,
            "notes": notes_json(self.notes),
            "fee": None,
            "tax": None,
            "error_code": self.error_code,
            "error_description": self.error_description,
            "error_source": self.error_source,
            "error_step": self.error_step,
            "error_reason": self.error_reason,
            "acquirer_data": {},
            "created_at": self.created_at,
        }


@dataclass(slots=True)
class Refund:
    id: str
    payment_id: str
    amount: int
    currency: str
    notes: Notes
    receipt: str | None
    speed_requested: str
    created_at: int
    status: str = "processed"  # pending | processed | failed

    def to_json(self) -> dict[str, Any]:
        return {
            "id": self.id,
            "entity": "refund",
            "amount": self.amount,
            "currency": self.currency,
            "payment_id": self.payment_id,
            "notes": notes_json(self.notes),
            "receipt": self.receipt,
            "acquirer_data": {"arn": None},
            "created_at": self.created_at,
            "batch_id": None,
            "status": self.status,
            "speed_processed": "normal",
            "speed_requested": self.speed_requested,
        }


def collection(items: list[dict[str, Any]]) -> dict[str, Any]:
    return {"entity": "collection", "count": len(items), "items": items}
