"""Webhook endpoints, and the events sent to them with their delivery attempts."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any, Literal, get_args

from .base import Model, json_field, list_of, timestamp
from .payments import CheckoutSession, Order, Refund

# The event types an endpoint can subscribe to. The `data.object` of an "order.*" event is
# an Order, of a "refund.*" one a Refund, of a "checkout.session.*" one a CheckoutSession.
WebhookEventType = Literal[
    "order.succeeded",
    "order.failed",
    "order.requires_action",
    "order.authorized",
    "order.cancelled",
    "refund.succeeded",
    "refund.failed",
    "checkout.session.completed",
    "checkout.session.expired",
]
WEBHOOK_EVENT_TYPES: tuple[WebhookEventType, ...] = get_args(WebhookEventType)


@dataclass(frozen=True)
class WebhookEndpoint(Model):
    id: str = ""
    url: str = ""
    events: list[str] = json_field(default=[])
    # The signing secret ("whsec_..."), only in the answer of its creation.
    secret: str = json_field(default="", secret=True)
    created_at: datetime | None = json_field(parse=timestamp)


@dataclass(frozen=True)
class DeliveryAttempt(Model):
    status_code: int = 0
    latency_ms: int = 0
    error: str = ""
    attempted_at: datetime | None = json_field(parse=timestamp)


@dataclass(frozen=True)
class WebhookDelivery(Model):
    id: str = ""
    event_id: str = ""
    endpoint_id: str = ""
    url: str = ""
    status: str = ""
    attempts: list[DeliveryAttempt] = json_field(default=[], parse=list_of(DeliveryAttempt))
    next_attempt_at: datetime | None = json_field(parse=timestamp)
    created_at: datetime | None = json_field(parse=timestamp)


@dataclass(frozen=True)
class WebhookEvent(Model):
    """An event as the dashboard lists it, or a verified delivery's body
    (`WebhookEvent.from_json(payloops.webhooks.verify(...))`)."""

    id: str = ""
    # One of WEBHOOK_EVENT_TYPES (kept as a str: a newer platform may send more).
    type: str = ""
    # {"object": <the order, refund or checkout session as the API shows it>}
    data: dict[str, Any] = json_field(default={})
    created_at: datetime | None = json_field(parse=timestamp)
    sequence: int = 0
    deliveries: list[WebhookDelivery] = json_field(default=[], parse=list_of(WebhookDelivery))

    @property
    def data_object(self) -> Order | Refund | CheckoutSession | None:
        """`data.object`, typed by the event's type; None for a type this SDK does not know."""
        found = self.data.get("object")
        if self.type.startswith("checkout.session."):
            return CheckoutSession.from_json(found)
        if self.type.startswith("refund."):
            return Refund.from_json(found)
        if self.type.startswith("order."):
            return Order.from_json(found)
        return None
