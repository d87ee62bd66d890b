"""Webhook endpoints, and the events sent to them with their delivery attempts."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any

from .base import Model, json_field, list_of, timestamp


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
    id: str = ""
    type: str = ""
    # {"object": <the order or refund as the API shows it>}
    data: dict[str, Any] = json_field(default={})
    created_at: datetime | None = json_field(parse=timestamp)
    sequence: int = 0
    deliveries: list[WebhookDelivery] = json_field(default=[], parse=list_of(WebhookDelivery))
